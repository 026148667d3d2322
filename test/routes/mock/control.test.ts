// The /__mock control plane: fault rule CRUD and validation, the journal, reset, the clock and admin protection.
import t from 'tap'
import { CSRF_MESSAGE } from '../../../src/routes/mock/control.js'
import { basic, BASIC_A, BASIC_B, build, getToken, json, TENANT_A, TENANT_B } from '../../helpers.js'

type App = Awaited<ReturnType<typeof build>>
const JSON_TYPE = { 'content-type': 'application/json' }
const RULE = { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } }
const list = async (app: App, url: string) => json(await app.inject({ url })) as unknown as Array<Record<string, unknown>>

t.test('POST /__mock/faults answers 201 with the stored rule: id, seed, counters, expiry', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { ...RULE, name: 'fail twice', times: 2, ttlMs: 1000, seed: 9, match: { ...RULE.match, method: 'get' } } })
  t.equal(res.statusCode, 201)
  const rule = json(res)
  t.match(rule, { id: /^fault-\d+-[0-9a-f]{6}$/, name: 'fail twice', match: { tenantId: TENANT_A.tenantId, method: 'GET' }, effect: { status: 500 }, times: 2, seed: 9, ttlMs: 1000, fired: 0, remaining: 2 })
  t.equal(Date.parse(rule.expiresAt as string) - Date.parse(rule.createdAt as string), 1000)
  await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  t.match(json(await app.inject({ url: `/__mock/faults/${String(rule.id)}` })), { fired: 1, remaining: 1 })
})

const invalid: Array<[string, unknown, RegExp]> = [
  ['an unsupported status', { ...RULE, effect: { status: 418 } }, /^body\/effect\/status must be equal to one of the allowed values/],
  ['an unknown effect field', { ...RULE, effect: { status: 500, colour: 'red' } }, /^body\/effect must NOT have additional properties/],
  ['an unknown transport', { ...RULE, effect: { transport: 'explode' } }, /^body\/effect\/transport must be equal to one of the allowed values/],
  ['a probability above 1', { ...RULE, probability: 2 }, /^body\/probability must be <= 1/],
  ['zero times', { ...RULE, times: 0 }, /^body\/times must be >= 1/],
  ['a missing effect', { match: RULE.match }, /^body must have required property 'effect'/],
  ['no tenant', { match: {}, effect: { status: 500 } }, /^Invalid fault rule: match\.tenantId: is required/],
  ['a tenant and allTenants', { match: { tenantId: TENANT_A.tenantId, allTenants: true }, effect: { status: 500 } }, /^Invalid fault rule: match: give either tenantId or allTenants/],
  ['an empty effect', { ...RULE, effect: {} }, /^Invalid fault rule: effect: needs at least one of status, delayMs or transport/],
  ['status with transport', { ...RULE, effect: { status: 500, transport: 'reset' } }, /^Invalid fault rule: effect: status and transport cannot be combined/],
  ['hangMs without hang', { ...RULE, effect: { transport: 'reset', hangMs: 5 } }, /^Invalid fault rule: effect\.hangMs: only applies to transport "hang"/],
  ['jitter without delay', { ...RULE, effect: { status: 500, jitterMs: 5 } }, /^Invalid fault rule: effect\.jitterMs: only applies with delayMs/],
  ['Retry-After on a 500', { ...RULE, effect: { status: 500, retryAfterSeconds: 5 } }, /^Invalid fault rule: effect\.retryAfterSeconds: only applies to status 429 or 503/],
  ['a message without a status', { ...RULE, effect: { delayMs: 5, message: 'x' } }, /^Invalid fault rule: effect\.message: only applies with status/],
  ['a body that is not JSON', '{"match":', /JSON/]
]
for (const [name, payload, message] of invalid) {
  t.test(`a rule with ${name} is a 400 that says which field is wrong`, async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/__mock/faults', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    t.equal(res.statusCode, 400)
    t.same(Object.keys(json(res)).sort(), ['error', 'message', 'status'])
    t.equal(json(res).error, 'Bad Request')
    t.match(json(res).message, message)
    t.same(await list(app, '/__mock/faults'), [], 'nothing was armed')
  })
}

