// Property tests for the fault-injection inputs: the Prefer header (RFC 7240 §2 syntax) through both route dialects,
// and the /__mock control plane (fault rules, the clock, the journal query) with arbitrary JSON.
import fc from 'fast-check'
import t from 'tap'
import { CLOCK_RANGE } from '../../src/clock.js'
import { parsePrefer, PreferError } from '../../src/faults/prefer.js'
import { FAULT_STATUSES, MAX_DELAY_MS, MAX_HANG_MS, MAX_TTL_MS, OPERATIONS, TRANSPORTS } from '../../src/schemas/faults.js'
import { BASIC_A, build, json, TENANT_A, TENANT_B } from '../helpers.js'
import { expectOAuthError, expectThriveError, fcOptions, headerText } from './contract.js'

// ---- The Prefer header ----

const randomCase = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length })
  .map((flips) => [...word].map((c, i) => flips[i] === true ? c.toUpperCase() : c).join(''))
const space = fc.constantFrom('', ' ', '  ', '\t')
const separator = fc.constantFrom(',', ';', ', ', ' ;', ',,', ', ,')

/** One `name=value` item as a client might write it: any case, spaces around "=", the value optionally quoted. */
const item = (name: string, value: fc.Arbitrary<string>) =>
  fc.tuple(randomCase(name), space, space, fc.boolean(), value).map(([n, s1, s2, quoted, v]) => `${n}${s1}=${s2}${quoted ? `"${v}"` : v}`)

/** Valid preferences with the effect they ask for. */
const validPrefer = fc.record({
  status: fc.option(fc.constantFrom(...FAULT_STATUSES), { nil: undefined }),
  delayMs: fc.option(fc.integer({ min: 0, max: MAX_DELAY_MS }), { nil: undefined })
}).chain((want) => {
  const items: Array<fc.Arbitrary<string>> = []
  if (want.status !== undefined) items.push(item('code', fc.constant(String(want.status))))
  if (want.delayMs !== undefined) items.push(item('delay', fc.constant(String(want.delayMs))))
  return fc.tuple(fc.constant(want), fc.shuffledSubarray(items.length === 0 ? [fc.constant('')] : items, { minLength: items.length === 0 ? 1 : items.length }), separator, fc.boolean(), fc.boolean())
    .chain(([w, order, sep, lead, trail]) => fc.tuple(...order).map((parts) => ({ want: w, header: `${lead ? sep : ''}${parts.join(sep)}${trail ? sep : ''}` })))
})

/** Anything a header can hold, and near misses of the valid syntax. */
const anyPrefer: fc.Arbitrary<string | string[]> = fc.oneof(
  headerText(120),
  fc.array(headerText(40), { maxLength: 4 }),
  fc.array(fc.oneof(
    item('code', fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), headerText(6))),
    item('delay', fc.oneof(fc.integer({ min: -10, max: MAX_DELAY_MS * 2 }).map(String), fc.double().map(String), headerText(6))),
    item('return', fc.constantFrom('minimal', 'representation')),
    fc.constantFrom('respond-async', 'handling=strict', 'wait=10', '=', '"', 'code', 'code=', '==', 'code==500', 'code="500', 'delay=1e3', 'delay=0x10', 'code=5OO')
  ), { maxLength: 5 }).chain((parts) => separator.map((sep) => parts.join(sep)))
)

