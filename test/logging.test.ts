// Logs: one line per request at info, secrets and Authorization values never written; readable on a terminal.
import { spawn } from 'node:child_process'
import t from 'tap'
import { CLI } from './cli-helpers.js'
import { basic, BASIC_A, build, getToken, TENANT_A } from './helpers.js'

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
