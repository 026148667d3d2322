// Logs: one line per request at info, secrets and Authorization values never written; readable on a terminal.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { CLI, startCli } from './cli-helpers.js'
import { basic, BASIC_A, build, FIXTURE, getToken, TENANT_A } from './helpers.js'

t.test('one info line per request, with method, path, status, time, tenant and client; no secret, header value or token', async (t) => {
  const lines: string[] = []
  const app = await build(t, {}, { logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  lines.length = 0
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: `Bearer ${token}` } })
  await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: basic(TENANT_A.tenantId, 'a-wrong-secret') } })
  await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-bad-secret' } })
  t.equal(lines.length, 5, 'one line each')
  const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>
  t.match(first, { level: 30, msg: 'request', method: 'GET', url: '/rest/v1/audiences/backend', status: 200, tenantId: TENANT_A.tenantId, clientId: TENANT_A.tenantId })
  t.type(first.ms, 'number')
  const all = lines.join('\n')
  for (const secret of [TENANT_A.apiSecret, 'a-wrong-secret', 'a-reader-secret', 'a-bad-secret', token, BASIC_A.slice(6)]) t.notMatch(all, secret)
})

t.test('an unexpected error is logged with its detail at error level, while the client gets none', async (t) => {
  const lines: string[] = []
  // Lazy, so the app is not ready yet and takes a route of the test's own.
  const app = await build(t, {}, { compileSchemas: 'lazy', logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  app.get('/boom', async () => { throw new Error('the real cause') })
  const res = await app.inject({ url: '/boom' })
  t.notMatch(res.body, 'the real cause')
  t.ok(lines.some((l) => /"level":50/.test(l) && /the real cause/.test(l)))
})

t.test('on a terminal the CLI logs readable lines instead of JSON', { skip: process.platform === 'linux' ? false : 'needs util-linux script(1)' }, async (t) => {
  // script(1) gives the CLI a pseudo-terminal, as when a person runs it.
  const child = spawn('script', ['-qfec', `${process.execPath} ${CLI} --port 0 --host 127.0.0.1`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 20_000)
    child.stdout.on('data', () => { if (out.includes('Thrive audience mock ready')) { clearTimeout(timer); resolve() } })
  })
  child.kill('SIGTERM')
  await new Promise((resolve) => child.on('exit', resolve))
  t.match(out, /INFO.*Thrive audience mock ready/)
  t.notMatch(out, /"msg":"Thrive audience mock ready"/)
})

/** The built CLI's stdout lines, each parsed as JSON (a line that is not JSON fails the test). */
function jsonLines (t: Test, out: string): Array<Record<string, unknown>> {
  return out.split('\n').filter((l) => l !== '').map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>
    } catch {
      t.fail(`not a JSON line: ${l}`)
      return {}
    }
  })
}