t.test('parsePrefer never throws anything but a PreferError, and returns only supported effects', async (t) => {
  let refused = 0
  fc.assert(fc.property(anyPrefer, (header) => {
    let effect
    try {
      effect = parsePrefer(header)
    } catch (err) {
      if (!(err instanceof PreferError)) throw err
      if (!/supported preferences: code=<.*> and delay=<0-60000 milliseconds>/.test(err.message)) throw new Error(`message does not say what is supported: ${err.message}`)
      refused++
      return
    }
    if (effect === null) return
    if (Object.keys(effect).some((k) => k !== 'status' && k !== 'delayMs')) throw new Error(`unexpected effect ${JSON.stringify(effect)}`)
    if (effect.status !== undefined && !(FAULT_STATUSES as readonly number[]).includes(effect.status)) throw new Error(`unsupported status ${effect.status}`)
    if (effect.delayMs !== undefined && !(Number.isInteger(effect.delayMs) && effect.delayMs >= 0 && effect.delayMs <= MAX_DELAY_MS)) throw new Error(`bad delay ${effect.delayMs}`)
  }), fcOptions(3000))
  t.ok(refused > 1000, `${refused} malformed preferences refused`)
})

t.test('valid preferences round-trip: any case, spacing, quoting, order and separators give exactly the asked effect', async (t) => {
  fc.assert(fc.property(validPrefer, fc.boolean(), ({ want, header }, split) => {
    const effect = parsePrefer(split ? header.split(',') : header)
    const asked = want.status !== undefined || want.delayMs !== undefined
    const same = asked
      ? effect !== null && effect.status === want.status && effect.delayMs === want.delayMs && Object.keys(effect).length === Object.values(want).filter((v) => v !== undefined).length
      : effect === null
    if (!same) throw new Error(`${JSON.stringify(header)} gave ${JSON.stringify(effect)}, expected ${JSON.stringify(want)}`)
  }), fcOptions(2000))
  t.pass('every valid preference parsed to its effect')
})

/** Over HTTP, delays would only slow the run down, so they are kept to 0 or 1 ms. */
const quickPrefer = fc.oneof(anyPrefer, validPrefer.map(({ header }) => header)).filter((header) => {
  try {
    return (parsePrefer(header)?.delayMs ?? 0) <= 1
  } catch {
    return true
  }
})

function expectedFor (header: string | string[]): { status: number, message?: string } {
  try {
    const effect = parsePrefer(header)
    return { status: effect?.status ?? 200 }
  } catch (err) {
    return { status: 400, message: (err as Error).message }
  }
}

t.test('through HTTP, any Prefer on the audience route is what parsePrefer says, in Thrive\'s error shape; 5xx only when asked', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(quickPrefer, async (header) => {
    const res = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A, prefer: header } })
    const expected = expectedFor(header)
    if (res.statusCode !== expected.status) throw new Error(`Prefer ${JSON.stringify(header)}: ${res.statusCode}, expected ${expected.status}`)
    if (expected.status === 200) return
    const body = expectThriveError(res)
    if (expected.message !== undefined && body.message !== expected.message) throw new Error(`message ${body.message}`)
    if (expected.message === undefined && res.headers['x-mock-fault'] !== 'prefer') throw new Error('a fired Prefer is marked x-mock-fault: prefer')
  }), fcOptions(200))
  t.pass('every Prefer answered as parsed')
})

t.test('through HTTP, any Prefer on the token route is what parsePrefer says, in RFC 6749 §5.2 shape; 5xx only when asked', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(quickPrefer, async (header) => {
    const res = await app.inject({
      method: 'POST',
      url: `/oauth2/token/${TENANT_A.tenantId}`,
      headers: { prefer: header },
      payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' }
    })
    const expected = expectedFor(header)
    if (res.statusCode !== expected.status) throw new Error(`Prefer ${JSON.stringify(header)}: ${res.statusCode}, expected ${expected.status}`)
    if (expected.status === 200) return
    const body = expectOAuthError(res)
    if (expected.message !== undefined && body.error_description !== expected.message) throw new Error(`description ${body.error_description}`)
  }), fcOptions(200))
  t.pass('every Prefer answered as parsed')
})

// ---- The control plane ----

type App = Awaited<ReturnType<typeof build>>

const RULE_KEYS = ['createdAt', 'effect', 'expiresAt', 'fired', 'id', 'match', 'name', 'probability', 'remaining', 'seed', 'times', 'ttlMs']
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

