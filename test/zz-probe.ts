import { buildApp } from '../src/app.js'
import { testConfig, BASIC_A } from './helpers.js'
const app = await buildApp(testConfig())
const show = async (o: any) => { const r = await app.inject(o); console.log(o.method, o.url, JSON.stringify(o.headers ?? {}), '->', r.statusCode, r.body.slice(0, 200)) }
await show({ method: 'POST', url: '/rest/v1/audiences', headers: { authorization: BASIC_A }, payload: Buffer.from('{"name":"x","reference":"y","category":"structure"}') })
await show({ method: 'POST', url: '/rest/v1/audiences', headers: { authorization: BASIC_A, 'content-type': 'text/plain' }, payload: '{"name":"x","reference":"y","category":"structure"}' })
await show({ method: 'GET', url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A, 'content-type': 'application/json' }, payload: '{"a":1}' })
await show({ method: 'DELETE', url: '/rest/v1/audiences/nope', headers: { authorization: BASIC_A, 'content-type': 'application/json' }, payload: '{"a":1}' })
await show({ method: 'GET', url: '/rest/v1/audiences/backend/', headers: { authorization: BASIC_A } })
await show({ method: 'GET', url: '/rest/v1/audiences?limit=5&perPage=2&foo=1&foo=2', headers: { authorization: BASIC_A } })
await show({ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: { authorization: BASIC_A, 'content-type': 'application/json' }, payload: '{"users":["ada"]}' })
await app.close()
