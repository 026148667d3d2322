// Over real sockets: size and time limits (each over-limit request a documented 4xx, slow clients cut off), and
// SIGTERM under load (in-flight requests answered, new connections refused, exit 0 promptly).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LIMITS } from '../../src/app.js'
import { SHUTDOWN_GRACE_MS } from '../../src/server.js'
import { BASIC_A, build, FIXTURE, TENANT_A } from '../helpers.js'
import { startCli } from '../cli-helpers.js'
import { expectOAuthError, expectThriveError, type Res } from './contract.js'

// ---- Limits ----

type App = Awaited<ReturnType<typeof build>>

interface Raw extends Res {
  closedAfterMs: number
  raw: string
}

/** Writes bytes to a fresh connection (optionally in timed pieces) and reads until the server closes it. */
async function raw (port: number, pieces: Array<string | Buffer>, opts: { gapMs?: number, giveUpMs?: number } = {}): Promise<Raw> {
  return await new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => { socket.destroy(); reject(new Error(`the server kept the connection open for ${opts.giveUpMs ?? 20_000} ms`)) }, opts.giveUpMs ?? 20_000)
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(giveUp)
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')))
      const headers: Record<string, string> = {}
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':')
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
      }
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      resolve({ statusCode: status, headers, body: Buffer.from(text.slice(head.length + 4), 'latin1').toString('utf8'), closedAfterMs: Date.now() - started, raw: text })
    })
    let i = 0
    const next = () => {
      const piece = pieces[i++]
      if (piece === undefined || socket.destroyed) return
      socket.write(piece)
      timer = setTimeout(next, opts.gapMs ?? 0)
    }
    socket.on('connect', next)
  })
}

async function listen (t: Parameters<typeof build>[0]): Promise<{ app: App, port: number }> {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as { port: number }).port }
}

const TOKEN = `/oauth2/token/${TENANT_A.tenantId}`
const request = (method: string, path: string, headers: Record<string, string | number>, body = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`

t.test(`token bodies: up to ${LIMITS.bodyLimit} bytes are read, larger ones are 413 invalid_request, chunked or not (RFC 6749 §5.2 shape)`, async (t) => {
  const { port } = await listen(t)
  const form = 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret&pad='
  const fits = form + 'x'.repeat(LIMITS.bodyLimit - form.length)
  const ok = await raw(port, [request('POST', TOKEN, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': fits.length }, fits)])
  t.equal(ok.statusCode, 200, 'a body of exactly the limit, unknown parameters included, gets a token')

  const big = 'x'.repeat(200 * 1024)
  const cases: Array<[string, string[]]> = [
    ['a 200 KB form body', [request('POST', TOKEN, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': big.length }, `grant_type=${big}`.slice(0, big.length))]],
    ['a 200 KB JSON body', [request('POST', TOKEN, { 'content-type': 'application/json', 'content-length': big.length + 8 }, `{"x":"${big}"}`)]],
    ['a 200 KB chunked body', [request('POST', TOKEN, { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }), ...Array.from({ length: 50 }, () => `1000\r\n${'x'.repeat(4096)}\r\n`), '0\r\n\r\n']],
    ['one byte over the limit', [request('POST', TOKEN, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': fits.length + 1 }, `${fits}x`)]]
  ]
  for (const [name, pieces] of cases) {
    const res = await raw(port, pieces)
    const body = expectOAuthError(res, [413])
    t.equal(body.error, 'invalid_request', name)
    t.match(body.error_description, /larger than this server accepts|too large/i, name)
  }
})

t.test('control-plane bodies over the limit are 413 in Thrive\'s shape', async (t) => {
  const { port } = await listen(t)
  const big = JSON.stringify({ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, name: 'x'.repeat(200 * 1024) })
  const res = await raw(port, [request('POST', '/__mock/faults', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }, big)])
  t.equal(expectThriveError(res, [413]).message, 'The request body is larger than this server accepts')
})

t.test('headers and URLs beyond Node\'s 16 KB are 431 in Thrive\'s shape; a path parameter over its limit is 414 in each route\'s shape', async (t) => {
  const { app, port } = await listen(t)
  const hugeAuth = await raw(port, [request('GET', '/rest/v1/audiences/backend', { authorization: `Basic ${'QUFB'.repeat(5000)}` })])
  t.equal(expectThriveError(hugeAuth, [431]).message, 'The request headers (or URL) are larger than this server accepts', 'a 20 KB Authorization header')
  const hugeUrl = await raw(port, [request('GET', `/rest/v1/audiences/backend?q=${'a'.repeat(20_000)}`, { authorization: BASIC_A })])
  expectThriveError(hugeUrl, [431])
  const manyHeaders = await raw(port, [request('GET', '/rest/v1/audiences/backend', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-${i}`, 'v'])))])
  expectThriveError(manyHeaders, [431])

  const long = 'a'.repeat(LIMITS.maxParamLength + 1)
  const api = await raw(port, [request('GET', `/rest/v1/audiences/${long}`, { authorization: BASIC_A })])
  t.equal(expectThriveError(api, [414]).message, 'A path parameter is longer than this server accepts')
  const token = await raw(port, [request('POST', `/oauth2/token/${long}`, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 29 }, 'grant_type=client_credentials')])
  t.equal(expectOAuthError(token, [414]).error, 'invalid_request', 'the token route keeps its RFC 6749 shape even before routing')
  const badEncoding = await app.inject({ method: 'POST', url: '/oauth2/token/%E0%A4%A', payload: { grant_type: 'client_credentials' } })
  t.equal(expectOAuthError(badEncoding, [400]).error_description, 'The URL is not valid: check its percent-encoding')
  const fits = 'a'.repeat(LIMITS.maxParamLength)
  t.equal(expectThriveError(await raw(port, [request('GET', `/rest/v1/audiences/${fits}`, { authorization: BASIC_A })]), [404]).status, 404, 'a parameter of exactly the limit is looked up')
})

