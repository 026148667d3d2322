// The Prefer header (RFC 7240 §2 syntax) as a per-request fault.
import t from 'tap'
import { parsePrefer, preferredHandling, PREFER_HELP } from '../../src/faults/prefer.js'

t.test('no header, or only whitespace and separators, asks for nothing', async (t) => {
  t.equal(parsePrefer(undefined), null)
  t.equal(parsePrefer(' , ; '), null)
})

t.test('code and delay parse alone, together, quoted, in any case, across repeated headers', async (t) => {
  t.same(parsePrefer('code=503'), { status: 503 })
  t.same(parsePrefer('delay=250'), { delayMs: 250 })
  t.same(parsePrefer('Code=429, DELAY="10"'), { status: 429, delayMs: 10 })
  t.same(parsePrefer(['code=500', 'delay=0']), { status: 500, delayMs: 0 })
  t.same(parsePrefer('code = 404; delay = 5'), { status: 404, delayMs: 5 })
})

const bad: Array<[string, RegExp]> = [
  ['code=418', /^Unsupported Prefer code "418"/],
  ['code=abc', /^Unsupported Prefer code "abc"/],
  ['code=2000', /^Unsupported Prefer code "2000"/],
  ['delay=-1', /^Unsupported Prefer delay "-1"/],
  ['delay=60001', /^Unsupported Prefer delay "60001"/],
  ['delay=1.5', /^Unsupported Prefer delay "1.5"/],
  ['code=500, code=503', /^Prefer gives code twice/],
  ['delay=1, delay=2', /^Prefer gives delay twice/],
  ['return=minimal', /^Unsupported Prefer "return=minimal"/],
  ['respond-async', /^Unsupported Prefer "respond-async"/],
  [`x=${'y'.repeat(100)}`, /^Unsupported Prefer "x=y{58}…"/]
]
for (const [header, message] of bad) {
  t.test(`"${header.slice(0, 30)}" is refused with a message listing what is supported`, async (t) => {
    t.throws(() => parsePrefer(header), { message })
    t.throws(() => parsePrefer(header), { message: new RegExp(PREFER_HELP.replace(/[|()[\]^$.*+?\\]/g, '\\$&') + '$') })
  })
}

t.test('the contract handling a Prefer header asks for (RFC 7240 §4.4), never an error', async (t) => {
  t.equal(preferredHandling(undefined), null)
  t.equal(preferredHandling('code=503'), null)
  t.equal(preferredHandling('code=503, strict'), true)
  t.equal(preferredHandling('handling="strict"'), true)
  t.equal(preferredHandling(['delay=0', 'handling=lenient']), false)
  t.equal(preferredHandling('handling=sloppy; wait=5'), null)
  t.equal(parsePrefer('strict, handling=strict'), null, 'the same handling twice is no conflict')
  t.same(parsePrefer(['Strict', 'code=503']), { status: 503 })
})
