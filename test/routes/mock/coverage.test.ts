// Contract coverage: GET /__mock/coverage counts, per tenant and operation, every status the traffic produced
// against the statuses /openapi.json documents, and groups the requests' violations by code; reset clears it.
import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { startMockServer } from '../../../src/index.js'
import { OPERATION_IDS } from '../../../src/operations.js'
import type { CoverageReport } from '../../../src/schemas/coverage.js'
import type { Violation } from '../../../src/schemas/violations.js'
import { uncheckedResponses } from '../../response-check.js'
import { basic, BASIC_A, BASIC_B, build, CLIENT_HEADERS, FIXTURE, getToken, json, TENANT_A, TENANT_B } from '../../helpers.js'

type Counts = Record<string, Record<string, number>>
interface DocumentOperation { operationId: string, responses: Record<string, unknown> }

/** The Thrive operations /openapi.json documents (the audience API and the token endpoint), with their documented statuses. */
async function documentedOperations (app: FastifyInstance): Promise<Array<{ operationId: string, method: string, path: string, statuses: number[] }>> {
  const doc = json(await app.inject({ url: '/openapi.json' })) as { paths: Record<string, Record<string, DocumentOperation>> }
  return Object.entries(doc.paths).filter(([path]) => path.startsWith('/rest/v1/') || path.startsWith('/oauth2/')).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
    operationId: op.operationId,
    method: method.toUpperCase(),
    path,
    statuses: Object.keys(op.responses).map(Number).sort((a, b) => a - b)
  })))
}

/** The report a tenant's traffic must give: every documented status with its count, then any other status seen. */
async function expectedReport (app: FastifyInstance, tenantId: string | null, counts: Counts, violations: CoverageReport['violations'] = []): Promise<CoverageReport> {
  const operations = (await documentedOperations(app)).map(({ operationId, method, path, statuses }) => {
    const seen = counts[operationId] ?? {}
    const extra = Object.keys(seen).filter((s) => s !== 'none' && !statuses.includes(Number(s))).map(Number)
    const all = [...statuses, ...extra].sort((a, b) => a - b)
    const rows = all.map((status) => ({ status, documented: statuses.includes(status), count: seen[String(status)] ?? 0 }))
    const none = seen.none === undefined ? [] : [{ status: null, documented: false, count: seen.none }]
    return { operationId, method, path, statuses: [...rows, ...none], neverSeen: rows.filter((r) => r.documented && r.count === 0).map((r) => r.status) }
  })
  const requests = Object.values(counts).flatMap((byStatus) => Object.values(byStatus)).reduce((a, b) => a + b, 0)
  return { tenantId, requests, operations: operations.sort((x, y) => x.operationId.localeCompare(y.operationId)), violations }
}

const coverage = async (t: Test, app: FastifyInstance, tenantId?: string) => {
  const res = await app.inject({ url: tenantId === undefined ? '/__mock/coverage' : `/__mock/coverage?tenantId=${encodeURIComponent(tenantId)}` })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const report = res.json() as CoverageReport
  t.same(report.operations.map((op) => op.operationId), OPERATION_IDS, 'operations in the order this server defines them')
  // Compared with the document's operations, which it lists by path.
  return { ...report, operations: report.operations.sort((x, y) => x.operationId.localeCompare(y.operationId)) }
}

const A = { authorization: BASIC_A, ...CLIENT_HEADERS }

/** One request per documented answer a client should handle; returns what each tenant's report must then show. */
async function scriptedSequence (t: Test, app: FastifyInstance) {
  const send = async (request: InjectOptions, status: number) => {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, `${String(request.method ?? 'GET')} ${String(request.url)} -> ${status}`)
  }
  await send({ url: '/rest/v1/audiences/backend', headers: A }, 200)
  await send({ url: '/rest/v1/audiences/nope', headers: A }, 404)
  await send({ url: '/rest/v1/audiences/backend', headers: { ...A, prefer: 'code=401' } }, 401)
  const writer = await getToken(app, 'a-writer', 'a-writer-secret')
  await send({ url: '/rest/v1/audiences/backend', headers: { ...CLIENT_HEADERS, authorization: `Bearer ${writer}` } }, 403)
  await send({ method: 'POST', url: '/rest/v1/audiences', headers: A, payload: { name: 'Again', reference: 'backend', category: 'audience', parentId: 'shared' } }, 409)
  await send({ method: 'POST', url: '/rest/v1/audiences/with%20space/members', headers: A, payload: ['ada', 'nobody@example.com'] }, 207)
  await send({ url: '/rest/v1/audiences?perPage=5', headers: { ...A, prefer: 'code=429' } }, 429)
  await send({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, route: 'deleteAudience' }, effect: { status: 500 }, times: 1 } }, 201)
  await send({ method: 'DELETE', url: '/rest/v1/audiences/with%20space', headers: A }, 500)
  await send({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'password', client_id: 'a-reader', client_secret: 'a-reader-secret' } }, 400)
  // A transport fault leaves no response: app.inject() fails with the reason, and coverage counts it as "none".
  await send({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, route: 'listManagers' }, effect: { transport: 'reset' }, times: 1 } }, 201)
  await t.rejects(app.inject({ url: '/rest/v1/audiences/shared/managers', headers: A }), { name: 'NoConnectionError' })
  // Bad credentials prove no tenant (as in the journal): this 401 counts only in the whole-server report.
  await send({ url: '/rest/v1/audiences/backend', headers: { ...CLIENT_HEADERS, authorization: basic(TENANT_A.tenantId, 'wrong') } }, 401)
  await send({ url: '/rest/v1/audiences/shared', headers: { ...CLIENT_HEADERS, authorization: BASIC_B } }, 200)
  const a: Counts = {
    getAudience: { 200: 1, 404: 1, 401: 1, 403: 1 },
    getAccessToken: { 200: 1, 400: 1 },
    createAudience: { 409: 1 },
    addMembers: { 207: 1 },
    listAudiences: { 429: 1 },
    deleteAudience: { 500: 1 },
    listManagers: { none: 1 }
  }
  const b: Counts = { getAudience: { 200: 1 } }
  const all: Counts = { ...a, getAudience: { 200: 2, 404: 1, 401: 2, 403: 1 } }
  return { a, b, all }
}

