// The published OpenAPI 3 document describes every route, and real responses of every route validate against it.
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import t from 'tap'
import { BASIC_A, build, getToken, TENANT_A } from '../helpers.js'

type App = Awaited<ReturnType<typeof build>>
interface Operation { operationId: string, responses: Record<string, { content?: Record<string, { schema: object }> }> }
interface Doc { openapi: string, paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, object> } }

function routeOf (doc: Doc, method: string, url: string): [string, Operation] {
  const path = url.split('?')[0] as string
  for (const [template, ops] of Object.entries(doc.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`)
    const op = ops[method.toLowerCase()]
    if (re.test(path) && op !== undefined) return [template, op]
  }
  throw new Error(`${method} ${path} is not in the OpenAPI document`)
}

t.test('real responses of every operation validate against /openapi.json, status by status', async (t) => {
  const app = await build(t)
  const admin = await build(t, { admin: { enabled: true, token: 'admin-token-1' } })
  const doc = (await app.inject({ url: '/openapi.json' })).json() as Doc
  t.equal(doc.openapi, '3.0.3')
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats.default(ajv)
  const seen = new Set<string>()

  async function check (target: App, method: string, url: string, options: { headers?: Record<string, string>, payload?: unknown } = {}) {
    const res = await target.inject({ method: method as 'GET', url, headers: options.headers ?? {}, ...(options.payload === undefined ? {} : { payload: options.payload as string }) })
    const [template, op] = routeOf(doc, method, url)
    const documented = op.responses[String(res.statusCode)]
    t.ok(documented, `${method} ${template} documents ${res.statusCode}`)
    seen.add(`${method.toLowerCase()} ${template}`)
    const schema = documented?.content?.['application/json']?.schema
    if (res.statusCode === 204) {
      t.equal(res.body, '', `${op.operationId} 204 has no body`)
      return res
    }
    t.ok(schema, `${op.operationId} ${res.statusCode} has a JSON schema`)
    const validate = ajv.compile({ ...schema, components: doc.components })
    t.ok(validate(res.json()), `${op.operationId} ${res.statusCode}: ${ajv.errorsText(validate.errors)}`)
    return res
  }

  const auth = { authorization: BASIC_A }
  await check(app, 'GET', '/rest/v1/audiences/backend', { headers: auth })
  await check(app, 'GET', '/rest/v1/audiences/shared', { headers: auth })
  await check(app, 'GET', '/rest/v1/audiences/backend')
  await check(app, 'GET', '/rest/v1/audiences/nope', { headers: auth })
  await check(app, 'GET', '/rest/v1/audiences/backend', { headers: { ...auth, prefer: 'code=418' } })
  for (const code of [403, 409, 422, 429, 500, 502, 503, 504]) await check(app, 'GET', '/rest/v1/audiences/backend', { headers: { ...auth, prefer: `code=${code}` } })
  const token = await getToken(app, 'a-writer', 'a-writer-secret')
  await check(app, 'GET', '/rest/v1/audiences/backend', { headers: { authorization: `Bearer ${token}` } })

  const tokenUrl = `/oauth2/token/${TENANT_A.tenantId}`
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'password', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'client_credentials' } })
  await check(app, 'POST', tokenUrl, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}` })
  for (const code of [429, 500, 503]) await check(app, 'POST', tokenUrl, { headers: { prefer: `code=${code}` }, payload: { grant_type: 'client_credentials' } })

  await check(app, 'GET', '/.well-known/jwks.json')
  await check(app, 'GET', '/__mock/health')
  const rule = (await check(app, 'POST', '/__mock/faults', { payload: { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 1 }, ttlMs: 60_000 } })).json() as { id: string }
  await check(app, 'POST', '/__mock/faults', { payload: { match: {}, effect: {} } })
  await check(app, 'GET', '/__mock/faults')
  await check(app, 'GET', '/__mock/faults?colour=red')
  await check(app, 'GET', `/__mock/faults/${rule.id}`)
  await check(app, 'DELETE', `/__mock/faults/${rule.id}`)
  await check(app, 'GET', `/__mock/faults/${rule.id}`)
  await check(app, 'DELETE', `/__mock/faults/${rule.id}`)
  await check(app, 'DELETE', '/__mock/faults')
  await check(app, 'GET', '/__mock/requests?limit=5')
  await check(app, 'GET', '/__mock/requests?limit=0')
  await check(app, 'DELETE', '/__mock/requests')
  await check(app, 'POST', '/__mock/reset', { payload: { tenantId: 'eu-west-2_Nobody00' } })
  await check(app, 'POST', '/__mock/reset')
  await check(app, 'GET', '/__mock/clock')
  await check(app, 'POST', '/__mock/clock', { payload: { advanceMs: 1 } })
  await check(app, 'POST', '/__mock/clock', { payload: {} })
  await check(admin, 'GET', '/__mock/clock')

  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
  t.same(documented.filter((op) => !seen.has(op)), [], 'every documented operation was exercised')
})

t.test('the document names both auth schemes and the scopes a read needs, and tags the control plane apart', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as Doc & { components: { securitySchemes: Record<string, { scheme?: string }> } }
  t.match(doc.components.securitySchemes, { basicAuth: { scheme: 'basic' }, bearerAuth: { scheme: 'bearer' } })
  const get = doc.paths['/rest/v1/audiences/{audienceId}']?.get as unknown as { security: unknown, tags: string[] }
  t.same(get.security, [{ basicAuth: [] }, { bearerAuth: ['api/read'] }, { bearerAuth: ['api/all'] }])
  t.same(get.tags, ['Audiences'])
  t.same((doc.paths['/__mock/faults']?.post as unknown as { tags: string[] }).tags, ['Mock control'])
  t.notOk('/audiences/{audienceId}' in doc.paths, 'the short path is served but documented once, under /rest/v1')
})
