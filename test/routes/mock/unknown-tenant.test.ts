// One rule for a tenant the server does not know, everywhere the control plane or the library takes a tenant id:
// a 404 in Thrive's error shape naming the tenant (README, "Mock control plane"), or an UnknownTenantError. Never an
// empty answer, which would let a typo in a test's setup pass.
import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { startMockServer, UnknownTenantError } from '../../../src/index.js'
import { OPENAPI_PATH } from '../../../src/plugins/openapi.js'
import { basic, BASIC_A, build, FIXTURE, json, TENANT_A } from '../../helpers.js'

type App = Awaited<ReturnType<typeof build>>
const UNKNOWN = 'eu-west-2_Nobody00'
const NOT_FOUND = { status: 404, error: 'Not Found', message: `Unknown tenant "${UNKNOWN}"` }
const JSON_TYPE = 'application/json; charset=utf-8'

/** A valid request of each control operation that takes a tenant, naming the given one. */
const TENANT_REQUESTS: Record<string, (tenantId: string) => InjectOptions> = {
  armFault: (tenantId) => ({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId }, effect: { status: 500 } } }),
  listFaults: (tenantId) => ({ method: 'GET', url: `/__mock/faults?tenantId=${tenantId}` }),
  clearFaults: (tenantId) => ({ method: 'DELETE', url: `/__mock/faults?tenantId=${tenantId}` }),
  listRequests: (tenantId) => ({ method: 'GET', url: `/__mock/requests?tenantId=${tenantId}&limit=5` }),
  clearRequests: (tenantId) => ({ method: 'DELETE', url: `/__mock/requests?tenantId=${tenantId}` }),
  reset: (tenantId) => ({ method: 'POST', url: '/__mock/reset', payload: { tenantId } }),
  exportTenant: (tenantId) => ({ method: 'GET', url: `/__mock/tenants/${tenantId}/fixture` }),
  getTenantStrict: (tenantId) => ({ method: 'GET', url: `/__mock/tenants/${tenantId}/strict` }),
  setTenantStrict: (tenantId) => ({ method: 'PUT', url: `/__mock/tenants/${tenantId}/strict`, payload: { strict: true } }),
  getCoverage: (tenantId) => ({ method: 'GET', url: `/__mock/coverage?tenantId=${tenantId}` }),
  getCoveragePage: (tenantId) => ({ method: 'GET', url: `/__mock/coverage.html?tenantId=${tenantId}` })
}

interface Operation { operationId: string, parameters?: Array<{ name: string }>, requestBody?: { content: Record<string, { schema: unknown }> }, responses: Record<string, unknown> }

/** Whether a JSON schema has a `tenantId` property at any depth (a fault rule names its tenant in `match`). */
function namesTenant (schema: unknown): boolean {
  const properties = (schema as { properties?: Record<string, unknown> } | null)?.properties
  if (properties === undefined) return false
  return 'tenantId' in properties || Object.values(properties).some(namesTenant)
}

/** The control operations the published document shows taking a tenant id: in the path, the query or the body. */
async function tenantOperations (app: App): Promise<Operation[]> {
  const doc = json(await app.inject({ url: OPENAPI_PATH })) as { paths: Record<string, Record<string, Operation>> }
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/__mock/'))
    .flatMap(([, methods]) => Object.values(methods))
    .filter((op) => op.parameters?.some((p) => p.name === 'tenantId') === true || Object.values(op.requestBody?.content ?? {}).some((c) => namesTenant(c.schema)))
}

/** What a control request could change: rules, journal, coverage, strict setting, data. */
async function state (app: App) {
  const get = async (url: string) => (await app.inject({ url })).body
  return {
    faults: await get('/__mock/faults'),
    requests: await get('/__mock/requests'),
    coverage: await get('/__mock/coverage'),
    strict: await get(`/__mock/tenants/${TENANT_A.tenantId}/strict`),
    data: await get(`/__mock/tenants/${TENANT_A.tenantId}/fixture`)
  }
}

/** Something in every kind of state, so that a write that wrongly went ahead would show. */
async function populate (app: App): Promise<void> {
  await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, route: 'deleteAudience' }, effect: { status: 503 } } })
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  await app.inject({ method: 'PATCH', url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A }, payload: { name: 'Renamed' } })
}