t.test('rules list oldest first, filter by tenant, and delete one, one tenant\'s or all', async (t) => {
  const app = await build(t)
  const arm = async (tenantId: string) => json(await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId }, effect: { status: 500 } } }))
  const a1 = await arm(TENANT_A.tenantId)
  const b1 = await arm(TENANT_B.tenantId)
  const a2 = await arm(TENANT_A.tenantId)
  const global = json(await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { allTenants: true }, effect: { delayMs: 1 } } }))
  t.same((await list(app, '/__mock/faults')).map((r) => r.id), [a1.id, b1.id, a2.id, global.id])
  t.same((await list(app, `/__mock/faults?tenantId=${TENANT_A.tenantId}`)).map((r) => r.id), [a1.id, a2.id])
  t.equal((await app.inject({ method: 'DELETE', url: `/__mock/faults/${String(a1.id)}` })).statusCode, 204)
  const gone = await app.inject({ method: 'DELETE', url: `/__mock/faults/${String(a1.id)}` })
  t.equal(gone.statusCode, 404)
  t.match(json(gone).message, /^No armed fault rule "fault-1-/)
  t.equal((await app.inject({ url: '/__mock/faults/nope' })).statusCode, 404)
  t.same(json(await app.inject({ method: 'DELETE', url: `/__mock/faults?tenantId=${TENANT_B.tenantId}` })), { removed: 1 })
  t.same(json(await app.inject({ method: 'DELETE', url: `/__mock/faults?tenantId=${TENANT_B.tenantId}` })), { removed: 0 })
  t.equal((await app.inject({ method: 'DELETE', url: `/__mock/faults/${String(global.id)}` })).statusCode, 204)
  t.same(json(await app.inject({ method: 'DELETE', url: '/__mock/faults' })), { removed: 1 })
  t.same(await list(app, '/__mock/faults'), [])
})

t.test('the journal records API and token requests newest first, with every field and no secret', async (t) => {
  const app = await build(t)
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  await app.inject({ url: '/rest/v1/audiences/backend?x=1', headers: { authorization: `Bearer ${token}` } })
  await app.inject({ url: '/audiences/nope', headers: { authorization: BASIC_A, prefer: 'code=429' } })
  await app.inject({ url: '/audiences/backend', headers: { authorization: basic(TENANT_A.tenantId, 'wrong-secret') } })
  await app.inject({ url: '/__mock/health' })
  const entries = await list(app, '/__mock/requests')
  t.equal(entries.length, 4, 'control-plane traffic is not journaled')
  t.match(entries[0], { method: 'GET', path: '/audiences/backend', tenantId: null, clientId: null, status: 401, fault: null, transport: null })
  t.match(entries[1], { method: 'GET', path: '/audiences/nope', tenantId: TENANT_A.tenantId, clientId: TENANT_A.tenantId, status: 429, fault: 'prefer' })
  t.match(entries[2], { method: 'GET', path: '/rest/v1/audiences/backend', tenantId: TENANT_A.tenantId, clientId: 'a-reader', status: 200, fault: null })
  t.match(entries[3], { method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, tenantId: TENANT_A.tenantId, clientId: 'a-reader', status: 200 })
  t.same(entries.map((e) => e.query), [{}, {}, { x: '1' }, {}], 'the query parsed; the path without it')
  t.same(entries.map((e) => e.truncated), [false, false, false, false])
  t.same(Object.keys(entries[0] ?? {}).sort(), ['clientId', 'durationMs', 'fault', 'method', 'path', 'query', 'seq', 'status', 'tenantId', 'time', 'transport', 'truncated', 'violations', 'violationsNotListed'])
  t.ok((entries[0]?.seq as number) > (entries[1]?.seq as number))
  t.match(entries[0]?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  const text = JSON.stringify(entries)
  for (const secret of [token, TENANT_A.apiSecret, 'a-reader-secret', 'wrong-secret', 'Basic ', 'Bearer ']) t.notMatch(text, secret)
})

t.test('journal filters: tenantId, limit and since', async (t) => {
  const app = await build(t)
  for (let i = 0; i < 3; i++) await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })
  t.equal((await list(app, `/__mock/requests?tenantId=${TENANT_A.tenantId}`)).length, 3)
  t.equal((await list(app, `/__mock/requests?tenantId=${TENANT_B.tenantId}`)).length, 1)
  t.equal((await list(app, '/__mock/requests?limit=2')).length, 2)
  const [newest] = await list(app, '/__mock/requests')
  t.same(await list(app, `/__mock/requests?since=${String(newest?.time)}`), [], 'strictly after')
  t.equal((await list(app, '/__mock/requests?since=2000-01-01T00:00:00.000Z')).length, 4)
  t.equal((await app.inject({ url: '/__mock/requests?limit=0' })).statusCode, 400)
  t.equal((await app.inject({ url: '/__mock/requests?since=yesterday' })).statusCode, 400)
  t.equal((await app.inject({ url: '/__mock/requests?colour=red' })).statusCode, 400)
})

