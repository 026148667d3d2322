// The journal class: a ring per tenant and a small anonymous one, bounded query copies, and one byte budget over all of them.
import t from 'tap'
import { JournalEntry } from '../../src/schemas/journal.js'
import { ANONYMOUS_RING_SIZE, JOURNAL_BYTE_BUDGET, JOURNAL_LIMITS, Journal, REDACTED, TRUNCATION_MARKER, type JournalRecord } from '../../src/store/journal.js'

const A = 'eu-west-2_TestTenA1'
const B = 'us-east-1_TestTenB2'
const T0 = Date.UTC(2030, 0, 1)

function rec (url: string, tenantId: string | null, extra: Partial<JournalRecord> = {}): JournalRecord {
  return { time: T0, method: 'GET', url, tenantId, clientId: tenantId, status: 200, fault: null, transport: null, durationMs: 1, ...extra }
}

/** Everything an entry keeps but its number, time and duration. */
const shape = (e: Record<string, unknown>) => ({ ...e, seq: undefined, time: undefined, durationMs: undefined })

t.test('1,000 records with no tenant keep only the last ANONYMOUS_RING_SIZE of them and leave a tenant\'s ring intact', async (t) => {
  const journal = new Journal(1000)
  for (let i = 0; i < 3; i++) journal.record(rec(`/audiences/a${i}`, A))
  for (let i = 0; i < 1000; i++) journal.record(rec(`/nowhere/${i}`, null))
  t.same(journal.list({ tenantId: A }).map((e) => e.path), ['/audiences/a2', '/audiences/a1', '/audiences/a0'])
  const all = journal.list()
  t.equal(all.length, 3 + ANONYMOUS_RING_SIZE)
  t.same(all.slice(0, 2).map((e) => e.path), ['/nowhere/999', '/nowhere/998'])
  t.equal(all[ANONYMOUS_RING_SIZE - 1]?.path, `/nowhere/${1000 - ANONYMOUS_RING_SIZE}`)
  t.same(journal.usage().entries, 3 + ANONYMOUS_RING_SIZE)
})

t.test('each tenant has its own ring of `size` entries; the anonymous ring holds min(size, ANONYMOUS_RING_SIZE)', async (t) => {
  const journal = new Journal(3)
  for (let i = 0; i < 5; i++) journal.record(rec(`/a/${i}`, A))
  for (let i = 0; i < 2; i++) journal.record(rec(`/b/${i}`, B))
  for (let i = 0; i < 4; i++) journal.record(rec(`/anon/${i}`, null))
  t.same(journal.list({ tenantId: A }).map((e) => e.path), ['/a/4', '/a/3', '/a/2'])
  t.same(journal.list({ tenantId: B }).map((e) => e.path), ['/b/1', '/b/0'])
  t.same(journal.list({ tenantId: 'eu-west-2_NoTraffic' }), [])
  t.same(journal.list().map((e) => e.path), ['/anon/3', '/anon/2', '/anon/1', '/b/1', '/b/0', '/a/4', '/a/3', '/a/2'])
  t.same(journal.usage().rings, 2)
})

t.test('the merged list is every ring\'s entries newest first by sequence number, with limit and since applied to the merge', async (t) => {
  const journal = new Journal(2)
  const order: Array<[string | null, number]> = [[A, 0], [null, 5], [B, 1], [A, 2], [B, 9], [null, 3], [A, 4]]
  order.forEach(([tenantId, seconds], i) => { journal.record(rec(`/r/${i}`, tenantId, { time: T0 + seconds * 1000 })) })
  const all = journal.list()
  // A's ring of 2 has let /r/0 go; the others are all there, interleaved as they came.
  t.same(all.map((e) => e.path), ['/r/6', '/r/5', '/r/4', '/r/3', '/r/2', '/r/1'])
  t.same(all.map((e) => e.seq), [7, 6, 5, 4, 3, 2])
  t.same(all.map((e) => e.tenantId), [A, null, B, A, B, null])
  t.same(journal.list({ limit: 3 }).map((e) => e.path), ['/r/6', '/r/5', '/r/4'])
  // since filters by time, which need not follow the sequence: the merge still comes out newest first.
  t.same(journal.list({ since: new Date(T0 + 2500).toISOString() }).map((e) => e.path), ['/r/6', '/r/5', '/r/4', '/r/1'])
  t.same(journal.list({ since: new Date(T0 + 3500).toISOString(), limit: 2 }).map((e) => e.path), ['/r/6', '/r/4'])
  t.same(journal.list({ tenantId: A, since: new Date(T0 + 1000).toISOString() }).map((e) => e.path), ['/r/6', '/r/3'])
})

