// Contract violations and strict mode: each code on a request Thrive would ignore or misread (thrive-api.md parts A-C),
// answered as it would be without the checks plus X-Mock-Violations; in strict mode a 400 in the documented
// {status, error, message} shape that lists them. The token route answers RFC 6749 §5.2's invalid_request instead.
import t from 'tap'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { build, BASIC_A, BASIC_B, CLIENT_HEADERS, FIXTURE, getToken, json, TENANT_A, TENANT_B, USERS } from '../helpers.js'
import { Journal } from '../../src/store/journal.js'
import { MAX_LISTED, VIOLATION_CODES, type ViolationCode } from '../../src/violations.js'
import type { JournalEntry } from '../../src/schemas/journal.js'

const H = { authorization: BASIC_A, ...CLIENT_HEADERS }
const FORM = { authorization: BASIC_A, 'content-type': 'application/x-www-form-urlencoded' }

interface Case {
  code: ViolationCode
  location: string
  request: InjectOptions
  /** The token route: its 200 carries a fresh token, so only the status and the fields are compared. */
  token?: true
}

/** One request per code, each answered today with a status the test reads from an app without the checks. */
const CASES: Case[] = [
  { code: 'unknown-query-param', location: 'query.pageSize', request: { method: 'GET', url: '/rest/v1/audiences?pageSize=50', headers: H } },
  { code: 'limit-with-per-page', location: 'query.limit', request: { method: 'GET', url: '/rest/v1/audiences?limit=1&perPage=2', headers: H } },
  { code: 'short-path', location: 'path', request: { method: 'GET', url: '/audiences/backend', headers: H } },
  { code: 'trailing-slash', location: 'path', request: { method: 'GET', url: '/rest/v1/audiences/backend/', headers: H } },
  { code: 'body-not-allowed', location: 'body', request: { method: 'GET', url: '/rest/v1/audiences/backend', headers: H, payload: '{"name":"x"}' } },
  { code: 'missing-content-type', location: 'header.content-type', request: { method: 'POST', url: '/rest/v1/audiences', headers: { authorization: BASIC_A }, payload: Buffer.from('{"name":"N","reference":"n1","category":"structure"}') } },
  { code: 'non-json-content-type', location: 'header.content-type', request: { method: 'POST', url: '/rest/v1/audiences', headers: { authorization: BASIC_A, 'content-type': 'text/plain' }, payload: '{"name":"N","reference":"n2","category":"structure"}' } },
  { code: 'accept-excludes-json', location: 'header.accept', request: { method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, accept: 'text/html, application/json;q=0' } } },
  { code: 'unknown-body-field', location: 'body[0].role', request: { method: 'POST', url: '/rest/v1/audiences/shared/managers', headers: H, payload: [{ reference: 'linus', role: 'owner' }] } },
  { code: 'read-only-field', location: 'body.parent', request: { method: 'POST', url: '/rest/v1/audiences', headers: H, payload: { name: 'Child', reference: 'child-1', category: 'audience', parent: 'shared' } } },
  { code: 'ui-only-field', location: 'body[0].permissions.audienceManager.manageMembers', request: { method: 'POST', url: '/rest/v1/audiences/shared/managers', headers: H, payload: [{ reference: 'grace', permissions: { audienceManager: { manageMembers: true } } }] } },
  { code: 'wrapped-array-body', location: 'body.users', request: { method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: { users: ['linus'] } } },
  { code: 'case-folded-user-ref', location: 'body[0]', request: { method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: ['LINUS@example.com'] } },
  { code: 'unknown-body-field', location: 'body.audience', token: true, request: { method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: FORM, payload: 'grant_type=client_credentials&audience=api' } }
]

function answer (res: LightMyRequestResponse, token: boolean) {
  const body = json(res)
  return { status: res.statusCode, body: token && res.statusCode === 200 ? Object.keys(body).sort() : body }
}

/** The header's `<location> <code>` pairs, its messages left out (one test below checks them whole). */
function pairs (header: string | string[] | number | undefined): string | undefined {
  return header === undefined ? undefined : String(header).split('; ').map((item) => item.replace(/: .*$/, '')).join('; ')
}

