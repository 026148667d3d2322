// Size and time limits over a real socket: each over-limit request is a documented 4xx, and slow clients are cut off.
import { connect } from 'node:net'
import t from 'tap'
import { LIMITS } from '../../src/app.js'
import { BASIC_A, build, TENANT_A } from '../helpers.js'
import { expectOAuthError, expectThriveError, type Res } from './contract.js'

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

const headersTimeoutMs = (LIMITS as Record<string, number | undefined>).headersTimeoutMs
const checkingMs = (LIMITS as Record<string, number | undefined>).connectionsCheckingIntervalMs

t.test('slow clients are cut off: headers sent byte by byte, a connection that never speaks, one kept alive and left idle', {
  skip: headersTimeoutMs === undefined || checkingMs === undefined ? 'LIMITS has no headersTimeoutMs/connectionsCheckingIntervalMs yet: the cut-off is up to 60 s (see SECURITY.md)' : false
}, async (t) => {
  const { app, port } = await listen(t)
  t.equal(app.server.headersTimeout, headersTimeoutMs)
  t.ok(app.server.headersTimeout <= app.server.requestTimeout, 'the headers deadline falls within the request deadline')
  const bound = (headersTimeoutMs ?? 0) + (checkingMs ?? 0) + 1500
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