t.test('the journal is bounded: it keeps the newest JOURNAL_SIZE entries; size 0 keeps none', async (t) => {
  const app = await build(t, { journalSize: 3 })
  for (const ref of ['backend', 'shared', 'ui-made', 'smart-one', 'sales%2Femea']) await app.inject({ url: `/audiences/${ref}`, headers: { authorization: BASIC_A } })
  t.same((await list(app, '/__mock/requests')).map((e) => e.path), ['/audiences/sales%2Femea', '/audiences/smart-one', '/audiences/ui-made'])
  const none = await build(t, { journalSize: 0 })
  await none.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  t.same(await list(none, '/__mock/requests'), [])
  t.same(json(await none.inject({ method: 'DELETE', url: '/__mock/requests' })), { removed: 0 })
})

t.test('1,000 unauthenticated requests to unknown routes leave a tenant\'s journal intact (they keep only the last 100)', async (t) => {
  const app = await build(t)
  for (const ref of ['backend', 'shared', 'nope']) await app.inject({ url: `/audiences/${ref}`, headers: { authorization: BASIC_A } })
  for (let i = 0; i < 1000; i++) await app.inject({ url: `/no/such/route/${i}` })
  t.same((await list(app, `/__mock/requests?tenantId=${TENANT_A.tenantId}`)).map((e) => [e.path, e.status]), [['/audiences/nope', 404], ['/audiences/shared', 200], ['/audiences/backend', 200]])
  const all = await list(app, '/__mock/requests')
  t.equal(all.length, 103)
  t.same(all.slice(0, 100).map((e) => [e.path, e.tenantId, e.status]), Array.from({ length: 100 }, (_, i) => [`/no/such/route/${999 - i}`, null, 404]))
})

t.test('each tenant\'s journal keeps its own JOURNAL_SIZE entries, whatever the other tenants send', async (t) => {
  const app = await build(t, { journalSize: 3 })
  for (const ref of ['backend', 'shared', 'ui-made', 'smart-one', 'with%20space']) await app.inject({ url: `/audiences/${ref}`, headers: { authorization: BASIC_A } })
  for (let i = 0; i < 2; i++) await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })
  t.same((await list(app, `/__mock/requests?tenantId=${TENANT_A.tenantId}`)).map((e) => e.path), ['/audiences/with%20space', '/audiences/smart-one', '/audiences/ui-made'])
  t.same((await list(app, `/__mock/requests?tenantId=${TENANT_B.tenantId}`)).map((e) => [e.path, e.tenantId]), [['/audiences/shared', TENANT_B.tenantId], ['/audiences/shared', TENANT_B.tenantId]])
  t.equal((await list(app, '/__mock/requests')).length, 5)
})

t.test('without a tenant, the journal merges every tenant\'s and the anonymous entries newest first', async (t) => {
  const app = await build(t, { journalSize: 2 })
  const sent: Array<[string, string | null]> = []
  const send = async (url: string, authorization: string | null, tenantId: string | null, method: 'GET' | 'POST' = 'GET') => {
    await app.inject({ method, url, headers: authorization === null ? {} : { authorization }, ...(method === 'POST' ? { payload: { grant_type: 'client_credentials' } } : {}) })
    sent.push([url, tenantId])
  }
  await send('/audiences/backend', BASIC_A, TENANT_A.tenantId)
  await send('/nowhere', null, null)
  await send('/audiences/shared', BASIC_B, TENANT_B.tenantId)
  await send('/oauth2/token/eu-west-2_Nobody00', null, null, 'POST')
  await send('/audiences/shared', BASIC_A, TENANT_A.tenantId)
  await send('/audiences/backend', null, null)
  const entries = await list(app, '/__mock/requests')
  // Each ring keeps 2: the anonymous one has let /nowhere go, the tenants' rings keep theirs.
  t.same(entries.map((e) => [e.path, e.tenantId]), [sent[5], sent[4], sent[3], sent[2], sent[0]])
  t.same(entries.map((e) => e.seq), [6, 5, 4, 3, 1])
  t.same((await list(app, '/__mock/requests?limit=2')).map((e) => e.seq), [6, 5])
  t.same(entries.map((e) => e.status), [401, 200, 401, 200, 200], 'the token request that failed client authentication is with the anonymous entries')
})