const anyJson = fc.jsonValue({ maxDepth: 3 })
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: anyJson })

/** Rule-shaped objects whose every field may be right, wrong, or missing. */
const ruleLike = fc.record({
  match: maybe(fc.record({
    tenantId: maybe(fc.constantFrom(TENANT_A.tenantId, TENANT_B.tenantId, 'eu-west-2_Nobody00', '')),
    allTenants: maybe(fc.boolean()),
    clientId: maybe(fc.string({ maxLength: 10 })),
    method: maybe(fc.constantFrom('GET', 'post', 'G3T', '')),
    route: maybe(fc.constantFrom(...OPERATIONS, 'other')),
    path: maybe(fc.constantFrom('/audiences/*', '/rest/v1/audiences/backend', 'no-slash')),
    audienceId: maybe(fc.string({ maxLength: 10 }))
  }, { requiredKeys: [] })),
  effect: maybe(fc.record({
    status: maybe(fc.oneof(fc.constantFrom(...FAULT_STATUSES), fc.integer({ min: 100, max: 999 }))),
    message: maybe(fc.string({ maxLength: 20 })),
    retryAfterSeconds: maybe(fc.integer({ min: -5, max: 100_000 })),
    delayMs: maybe(fc.integer({ min: -1, max: MAX_DELAY_MS + 1 })),
    jitterMs: maybe(fc.integer({ min: -1, max: MAX_DELAY_MS + 1 })),
    transport: maybe(fc.constantFrom(...TRANSPORTS, 'explode')),
    hangMs: maybe(fc.integer({ min: 0, max: MAX_HANG_MS + 1 }))
  }, { requiredKeys: [] })),
  times: maybe(fc.oneof(fc.integer({ min: -1, max: 10 }), fc.double())),
  probability: maybe(fc.double({ min: -1, max: 2 })),
  seed: maybe(fc.oneof(fc.integer(), fc.constantFrom(0, 4_294_967_295, 4_294_967_296, Number.MAX_SAFE_INTEGER))),
  ttlMs: maybe(fc.constantFrom(0, 1, MAX_TTL_MS, MAX_TTL_MS + 1, Number.MAX_SAFE_INTEGER, 1e308, -1)),
  name: maybe(fc.string({ maxLength: 210 }))
}, { requiredKeys: [] }).chain((rule) => fc.constantFrom(rule, rule, rule, { ...rule, colour: 'red' }))

/** Rules that pass every check: the schema's and the engine's. */
const validRule = fc.record({
  match: fc.record({
    scope: fc.oneof(fc.constantFrom(TENANT_A.tenantId, TENANT_B.tenantId).map((tenantId) => ({ tenantId })), fc.constant({ allTenants: true })),
    clientId: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    method: fc.option(fc.stringMatching(/^[A-Za-z]{1,8}$/), { nil: undefined }),
    route: fc.option(fc.constantFrom(...OPERATIONS), { nil: undefined }),
    path: fc.option(fc.string({ maxLength: 20 }).map((p) => `/${p}`), { nil: undefined }),
    audienceId: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined })
  }),
  effect: fc.oneof(
    fc.record({ status: fc.constantFrom(...FAULT_STATUSES), message: fc.option(fc.string({ minLength: 1, maxLength: 50 }), { nil: undefined }), delayMs: fc.option(fc.integer({ min: 0, max: MAX_DELAY_MS }), { nil: undefined }) })
      .chain((e) => (e.status === 429 || e.status === 503 ? fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }) : fc.constant(undefined)).map((retryAfterSeconds) => ({ ...e, retryAfterSeconds }))),
    fc.record({ delayMs: fc.integer({ min: 0, max: MAX_DELAY_MS }), jitterMs: fc.option(fc.integer({ min: 0, max: MAX_DELAY_MS }), { nil: undefined }) }),
    fc.constantFrom(...TRANSPORTS).chain((transport) => (transport === 'hang' ? fc.option(fc.integer({ min: 1, max: MAX_HANG_MS }), { nil: undefined }) : fc.constant(undefined)).map((hangMs) => ({ transport, hangMs })))
  ),
  times: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
  probability: fc.option(fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }).map((p) => Object.is(p, -0) ? 0 : p), { nil: undefined }),
  seed: fc.option(fc.integer({ min: 0, max: 4_294_967_295 }), { nil: undefined }),
  // Long enough that the rule is still there when it is read back.
  ttlMs: fc.option(fc.integer({ min: 60_000, max: MAX_TTL_MS }), { nil: undefined }),
  name: fc.option(fc.string({ maxLength: 200 }), { nil: undefined })
}).map(({ match: { scope, ...narrow }, ...rest }) => JSON.parse(JSON.stringify({ ...rest, match: { ...scope, ...narrow } })) as Record<string, unknown> & { match: Record<string, unknown>, effect: Record<string, unknown> })