function lastEntry (app: FastifyInstance): JournalEntry {
  return app.journal.list({ limit: 1 })[0] as JournalEntry
}

t.test('every code in the table is exercised by a case below', async (t) => {
  t.same([...new Set(CASES.map((c) => c.code))].sort(), Object.keys(VIOLATION_CODES).sort())
})

t.test('non-strict: each violation leaves the answer as it is without the checks, and adds the header and the journal entry', async (t) => {
  const without = await build(t, {}, { contractChecks: false })
  const checked = await build(t)
  for (const c of CASES) {
    const before = await without.inject(c.request)
    const res = await checked.inject(c.request)
    t.same(answer(res, c.token === true), answer(before, c.token === true), `${c.code}: the same answer as without the checks`)
    t.equal(before.headers['x-mock-violations'], undefined, `${c.code}: no checks, no header`)
    const entry = lastEntry(checked)
    // Each item is the location, the code and the message, the same as the journal's.
    t.equal(res.headers['x-mock-violations'], `${c.location} ${c.code}: ${entry.violations[0]?.message ?? ''}`, c.code)
    t.match(entry.violations[0]?.message, /^[\x20-\x3a\x3c-\x7e]+$/, `${c.code}: a message in ASCII, without the separator`)
    t.same(entry.violations.map((v) => [v.location, v.code]), [[c.location, c.code]], `${c.code}: journaled`)
    t.equal(entry.violationsNotListed, 0)
    t.equal(entry.status, res.statusCode)
  }
})

t.test('strict (--strict): each violation is a 400 whose message lists it, in the operation\'s error shape', async (t) => {
  const lenient = await build(t)
  const strict = await build(t, { strict: true })
  for (const c of CASES) {
    await lenient.inject(c.request)
    const { location, code, message } = lastEntry(lenient).violations[0] as JournalEntry['violations'][number]
    const res = await strict.inject(c.request)
    t.equal(res.statusCode, 400, c.code)
    t.equal(res.headers['x-mock-violations'], `${location} ${code}: ${message}`)
    t.match(res.headers['content-type'], /^application\/json/)
    const listed = `Strict mode: this request has 1 contract violation, which real Thrive would ignore or misread: ${location} ${code}: ${message}`
    // The token route speaks RFC 6749 §5.2.
    t.same(json(res), c.token === true ? { error: 'invalid_request', error_description: listed } : { status: 400, error: 'Bad Request', message: listed }, c.code)
    t.same(lastEntry(strict).violations, [{ location, code, message }])
  }
  // Nothing a strict 400 refused was written.
  t.same(json(await strict.inject({ method: 'GET', url: '/rest/v1/audiences/backend/members', headers: H })), json(await build(t).then((fresh) => fresh.inject({ method: 'GET', url: '/rest/v1/audiences/backend/members', headers: H }))))
})

t.test('a clean request carries no header and journals no violation', async (t) => {
  const app = await build(t, { strict: true })
  const res = await app.inject({ method: 'GET', url: '/rest/v1/audiences/backend', headers: H })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-mock-violations'], undefined)
  const entry = lastEntry(app)
  t.same([entry.violations, entry.violationsNotListed], [[], 0])
  // Accept ranges that cover JSON, and a JSON type with parameters, are clean too (RFC 9110 §12.5.1, §8.3.1).
  for (const accept of ['*/*', 'application/*', 'text/html, application/json;q=0.5', '']) {
    const r = await app.inject({ method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, accept } })
    t.equal(r.headers['x-mock-violations'], undefined, `Accept: ${accept}`)
  }
  const patch = await app.inject({ method: 'PATCH', url: '/rest/v1/audiences/backend', headers: { ...H, 'content-type': 'application/json; charset=utf-8' }, payload: { name: 'Backend 2' } })
  t.equal(patch.statusCode, 200)
  t.equal(patch.headers['x-mock-violations'], undefined)
})