t.test('an entry keeps the parsed query, bounded, credentials redacted, and says when it was cut (RFC 6750 §2.3)', async (t) => {
  const app = await build(t)
  await app.inject({ url: '/rest/v1/audiences/backend?page=2&tag=a&tag=b&sp=a+b%20c&__proto__=x&access_token=hunter2secret&flag', headers: { authorization: BASIC_A } })
  const [entry] = await list(app, '/__mock/requests')
  t.same({ ...entry, seq: undefined, time: undefined, durationMs: undefined }, {
    seq: undefined,
    time: undefined,
    durationMs: undefined,
    method: 'GET',
    path: '/rest/v1/audiences/backend',
    query: JSON.parse('{"page":"2","tag":["a","b"],"sp":"a b c","__proto__":"x","access_token":"[redacted]","flag":""}'),
    truncated: false,
    tenantId: TENANT_A.tenantId,
    clientId: TENANT_A.tenantId,
    status: 200,
    fault: null,
    transport: null,
    // getAudience takes no query parameters: each is a contract violation, named but never its value.
    violations: ['page', 'tag', 'sp', '__proto__', 'access_token', 'flag'].map((name) => ({ location: `query.${name}`, code: 'unknown-query-param', message: 'getAudience takes no query parameters, so Thrive ignores it' })),
    violationsNotListed: 0
  })
  const raw = (await app.inject({ url: '/__mock/requests' })).body
  t.ok(raw.includes('"__proto__":"x"'), 'a parameter named __proto__ is listed like any other')
  t.notOk(raw.includes('hunter2secret'))

  const params = Array.from({ length: 40 }, (_, i) => `p${i}=${'v'.repeat(300)}`).join('&')
  await app.inject({ url: `/audiences/backend?${'n'.repeat(70)}=1&${params}`, headers: { authorization: BASIC_A } })
  const [cut] = await list(app, '/__mock/requests?limit=1')
  const query = cut?.query as Record<string, string>
  t.equal(Object.keys(query).length, 32)
  t.equal(query[`${'n'.repeat(64)}…`], '1')
  t.equal(query.p0, `${'v'.repeat(256)}…`)
  t.notOk('p31' in query)
  t.equal(cut?.truncated, true)
  t.equal(cut?.status, 200)

  await app.inject({ url: `/${'p'.repeat(3000)}?q=1` })
  const [long] = await list(app, '/__mock/requests?limit=1')
  t.match(long, { path: `/${'p'.repeat(2047)}…`, query: { q: '1' }, truncated: true, tenantId: null, status: 404 })
})

const HOUR = 3_600_000

t.test('an entry\'s time is when its request arrived, by the clock as it read then: a slow request keeps its place in time and in since', async (t) => {
  const app = await build(t)
  const rule = json(await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { delayMs: 1000 } } }))
  const before = json(await app.inject({ url: '/__mock/clock' })).epochMs as number
  // Promise.resolve starts the injected request now (inject() sends when its result is awaited).
  const slow = Promise.resolve(app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } }))
  // The rule has fired once the slow request arrived and began its delay.
  for (let turns = 0; app.faults.get(rule.id as string)?.fired !== 1; turns++) {
    if (turns > 10_000) throw new Error('the slow request never met its rule')
    await new Promise((resolve) => setImmediate(resolve))
  }
  const jumped = json(await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: HOUR } })).epochMs as number
  t.equal((await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_A } })).statusCode, 200)
  t.equal((await slow).statusCode, 200)

  const entries = await list(app, `/__mock/requests?tenantId=${TENANT_A.tenantId}`)
  const slowEntry = entries.find((e) => e.path === '/audiences/backend')
  const fastEntry = entries.find((e) => e.path === '/audiences/shared')
  const slowTime = Date.parse(slowEntry?.time as string)
  const fastTime = Date.parse(fastEntry?.time as string)
  // The clock read `jumped - HOUR` just before it moved, and the slow request had arrived by then.
  t.ok(slowTime >= before && slowTime <= jumped - HOUR, `the slow request is stamped when it arrived, by the clock before it moved (${String(slowEntry?.time)})`)
  t.ok(fastTime >= jumped, 'the fast one after')
  t.ok(slowTime <= fastTime, 'in time, the slow request comes first: it arrived first')
  t.same((await list(app, `/__mock/requests?since=${new Date(before + HOUR / 2).toISOString()}`)).map((e) => e.path), ['/audiences/shared'], 'since compares arrival: the slow request arrived before that instant, though it ended after')
  t.same((await list(app, `/__mock/requests?since=${new Date(before - 1).toISOString()}`)).map((e) => e.path).sort(), ['/audiences/backend', '/audiences/shared'])
})