/** Every body shape, including ones that are not JSON at all. */
/** A valid rule with at most one field replaced by arbitrary JSON: the near misses a validator must catch. */
const nearMiss = fc.tuple(validRule, fc.option(fc.tuple(fc.constantFrom('match', 'effect', 'times', 'probability', 'seed', 'ttlMs', 'name', 'match.tenantId', 'match.method', 'match.path', 'effect.status', 'effect.delayMs', 'effect.transport'), anyJson), { nil: undefined }))
  .map(([rule, change]) => {
    if (change === undefined) return rule
    const [path, value] = change
    const [head, tail] = path.split('.') as [string, string | undefined]
    if (tail === undefined) return { ...rule, [head]: value }
    return { ...rule, [head]: { ...(rule[head] as Record<string, unknown>), [tail]: value } }
  })

const faultBody = fc.oneof(
  { weight: 3, arbitrary: ruleLike.map((r) => ({ contentType: 'application/json', payload: JSON.stringify(r) })) },
  { weight: 3, arbitrary: nearMiss.map((r) => ({ contentType: 'application/json', payload: JSON.stringify(r) })) },
  { weight: 1, arbitrary: anyJson.map((v) => ({ contentType: 'application/json', payload: JSON.stringify(v) })) },
  { weight: 1, arbitrary: fc.tuple(ruleLike, fc.nat()).map(([r, cut]) => { const s = JSON.stringify(r); return { contentType: 'application/json', payload: s.slice(0, cut % Math.max(1, s.length)) } }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=latin1'), headerText(60)).map(([contentType, payload]) => ({ contentType, payload })) }
)

async function clearFaults (app: App): Promise<void> {
  const res = await app.inject({ method: 'DELETE', url: '/__mock/faults' })
  if (res.statusCode !== 200) throw new Error(`clearing faults failed: ${res.body}`)
}

t.test('POST /__mock/faults with any body is a 201 rule or a documented 400/404/413/415 (404: an unknown tenant); never a 5xx, and the API keeps working', async (t) => {
  const app = await build(t)
  let armed = 0
  await fc.assert(fc.asyncProperty(faultBody, async ({ contentType, payload }) => {
    const res = await app.inject({ method: 'POST', url: '/__mock/faults', headers: { 'content-type': contentType }, payload })
    if (res.statusCode === 201) {
      const rule = JSON.parse(res.body) as Record<string, unknown>
      if (Object.keys(rule).some((k) => !RULE_KEYS.includes(k))) throw new Error(`unexpected field in ${res.body}`)
      if (typeof rule.createdAt !== 'string' || !ISO.test(rule.createdAt)) throw new Error(`createdAt ${String(rule.createdAt)}`)
      if (rule.expiresAt !== null && !(typeof rule.expiresAt === 'string' && ISO.test(rule.expiresAt))) throw new Error(`expiresAt ${String(rule.expiresAt)}`)
      armed++
      await clearFaults(app)
      return
    }
    expectThriveError(res, [400, 404, 413, 415])
  }), fcOptions(300))
  const health = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(health.statusCode, 200, 'the API still answers')
  t.ok(armed > 0, `${armed} valid rules were armed along the way`)
})

t.test('valid rules round-trip: the 201 body, GET by id and the list agree with what was sent; DELETE disarms', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(validRule, async (input) => {
    const res = await app.inject({ method: 'POST', url: '/__mock/faults', payload: input })
    if (res.statusCode !== 201) throw new Error(`refused ${JSON.stringify(input)}: ${res.body}`)
    const rule = JSON.parse(res.body) as Record<string, unknown>
    const { match, effect, ...rest } = input
    const expectedMatch = { ...match, ...(typeof match.method === 'string' ? { method: match.method.toUpperCase() } : {}) }
    if (JSON.stringify(sorted(rule.match)) !== JSON.stringify(sorted(expectedMatch))) throw new Error(`match ${JSON.stringify(rule.match)} != ${JSON.stringify(expectedMatch)}`)
    if (JSON.stringify(sorted(rule.effect)) !== JSON.stringify(sorted(effect))) throw new Error(`effect ${JSON.stringify(rule.effect)} != ${JSON.stringify(effect)}`)
    for (const [k, v] of Object.entries(rest)) if (rule[k] !== v) throw new Error(`${k}: ${String(rule[k])} != ${String(v)}`)
    if (rule.fired !== 0 || rule.remaining !== (input.times ?? null)) throw new Error(`counters ${res.body}`)
    if (input.seed === undefined && !Number.isInteger(rule.seed)) throw new Error('a seed is chosen when none is given')
    const expectedExpiry = input.ttlMs === undefined ? null : new Date(Date.parse(rule.createdAt as string) + (input.ttlMs as number)).toISOString()
    if (rule.expiresAt !== expectedExpiry) throw new Error(`expiresAt ${String(rule.expiresAt)} != ${String(expectedExpiry)}`)
    const one = await app.inject({ url: `/__mock/faults/${encodeURIComponent(rule.id as string)}` })
    if (one.body !== res.body) throw new Error(`GET by id differs: ${one.body}`)
    const list = JSON.parse((await app.inject({ url: '/__mock/faults' })).body) as unknown[]
    if (list.length !== 1 || JSON.stringify(list[0]) !== res.body) throw new Error('the list holds exactly the rule')
    if ((await app.inject({ method: 'DELETE', url: `/__mock/faults/${encodeURIComponent(rule.id as string)}` })).statusCode !== 204) throw new Error('DELETE failed')
    expectThriveError(await app.inject({ url: `/__mock/faults/${encodeURIComponent(rule.id as string)}` }), [404])
  }), fcOptions(200))
  t.pass('every valid rule round-tripped')
})