t.test('a header flood within the size limit is served: only the first 2000 headers count (Node\'s maxHeadersCount)', async (t) => {
  const { port } = await listen(t)
  const flood = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`x-f${i}`, '1']))
  const res = await raw(port, [request('GET', '/rest/v1/audiences/backend', { authorization: BASIC_A, ...flood })])
  t.equal(res.statusCode, 200)
  t.match(JSON.parse(res.body), { reference: 'backend' })
})

t.test('slow clients are cut off: headers sent byte by byte, a connection that never speaks, one kept alive and left idle', async (t) => {
  const { app, port } = await listen(t)
  t.equal(app.server.headersTimeout, LIMITS.headersTimeoutMs)
  t.ok(app.server.headersTimeout <= app.server.requestTimeout, 'the headers deadline falls within the request deadline')
  // Node enforces the deadline when it next checks its connections, so the bound is the timeout plus one interval.
  const bound = LIMITS.headersTimeoutMs + LIMITS.connectionsCheckingIntervalMs + 3000
  const slowHeaders = request('GET', '/__mock/health', { 'x-slow': 'y'.repeat(2000) }).split('')
  const [loris, idle, keptAlive] = await Promise.all([
    raw(port, slowHeaders, { gapMs: 100, giveUpMs: bound + 5000 }),
    raw(port, [], { giveUpMs: bound + 5000 }),
    raw(port, [request('GET', '/__mock/health', {}).replace('Connection: close\r\n', '')], { giveUpMs: LIMITS.keepAliveTimeoutMs + 5000 })
  ])
  t.equal(loris.statusCode, 408, 'slow-loris: 408')
  t.same(JSON.parse(loris.body), { status: 408, error: 'Request Timeout', message: 'The request was not received in time' })
  t.ok(loris.closedAfterMs <= bound, `slow-loris cut off after ${loris.closedAfterMs} ms (bound ${bound} ms)`)
  t.ok(idle.closedAfterMs <= bound, `an idle connection closed after ${idle.closedAfterMs} ms`)
  t.equal(keptAlive.statusCode, 200)
  t.ok(keptAlive.closedAfterMs <= LIMITS.keepAliveTimeoutMs + 1500, `a kept-alive connection idle after its response closed after ${keptAlive.closedAfterMs} ms`)
})

// ---- Shutdown ----

interface Outcome { status?: number, body?: string, error?: string, sentAt: number, doneAt: number }

function send (port: number, path: string, opts: { method?: string, headers?: Record<string, string>, body?: string, agent?: Agent | false, onWritten?: () => void } = {}): Promise<Outcome> {
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
    req.on('finish', () => opts.onWritten?.())
    req.end(opts.body)
  })
}

t.test('SIGTERM under load: slow in-flight requests all complete, new connections are refused, exit 0 well within the grace period', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'tenants.json')
  writeFileSync(file, JSON.stringify(FIXTURE))
  const cli = await startCli(['--fixtures', file, '--log-level', 'info'])
  const port = Number(new URL(cli.url).port)

  // Slow requests, each on its own connection, held in the server by Prefer: delay=300.
  const sent = { written: 0 }
  const onWritten = () => { sent.written++ }
  const slowReads = Array.from({ length: 6 }, () => send(port, '/rest/v1/audiences/backend', { headers: { prefer: 'delay=300' }, onWritten }))
  const slowTokens = Array.from({ length: 2 }, () => send(port, `/oauth2/token/${TENANT_A.tenantId}`, {
    method: 'POST',
    headers: { prefer: 'delay=300', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret',
    onWritten
  }))
  // And steady traffic on kept-alive connections, as a test suite's HTTP client would send.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const load = { stop: false, answered: 0 }
  const steady = Promise.all(Array.from({ length: 4 }, async () => {
    const seen: Outcome[] = []
    while (!load.stop) {
      seen.push(await send(port, '/audiences/backend', { agent }))
      load.answered++
    }
    return seen
  }))
  // The slow requests are in flight once the server has answered steady requests sent after them: it reads its
  // sockets in order. Waiting on that rather than on a fixed time keeps the test honest on a busy machine.
  const deadline = Date.now() + 5000
  while (sent.written < 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  const mark = load.answered
  while (load.answered < mark + 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(sent.written, 8, 'all eight slow requests were sent before the signal')

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
  t.same(answered.filter((o) => o.status !== 200).map((o) => `${o.status} ${o.body}`), [], `the ${answered.length} requests answered during the drain were answered normally, never with Fastify's undocumented 503`)
})