t.test('DELETE /__mock/requests forgets all entries, or one tenant\'s, keeping the others in order', async (t) => {
  const app = await build(t, { journalSize: 4 })
  for (const auth of [BASIC_A, BASIC_B, BASIC_A, BASIC_B, BASIC_A]) await app.inject({ url: '/audiences/shared', headers: { authorization: auth } })
  await app.inject({ url: '/nowhere' })
  await app.inject({ method: 'POST', url: '/oauth2/token/eu-west-2_Nobody00', payload: { grant_type: 'client_credentials' } })
  t.same(json(await app.inject({ method: 'DELETE', url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })), { removed: 3 })
  t.same(await list(app, `/__mock/requests?tenantId=${TENANT_A.tenantId}`), [])
  const left = await list(app, '/__mock/requests')
  t.same(left.map((e) => [e.path, e.tenantId]), [['/oauth2/token/eu-west-2_Nobody00', null], ['/nowhere', null], ['/audiences/shared', TENANT_B.tenantId], ['/audiences/shared', TENANT_B.tenantId]])
  t.ok((left[2]?.seq as number) > (left[3]?.seq as number))
  t.same(json(await app.inject({ method: 'DELETE', url: `/__mock/requests?tenantId=${TENANT_B.tenantId}` })), { removed: 2 })
  await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_A } })
  t.same((await list(app, '/__mock/requests')).map((e) => e.tenantId), [TENANT_A.tenantId, null, null])
  t.same(json(await app.inject({ method: 'DELETE', url: '/__mock/requests' })), { removed: 3 })
  t.same(await list(app, '/__mock/requests'), [])
})

t.test('reset with a tenant clears only that tenant\'s rules and journal; a full reset clears everything and the clock', async (t) => {
  const app = await build(t)
  for (const tenantId of [TENANT_A.tenantId, TENANT_B.tenantId]) await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId }, effect: { delayMs: 1 } } })
  await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_A } })
  await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })
  await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 5000 } })
  t.same(json(await app.inject({ method: 'POST', url: '/__mock/reset', payload: { tenantId: TENANT_A.tenantId } })), { faultsRemoved: 1, requestsRemoved: 1, clockReset: false })
  t.equal((await list(app, '/__mock/faults')).length, 1)
  t.equal(json(await app.inject({ url: '/__mock/clock' })).offsetMs, 5000, 'a tenant reset leaves the shared clock alone')
  t.same(json(await app.inject({ method: 'POST', url: '/__mock/reset', headers: JSON_TYPE })), { faultsRemoved: 1, requestsRemoved: 1, clockReset: true })
  t.match(json(await app.inject({ url: '/__mock/clock' })), { offsetMs: 0, real: true })
  const unknown = await app.inject({ method: 'POST', url: '/__mock/reset', payload: { tenantId: 'eu-west-2_Nobody00' } })
  t.equal(unknown.statusCode, 404, 'an unknown tenant is the control plane\'s one 404 (unknown-tenant.test.ts)')
  t.same(json(unknown), { status: 404, error: 'Not Found', message: 'Unknown tenant "eu-west-2_Nobody00"' })
})

/** What a control-plane write could change: the rules, the journal and the clock. */
async function snapshot (app: App) {
  const clock = json(await app.inject({ url: '/__mock/clock' }))
  return { faults: await list(app, '/__mock/faults'), requests: await list(app, '/__mock/requests'), offsetMs: clock.offsetMs }
}