function sorted (value: unknown): unknown {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
}

const clockBody = fc.oneof(
  fc.record({ advanceMs: fc.oneof(fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e300, -Date.now() - 1, CLOCK_RANGE.maxMs), fc.double()) }),
  fc.record({ setTo: fc.oneof(fc.date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2016-12-31T23:59:60Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', 'not a date'), fc.string()) }),
  fc.record({ real: fc.oneof(fc.constant(true), anyJson) }),
  anyJson
)

t.test('POST /__mock/clock with any body moves the clock or is a documented 400; the clock, tokens, rules and journal keep working after', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(clockBody, async (body) => {
    const res = await app.inject({ method: 'POST', url: '/__mock/clock', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    if (res.statusCode !== 200) expectThriveError(res, [400])
    const clock = await app.inject({ url: '/__mock/clock' })
    if (clock.statusCode !== 200) throw new Error(`the clock broke: ${clock.body}`)
    const token = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
    if (token.statusCode !== 200) throw new Error(`tokens broke: ${token.body}`)
    const rule = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 0 }, times: 1 } })
    if (rule.statusCode !== 201) throw new Error(`rules broke: ${rule.body}`)
    if ((await app.inject({ url: '/__mock/requests?limit=5' })).statusCode !== 200) throw new Error('the journal broke')
    await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' } })
  }), fcOptions(120))
  t.pass('the clock stayed usable')
})