t.test('every control operation that takes a tenant id is in the table of this rule, derived from the published document', async (t) => {
  const app = await build(t)
  const found = (await tenantOperations(app)).map((op) => op.operationId).sort()
  t.same(found, Object.keys(TENANT_REQUESTS).sort(), 'a new route that takes a tenant must join TENANT_REQUESTS, and so the tests below')
  for (const op of await tenantOperations(app)) t.ok(op.responses['404'] !== undefined, `${op.operationId} documents its 404`)
})

for (const [operationId, request] of Object.entries(TENANT_REQUESTS)) {
  t.test(`${operationId} with an unknown tenant is a 404 naming it, and changes nothing; a known tenant works, also after a full reset`, async (t) => {
    const app = await build(t)
    await populate(app)
    const before = await state(app)
    const res = await app.inject(request(UNKNOWN))
    t.equal(res.statusCode, 404)
    t.equal(res.headers['content-type'], JSON_TYPE)
    t.same(res.json(), NOT_FOUND)
    t.same(await state(app), before, 'nothing changed')

    t.equal((await app.inject({ method: 'POST', url: '/__mock/reset', payload: {} })).statusCode, 200)
    const known = await app.inject(request(TENANT_A.tenantId))
    t.ok(known.statusCode >= 200 && known.statusCode < 300, `a known tenant after a reset: ${known.statusCode} ${known.body.slice(0, 200)}`)
  })
}

t.test('the rule holds with the admin token: the credential is checked first, then the tenant', async (t) => {
  const app = await build(t, { admin: { enabled: true, token: 'admin-token-1' } })
  for (const [operationId, request] of Object.entries(TENANT_REQUESTS)) {
    const options = request(UNKNOWN)
    t.equal((await app.inject(options)).statusCode, 401, `${operationId} without the token`)
    const res = await app.inject({ ...options, headers: { ...options.headers, 'x-mock-admin-token': 'admin-token-1' } })
    t.equal(res.statusCode, 404, `${operationId} with the token`)
    t.same(res.json(), NOT_FOUND, operationId)
  }
})

t.test('a malformed request is still the 400 that says what is wrong, whichever tenant it names', async (t) => {
  const app = await build(t)
  const rule = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: UNKNOWN }, effect: { status: 418 } } })
  t.equal(rule.statusCode, 400)
  t.match(json(rule).message, /^body\/effect\/status must be equal to one of the allowed values/)
  const unsound = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: UNKNOWN }, effect: { status: 500, transport: 'reset' } } })
  t.equal(unsound.statusCode, 400, 'a rule the engine refuses is refused for that, before its tenant is looked up')
  t.equal(json(unsound).message, 'Invalid fault rule: effect: status and transport cannot be combined')
  const strict = await app.inject({ method: 'PUT', url: `/__mock/tenants/${UNKNOWN}/strict`, payload: { strict: 'yes' } })
  t.equal(strict.statusCode, 400)
  const query = await app.inject({ url: `/__mock/requests?tenantId=${UNKNOWN}&limit=0` })
  t.equal(query.statusCode, 400)
})

t.test('the tenant id is cut to 128 characters in the message, as sendUnknownTenant defines it', async (t) => {
  const app = await build(t)
  const long = 'x'.repeat(300)
  const res = await app.inject({ url: `/__mock/faults?tenantId=${long}` })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { status: 404, error: 'Not Found', message: `Unknown tenant "${'x'.repeat(128)}"` })
})

t.test('requests that named no known tenant stay visible in the unfiltered journal and coverage', async (t) => {
  const app = await build(t)
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: basic(UNKNOWN, TENANT_A.apiSecret) } })
  await app.inject({ method: 'POST', url: `/oauth2/token/${UNKNOWN}`, payload: { grant_type: 'client_credentials', client_id: UNKNOWN, client_secret: 'x' } })
  const all = json(await app.inject({ url: '/__mock/requests' })) as unknown as Array<Record<string, unknown>>
  t.same(all.map((e) => [e.method, e.path, e.tenantId, e.status]), [
    ['POST', `/oauth2/token/${UNKNOWN}`, null, 401],
    ['GET', '/rest/v1/audiences/backend', null, 401]
  ], 'both are listed, with no tenant: the id they claimed proves nothing')
  const filtered = await app.inject({ url: `/__mock/requests?tenantId=${UNKNOWN}` })
  t.equal(filtered.statusCode, 404, 'filtering by the claimed id is the unknown-tenant 404, which says why the tenant got nothing')
  t.same(filtered.json(), NOT_FOUND)
  const coverage = json(await app.inject({ url: '/__mock/coverage' })) as { operations: Array<{ operationId: string, statuses: Array<{ status: number | null, count: number }> }> }
  const getAudience = coverage.operations.find((o) => o.operationId === 'getAudience')
  t.equal(getAudience?.statuses.find((s) => s.status === 401)?.count, 1, 'the 401 counts in the whole-server report')
})