t.test('a 401 stays a 401 and a 403 stays a 403: checks and strict mode come after authentication', async (t) => {
  const app = await build(t, { strict: true })
  const bad = await app.inject({ method: 'GET', url: '/audiences/backend?pageSize=1', headers: { ...CLIENT_HEADERS, authorization: 'Basic bm9ib2R5Om5vcGU=' } })
  t.equal(bad.statusCode, 401)
  t.equal(bad.headers['x-mock-violations'], undefined)
  const reader = await getToken(app, 'a-reader', 'a-reader-secret')
  const scope = await app.inject({ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: { ...CLIENT_HEADERS, authorization: `Bearer ${reader}` }, payload: { users: ['ada'] } })
  t.equal(scope.statusCode, 403)
  t.equal(scope.headers['x-mock-violations'], undefined)
  // The token route: a wrong secret is RFC 6749's invalid_client, whatever the body holds.
  const client = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&client_id=a-reader&client_secret=wrong&audience=x' })
  t.equal(client.statusCode, 401)
  t.equal(json(client).error, 'invalid_client')
  t.equal(client.headers['x-mock-violations'], undefined, 'the token route\'s 401 carries no violation either')
  t.same(app.journal.list({ limit: 1 })[0]?.violations, [], 'nor does its journal entry')
  // No credentials at all, and an unknown tenant: the same.
  for (const url of [`/oauth2/token/${TENANT_A.tenantId}`, '/oauth2/token/eu-west-2_NoSuchOne']) {
    const anonymous = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&audience=x' })
    t.equal(anonymous.statusCode, 401, url)
    t.equal(anonymous.headers['x-mock-violations'], undefined, url)
  }
  // Once the client authenticates, the same body is a violation (a strict 400 here).
  const known = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret&audience=x' })
  t.equal(known.statusCode, 400)
  t.equal(pairs(known.headers['x-mock-violations']), 'body.audience unknown-body-field')
})

t.test('Prefer: strict (RFC 7240) combines with the fault preferences, and handling=lenient serves a request on a strict server', async (t) => {
  const app = await build(t)
  const url = '/rest/v1/audiences?pageSize=5'
  const strict = await app.inject({ method: 'GET', url, headers: { ...H, prefer: 'code=503, strict' } })
  t.equal(strict.statusCode, 400, 'strict mode refuses before a fault answers')
  t.match(json(strict).message, /^Strict mode: this request has 1 contract violation.*query\.pageSize unknown-query-param: /)
  const handling = await app.inject({ method: 'GET', url, headers: { ...H, prefer: 'handling=strict' } })
  t.equal(handling.statusCode, 400)
  const clean = await app.inject({ method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, prefer: 'strict, code=503' } })
  t.equal(clean.statusCode, 503, 'a clean request still gets the fault it asked for')
  t.equal(clean.headers['x-mock-fault'], 'prefer')
  const delayed = await app.inject({ method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, prefer: 'delay=0; strict' } })
  t.equal(delayed.statusCode, 200)

  const strictServer = await build(t, { strict: true })
  const lenient = await strictServer.inject({ method: 'GET', url, headers: { ...H, prefer: 'handling=lenient' } })
  t.equal(lenient.statusCode, 200)
  t.equal(pairs(lenient.headers['x-mock-violations']), 'query.pageSize unknown-query-param')
  const both = await strictServer.inject({ method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, prefer: 'strict, handling=lenient' } })
  t.equal(both.statusCode, 400)
  t.match(json(both).message, /^Prefer asks for strict and lenient handling at once: supported preferences/)
})

