// GET /audiences/{audienceId}: thrive-api.md part A ("Gets an audience") and part B points 1–3.
import t from 'tap'
import { notFoundMessage } from '../../src/errors.js'
import { BACKEND_SERVED, BASIC_A, BASIC_B, build, CLIENT_HEADERS, IDS, json, TENANT_A } from '../helpers.js'

const AUDIENCE_FIELDS = ['apiControlled', 'category', 'createdAt', 'id', 'name', 'parent', 'reference', 'type', 'updatedAt']
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

t.test('a structure read by id has every documented field, parent null, and nothing else (B.3)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: `/rest/v1/audiences/${IDS.aStructure}`, headers: { authorization: BASIC_A, ...CLIENT_HEADERS } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(json(res), {
    id: IDS.aStructure,
    name: 'Tech',
    reference: 'shared',
    apiControlled: true,
    category: 'structure',
    type: 'manual',
    parent: null,
    createdAt: '2024-01-15T10:20:30.123Z',
    updatedAt: '2024-02-01T00:00:00.000Z'
  })
  t.same(Object.keys(json(res)).sort(), AUDIENCE_FIELDS)
})

t.test('a child audience read by reference names its structure as parent {name, reference, id}', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(res.statusCode, 200)
  t.same(json(res), BACKEND_SERVED)
})

t.test('a UI-created smart audience keeps apiControlled false and type smart', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/rest/v1/audiences/smart-one', headers: { authorization: BASIC_A } })
  t.equal(res.statusCode, 200)
  t.match(json(res), { apiControlled: false, type: 'smart', category: 'audience', parent: { reference: 'ui-made' } })
  t.match(json(res).id, /^[0-9a-f]{24}$/)
  t.match(json(res).createdAt, TIMESTAMP)
})

t.test('URL-encoded references are decoded before lookup: space, accent, encoded slash (B.2)', async (t) => {
  const app = await build(t)
  for (const [path, reference] of <Array<[string, string]>>[['with%20space', 'with space'], ['%C3%A9quipe', 'équipe'], ['sales%2Femea', 'sales/emea'], [encodeURIComponent('équipe'), 'équipe']]) {
    const res = await app.inject({ url: `/rest/v1/audiences/${path}`, headers: { authorization: BASIC_A } })
    t.equal(res.statusCode, 200, path)
    t.equal(json(res).reference, reference, path)
  }
})

t.test('the documented short path and the /rest/v1 path give the same body, with or without one trailing slash (B.1)', async (t) => {
  const app = await build(t)
  const bodies = []
  for (const url of ['/rest/v1/audiences/backend', '/audiences/backend', '/rest/v1/audiences/backend/', '/audiences/backend/']) {
    const res = await app.inject({ url, headers: { authorization: BASIC_A } })
    t.equal(res.statusCode, 200, url)
    bodies.push(res.body)
  }
  t.equal(new Set(bodies).size, 1)
})

t.test('an exact id match wins over a reference equal to that id (B.2)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: `/audiences/${IDS.aChild}`, headers: { authorization: BASIC_A } })
  t.equal(json(res).name, 'Backend')
})

t.test('reference lookup is case-sensitive (B.2)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/audiences/BACKEND', headers: { authorization: BASIC_A } })
  t.equal(res.statusCode, 404)
})

t.test('the same reference in two tenants resolves to each tenant\'s own audience', async (t) => {
  const app = await build(t)
  const a = await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_A } })
  const b = await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })
  t.equal(json(a).id, IDS.aStructure)
  t.equal(json(b).id, IDS.bStructure)
  t.equal(json(b).name, 'B Tech')
})

t.test('another tenant\'s audience id is a 404 with the same body as an unknown one (B.2)', async (t) => {
  const app = await build(t)
  const other = await app.inject({ url: `/audiences/${IDS.aChild}`, headers: { authorization: BASIC_B } })
  const unknown = await app.inject({ url: '/audiences/aaaaaaaaaaaaaaaaaaaaaaa9', headers: { authorization: BASIC_B } })
  t.equal(other.statusCode, 404)
  t.same(json(other), { status: 404, error: 'Not Found', message: `No audience with id or reference "${IDS.aChild}" exists in this tenant` })
  t.same(Object.keys(json(unknown)).sort(), ['error', 'message', 'status'])
  t.equal(json(unknown).error, 'Not Found')
  t.match(other.headers['content-type'], /^application\/json/)
})

t.test('a reference that equals another tenant\'s id resolves inside the caller\'s tenant only', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: `/audiences/${IDS.bStructure}`, headers: { authorization: BASIC_A } })
  t.equal(json(res).name, 'Looks like an id')
  t.equal(json(res).parent && (json(res).parent as { id: string }).id, IDS.aStructure)
})

t.test('every operation on an unknown audience answers the one 404 message, whether the route or the store finds it missing (B.2, part C)', async (t) => {
  const app = await build(t)
  const calls = [
    { method: 'GET', url: '/rest/v1/audiences/ghost' },
    { method: 'PATCH', url: '/rest/v1/audiences/ghost', payload: { name: 'X' } },
    { method: 'DELETE', url: '/rest/v1/audiences/ghost' },
    { method: 'GET', url: '/rest/v1/audiences/ghost/members' },
    { method: 'POST', url: '/rest/v1/audiences/ghost/members', payload: ['x'] },
    { method: 'GET', url: '/rest/v1/audiences/ghost/managers' }
  ] as const
  for (const call of calls) {
    const res = await app.inject({ ...call, headers: { authorization: BASIC_A, ...CLIENT_HEADERS } })
    t.equal(res.statusCode, 404, `${call.method} ${call.url}`)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(json(res), { status: 404, error: 'Not Found', message: notFoundMessage('ghost') }, `${call.method} ${call.url}`)
  }
})

t.test('a very long unknown id is cut in the 404 message', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: `/audiences/${'x'.repeat(500)}`, headers: { authorization: BASIC_A } })
  t.equal(res.statusCode, 404)
  t.equal(json(res).message, `No audience with id or reference "${'x'.repeat(100)}…" exists in this tenant`)
})

t.test('an empty audience id is the list of audiences, the trailing slash tolerated (B.1, part C)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/audiences/', headers: { authorization: BASIC_A } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), (await app.inject({ url: '/rest/v1/audiences', headers: { authorization: BASIC_A } })).json())
})

t.test('a response is a copy: changing one does not change the next', async (t) => {
  const app = await build(t)
  const first = await app.store.tenant(TENANT_A.tenantId)?.audiences.get('backend')
  if (first === undefined || first.parent === null) throw new Error('fixture missing')
  first.name = 'changed'
  first.parent.name = 'changed'
  const again = await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(json(again).name, 'Backend')
  t.equal((json(again).parent as { name: string }).name, 'Tech')
})

t.test('the store finds nothing for a tenant it does not hold', async (t) => {
  const app = await build(t)
  t.equal(app.store.has('eu-west-2_Nobody00'), false)
  t.equal(app.store.tenant('eu-west-2_Nobody00'), undefined)
})