// Each write with a body a browser page could send cross-origin without a CORS preflight (Fetch standard,
// "CORS-safelisted request-header": no Content-Type, text/plain, a form or multipart), and that the route would
// otherwise act on.
const FORGEABLE: Array<[string, Record<string, string>, string | undefined]> = [
  ['/__mock/reset', {}, undefined],
  ['/__mock/reset', { 'content-type': 'text/plain' }, '{}'],
  ['/__mock/reset', { 'content-type': 'text/plain;charset=UTF-8' }, `{"tenantId":"${TENANT_A.tenantId}"}`],
  ['/__mock/reset', { 'content-type': 'application/x-www-form-urlencoded' }, `tenantId=${TENANT_A.tenantId}`],
  ['/__mock/reset', { 'content-type': 'multipart/form-data; boundary=x' }, `--x\r\nContent-Disposition: form-data; name="tenantId"\r\n\r\n${TENANT_A.tenantId}\r\n--x--\r\n`],
  ['/__mock/faults', {}, undefined],
  ['/__mock/faults', { 'content-type': 'text/plain' }, JSON.stringify({ match: { allTenants: true }, effect: { status: 500 } })],
  ['/__mock/faults', { 'content-type': 'application/x-www-form-urlencoded' }, 'match=x&effect=y'],
  ['/__mock/clock', {}, undefined],
  ['/__mock/clock', { 'content-type': 'text/plain' }, '{"advanceMs":86400000}'],
  ['/__mock/clock', { 'content-type': 'application/x-www-form-urlencoded' }, 'advanceMs=86400000'],
  ['/__mock/clock', { 'content-type': 'text/plain; x=application/json' }, '{"real":true}']
]

t.test('a control-plane POST without Content-Type: application/json is a 415 naming CSRF, and changes nothing (RFC 9110 §15.5.16)', async (t) => {
  const app = await build(t)
  await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 1 } } })
  await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 5000 } })
  await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  const before = await snapshot(app)
  t.equal(before.faults.length, 1)
  t.equal(before.requests.length, 1)
  t.equal(before.offsetMs, 5000)
  for (const [url, headers, payload] of FORGEABLE) {
    const res = await app.inject({ method: 'POST', url, headers: { origin: 'https://elsewhere.example', ...headers }, ...(payload === undefined ? {} : { payload }) })
    const label = `${url} with ${headers['content-type'] ?? 'no content type'}`
    t.equal(res.statusCode, 415, label)
    t.match(res.headers['content-type'], /^application\/json/, label)
    t.same(json(res), { status: 415, error: 'Unsupported Media Type', message: CSRF_MESSAGE }, label)
    t.notOk(res.headers['access-control-allow-origin'], `${label}: no CORS grant`)
  }
  t.match(CSRF_MESSAGE, /Content-Type: application\/json.*cross-site request forgery.*CORS preflight/)
  t.same(await snapshot(app), before, 'no rule, journal entry or clock offset changed')
})

t.test('the same writes sent as application/json work; an empty JSON body to /__mock/reset is a full reset', async (t) => {
  const app = await build(t)
  const armed = await app.inject({ method: 'POST', url: '/__mock/faults', headers: JSON_TYPE, payload: JSON.stringify({ match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 1 } }) })
  t.equal(armed.statusCode, 201)
  const moved = await app.inject({ method: 'POST', url: '/__mock/clock', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, payload: '{"advanceMs":5000}' })
  t.equal(moved.statusCode, 200, 'the media type is matched without its parameters, case-insensitively (RFC 9110 §8.3.1)')
  t.equal(json(moved).offsetMs, 5000)
  await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })
  const reset = await app.inject({ method: 'POST', url: '/__mock/reset', headers: JSON_TYPE, payload: '' })
  t.equal(reset.statusCode, 200)
  t.same(json(reset), { faultsRemoved: 1, requestsRemoved: 1, clockReset: true })
  t.same(await snapshot(app), { faults: [], requests: [], offsetMs: 0 })
  const empty = await app.inject({ method: 'POST', url: '/__mock/faults', headers: JSON_TYPE, payload: '' })
  t.equal(empty.statusCode, 400, 'an empty body is no rule')
  t.same(json(empty), { status: 400, error: 'Bad Request', message: 'body must be object' })
  const poisoned = await app.inject({ method: 'POST', url: '/__mock/reset', headers: JSON_TYPE, payload: '{"__proto__":{"tenantId":"x"}}' })
  t.equal(poisoned.statusCode, 400, 'the app\'s prototype-poisoning check still applies')
  t.same(json(poisoned), { status: 400, error: 'Bad Request', message: 'The request body contains a "__proto__" key, which this server refuses: it could poison object prototypes' })
})