t.test('after a scripted sequence, each tenant\'s coverage is exactly the statuses it produced, over every documented one', async (t) => {
  const app = await build(t)
  const untouched = await coverage(t, app, TENANT_A.tenantId)
  t.same(untouched, await expectedReport(app, TENANT_A.tenantId, {}), 'before any request: every documented status never seen')
  t.equal(untouched.operations.length, 14, 'the 13 audience operations and the token endpoint')

  const { a, b, all } = await scriptedSequence(t, app)
  t.same(await coverage(t, app, TENANT_A.tenantId), await expectedReport(app, TENANT_A.tenantId, a))
  t.same(await coverage(t, app, TENANT_B.tenantId), await expectedReport(app, TENANT_B.tenantId, b), 'tenant B sees only its own request')
  t.same(await coverage(t, app), await expectedReport(app, null, all), 'the whole server: both tenants and the unauthenticated 401')
  const row = (await coverage(t, app, TENANT_A.tenantId)).operations.find((op) => op.operationId === 'getAudience')
  t.same(row?.neverSeen, [400, 409, 413, 422, 429, 500, 502, 503, 504], 'what the sequence never exercised on getAudience')
})

t.test('resetting a tenant clears its coverage only; a full reset clears all, unauthenticated traffic included', async (t) => {
  const app = await build(t)
  const { b } = await scriptedSequence(t, app)
  const reset = async (body: object) => t.equal((await app.inject({ method: 'POST', url: '/__mock/reset', payload: body })).statusCode, 200)
  await reset({ tenantId: TENANT_A.tenantId })
  t.same(await coverage(t, app, TENANT_A.tenantId), await expectedReport(app, TENANT_A.tenantId, {}))
  t.same(await coverage(t, app, TENANT_B.tenantId), await expectedReport(app, TENANT_B.tenantId, b), 'tenant B keeps its coverage')
  t.same(await coverage(t, app), await expectedReport(app, null, { getAudience: { 200: 1, 401: 1 } }), 'B\'s request and the unauthenticated 401 remain')
  await reset({})
  t.same(await coverage(t, app), await expectedReport(app, null, {}))
})

t.test('a malformed transport fault counts as the 200 the client received, over a real socket (README, Contract testing)', async (t) => {
  uncheckedResponses(t, 'a malformed fault answers half of the JSON on purpose')
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const armed = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, route: 'getAudience' }, effect: { transport: 'malformed' }, times: 2 } })
  t.equal(armed.statusCode, 201)
  for (const audience of ['backend', 'ghost']) {
    const res = await fetch(`${origin}/rest/v1/audiences/${audience}`, { headers: A })
    t.equal(res.status, 200, `${audience}: the client receives a 200, even for an audience that does not exist`)
    const body = await res.text()
    t.throws(() => JSON.parse(body), SyntaxError, `${audience}: with half of its JSON`)
  }
  t.same(await coverage(t, app, TENANT_A.tenantId), await expectedReport(app, TENANT_A.tenantId, { getAudience: { 200: 2 } }), 'counted as 200s, not as a missing answer (null) and not dropped')
  t.same(await coverage(t, app), await expectedReport(app, null, { getAudience: { 200: 2 } }), 'the same in the whole-server report')
})

t.test('coverage of a tenant this server does not know is a 404 in the documented error shape', async (t) => {
  const app = await build(t)
  for (const url of ['/__mock/coverage?tenantId=eu-west-2_Nobody00', '/__mock/coverage.html?tenantId=eu-west-2_Nobody00']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), { status: 404, error: 'Not Found', message: 'Unknown tenant "eu-west-2_Nobody00"' })
  }
  const res = await app.inject({ url: '/__mock/coverage?colour=red' })
  t.equal(res.statusCode, 400, 'an unknown query parameter is refused')
  t.same(Object.keys(res.json() as object).sort(), ['error', 'message', 'status'])
})

