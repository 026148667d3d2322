// Creating, updating, moving, deleting and listing audiences: thrive-api.md part C, the table and decided points 1–5 and 9.
import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { BASIC_A, BASIC_B, build, CLIENT_HEADERS, getToken, IDS, json, TENANT_A } from '../helpers.js'

const AUTH = { authorization: BASIC_A, ...CLIENT_HEADERS }
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0, 0)
const NOW_ISO = new Date(NOW).toISOString()
/** The mock clock keeps running after it is set, so a write's timestamp is the set instant or a little after. */
const STAMP = /^2025-06-01T12:0\d:\d\d\.\d{3}Z$/
const HEX24 = /^[0-9a-f]{24}$/

async function call (app: FastifyInstance, method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = AUTH) {
  return await app.inject({ method, url: `/rest/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) })
}

async function at (t: Test) {
  const app = await build(t)
  app.clock.set(NOW)
  return app
}

function assertError (t: Test, res: Awaited<ReturnType<typeof call>>, status: number, error: string, message: RegExp) {
  t.equal(res.statusCode, status, `status ${status}: ${res.body}`)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(Object.keys(json(res)).sort(), ['error', 'message', 'status'])
  t.equal(json(res).status, status)
  t.equal(json(res).error, error)
  t.match(json(res).message, message)
}

t.test('create: a structure, then a child under it by reference, answer 201 with the Audience and its Location (decided 4)', async (t) => {
  const app = await at(t)
  const structure = await call(app, 'POST', '/audiences', { name: 'Sales', reference: 'sales', category: 'structure' })
  t.equal(structure.statusCode, 201)
  const s = json(structure)
  t.match(s.id, HEX24)
  t.equal(structure.headers.location, `/rest/v1/audiences/${s.id as string}`)
  t.match(s.createdAt, STAMP)
  t.same(s, { id: s.id, name: 'Sales', reference: 'sales', apiControlled: true, category: 'structure', type: 'manual', parent: null, createdAt: s.createdAt, updatedAt: s.createdAt }, 'createdAt = updatedAt = the mock clock')

  const child = await call(app, 'POST', '/audiences', { name: 'EMEA Sales', reference: 'sales-emea', category: 'audience', parentId: 'sales' })
  t.equal(child.statusCode, 201)
  const c = json(child)
  t.not(c.id, s.id)
  t.match(c.createdAt, STAMP)
  t.same(c, { id: c.id, name: 'EMEA Sales', reference: 'sales-emea', apiControlled: true, category: 'audience', type: 'manual', parent: { name: 'Sales', reference: 'sales', id: s.id }, createdAt: c.createdAt, updatedAt: c.createdAt })

  // Every later read sees it: by id, by reference, and from the short path.
  t.same(json(await call(app, 'GET', `/audiences/${c.id as string}`)), c)
  t.same((await app.inject({ url: '/audiences/sales-emea', headers: AUTH })).json(), c)
})

t.test('create: the same writes after a reset give the same ids (decided 4)', async (t) => {
  const app = await at(t)
  const ids = async () => {
    const a = json(await call(app, 'POST', '/audiences', { name: 'One', reference: 'one', category: 'structure' })).id
    const b = json(await call(app, 'POST', '/audiences', { name: 'Two', reference: 'two', category: 'audience', parentId: 'one' })).id
    return [a, b]
  }
  const first = await ids()
  t.equal((await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: { tenantId: TENANT_A.tenantId } })).statusCode, 200)
  t.equal((await call(app, 'GET', '/audiences/one')).statusCode, 404, 'the reset removed what was written')
  t.same(await ids(), first)
})

t.test('create: category and parent must agree, and the parent must be an API-controlled structure (decided 1, 4)', async (t) => {
  const app = await at(t)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure', parentId: 'shared' }), 422, 'Unprocessable Content', /structure/)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'audience' }), 422, 'Unprocessable Content', /parentId/)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'audience', parentId: 'nowhere' }), 422, 'Unprocessable Content', /nowhere/)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'audience', parentId: 'backend' }), 422, 'Unprocessable Content', /structure/)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'audience', parentId: 'ui-made' }), 403, 'Forbidden', /Thrive UI/)
  assertError(t, await call(app, 'POST', '/audiences', { name: 'X', reference: 'backend', category: 'structure' }), 409, 'Conflict', /backend/)
  t.same((json(await call(app, 'GET', '/audiences')) as { pagination: unknown }).pagination, { totalResults: 9, totalPages: 1, page: 1, perPage: 100 }, 'nothing was created')
})

t.test('create: a body that breaks the schema is a 400 naming the field, and types are never coerced (decided 1)', async (t) => {
  const app = await at(t)
  const cases: Array<[unknown, RegExp]> = [
    [{ reference: 'x', category: 'structure' }, /name/],
    [{ name: 42, reference: 'x', category: 'structure' }, /name/],
    [{ name: 'X', reference: 'x'.repeat(101), category: 'structure' }, /reference/],
    [{ name: '', reference: 'x', category: 'structure' }, /name/],
    [{ name: 'X', reference: 'x', category: 'team' }, /category/],
    [{ name: 'X', reference: 'x', category: 'audience', parentId: 7 }, /parentId/],
    [['not', 'an', 'object'], /object/]
  ]
  for (const [body, field] of cases) assertError(t, await call(app, 'POST', '/audiences', body), 400, 'Bad Request', field)
  const bad = await app.inject({ method: 'POST', url: '/rest/v1/audiences', headers: AUTH, payload: '{"name": "X",' })
  assertError(t, bad, 400, 'Bad Request', /JSON/)
  const empty = await app.inject({ method: 'POST', url: '/rest/v1/audiences', headers: AUTH })
  assertError(t, empty, 400, 'Bad Request', /body/)
})

t.test('create: unknown body fields are ignored (decided 1)', async (t) => {
  const app = await at(t)
  const res = await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure', colour: 'blue', apiControlled: false })
  t.equal(res.statusCode, 201)
  t.equal(json(res).apiControlled, true)
  t.notOk('colour' in json(res))
})

t.test('update: renames an audience, sets updatedAt, and its children show the new name at once (decided 5)', async (t) => {
  const app = await at(t)
  const res = await call(app, 'PATCH', '/audiences/shared', { name: 'Technology', reference: 'tech' })
  t.equal(res.statusCode, 200)
  t.match(json(res).updatedAt, STAMP)
  t.same(json(res), { id: IDS.aStructure, name: 'Technology', reference: 'tech', apiControlled: true, category: 'structure', type: 'manual', parent: null, createdAt: '2024-01-15T10:20:30.123Z', updatedAt: json(res).updatedAt, memberOperations: null })
  t.same(json(await call(app, 'GET', '/audiences/backend')).parent, { name: 'Technology', reference: 'tech', id: IDS.aStructure })
  t.equal((await call(app, 'GET', '/audiences/shared')).statusCode, 404, 'the old reference is free')
  t.equal((await call(app, 'GET', '/audiences/tech')).statusCode, 200)
})

t.test('update: moving a child audience answers memberOperations {from, to} and moves it (decided 5)', async (t) => {
  const app = await at(t)
  const target = json(await call(app, 'POST', '/audiences', { name: 'Ops', reference: 'ops', category: 'structure' }))
  const res = await call(app, 'PATCH', `/audiences/${IDS.aChild}`, { parentId: target.id })
  t.equal(res.statusCode, 200)
  t.same(json(res).parent, { name: 'Ops', reference: 'ops', id: target.id })
  t.same(json(res).memberOperations, { from: { id: IDS.aStructure, name: 'Tech', reference: 'shared' }, to: { id: target.id, name: 'Ops', reference: 'ops' } })
  t.match(json(res).updatedAt, STAMP)
  // Deleting the old structure now only has to wait for its other children.
  const stay = await call(app, 'PATCH', `/audiences/${IDS.aChild}`, { parentId: 'ops', name: 'Backend 2' })
  t.equal(json(stay).memberOperations, null, 'no move when the parent does not change')
})

t.test('update: the rules of decided 1 and 5', async (t) => {
  const app = await at(t)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', {}), 400, 'Bad Request', /at least one of name, reference and parentId/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { unknown: 1 }), 400, 'Bad Request', /at least one/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { name: 42 }), 400, 'Bad Request', /name/)
  assertError(t, await call(app, 'PATCH', '/audiences/ghost', { name: 'X' }), 404, 'Not Found', /ghost/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { reference: 'with space' }), 409, 'Conflict', /with space/)
  assertError(t, await call(app, 'PATCH', '/audiences/shared', { parentId: 'ui-made' }), 422, 'Unprocessable Content', /structure/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { parentId: 'with space' }), 422, 'Unprocessable Content', /structure/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { parentId: 'ghost' }), 422, 'Unprocessable Content', /ghost/)
  assertError(t, await call(app, 'PATCH', '/audiences/backend', { parentId: 'ui-made' }), 403, 'Forbidden', /Thrive UI/)
  assertError(t, await call(app, 'PATCH', '/audiences/ui-made', { name: 'X' }), 403, 'Forbidden', /Thrive UI/)
  assertError(t, await call(app, 'PATCH', '/audiences/smart-one', { name: 'X' }), 403, 'Forbidden', /Thrive UI/)
  const unchanged = json(await call(app, 'GET', '/audiences/backend'))
  t.equal(unchanged.updatedAt, '2024-01-17T00:00:00.000Z', 'no failed update touched it')
  t.equal(unchanged.name, 'Backend')
})

t.test('delete: 409 while a structure has children; then 200 {"success": true}, and the reference is free (decided 6)', async (t) => {
  const app = await at(t)
  const s = json(await call(app, 'POST', '/audiences', { name: 'Temp', reference: 'temp', category: 'structure' }))
  await call(app, 'POST', '/audiences', { name: 'Temp child', reference: 'temp-child', category: 'audience', parentId: 'temp' })
  assertError(t, await call(app, 'DELETE', '/audiences/temp'), 409, 'Conflict', /child/)
  // Real clients send Content-Type: application/json on a bodiless DELETE (part C, decided 1).
  const child = await app.inject({ method: 'DELETE', url: '/rest/v1/audiences/temp-child', headers: AUTH })
  t.equal(child.statusCode, 200)
  t.same(child.json(), { success: true })
  const structure = await call(app, 'DELETE', `/audiences/${s.id as string}`)
  t.same([structure.statusCode, structure.json()], [200, { success: true }])
  assertError(t, await call(app, 'GET', '/audiences/temp'), 404, 'Not Found', /temp/)
  t.equal((await call(app, 'POST', '/audiences', { name: 'Temp again', reference: 'temp', category: 'structure' })).statusCode, 201)
  assertError(t, await call(app, 'DELETE', '/audiences/temp-child'), 404, 'Not Found', /temp-child/)
  assertError(t, await call(app, 'DELETE', '/audiences/ui-made'), 403, 'Forbidden', /Thrive UI/)
})

t.test('writes need api/write or api/all; reads keep api/read or api/all; Basic has full access (decided 2)', async (t) => {
  const app = await at(t)
  const reader = await getToken(app, 'a-reader', 'a-reader-secret')
  const writer = await getToken(app, 'a-writer', 'a-writer-secret')
  const all = await getToken(app, 'a-all', 'a-all-secret')
  const bearer = (token: string) => ({ authorization: `Bearer ${token}`, ...CLIENT_HEADERS })
  const refused = await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure' }, bearer(reader))
  assertError(t, refused, 403, 'Forbidden', /api\/write or api\/all/)
  t.match(refused.headers['www-authenticate'], /error="insufficient_scope", scope="api\/write api\/all"/)
  t.equal((await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure' }, bearer(writer))).statusCode, 201)
  t.equal((await call(app, 'DELETE', '/audiences/x', undefined, bearer(all))).statusCode, 200)
  assertError(t, await call(app, 'GET', '/audiences', undefined, bearer(writer)), 403, 'Forbidden', /api\/read or api\/all/)
  t.equal((await call(app, 'GET', '/audiences', undefined, bearer(reader))).statusCode, 200)
})

t.test('list: oldest first, then by id, every field, paged with totals (decided 3)', async (t) => {
  const app = await at(t)
  const res = await call(app, 'GET', '/audiences?perPage=3&page=2')
  t.equal(res.statusCode, 200)
  const body = json(res) as { results: Array<Record<string, unknown>>, pagination: unknown }
  t.same(Object.keys(body).sort(), ['pagination', 'results'])
  t.same(body.pagination, { totalResults: 9, totalPages: 3, page: 2, perPage: 3 })
  const everything = (json(await call(app, 'GET', '/audiences?perPage=1000')) as { results: Array<{ id: string, createdAt: string }> }).results
  t.equal(everything.length, 9)
  const sorted = [...everything].sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1)
  t.same(everything.map((a) => a.id), sorted.map((a) => a.id))
  t.same(body.results, everything.slice(3, 6))
  for (const a of everything) t.same(a, json(await call(app, 'GET', `/audiences/${a.id}`)), 'each listed audience is what GET answers')
  t.same(json(await call(app, 'GET', '/audiences?page=99')), { results: [], pagination: { totalResults: 9, totalPages: 1, page: 99, perPage: 100 } })
  t.same((json(await call(app, 'GET', '/audiences?limit=4')) as { pagination: unknown }).pagination, { totalResults: 9, totalPages: 3, page: 1, perPage: 4 })
  t.same((json(await call(app, 'GET', '/audiences?limit=4&perPage=5')) as { pagination: unknown }).pagination, { totalResults: 9, totalPages: 2, page: 1, perPage: 5 }, 'perPage wins over limit')
})

t.test('list: apiControlled and updatedSince filter (decided 3)', async (t) => {
  const app = await at(t)
  const ui = json(await call(app, 'GET', '/audiences?apiControlled=false')) as { results: Array<{ reference: string }>, pagination: { totalResults: number } }
  t.same(ui.results.map((a) => a.reference).sort(), ['smart-one', 'ui-made'])
  t.equal((json(await call(app, 'GET', '/audiences?apiControlled=true')) as { pagination: { totalResults: number } }).pagination.totalResults, 7)
  await call(app, 'PATCH', '/audiences/backend', { name: 'Backend renamed' })
  const since = json(await call(app, 'GET', `/audiences?updatedSince=${encodeURIComponent(NOW_ISO)}`)) as { results: Array<{ reference: string }> }
  t.same(since.results.map((a) => a.reference), ['backend'], 'updatedAt >= updatedSince')
})

t.test('list: query values that break their rule are a 400 naming the parameter (decided 1, 3)', async (t) => {
  const app = await at(t)
  for (const [query, name] of [['page=0', /page/], ['perPage=1001', /perPage/], ['perPage=0', /perPage/], ['limit=101', /limit/], ['apiControlled=yes', /apiControlled/], ['updatedSince=yesterday', /updatedSince/], ['page=abc', /page/]] as const) {
    assertError(t, await call(app, 'GET', `/audiences?${query}`), 400, 'Bad Request', name)
  }
})

t.test('state is per tenant: a write of one tenant is never seen by another, and a tenant reset restores only its seed (decided 9)', async (t) => {
  const app = await at(t)
  await call(app, 'POST', '/audiences', { name: 'Only A', reference: 'only-a', category: 'structure' })
  await call(app, 'PATCH', '/audiences/shared', { name: 'A renamed' })
  const b = { authorization: BASIC_B, ...CLIENT_HEADERS }
  t.equal((await call(app, 'GET', '/audiences/only-a', undefined, b)).statusCode, 404)
  t.equal(json(await call(app, 'GET', '/audiences/shared', undefined, b)).name, 'B Tech')
  t.equal((await call(app, 'POST', '/audiences', { name: 'Only B', reference: 'only-b', category: 'structure' }, b)).statusCode, 201)
  await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: { tenantId: TENANT_A.tenantId } })
  t.equal(json(await call(app, 'GET', '/audiences/shared')).name, 'Tech', 'A is back to its seed')
  t.equal((await call(app, 'GET', '/audiences/only-a')).statusCode, 404)
  t.equal((await call(app, 'GET', '/audiences/only-b', undefined, b)).statusCode, 200, 'B keeps its write')
})

t.test('writes meet fault rules by operation name and audience, are journaled, and a faulted write changes nothing', async (t) => {
  const app = await at(t)
  const arm = async (rule: object) => await app.inject({ method: 'POST', url: '/__mock/faults', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rule) })
  t.equal((await arm({ match: { tenantId: TENANT_A.tenantId, route: 'createAudience' }, effect: { status: 503 }, times: 1 })).statusCode, 201)
  t.equal((await arm({ match: { tenantId: TENANT_A.tenantId, route: 'addMembers', audienceId: 'backend' }, effect: { status: 429, retryAfterSeconds: 7 }, times: 1 })).statusCode, 201)
  const refused = await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure' })
  assertError(t, refused, 503, 'Service Unavailable', /temporarily unavailable/)
  t.equal(refused.headers['retry-after'], '1')
  t.equal((await call(app, 'GET', '/audiences/x')).statusCode, 404, 'the faulted create wrote nothing')
  t.equal((await call(app, 'POST', '/audiences', { name: 'X', reference: 'x', category: 'structure' })).statusCode, 201, 'the rule was used up')
  t.equal((await call(app, 'POST', '/audiences/with%20space/members', ['ada'])).statusCode, 200, 'another audience is not matched')
  const limited = await call(app, 'POST', `/audiences/${IDS.aChild}/members`, ['linus'])
  t.equal(limited.statusCode, 429, 'the audience named by reference in the rule, addressed by id')
  t.equal(limited.headers['retry-after'], '7')
  const members = json(await call(app, 'GET', '/audiences/backend/members')) as { results: Array<{ reference: string }> }
  t.same(members.results.map((m) => m.reference), ['ada', 'grace'], 'the faulted add wrote nothing')
  const journal = (await app.inject({ url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })).json() as Array<{ method: string, path: string, status: number, fault: string | null }>
  // The journal lists the newest first.
  t.same(journal.filter((e) => e.method !== 'GET').reverse().map((e) => [e.method, e.path, e.status, e.fault === null]), [
    ['POST', '/rest/v1/audiences', 503, false],
    ['POST', '/rest/v1/audiences', 201, true],
    ['POST', '/rest/v1/audiences/with%20space/members', 200, true],
    ['POST', `/rest/v1/audiences/${IDS.aChild}/members`, 429, false]
  ])
})