t.test('no CORS preflight is granted, and DELETE, which a browser always preflights, needs no content type', async (t) => {
  const app = await build(t)
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/__mock/reset',
    headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  t.equal(preflight.statusCode, 404)
  t.same(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-')), [], 'no Access-Control-Allow-* header')
  await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 1 } } })
  const cleared = await app.inject({ method: 'DELETE', url: '/__mock/faults' })
  t.equal(cleared.statusCode, 200)
  t.same(json(cleared), { removed: 1 })
})

t.test('the clock: read, advance, jump to an instant, and back to real time', async (t) => {
  const app = await build(t)
  const before = json(await app.inject({ url: '/__mock/clock' }))
  t.same(Object.keys(before).sort(), ['epochMs', 'now', 'offsetMs', 'real'])
  t.match(before, { offsetMs: 0, real: true })
  t.ok(Math.abs((before.epochMs as number) - Date.now()) < 5000)
  const advanced = json(await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 3_600_000 } }))
  t.match(advanced, { offsetMs: 3_600_000, real: false })
  const set = json(await app.inject({ method: 'POST', url: '/__mock/clock', payload: { setTo: '2030-01-01T00:00:00.000Z' } }))
  t.ok(Math.abs(Date.parse(set.now as string) - Date.UTC(2030, 0, 1)) < 5000)
  t.equal(set.real, false)
  t.match(json(await app.inject({ method: 'POST', url: '/__mock/clock', payload: { real: true } })), { offsetMs: 0, real: true })
  for (const payload of [{}, { advanceMs: 1, real: true }, { setTo: 'tomorrow' }, { real: false }]) {
    t.equal((await app.inject({ method: 'POST', url: '/__mock/clock', payload })).statusCode, 400, JSON.stringify(payload))
  }
})

t.test('advancing the clock expires a token without waiting (B.8)', async (t) => {
  const app = await build(t)
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  // Past the one-hour lifetime.
  await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 3_606_000 } })
  const res = await app.inject({ url: '/audiences/backend', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401)
  t.match(json(res).message, /expired/)
})

t.test('with an admin token, every control route but health needs the X-Mock-Admin-Token header', async (t) => {
  const app = await build(t, { admin: { enabled: true, token: 'admin-secret-1' } })
  for (const [method, url] of [['GET', '/__mock/faults'], ['POST', '/__mock/reset'], ['GET', '/__mock/requests'], ['GET', '/__mock/clock']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 401, `${method} ${url}`)
    t.same(json(res), { status: 401, error: 'Unauthorized', message: 'This control-plane route needs the admin token in the X-Mock-Admin-Token header' })
    t.equal(res.headers['www-authenticate'], 'MockAdmin realm="thrive-audience-mock control plane"')
  }
  t.equal((await app.inject({ url: '/__mock/faults', headers: { 'x-mock-admin-token': 'wrong' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/__mock/faults', headers: { authorization: BASIC_A } })).statusCode, 401, 'API credentials do not unlock the control plane')
  t.equal((await app.inject({ url: '/__mock/faults', headers: { authorization: 'Bearer admin-secret-1' } })).statusCode, 401, 'nor does the admin token sent as Authorization')
  t.equal((await app.inject({ url: '/__mock/faults', headers: { 'x-mock-admin-token': 'admin-secret-1' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/__mock/health' })).statusCode, 200, 'health needs nothing')
  t.equal((await app.inject({ url: '/audiences/backend', headers: { 'x-mock-admin-token': 'admin-secret-1' } })).statusCode, 401, 'the admin token does not unlock the API')
})

t.test('with the control plane disabled, its routes do not exist but health does', async (t) => {
  const app = await build(t, { admin: { enabled: false, token: null } })
  t.equal((await app.inject({ url: '/__mock/faults' })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: '/__mock/reset' })).statusCode, 404)
  t.equal((await app.inject({ url: '/__mock/health' })).statusCode, 200)
})

t.test('health reports what is loaded, without credentials', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/__mock/health' })
  t.equal(res.statusCode, 200)
  t.match(json(res), { status: 'ok', tenants: 2, audiences: 10, sources: ['inline-fixture'], generated: 0 })
  t.type(json(res).uptimeSeconds, 'number')
})
