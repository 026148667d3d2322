// A seeded slice of scripts/fuzz.mjs in every test run: the built CLI over real sockets, every answer judged.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const FUZZ = fileURLToPath(new URL('../../scripts/fuzz.mjs', import.meta.url))

t.test('500 seeded hostile requests: no crash, no unexpected 5xx, every answer in its documented shape, healthy after', async (t) => {
  const child = spawn(process.execPath, [FUZZ, '--requests', '500', '--seed', '7', '--concurrency', '8', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>
  t.equal(code, 0, out.slice(-3000))
  t.match(summary, { ok: true, requests: 500, crashes: 0, unexpected5xx: 0, violations: 0, healthy: true, exitCode: 0, errorLogLines: 0 })
  t.ok(Object.keys(summary.categories as object).length >= 8, `categories: ${JSON.stringify(summary.categories)}`)
})

t.test('a seed sends the same requests on every run, whatever the clock; another seed sends others', async (t) => {
  const digest = async (seed: string) => {
    const child = spawn(process.execPath, [FUZZ, '--requests', '300', '--seed', seed, '--dry-run'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    t.equal(code, 0, out)
    return JSON.parse(out) as { seed: number, requests: number, sha256: string, categories: Record<string, number> }
  }
  const first = await digest('3')
  const again = await digest('3')
  const other = await digest('4')
  t.match(first, { seed: 3, requests: 300, sha256: /^[0-9a-f]{64}$/ })
  t.equal(Object.values(first.categories).reduce((a, b) => a + b, 0), 300, 'every request is counted in one category')
  t.same(again, first, 'the same seed: the same requests and expectations')
  t.not(other.sha256, first.sha256, 'another seed: other requests')
})