t.test('an entry keeps the path and the parsed query, never the raw query string (RFC 3986 §3.4, WHATWG form-urlencoded parsing)', async (t) => {
  const journal = new Journal(10)
  journal.record(rec('/audiences/sales%2Femea?page=2&tag=a&tag=b&tag=c&empty=&flag&sp=a+b%20c&bad=%E0%A4%A&&__proto__=x&%C3%A9t%C3%A9=%F0%9F%98%80', A))
  journal.record(rec('/audiences/backend', A))
  const [plain, parsed] = journal.list()
  t.same(shape(plain as unknown as Record<string, unknown>), { seq: undefined, time: undefined, durationMs: undefined, method: 'GET', path: '/audiences/backend', query: {}, truncated: false, tenantId: A, clientId: A, status: 200, fault: null, transport: null, violations: [], violationsNotListed: 0 })
  t.equal(parsed?.path, '/audiences/sales%2Femea', 'the path stays as sent')
  t.same(Object.entries(parsed?.query ?? {}), [
    ['page', '2'], ['tag', ['a', 'b', 'c']], ['empty', ''], ['flag', ''], ['sp', 'a b c'], ['bad', '\uFFFD%A'], ['__proto__', 'x'], ['été', '😀']
  ])
  t.equal(Object.getPrototypeOf(parsed?.query), null, 'a parameter named __proto__ is only a name')
  t.equal(parsed?.truncated, false)
  t.notOk(JSON.stringify(journal.list()).includes('page=2'), 'no raw query string anywhere')
})

t.test('a listed entry has exactly the fields of the JournalEntry schema, in its order, with nothing of the slot behind it', async (t) => {
  // The library's requests() hands these out unserialised, so an extra field would reach callers that the route's
  // serialiser hides (GET /__mock/requests).
  const journal = new Journal(10)
  journal.record(rec('/audiences/backend?page=2', A))
  journal.record(rec('/nowhere', null))
  for (const entry of journal.list()) t.strictSame(Object.keys(entry), Object.keys(JournalEntry.properties))
})

t.test('the value of a parameter named like a credential is redacted, not truncated (RFC 6750 §2.3, RFC 6749 §2.3.1)', async (t) => {
  const journal = new Journal(10)
  const names = ['access_token', 'client_secret', 'password', 'API_KEY', 'api-key', 'key', 'code', 'Authorization', 'id_token_hint', 'x-amz-signature', 'session', 'client_assertion', 'pwd']
  journal.record(rec(`/audiences/backend?${names.map((n) => `${n}=hunter2-${'s'.repeat(500)}`).join('&')}&keep=visible`, A))
  const [entry] = journal.list()
  t.same(entry?.query, Object.fromEntries([...names.map((n) => [n, REDACTED]), ['keep', 'visible']]))
  t.equal(entry?.truncated, false)
  t.notOk(JSON.stringify(entry).includes('hunter2'))
})

t.test('the query is bounded: at most queryParams values, names and values cut with a marker, and the entry flagged', async (t) => {
  const journal = new Journal(10)
  const { queryParams, queryNameChars, queryValueChars, pathChars } = JOURNAL_LIMITS
  const params = Array.from({ length: queryParams + 8 }, (_, i) => `p${i}=${'v'.repeat(queryValueChars)}`)
  journal.record(rec(`/audiences/backend?${params.join('&')}`, A))
  const [many] = journal.list()
  t.same(Object.keys(many?.query ?? {}), Array.from({ length: queryParams }, (_, i) => `p${i}`), 'the first queryParams values, in order')
  t.equal(many?.truncated, true)

  journal.record(rec(`/audiences/backend?${'n'.repeat(queryNameChars + 1)}=${'v'.repeat(queryValueChars + 1)}&r=1&r=2&${'n'.repeat(queryNameChars)}x=3`, A))
  const [long] = journal.list()
  const cutName = `${'n'.repeat(queryNameChars)}${TRUNCATION_MARKER}`
  t.same(Object.entries(long?.query ?? {}), [[cutName, [`${'v'.repeat(queryValueChars)}${TRUNCATION_MARKER}`, '3']], ['r', ['1', '2']]], 'names cut to the same prefix gather their values')
  t.equal(long?.truncated, true)

  journal.record(rec(`/audiences/backend?exact=${'v'.repeat(queryValueChars)}&${'n'.repeat(queryNameChars)}=1`, A))
  t.equal(journal.list()[0]?.truncated, false, 'exactly at the limits is not cut')

  journal.record(rec(`/${'p'.repeat(pathChars + 500)}?q=1`, null))
  journal.record(rec(`/${'p'.repeat(pathChars - 1)}`, null))
  const [exact, longPath] = journal.list()
  t.equal(exact?.path.length, pathChars)
  t.equal(exact?.truncated, false)
  t.equal(longPath?.path, `/${'p'.repeat(pathChars - 1)}${TRUNCATION_MARKER}`)
  t.same(longPath?.query, { q: '1' })
  t.equal(longPath?.truncated, true)

  // A cut never splits a surrogate pair: the value would no longer be valid Unicode.
  journal.record(rec(`/a?v=${'x'.repeat(queryValueChars - 1)}${encodeURIComponent('😀😀')}`, A))
  t.equal(journal.list()[0]?.query.v, `${'x'.repeat(queryValueChars - 1)}${TRUNCATION_MARKER}`)
})