t.test('behind the rule, the app\'s journal still gives an id no tenant has no ring of its own', async (t) => {
  const app = await build(t)
  app.journal.record({ time: 0, method: 'POST', url: `/oauth2/token/${UNKNOWN}`, tenantId: UNKNOWN, clientId: null, status: 401, fault: null, transport: null, durationMs: 1 })
  t.equal(app.journal.usage().rings, 0, 'the entry went to the anonymous ring')
  t.same(app.journal.list({ tenantId: UNKNOWN }).map((e) => [e.path, e.tenantId]), [[`/oauth2/token/${UNKNOWN}`, UNKNOWN]], 'listed under the id it named, in that ring')
})

// ---- The library: the same rule as a typed, exported error ----

async function server (t: Test) {
  const mock = await startMockServer({ fixtures: FIXTURE })
  t.teardown(mock.close)
  mock.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'deleteAudience' }, effect: { status: 503 } })
  await fetch(`${mock.url}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A } })
  return mock
}

/** The error every library method throws for an unknown tenant. */
function isUnknownTenant (t: Test, err: unknown): void {
  t.ok(err instanceof UnknownTenantError, 'an UnknownTenantError')
  t.ok(err instanceof Error, 'an Error')
  const e = err as UnknownTenantError
  t.same({ name: e.name, code: e.code, statusCode: e.statusCode, tenantId: e.tenantId, message: e.message }, { name: 'UnknownTenantError', code: 'THRIVE_MOCK_UNKNOWN_TENANT', statusCode: 404, tenantId: UNKNOWN, message: NOT_FOUND.message })
}

async function caught (fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('did not throw')
}

type Mock = Awaited<ReturnType<typeof startMockServer>>
const LIBRARY: Record<string, (mock: Mock, tenantId: string) => unknown> = {
  armFault: (mock, tenantId) => mock.armFault({ match: { tenantId }, effect: { status: 500 } }),
  clearFaults: (mock, tenantId) => mock.clearFaults(tenantId),
  setStrict: (mock, tenantId) => mock.setStrict(tenantId, true),
  requests: (mock, tenantId) => mock.requests({ tenantId }),
  coverage: (mock, tenantId) => mock.coverage(tenantId),
  reset: async (mock, tenantId) => await mock.reset(tenantId),
  exportTenant: async (mock, tenantId) => await mock.exportTenant(tenantId)
}

for (const [method, call] of Object.entries(LIBRARY)) {
  t.test(`the library's ${method} throws an UnknownTenantError for an unknown tenant, and changes nothing`, async (t) => {
    const mock = await server(t)
    const before = { faults: mock.app.faults.list(), requests: mock.requests(), strict: mock.app.contract.tenantStrict(TENANT_A.tenantId), coverage: mock.coverage() }
    isUnknownTenant(t, await caught(() => call(mock, UNKNOWN)))
    t.same({ faults: mock.app.faults.list(), requests: mock.requests(), strict: mock.app.contract.tenantStrict(TENANT_A.tenantId), coverage: mock.coverage() }, before, 'nothing changed')
    await mock.reset()
    await t.resolves(Promise.resolve().then(() => call(mock, TENANT_A.tenantId)), 'a known tenant works after a full reset')
  })
}

t.test('startMockServer({faults}) with a rule for an unknown tenant rejects with the same error', async (t) => {
  isUnknownTenant(t, await caught(() => startMockServer({ fixtures: FIXTURE, faults: [{ match: { tenantId: UNKNOWN }, effect: { status: 500 } }] })))
})