t.test('the clock refuses instants it cannot print, naming the range', async (t) => {
  const app = await build(t)
  for (const payload of [{ advanceMs: Number.MAX_SAFE_INTEGER }, { advanceMs: -Date.now() - 60_000 }, { setTo: '2016-12-31T23:59:60Z' }, { setTo: '1969-12-31T23:59:59Z' }]) {
    const res = await app.inject({ method: 'POST', url: '/__mock/clock', payload })
    const body = expectThriveError(res, [400])
    t.match(body.message, /^The mock clock must stay between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: /, JSON.stringify(payload))
  }
  t.equal(JSON.parse((await app.inject({ url: '/__mock/clock' })).body).real, true, 'a refused move leaves the clock alone')
  expectThriveError(await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, ttlMs: MAX_TTL_MS + 1 } }), [400])
  const edge = await app.inject({ method: 'POST', url: '/__mock/clock', payload: { setTo: '9999-12-31T23:59:00.000Z' } })
  t.equal(edge.statusCode, 200, 'the last representable minute is fine')
  const rule = (ttlMs: number) => app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, ttlMs } })
  t.equal((await rule(1000)).statusCode, 201, 'a rule that expires within the range is armed')
  const late = expectThriveError(await rule(120_000), [400])
  t.equal(late.message, 'Invalid fault rule: ttlMs: would expire after 9999-12-31T23:59:59.999Z, the last instant the mock clock can show')
  t.equal((await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })).statusCode, 500, 'the armed rule fires in year 9999')
})

t.test('a clock set to its last instant stays there as real time runs on, so every date it prints keeps a 4-digit year', async (t) => {
  const app = await build(t)
  t.equal((await app.inject({ method: 'POST', url: '/__mock/clock', payload: { setTo: '9999-12-31T23:59:59.999Z' } })).statusCode, 200)
  // Real time moves on by at least a few milliseconds before the next reads.
  await new Promise((resolve) => setTimeout(resolve, 5))
  t.match(json(await app.inject({ url: '/__mock/clock' })), { now: '9999-12-31T23:59:59.999Z', epochMs: CLOCK_RANGE.maxMs })
  const rule = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 0 } } })
  t.equal(rule.statusCode, 201)
  t.equal(json(rule).createdAt, '9999-12-31T23:59:59.999Z')
})

const journalQuery = fc.dictionary(
  fc.constantFrom('tenantId', 'limit', 'since', 'other'),
  fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('2016-12-31T23:59:60Z', '2024-01-01T00:00:00Z', '0', '-1', '1e3', TENANT_A.tenantId))
)

t.test('GET /__mock/requests with any query is a 200 list, a documented 400, or a 404 when it names a tenant the server does not have', async (t) => {
  const app = await build(t)
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  await fc.assert(fc.asyncProperty(journalQuery, async (query) => {
    const res = await app.inject({ url: `/__mock/requests?${new URLSearchParams(query).toString()}` })
    if (res.statusCode === 200) {
      if (!Array.isArray(JSON.parse(res.body))) throw new Error(res.body)
      return
    }
    const tenantId = new URLSearchParams(query).get('tenantId')
    const namesUnknownTenant = tenantId !== null && tenantId !== '' && tenantId !== TENANT_A.tenantId && tenantId !== TENANT_B.tenantId
    expectThriveError(res, namesUnknownTenant ? [400, 404] : [400])
  }), fcOptions(100))
  t.pass('every query answered in shape')
})