t.test('ids are bounded too: an unknown tenant named in a path and a client id read from a body', async (t) => {
  const journal = new Journal(10, { tenantKey: (id) => (id === A ? A : undefined) })
  const longTenant = `eu-west-2_${'T'.repeat(JOURNAL_LIMITS.idChars)}`
  journal.record(rec(`/oauth2/token/${longTenant}`, longTenant, { method: 'POST', clientId: 'c'.repeat(JOURNAL_LIMITS.idChars + 1), status: 401 }))
  journal.record(rec('/audiences/backend', A, { clientId: 'a-reader' }))
  const [known, unknown] = journal.list()
  t.equal(unknown?.tenantId, `${longTenant.slice(0, JOURNAL_LIMITS.idChars)}${TRUNCATION_MARKER}`)
  t.equal(unknown?.clientId, `${'c'.repeat(JOURNAL_LIMITS.idChars)}${TRUNCATION_MARKER}`)
  t.equal(unknown?.truncated, true)
  t.match(known, { tenantId: A, clientId: 'a-reader', truncated: false })
  t.same(journal.usage().rings, 1, 'the unknown tenant got no ring of its own')
})

t.test('an unknown tenant\'s records go to the anonymous ring, listed and cleared under the id they named', async (t) => {
  const journal = new Journal(5, { tenantKey: (id) => (id === A ? A : undefined) })
  const nobody = 'eu-west-2_Nobody00'
  journal.record(rec(`/oauth2/token/${nobody}`, nobody, { method: 'POST', status: 401 }))
  journal.record(rec('/nowhere', null))
  journal.record(rec('/audiences/backend', A))
  journal.record(rec(`/oauth2/token/${nobody}`, nobody, { method: 'POST', status: 401 }))
  t.same(journal.list({ tenantId: nobody }).map((e) => [e.tenantId, e.seq]), [[nobody, 4], [nobody, 1]])
  t.same(journal.usage().rings, 1)
  t.equal(journal.clear(nobody), 2)
  t.same(journal.list().map((e) => e.path), ['/audiences/backend', '/nowhere'])
  t.equal(journal.clear('eu-west-2_Nobody00'), 0)
})

t.test('clear(tenantId) forgets one tenant\'s ring and its bytes; clear() forgets everything', async (t) => {
  const journal = new Journal(4)
  for (let i = 0; i < 6; i++) journal.record(rec(`/a/${i}?x=${i}`, A))
  for (let i = 0; i < 2; i++) journal.record(rec(`/b/${i}`, B))
  journal.record(rec('/anon', null))
  const before = journal.usage()
  t.equal(journal.clear(A), 4)
  const after = journal.usage()
  t.same(journal.list().map((e) => e.path), ['/anon', '/b/1', '/b/0'])
  t.equal(after.entries, 3)
  t.equal(after.rings, 1)
  t.ok(after.bytes < before.bytes)
  t.equal(journal.clear(A), 0)
  journal.record(rec('/a/again', A))
  t.same(journal.list({ tenantId: A }).map((e) => e.path), ['/a/again'])
  t.equal(journal.clear(), 4)
  t.same(journal.list(), [])
  t.same(journal.usage(), { entries: 0, bytes: 0, budgetBytes: JOURNAL_BYTE_BUDGET, rings: 0 })
  journal.record(rec('/after', null))
  t.equal(journal.list().length, 1, 'the journal works after a full clear')
})

t.test('size 0 keeps nothing', async (t) => {
  const journal = new Journal(0)
  journal.record(rec('/a?x=1', A))
  journal.record(rec('/b', null))
  t.same(journal.list(), [])
  t.same(journal.usage(), { entries: 0, bytes: 0, budgetBytes: JOURNAL_BYTE_BUDGET, rings: 0 })
  t.equal(journal.clear(), 0)
})