function fixtureFile (): string {
  const file = join(mkdtempSync(join(tmpdir(), 'logging-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(FIXTURE))
  return file
}

t.test('after SIGTERM, stdout holds a JSON line for every request answered before it, the shutdown line, and no secret', async (t) => {
  const cli = await startCli(['--fixtures', fixtureFile(), '--log-level', 'info'])
  const token = await fetch(`${cli.url}/oauth2/token/${TENANT_A.tenantId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret'
  })
  t.equal(token.status, 200)
  const accessToken = (await token.json() as { access_token: string }).access_token
  t.equal((await fetch(`${cli.url}/rest/v1/audiences/backend`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 200)
  t.equal((await fetch(`${cli.url}/rest/v1/audiences/backend`, { headers: { authorization: basic(TENANT_A.tenantId, 'a-wrong-secret') } })).status, 401)
  // Many requests in quick succession, the last just before the signal: each one's line must reach stdout.
  const N = 300
  const statuses: number[] = []
  for (let i = 0; i < N; i += 30) {
    statuses.push(...await Promise.all(Array.from({ length: 30 }, async (_, j) => {
      const res = await fetch(`${cli.url}/rest/v1/audiences/missing-${i + j}`, { headers: { authorization: BASIC_A } })
      await res.arrayBuffer()
      return res.status
    })))
  }
  t.same(new Set(statuses), new Set([404]))
  const last = await fetch(`${cli.url}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A } })
  t.equal(last.status, 200)
  t.equal(await cli.stop('SIGTERM'), 0)

  const lines = jsonLines(t, cli.output())
  const requests = lines.filter((l) => l.msg === 'request')
  const missing = requests.filter((l) => typeof l.url === 'string' && l.url.startsWith('/rest/v1/audiences/missing-'))
  t.equal(missing.length, N, `${N} lines for ${N} requests`)
  t.same(new Set(missing.map((l) => l.url)), new Set(Array.from({ length: N }, (_, i) => `/rest/v1/audiences/missing-${i}`)), 'one line per request, none lost')
  t.match(missing[0], { level: 30, method: 'GET', status: 404, tenantId: TENANT_A.tenantId, clientId: TENANT_A.tenantId })
  t.equal(requests.length, N + 4, 'and the token request, the Bearer read, the 401 and the last read')
  t.match(requests.at(-1), { level: 30, msg: 'request', method: 'GET', url: '/rest/v1/audiences/backend', status: 200, tenantId: TENANT_A.tenantId })
  const shutdown = lines.findIndex((l) => l.msg === 'shutting down: draining in-flight requests')
  t.match(lines[shutdown], { level: 30, signal: 'SIGTERM' })
  t.ok(shutdown > lines.indexOf(requests.at(-1) as Record<string, unknown>), 'the shutdown line comes after the last request')
  const out = cli.output()
  for (const secret of [TENANT_A.apiSecret, 'a-wrong-secret', 'a-reader-secret', accessToken, BASIC_A.slice(6)]) t.notMatch(out, secret)
})

t.test('an uncaught exception still leaves every line logged before it in stdout, then the error, and exits 1', async (t) => {
  // The crash is made on demand: a signal whose handler throws, outside any request.
  const crash = join(mkdtempSync(join(tmpdir(), 'logging-crash-')), 'crash.mjs')
  writeFileSync(crash, "process.on('SIGUSR2', () => { throw new Error('crash on purpose') })\n")
  const cli = await startCli(['--fixtures', fixtureFile(), '--log-level', 'info'], { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(crash).href}` })
  const N = 100
  for (let i = 0; i < N; i++) {
    await (await fetch(`${cli.url}/rest/v1/audiences/missing-${i}`, { headers: { authorization: BASIC_A } })).arrayBuffer()
  }
  t.equal(await cli.stop('SIGUSR2'), 1)
  const lines = jsonLines(t, cli.output())
  t.equal(lines.filter((l) => typeof l.url === 'string' && l.url.startsWith('/rest/v1/audiences/missing-')).length, N, `all ${N} request lines`)
  t.match(lines.at(-1), { level: 30, msg: 'shutting down: draining in-flight requests', err: { type: 'Error', message: 'crash on purpose' } })
})

t.test('the CLI writes its log lines to stdout in batches of several lines, not one write per line', async (t) => {
  const cli = await startCli(['--fixtures', fixtureFile(), '--log-level', 'info'])
  t.teardown(() => cli.stop())
  // A read from the pipe returns at most what the writes before it put there; one write per line shows as about one
  // chunk per line, since this process reads between requests.
  let chunks = 0
  const count = () => { chunks++ }
  cli.child.stdout?.on('data', count)
  const N = 500
  // One at a time, so that no two requests' lines are written together because they finished together.
  for (let i = 0; i < N; i++) {
    await (await fetch(`${cli.url}/rest/v1/audiences/missing-${i}`, { headers: { authorization: BASIC_A } })).arrayBuffer()
  }
  cli.child.stdout?.off('data', count)
  t.ok(chunks < N / 4, `${N} log lines came in ${chunks} chunks`)
  t.equal(await cli.stop(), 0)
  t.equal(cli.output().split('\n').filter((l) => l.includes('"url":"/rest/v1/audiences/missing-')).length, N, 'and every line arrived')
})
