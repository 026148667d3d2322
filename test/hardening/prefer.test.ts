// Property tests for the Prefer header (RFC 7240 §2 syntax), alone and through both route dialects.
import fc from 'fast-check'
import t from 'tap'
import { parsePrefer, PreferError } from '../../src/faults/prefer.js'
import { FAULT_STATUSES, MAX_DELAY_MS } from '../../src/schemas/faults.js'
import { BASIC_A, build, TENANT_A } from '../helpers.js'
import { expectOAuthError, expectThriveError, fcOptions, headerText } from './contract.js'

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