t.test('strict mode per tenant through the control plane; reset restores the server\'s setting', async (t) => {
  const app = await build(t)
  const url = `/__mock/tenants/${TENANT_A.tenantId}/strict`
  const violating = (authorization: string) => app.inject({ method: 'GET', url: '/rest/v1/audiences?updated_since=2024-01-01', headers: { ...CLIENT_HEADERS, authorization } })
  t.same(json(await app.inject({ method: 'GET', url })), { tenantId: TENANT_A.tenantId, strict: false })
  const put = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, payload: { strict: true } })
  t.equal(put.statusCode, 200)
  t.same(json(put), { tenantId: TENANT_A.tenantId, strict: true })
  t.same(json(await app.inject({ method: 'GET', url })), { tenantId: TENANT_A.tenantId, strict: true })
  t.equal((await violating(BASIC_A)).statusCode, 400)
  t.equal((await violating(BASIC_B)).statusCode, 200, 'another tenant keeps the server\'s setting')
  const reset = await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: { tenantId: TENANT_A.tenantId } })
  t.equal(reset.statusCode, 200)
  t.same(json(await app.inject({ method: 'GET', url })), { tenantId: TENANT_A.tenantId, strict: false })
  t.equal((await violating(BASIC_A)).statusCode, 200)

  // On a strict server a tenant can opt out, until a full reset.
  const strictServer = await build(t, { strict: true })
  t.same(json(await strictServer.inject({ method: 'GET', url: `/__mock/tenants/${TENANT_B.tenantId}/strict` })), { tenantId: TENANT_B.tenantId, strict: true })
  await strictServer.inject({ method: 'PUT', url: `/__mock/tenants/${TENANT_B.tenantId}/strict`, headers: { 'content-type': 'application/json' }, payload: { strict: false } })
  t.same(json(await strictServer.inject({ method: 'GET', url: `/__mock/tenants/${TENANT_B.tenantId}/strict` })).strict, false)
  await strictServer.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: {} })
  t.same(json(await strictServer.inject({ method: 'GET', url: `/__mock/tenants/${TENANT_B.tenantId}/strict` })).strict, true)

  for (const method of ['GET', 'PUT'] as const) {
    const unknown = await app.inject({ method, url: '/__mock/tenants/nobody/strict', headers: { 'content-type': 'application/json' }, payload: { strict: true } })
    t.equal(unknown.statusCode, 404)
    t.same(json(unknown), { status: 404, error: 'Not Found', message: 'Unknown tenant "nobody"' })
  }
  const bad = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, payload: { strict: 'yes' } })
  t.equal(bad.statusCode, 400)
  t.equal(json(bad).status, 400)
})

t.test('at most 20 violations are listed, with a count of the rest, in the header, the journal and the strict message', async (t) => {
  const app = await build(t)
  const names = Array.from({ length: MAX_LISTED + 5 }, (_, i) => `x${i}`)
  const request = { method: 'GET' as const, url: `/rest/v1/audiences?${names.map((n) => `${n}=1`).join('&')}`, headers: H }
  const res = await app.inject(request)
  t.equal(res.statusCode, 200)
  t.equal(pairs(res.headers['x-mock-violations']), `${names.slice(0, MAX_LISTED).map((n) => `query.${n} unknown-query-param`).join('; ')}; (and 5 more)`)
  const entry = lastEntry(app)
  t.equal(entry.violations.length, MAX_LISTED)
  t.equal(entry.violationsNotListed, 5)
  const strict = await app.inject({ ...request, headers: { ...H, prefer: 'strict' } })
  t.match(json(strict).message, /^Strict mode: this request has 25 contract violations, .*query\.x19 unknown-query-param: [^;]*; \(and 5 more\)$/)
  // Body items count the same way: 30 manager items, each with an unknown field.
  const items = Array.from({ length: 30 }, (_, i) => ({ reference: `nobody-${i}`, role: 'x' }))
  const bulk = await app.inject({ method: 'POST', url: '/rest/v1/audiences/shared/managers', headers: H, payload: items })
  t.equal(bulk.statusCode, 207)
  t.match(pairs(bulk.headers['x-mock-violations']), /^body\[0\]\.role unknown-body-field; .*body\[19\]\.role unknown-body-field; \(and 10 more\)$/)
})

