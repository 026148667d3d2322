// npm run bench is not a test, but it must not rot: its smoke run has to start, measure every figure and exit 0.
// Nothing here looks at a number: timings on a shared machine prove nothing.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const RUN = fileURLToPath(new URL('../bench/run.mjs', import.meta.url))

// The smoke run usually takes well under a minute; the margin is for a busy machine.
t.setTimeout(150_000)

t.test('the benchmark smoke run exits 0 and prints the table of ratios to bare Fastify', async (t) => {
  // The servers it starts would report coverage of the built files; the bench measures, it does not test.
  const child = spawn(process.execPath, [RUN, '--quick'], { env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 0, 'the smoke run exits 0', { output: out.slice(-6000) })
  t.match(out, /^\| Figure +\| Value: median \(min–max\) +\| Ratio to bare Fastify +\| Budget +\| Verdict +\|$/m)
  for (const figure of ['0. bare Fastify', '1. GET by reference', '2. GET, Bearer', '3a. 404 path', '3b. 401 path', '4. 1,000 fault rules',
    '5a. start → first 200', '5b. start → first 200', '5c. lookup', '6. RSS after', '7. token endpoint', '8. p99 latency',
    '9. list page of 100, 1,000 audiences', '9. list page of 100, 2,000 audiences', '10. create + delete pairs/s', '11. Basic GET, contract checks on vs off', '+ Basic 200 path over HTTPS (TLS, keep-alive)',
    '    HTTPS vs plain HTTP, same request', '12. GET through the msw handlers (in process)', '    the same GET over a socket, same client',
    '    createThriveHandlers() → first answer']) {
    t.match(out, new RegExp(`^\\| ${figure.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `the table has "${figure}"`)
  }
  // The new figures are measured, not left at "n/a": their value cell starts with a number.
  for (const figure of ['9\\. list page of 100, 1,000 audiences', '10\\. create \\+ delete pairs/s', '11\\. Basic GET, contract checks on vs off', '\\+ Basic 200 path over HTTPS \\(TLS, keep-alive\\)', '12\\. GET through the msw handlers \\(in process\\)', '    createThriveHandlers\\(\\) → first answer']) {
    t.match(out, new RegExp(`^\\| ${figure}[^|]*\\| \\d`, 'm'), `"${figure}" has a value`)
  }
  t.notMatch(out, /^PROBLEM:/m, 'every request got the status it should')
})