t.test('with an admin token, coverage needs it like every control route', async (t) => {
  const app = await build(t, { admin: { enabled: true, token: 'coverage-admin-1' } })
  for (const url of ['/__mock/coverage', '/__mock/coverage.html']) {
    const refused = await app.inject({ url })
    t.equal(refused.statusCode, 401)
    t.equal(refused.headers['www-authenticate'], 'MockAdmin realm="thrive-audience-mock control plane"')
    t.equal((await app.inject({ url, headers: { 'x-mock-admin-token': 'coverage-admin-1' } })).statusCode, 200)
  }
})

t.test('violations are grouped by code, counted per tenant, with the first one seen as the example', async (t) => {
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  const send = async (authorization: string, url: string): Promise<Violation[]> => {
    const res = await app.inject({ url, headers: { ...CLIENT_HEADERS, authorization } })
    t.equal(res.statusCode, 200, url)
    return (app.journal.list({ limit: 1 })[0] as { violations: Violation[] }).violations
  }
  // Real requests with what real Thrive would misread: the short path and unknown query parameters.
  const first = await send(BASIC_A, '/audiences?updated_since=2024-01-01')
  t.same(first.map((v) => [v.location, v.code]), [['path', 'short-path'], ['query.updated_since', 'unknown-query-param']])
  const [shortPath, unknownParam] = first
  t.same((await send(BASIC_A, '/rest/v1/audiences?pageSize=50')).map((v) => v.location), ['query.pageSize'])
  t.same(await send(BASIC_A, '/rest/v1/audiences'), [], 'a clean request carries none')
  t.same((await send(BASIC_B, '/audiences')).map((v) => v.code), ['short-path'])
  t.same((await coverage(t, app, TENANT_A.tenantId)).violations, [
    { code: 'unknown-query-param', count: 2, example: unknownParam },
    { code: 'short-path', count: 1, example: shortPath }
  ], 'most frequent first; the example is the first seen')
  t.same((await coverage(t, app, TENANT_B.tenantId)).violations, [{ code: 'short-path', count: 1, example: shortPath }])
  t.same((await coverage(t, app)).violations, [
    { code: 'short-path', count: 2, example: shortPath },
    { code: 'unknown-query-param', count: 2, example: unknownParam }
  ], 'the whole server merges the tenants; equal counts by code')
})

t.test('a status an operation does not document is listed, in status order, and flagged', async (t) => {
  uncheckedResponses(t, 'the test rewrites an answer to a status no operation documents, to see it flagged')
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  // Stands in for a route answering outside its contract: the coverage must show it, not hide it.
  app.addHook('onSend', async (request, reply) => { if (request.headers['x-test-status'] !== undefined) reply.code(Number(request.headers['x-test-status'])) })
  t.equal((await app.inject({ url: '/rest/v1/audiences/backend', headers: { ...A, 'x-test-status': '418' } })).statusCode, 418)
  t.equal((await app.inject({ url: '/rest/v1/audiences/backend', headers: A })).statusCode, 200)
  t.same(await coverage(t, app, TENANT_A.tenantId), await expectedReport(app, TENANT_A.tenantId, { getAudience: { 200: 1, 418: 1 } }))
  const row = (await coverage(t, app, TENANT_A.tenantId)).operations.find((op) => op.operationId === 'getAudience')
  t.same(row?.statuses.map((s) => [s.status, s.documented, s.count]).slice(6, 9), [[413, true, 0], [418, false, 1], [422, true, 0]], 'in status order, flagged as undocumented')
  t.notOk(row?.neverSeen.includes(418), 'and never among the never-seen documented statuses')
})

t.test('the library\'s coverage() returns what the route answers, and throws for an unknown tenant', async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  await fetch(`${server.url}/rest/v1/audiences/backend`, { headers: A })
  await fetch(`${server.url}/rest/v1/audiences/nope`, { headers: A })
  for (const tenantId of [TENANT_A.tenantId, undefined]) {
    const route = await (await fetch(`${server.url}/__mock/coverage${tenantId === undefined ? '' : `?tenantId=${tenantId}`}`)).json()
    t.same(server.coverage(tenantId), route)
  }
  t.match(server.coverage(TENANT_A.tenantId).operations.find((op) => op.operationId === 'getAudience')?.statuses, [{ status: 200, count: 1 }, { status: 400, count: 0 }, { status: 401, count: 0 }, { status: 403, count: 0 }, { status: 404, count: 1 }])
  t.throws(() => server.coverage('eu-west-2_Nobody00'), { code: 'THRIVE_MOCK_UNKNOWN_TENANT', message: 'Unknown tenant "eu-west-2_Nobody00"' })
  await server.reset(TENANT_A.tenantId)
  t.equal(server.coverage(TENANT_A.tenantId).requests, 0, 'reset() clears it')
})