t.test('names are cut and escaped to ASCII, and no value is ever echoed, a secret least of all', async (t) => {
  const app = await build(t)
  const long = 'a'.repeat(100)
  const res = await app.inject({ method: 'GET', url: `/rest/v1/audiences?${long}=1&%C3%BCber%3B%20x=2&client_secret=SEKRET-ONE&access_token=SEKRET-TWO&%ED%A0%80=3`, headers: H })
  t.equal(res.statusCode, 200)
  const header = res.headers['x-mock-violations'] as string
  t.equal(pairs(header), `query.${'a'.repeat(40)}... unknown-query-param; query.%C3%BCber%3B%20x unknown-query-param; query.client_secret unknown-query-param; query.access_token unknown-query-param; query.%25ED%25A0%2580 unknown-query-param`)
  t.match(header, /^[\x20-\x7e]+$/, 'a header value in ASCII')
  // Body field names the same way, nested ones included; a field named like a credential shows its name only.
  const payload = JSON.stringify({ name: 'N', reference: 'n-x', category: 'structure', 'p.w d': 'SEKRET-THREE', password: 'SEKRET-FOUR', '': 1 }).replace(/}$/, ',"\\ud800x":1}')
  const body = await app.inject({ method: 'POST', url: '/rest/v1/audiences', headers: H, payload })
  t.equal(body.statusCode, 201)
  t.equal(pairs(body.headers['x-mock-violations']), 'body.p%2Ew%20d unknown-body-field; body.password unknown-body-field; body."" unknown-body-field; body.%EF%BF%BDx unknown-body-field')
  const token = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/x-www-form-urlencoded', prefer: 'strict' }, payload: `grant_type=client_credentials&client_id=${TENANT_A.tenantId}&client_secret=${TENANT_A.apiSecret}&password=SEKRET-FIVE` })
  t.equal(token.statusCode, 400)
  const everything = JSON.stringify([res.headers, body.headers, token.headers, json(token), app.journal.list()])
  for (const secret of ['SEKRET-ONE', 'SEKRET-TWO', 'SEKRET-THREE', 'SEKRET-FOUR', 'SEKRET-FIVE', TENANT_A.apiSecret, BASIC_A.slice(6)]) {
    t.notOk(everything.includes(secret), `${secret} is not echoed`)
  }
})

t.test('user refs in a path and in manager items that matched only by case-folding an email', async (t) => {
  const app = await build(t)
  const removed = await app.inject({ method: 'DELETE', url: `/rest/v1/audiences/backend/members/${encodeURIComponent('ADA@Example.com')}`, headers: H })
  t.equal(removed.statusCode, 200)
  t.equal(pairs(removed.headers['x-mock-violations']), 'path.userRef case-folded-user-ref')
  const managers = await app.inject({ method: 'POST', url: '/rest/v1/audiences/backend/managers', headers: H, payload: [{ reference: 'grace.hopper@example.com' }, { reference: 'Grace.Hopper@example.com' }, { reference: 'nobody@example.com' }] })
  t.equal(managers.statusCode, 207)
  t.equal(pairs(managers.headers['x-mock-violations']), 'body[0].reference case-folded-user-ref')
  const manager = await app.inject({ method: 'DELETE', url: `/rest/v1/audiences/backend/managers/${encodeURIComponent('GRACE.HOPPER@EXAMPLE.COM')}`, headers: { ...H, prefer: 'strict' } })
  t.equal(manager.statusCode, 400)
  t.match(json(manager).message, /path\.userId case-folded-user-ref: matched a user only by comparing the email case-insensitively/)
  // The exact email, the reference and the id are clean.
  const exact = await app.inject({ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: ['Grace.Hopper@example.com', 'linus', USERS.ada.id] })
  t.equal(exact.statusCode, 207)
  t.equal(exact.headers['x-mock-violations'], undefined)
  // A user that does not exist is the 404 it was, with no violation.
  const missing = await app.inject({ method: 'DELETE', url: '/rest/v1/audiences/backend/members/NOBODY%40example.com', headers: H })
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['x-mock-violations'], undefined)
})

t.test('the violations of a request a transport fault ends are journaled too', async (t) => {
  const app = await build(t)
  app.faults.add({ match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'reset' } })
  await t.rejects(app.inject({ method: 'GET', url: '/audiences/backend', headers: H }))
  const entry = lastEntry(app)
  t.same([entry.transport, entry.violations.map((v) => v.code)], ['reset', ['short-path']])
})