t.test('100,000 records with a 14 KB query at size 100,000 stay within the byte budget, keeping the newest', async (t) => {
  const pad = 'x'.repeat(242)
  const rest = Array.from({ length: 55 }, (_, k) => `p${k + 1}=${pad}${'y'.repeat(8)}`).join('&')
  // 56 parameters of 250 characters: a 14 KB query string, different for every request.
  const url = (i: number) => `/rest/v1/audiences/engineering?p0=${String(i).padStart(8, '0')}${pad}&${rest}`
  t.ok(url(0).length > 14_000)
  // One entry's accounted cost, from the journal's own accounting.
  const probe = new Journal(10)
  probe.record(rec(url(0), A))
  const first = probe.usage().bytes
  probe.record(rec(url(1), A))
  const perEntry = probe.usage().bytes - first
  const ringCost = first - perEntry

  const journal = new Journal(100_000)
  for (let i = 0; i < 100_000; i++) journal.record(rec(url(i), A))
  const usage = journal.usage()
  t.ok(usage.bytes <= JOURNAL_BYTE_BUDGET, `${usage.bytes} accounted bytes within the ${JOURNAL_BYTE_BUDGET} budget`)
  t.equal(usage.entries, Math.floor((JOURNAL_BYTE_BUDGET - ringCost) / perEntry), 'as many entries as the budget holds, no fewer')
  t.equal(usage.bytes, ringCost + usage.entries * perEntry)
  t.ok(usage.entries < 100_000)
  const kept = journal.list()
  t.equal(kept.length, usage.entries)
  t.equal(kept[0]?.seq, 100_000, 'the newest is kept')
  t.equal(kept.at(-1)?.seq, 100_000 - usage.entries + 1, 'the oldest went first')
  t.same(kept[0]?.query.p0, `${String(99_999).padStart(8, '0')}${pad}`)
  // The accounting covers at least the characters each entry holds, at 2 bytes a character.
  const chars = kept.reduce((n, e) => n + e.path.length + (e.tenantId?.length ?? 0) + (e.clientId?.length ?? 0) + Object.entries(e.query).reduce((m, [k, v]) => m + k.length + String(v).length, 0), 0)
  t.ok(usage.bytes >= 2 * chars, `${usage.bytes} accounted for ${chars} characters held`)
})

t.test('the budget drops the oldest entries across every ring, however many tenants; emptied rings go', async (t) => {
  const budgetBytes = 200_000
  const journal = new Journal(1_000_000, { budgetBytes })
  const tenants = Array.from({ length: 300 }, (_, i) => `eu-west-2_Tenant${String(i).padStart(3, '0')}`)
  let max = 0
  for (let i = 0; i < 3000; i++) {
    journal.record(rec(`/audiences/backend?i=${i}`, i % 7 === 0 ? null : tenants[i % tenants.length] as string))
    max = Math.max(max, journal.usage().bytes)
  }
  const usage = journal.usage()
  t.ok(max <= budgetBytes, `never above the budget (highest ${max})`)
  const kept = journal.list()
  t.equal(kept.length, usage.entries)
  t.same(kept.map((e) => e.seq), Array.from({ length: kept.length }, (_, i) => 3000 - i), 'exactly the newest entries, whatever their ring')
  t.ok(usage.rings < tenants.length, `${usage.rings} rings left with entries`)
  t.equal(usage.rings, new Set(kept.map((e) => e.tenantId).filter((id) => id !== null)).size, 'a ring only for a tenant that still has entries')
})

t.test('a full ring reuses its slots: the entry count stays at the size and the bytes follow what the entries hold', async (t) => {
  const journal = new Journal(2)
  journal.record(rec('/a?q=' + 'v'.repeat(100), A))
  journal.record(rec('/a?q=' + 'v'.repeat(100), A))
  const full = journal.usage()
  journal.record(rec('/a', A))
  journal.record(rec('/a', A))
  const after = journal.usage()
  t.equal(after.entries, 2)
  t.ok(after.bytes < full.bytes, 'bytes of the overwritten entries were given back')
  t.same(journal.list().map((e) => e.query), [{}, {}])
})

t.test('the library copies out: changing a listed entry changes nothing inside', async (t) => {
  const journal = new Journal(5)
  journal.record(rec('/a?t=1&t=2', A))
  const [entry] = journal.list()
  ;(entry?.query.t as string[]).push('3')
  t.same(journal.list()[0]?.query, { t: ['1', '2'] })
})
