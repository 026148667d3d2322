// SIGTERM under load: in-flight requests are answered, new connections are refused, the process exits 0 promptly.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { SHUTDOWN_GRACE_MS } from '../../src/server.js'
import { BASIC_A, FIXTURE, TENANT_A } from '../helpers.js'
import { startCli } from '../cli-helpers.js'
import { expectThriveError } from './contract.js'

interface Outcome { status?: number, body?: string, error?: string, sentAt: number, doneAt: number }

function send (port: number, path: string, opts: { method?: string, headers?: Record<string, string>, body?: string, agent?: Agent | false } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const sentAt = Date.now()
    const headers = { ...(path.startsWith('/oauth2/') ? {} : { authorization: BASIC_A }), ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) }
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path, headers, agent: opts.agent ?? false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode, body, sentAt, doneAt: Date.now() }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: err.code ?? err.message, sentAt, doneAt: Date.now() }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, sentAt, doneAt: Date.now() }))
    req.end(opts.body)
  })
}

t.test('SIGTERM under load: slow in-flight requests all complete, new connections are refused, exit 0 well within the grace period', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-'))
  const file = join(dir, 'tenants.json')
  writeFileSync(file, JSON.stringify(FIXTURE))
  const cli = await startCli(['--fixtures', file, '--log-level', 'info'])
  const port = Number(new URL(cli.url).port)

  // Slow requests, each on its own connection, held in the server by Prefer: delay=300.
  const slowReads = Array.from({ length: 6 }, () => send(port, '/rest/v1/audiences/backend', { headers: { prefer: 'delay=300' } }))
  const slowTokens = Array.from({ length: 2 }, () => send(port, `/oauth2/token/${TENANT_A.tenantId}`, {
    method: 'POST',
    headers: { prefer: 'delay=300', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret'
  }))
  // And steady traffic on kept-alive connections, as a test suite's HTTP client would send.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const load = { stop: false }
  const steady = Promise.all(Array.from({ length: 4 }, async () => {
    const seen: Outcome[] = []
    while (!load.stop) seen.push(await send(port, '/audiences/backend', { agent }))
    return seen
  }))
  await new Promise((resolve) => setTimeout(resolve, 120))

  const signalledAt = Date.now()
  const exited = cli.stop('SIGTERM')
  const after: Outcome[] = []
  const refusedSoon = (async () => {
    for (let i = 0; i < 100; i++) {
      const o = await send(port, '/__mock/health')
      after.push(o)
      if (o.error === 'ECONNREFUSED') return o.doneAt - signalledAt
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return Infinity
  })()

  const reads = await Promise.all(slowReads)
  const tokens = await Promise.all(slowTokens)
  const code = await exited
  const exitMs = Date.now() - signalledAt
  load.stop = true
  const steadyOutcomes = (await steady).flat()
  agent.destroy()

  for (const r of reads) {
    t.equal(r.status, 200, 'a slow read in flight at SIGTERM is answered')
    t.match(JSON.parse(r.body ?? '{}'), { reference: 'backend' })
  }
  for (const r of tokens) {
    t.equal(r.status, 200, `a slow token request in flight at SIGTERM is answered: ${r.status ?? r.error} ${r.body ?? ''}`)
    t.match(JSON.parse(r.body ?? '{}'), { token_type: 'Bearer' })
  }
  t.equal(code, 0, 'exit code 0')
  t.ok(exitMs < SHUTDOWN_GRACE_MS / 2, `exited ${exitMs} ms after SIGTERM`)
  const refusedAfterMs = await refusedSoon
  t.ok(refusedAfterMs < 2000, `new connections refused ${refusedAfterMs} ms after SIGTERM`)
  t.match(cli.output(), /"msg":"shutting down: draining in-flight requests"/)

  const beforeSignal = steadyOutcomes.filter((o) => o.doneAt < signalledAt)
  t.ok(beforeSignal.length > 0 && beforeSignal.every((o) => o.status === 200), `${beforeSignal.length} steady requests answered before the signal`)
  const racing = [...steadyOutcomes.filter((o) => o.doneAt >= signalledAt), ...after]
  const answered = racing.filter((o) => o.status !== undefined)
  t.ok(racing.every((o) => o.status !== undefined || ['ECONNREFUSED', 'ECONNRESET'].includes(o.error ?? '')), 'requests racing the shutdown are answered, refused, or (kept-alive and idle) reset')
  t.test('requests that reach the server during the drain are answered normally, never with an undocumented 503', async (t) => {
    for (const o of answered) {
      if (o.status === 200) continue
      expectThriveError({ statusCode: o.status ?? 0, headers: { 'content-type': 'application/json' }, body: o.body ?? '' })
    }
    t.pass(`${answered.length} answered during the drain`)
  })
})