t.test('the library: strict: true for the server, setStrict per tenant, VIOLATION_CODES exported', async (t) => {
  const { startMockServer, VIOLATION_CODES: codes } = await import('../../src/index.js')
  t.equal(codes, VIOLATION_CODES)
  const mock = await startMockServer({ fixtures: FIXTURE, strict: true })
  t.teardown(mock.close)
  const get = async () => (await fetch(`${mock.url}/rest/v1/audiences?pageSize=5`, { headers: H })).status
  t.equal(await get(), 400)
  mock.setStrict(TENANT_A.tenantId, false)
  t.equal(await get(), 200)
  await mock.reset(TENANT_A.tenantId)
  t.equal(await get(), 400, 'reset restores the server\'s setting')
  t.throws(() => mock.setStrict('nobody', true), { code: 'THRIVE_MOCK_UNKNOWN_TENANT' })
})

t.test('the journal accounts for the bytes a violation holds', async (t) => {
  const journal = new Journal(10)
  const base = { time: 0, method: 'GET', url: '/x', tenantId: 'T', clientId: 'T', status: 200, fault: null, transport: null, durationMs: 1 }
  journal.record(base)
  const withRing = journal.usage().bytes
  journal.record(base)
  const clean = journal.usage().bytes - withRing
  const violation = { location: 'query.pageSize', code: 'unknown-query-param', message: 'ignored' }
  journal.record({ ...base, violations: [violation, violation], violationsNotListed: 3 })
  const chars = violation.location.length + violation.code.length + violation.message.length
  t.equal(journal.usage().bytes - withRing - 2 * clean, 2 * (96 + 2 * chars))
  const [entry] = journal.list({ limit: 1 })
  t.same([entry?.violations, entry?.violationsNotListed], [[violation, violation], 3])
})

t.test('odd shapes are checked only as far as they go, and answered as without the checks', async (t) => {
  const without = await build(t, {}, { contractChecks: false })
  const app = await build(t)
  const cases: Array<[InjectOptions, string | undefined]> = [
    // A bare "?" has no parameters; an explicit empty body is no body (RFC 9110 §8.6).
    [{ method: 'GET', url: '/rest/v1/audiences/backend?', headers: H }, undefined],
    [{ method: 'DELETE', url: '/rest/v1/audiences/nope', headers: { ...H, 'content-length': '0' } }, undefined],
    // A known field holding an object it should not: the schema's 400, nothing more to name.
    [{ method: 'POST', url: '/rest/v1/audiences', headers: H, payload: { name: { first: 'x' }, reference: 'r', category: 'structure' } }, undefined],
    [{ method: 'POST', url: '/rest/v1/audiences', headers: H, payload: 'null' }, undefined],
    [{ method: 'POST', url: '/rest/v1/audiences', headers: H, payload: ['a'] }, undefined],
    [{ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: {} }, 'body wrapped-array-body'],
    [{ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: '"ada"' }, undefined],
    [{ method: 'POST', url: '/rest/v1/audiences/backend/members', headers: H, payload: [42, 'linus'] }, undefined],
    [{ method: 'POST', url: '/rest/v1/audiences/backend/managers', headers: H, payload: ['ada', { reference: 7 }] }, undefined],
    [{ method: 'GET', url: '/rest/v1/audiences/backend', headers: { ...H, 'transfer-encoding': 'chunked' }, payload: 'x' }, 'body body-not-allowed'],
    [{ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}/`, headers: FORM, payload: 'grant_type=client_credentials' }, 'path trailing-slash']
  ]
  for (const [request, header] of cases) {
    const before = await without.inject(request)
    const res = await app.inject(request)
    // A token answer carries a fresh token each time: its status and fields are what must match.
    const token = String(request.url).startsWith('/oauth2')
    t.same(answer(res, token), answer(before, token), `${request.method} ${request.url} ${JSON.stringify(request.payload)}`)
    t.equal(pairs(res.headers['x-mock-violations']), header)
  }
  // Prefer given as several header lines is read as one list (RFC 9110 §5.3).
  const strict = await app.inject({ method: 'GET', url: '/audiences/backend', headers: { ...H, prefer: ['delay=0', 'strict'] } })
  t.equal(strict.statusCode, 400)
})
