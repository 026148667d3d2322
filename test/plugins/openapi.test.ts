// The published OpenAPI 3 document describes every route, and real responses of every route validate against it.
import { generateKeyPairSync } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import t from 'tap'
import { FAULT_STATUSES } from '../../src/schemas/faults.js'
import { DEFAULT_FIXTURES } from '../../src/config.js'
import { basic, BASIC_A, build, getToken, TENANT_A } from '../helpers.js'

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
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  const rsa = await build(t, { token: { signingKey: privateKey } })
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

  // Part C: every operation, with each status its own rules give (201, 207, 400, 403, 404, 409, 422).
  const json = { ...auth, 'content-type': 'application/json' }
  const body = (payload: unknown) => ({ headers: json, payload: JSON.stringify(payload) })
  await check(app, 'GET', '/rest/v1/audiences?perPage=2', { headers: auth })
  await check(app, 'GET', '/rest/v1/audiences?page=0', { headers: auth })
  await check(app, 'POST', '/rest/v1/audiences', body({ name: 'New', reference: 'new', category: 'structure' }))
  await check(app, 'POST', '/rest/v1/audiences', body({ name: 'Dup', reference: 'new', category: 'structure' }))
  await check(app, 'POST', '/rest/v1/audiences', body({ name: 'Orphan', reference: 'orphan', category: 'audience' }))
  await check(app, 'POST', '/rest/v1/audiences', body({ name: 'Under UI', reference: 'under-ui', category: 'audience', parentId: 'ui-made' }))
  await check(app, 'POST', '/rest/v1/audiences', body({ name: 42 }))
  await check(app, 'PATCH', '/rest/v1/audiences/backend', body({ name: 'Backend', parentId: 'new' }))
  await check(app, 'PATCH', '/rest/v1/audiences/ghost', body({ name: 'X' }))
  await check(app, 'DELETE', '/rest/v1/audiences/shared', { headers: json })
  await check(app, 'DELETE', '/rest/v1/audiences/with%20space', { headers: json })
  await check(app, 'GET', '/rest/v1/audiences/backend/members', { headers: auth })
  await check(app, 'POST', '/rest/v1/audiences/backend/members', body(['linus']))
  await check(app, 'POST', '/rest/v1/audiences/backend/members', body(['linus', 'nobody']))
  await check(app, 'PATCH', '/rest/v1/audiences/backend/members', body(['ada', 'grace']))
  await check(app, 'DELETE', '/rest/v1/audiences/backend/members/ada', { headers: json })
  await check(app, 'DELETE', '/rest/v1/audiences/backend/members/ada', { headers: json })
  await check(app, 'GET', '/rest/v1/audiences/shared/managers', { headers: auth })
  await check(app, 'POST', '/rest/v1/audiences/backend/managers', body([{ reference: 'ada' }]))
  await check(app, 'POST', '/rest/v1/audiences/backend/managers', body([{ reference: 'ada', permissions: { administrator: { canAddAudienceManagers: true } } }]))
  await check(app, 'PATCH', '/rest/v1/audiences/backend/managers', body([{ reference: 'grace' }, { reference: 'nobody' }]))
  await check(app, 'DELETE', '/rest/v1/audiences/backend/managers/grace', { headers: json })
  await check(app, 'DELETE', '/rest/v1/audiences/smart-one/members/linus', { headers: json })

  const tokenUrl = `/oauth2/token/${TENANT_A.tenantId}`
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'password', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  await check(app, 'POST', tokenUrl, { payload: { grant_type: 'client_credentials' } })
  await check(app, 'POST', tokenUrl, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}` })
  for (const code of FAULT_STATUSES) await check(app, 'POST', tokenUrl, { headers: { prefer: `code=${code}` }, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })

  await check(app, 'GET', '/.well-known/jwks.json')
  // RFC 7517 §4: a published key keeps its key-type members (RFC 7518 §6.3.1: n and e for RSA) beside kty, kid, alg and use.
  const jwks = (await check(rsa, 'GET', '/.well-known/jwks.json')).json() as { keys: Array<Record<string, unknown>> }
  t.strictSame(Object.keys(jwks.keys[0] ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'], 'every member of the RSA public key, no private one')
  await check(app, 'GET', '/__mock/health')
  // Without HTTPS the mock has no CA to serve (its 200, a PEM file, is checked in test/https.test.ts).
  await check(app, 'GET', '/__mock/ca.pem')
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
  await check(app, 'POST', '/__mock/reset', { headers: { 'content-type': 'application/json' } })
  await check(app, 'POST', '/__mock/reset')
  await check(app, 'POST', '/__mock/clock', { headers: { 'content-type': 'text/plain' }, payload: '{"advanceMs":1}' })
  await check(app, 'GET', '/__mock/clock')
  await check(app, 'GET', `/__mock/tenants/${TENANT_A.tenantId}/fixture`)
  await check(app, 'GET', '/__mock/tenants/eu-west-2_Nobody00/fixture')
  await check(app, 'PUT', `/__mock/tenants/${TENANT_A.tenantId}/strict`, { payload: { strict: true } })
  await check(app, 'PUT', `/__mock/tenants/${TENANT_A.tenantId}/strict`, { payload: { strict: 1 } })
  await check(app, 'GET', `/__mock/tenants/${TENANT_A.tenantId}/strict`)
  await check(app, 'GET', '/__mock/tenants/eu-west-2_Nobody00/strict')
  await check(app, 'POST', '/__mock/clock', { payload: { advanceMs: 1 } })
  await check(app, 'POST', '/__mock/clock', { payload: {} })
  await check(admin, 'GET', '/__mock/clock')
  await check(app, 'GET', `/__mock/coverage?tenantId=${TENANT_A.tenantId}`)
  await check(app, 'GET', '/__mock/coverage')
  await check(app, 'GET', '/__mock/coverage?tenantId=eu-west-2_Nobody00')
  await check(app, 'GET', '/__mock/coverage.html?tenantId=eu-west-2_Nobody00')
  await check(admin, 'GET', '/__mock/coverage.html')
  const page = await app.inject({ url: '/__mock/coverage.html' })
  t.equal(page.statusCode, 200)
  t.ok(routeOf(doc, 'GET', '/__mock/coverage.html')[1].responses['200']?.content?.['text/html'], 'the page is documented as text/html')
  t.match(page.headers['content-type'], /^text\/html/)

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

type Responses = Record<string, { description: string, content?: Record<string, { schema: { $ref?: string } }> }>
interface FullOperation { security?: unknown, description?: string, responses: Responses, requestBody?: { content: Record<string, { schema: { properties: Record<string, { example?: unknown }> }, example?: unknown }> } }
type FullDoc = { info: { description: string }, paths: Record<string, Record<string, FullOperation>> }

t.test('with an admin token every control operation but health and the CA certificate requires it; without one, none does; every POST documents its 415', async (t) => {
  for (const token of ['admin-token-1', null]) {
    const app = await build(t, { admin: { enabled: true, token } })
    const doc = (await app.inject({ url: '/openapi.json', headers: token === null ? {} : { 'x-mock-admin-token': token } })).json() as FullDoc
    const control = Object.entries(doc.paths).filter(([path]) => path.startsWith('/__mock/') && path !== '/__mock/health' && path !== '/__mock/ca.pem')
    t.ok(control.flatMap(([, ops]) => Object.keys(ops)).length >= 10, 'every control operation is listed')
    for (const [path, ops] of control) {
      for (const [method, op] of Object.entries(ops)) {
        t.same(op.security, token === null ? undefined : [{ adminToken: [] }], `${method} ${path}`)
        t.equal(op.responses['415']?.content?.['application/json']?.schema.$ref, method === 'post' ? '#/components/schemas/ErrorBody' : undefined, `${method} ${path} 415`)
      }
    }
    t.equal(doc.paths['/__mock/health']?.get?.security, undefined, 'health needs nothing')
    t.equal(doc.paths['/__mock/ca.pem']?.get?.security, undefined, 'the CA certificate is public, like any certificate')
  }
})

t.test('the token operation documents every status Prefer or a fault rule can make it answer, in the RFC 6749 §5.2 shape', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as FullDoc
  const op = doc.paths['/oauth2/token/{tenantId}']?.post as FullOperation
  const expected = [...new Set([...FAULT_STATUSES, 413])].map(String).sort()
  t.same(Object.keys(op.responses).filter((s) => s !== '200').sort(), expected)
  for (const status of expected) {
    t.equal(op.responses[status]?.content?.['application/json']?.schema.$ref, '#/components/schemas/OAuthError', `${status} is an OAuthError`)
    t.notMatch(op.responses[status]?.description, /^Default Response$/, `${status} says when it happens`)
  }
  t.match(op.responses['403']?.description, /only from fault injection \(Prefer: code=403, or a fault rule\)/)
})

t.test('the token form starts with grant_type=client_credentials and every optional parameter empty', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as FullDoc
  const body = doc.paths['/oauth2/token/{tenantId}']?.post?.requestBody
  for (const media of ['application/x-www-form-urlencoded', 'application/json']) {
    const content = body?.content[media]
    const examples = Object.fromEntries(Object.entries(content?.schema.properties ?? {}).map(([name, schema]) => [name, schema.example]))
    t.same(examples, { grant_type: 'client_credentials', scope: '', client_id: '', client_secret: '' }, `${media}: no field starts as "string"`)
    t.same(content?.example, { grant_type: 'client_credentials' }, `${media}: the whole-body example`)
  }
})

t.test('the reset form starts with a tenant the bundled fixtures have, so "Try it out" as shown resets that tenant', async (t) => {
  const app = await build(t, { fixtures: [{ path: DEFAULT_FIXTURES }] })
  const doc = (await app.inject({ url: '/openapi.json' })).json() as FullDoc
  const example = doc.paths['/__mock/reset']?.post?.requestBody?.content['application/json']?.schema.properties?.tenantId?.example
  t.equal(example, 'eu-west-2_AcmeCorp1')
  const res = await app.inject({ method: 'POST', url: '/__mock/reset', payload: { tenantId: example } })
  t.equal(res.statusCode, 200, 'the example body is accepted as it stands')
  t.same(res.json(), { faultsRemoved: 0, requestsRemoved: 0, clockReset: false })
})

t.test('the token form as the docs page sends it, empty optional fields included, gets a token with HTTP Basic (RFC 6749 §3.1)', async (t) => {
  const app = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: `/oauth2/token/${TENANT_A.tenantId}`,
    headers: { authorization: basic('a-reader', 'a-reader-secret'), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials&scope=&client_id=&client_secret='
  })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  t.match(body, { access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/, token_type: 'Bearer', expires_in: 3600, scope: 'api/read' })
  const json = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', scope: '', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(json.statusCode, 200, 'an empty scope in JSON is omitted too: every allowed scope')
  t.equal((json.json() as { scope: string }).scope, 'api/read')
  const noGrant = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { authorization: basic('a-reader', 'a-reader-secret'), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=' })
  t.equal(noGrant.statusCode, 400)
  t.same(noGrant.json(), { error: 'invalid_request', error_description: 'the grant_type parameter is required (RFC 6749 §4.4.2)' }, 'an empty grant_type is a missing one')
})

t.test('the document names both paths the audience read is served at', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as FullDoc
  for (const text of [doc.paths['/rest/v1/audiences/{audienceId}']?.get?.description, doc.info.description]) {
    t.match(text, '`/rest/v1/audiences/{audienceId}`')
    t.match(text, '`/audiences/{audienceId}`')
  }
  const short = await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  const long = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(short.statusCode, 200)
  t.same(short.json(), long.json(), 'both answer the same')
})

t.test('/openapi.json passes a full OpenAPI 3 validation (@readme/openapi-parser), with and without the admin token', async (t) => {
  const { compileErrors, validate } = await import('@readme/openapi-parser')
  for (const overrides of [{}, { admin: { enabled: true, token: 'admin-token-1' } }]) {
    const app = await build(t, overrides)
    const doc = (await app.inject({ url: '/openapi.json' })).json() as FullDoc
    // The validator resolves references in place, so it gets a copy.
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0])
    t.equal(result.valid ? '' : compileErrors(result), '', 'no specification errors')
    t.same(result.warnings, [], 'no warnings')
    t.ok(doc.paths['/__mock/coverage']?.get, 'the coverage routes are in the document it checked')
  }
  // The same validator refuses a document that breaks the specification: a response without its required description.
  const app = await build(t)
  const broken = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>> }
  delete broken.paths['/rest/v1/audiences/{audienceId}']?.get?.responses['200']?.description
  const refused = await validate(broken as unknown as Parameters<typeof validate>[0])
  t.equal(refused.valid, false, 'a broken copy is refused')
})
