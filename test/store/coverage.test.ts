// The coverage tally: bounded per tenant, whatever the violations a request carries.
import t from 'tap'
import { Coverage, MAX_VIOLATION_CODES } from '../../src/store/coverage.js'

t.test('a tally keeps at most MAX_VIOLATION_CODES distinct codes, and still counts the ones it keeps', async (t) => {
  const coverage = new Coverage()
  const codes = Array.from({ length: MAX_VIOLATION_CODES + 5 }, (_, i) => ({ location: 'query.x', code: `code-${String(i).padStart(3, '0')}`, message: 'm' }))
  coverage.record('tenant', 'getAudience', 200, codes)
  coverage.record('tenant', 'getAudience', 200, codes.slice(0, 1))
  const { violations, requests } = coverage.report('tenant')
  t.equal(requests, 2)
  t.equal(violations.length, MAX_VIOLATION_CODES, 'the codes past the bound are not kept')
  t.same(violations[0], { code: 'code-000', count: 2, example: codes[0] })
  t.notOk(violations.some((v) => v.code === `code-${MAX_VIOLATION_CODES}`), 'the first code past the bound is not there')
})
