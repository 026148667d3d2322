// HTTPS: the same app, routes and state over TLS, called by clients that trust only the mock's own CA (never
// rejectUnauthorized: false). TLS 1.3 / 1.2 handshakes are RFC 8446 / 5246; certificate checks are RFC 5280 and
// RFC 6125 (the name a client asked for must be in the certificate's subjectAltName).
import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { LIMITS } from '../src/app.js'
import { defaultConfig } from '../src/config.js'
import { startMockServer, type MockServer } from '../src/index.js'
import errors from '../src/plugins/errors.js'
import httpsPlugin, { PLAIN_HTTP_MESSAGE } from '../src/plugins/https.js'
import { NO_CA_MESSAGE } from '../src/routes/mock/ca.js'
import { CA_CERT_FILE, CA_KEY_FILE, loadTlsMaterial, SERVER_VALIDITY_DAYS } from '../src/tls.js'
import { BASIC_A, FIXTURE, IDS, TENANT_A } from './helpers.js'

const CLIENT = { accept: 'application/json', 'content-type': 'application/json' }

function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'https-test-'))
}

/** A mock serving HTTPS with its CA in a fresh temporary directory (never the user's home), closed after the test. */
async function httpsMock (t: Test, https: { hostnames?: string[], caDir?: string } = {}): Promise<MockServer> {
  const mock = await startMockServer({ fixtures: FIXTURE, https: { caDir: join(tempDir(), 'ca'), ...https } })
  t.teardown(() => mock.close())
  return mock
}

/** Node's fetch with a dispatcher whose only trusted CA is `ca`: the default roots are not consulted. */
function trusting (t: Test, ca: string) {
  const dispatcher = new Agent({ connect: { ca } })
  t.teardown(() => dispatcher.close())
  return async (url: string, init: RequestInit = {}) => await fetch(url, { ...init, dispatcher } as RequestInit)
}

t.test('a Basic GET over TLS, trusting only the generated CA, answers exactly what plain HTTP answers', async (t) => {
  const mock = await httpsMock(t)
  t.match(mock.httpsUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.equal(mock.httpsUrl, `https://127.0.0.1:${String(mock.httpsPort)}`)
  t.not(mock.httpsPort, mock.port)
  const tlsFetch = trusting(t, mock.caCert as string)
  const res = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT } })
  const plain = await fetch(`${mock.url}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  const body = await res.json()
  t.same(body, await plain.json())
  t.match(body, { id: IDS.aChild, reference: 'backend', category: 'audience', parent: { id: IDS.aStructure } })
})

t.test('over TLS a client gets a token (RFC 6749 §4.4) and reads with it as a Bearer (RFC 6750 §2.1)', async (t) => {
  const mock = await httpsMock(t)
  const tlsFetch = trusting(t, mock.caCert as string)
  const token = await tlsFetch(`${mock.httpsUrl}/oauth2/token/${TENANT_A.tenantId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' })
  })
  t.equal(token.status, 200)
  t.equal(token.headers.get('cache-control'), 'no-store')
  const grant = await token.json() as { access_token: string }
  t.match(grant, { token_type: 'Bearer', expires_in: 3600, scope: 'api/read', access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
  t.same(Object.keys(grant).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  const res = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/${IDS.aChild}`, { headers: { authorization: `Bearer ${grant.access_token}`, ...CLIENT } })
  t.equal(res.status, 200)
  t.match(await res.json(), { id: IDS.aChild, reference: 'backend' })
})

t.test('fault rules and the journal work over TLS: a status fault, a connection reset, and both in the journal', async (t) => {
  const mock = await httpsMock(t)
  const tlsFetch = trusting(t, mock.caCert as string)
  const armed = await tlsFetch(`${mock.httpsUrl}/__mock/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { status: 503, retryAfterSeconds: 7 }, times: 1 })
  })
  t.equal(armed.status, 201)
  const rule = await armed.json() as { id: string }
  const faulted = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT } })
  t.equal(faulted.status, 503)
  t.equal(faulted.headers.get('x-mock-fault'), rule.id)
  t.equal(faulted.headers.get('retry-after'), '7')
  t.same(await faulted.json(), { status: 503, error: 'Service Unavailable', message: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header' })

  // A reset must cut the TCP connection under TLS (an RST), not just the TLS session.
  mock.armFault({ match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { transport: 'reset' }, times: 1 })
  const reset = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT } }).then(() => null, (err: Error & { cause?: { code?: string } }) => err.cause?.code)
  t.equal(reset, 'ECONNRESET')

  const journal = await tlsFetch(`${mock.httpsUrl}/__mock/requests?tenantId=${TENANT_A.tenantId}`)
  t.equal(journal.status, 200)
  const entries = await journal.json() as Array<Record<string, unknown>>
  t.match(entries, [
    { method: 'GET', path: '/rest/v1/audiences/backend', tenantId: TENANT_A.tenantId, status: null, transport: 'reset' },
    { method: 'GET', path: '/rest/v1/audiences/backend', tenantId: TENANT_A.tenantId, status: 503, fault: rule.id, transport: null }
  ])
  t.equal(entries.length, 2)
})

t.test('HTTP and HTTPS share one state: an audience created over TLS is read over plain HTTP', async (t) => {
  const mock = await httpsMock(t)
  const tlsFetch = trusting(t, mock.caCert as string)
  const created = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences`, {
    method: 'POST',
    headers: { authorization: BASIC_A, ...CLIENT },
    body: JSON.stringify({ name: 'Over TLS', reference: 'over-tls', category: 'audience', parentId: IDS.aStructure })
  })
  t.equal(created.status, 201)
  const audience = await created.json() as { id: string }
  const read = await fetch(`${mock.url}/rest/v1/audiences/over-tls`, { headers: { authorization: BASIC_A, ...CLIENT } })
  t.equal(read.status, 200)
  t.same(await read.json(), audience)
})

/** The TLS handshake alone: resolves with whether the server's certificate verified for `servername`, and why not. */
async function handshake (port: number, ca: string, servername: string): Promise<{ authorized: boolean, error: string | null, cert: X509Certificate | null }> {
  return await new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername }, () => {
      const cert = new X509Certificate(socket.getPeerX509Certificate()?.raw as Buffer)
      socket.end()
      resolve({ authorized: socket.authorized, error: null, cert })
    })
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ authorized: false, error: err.code ?? err.message, cert: null }))
  })
}

t.test('the generated certificate covers localhost, 127.0.0.1, ::1 and every --tls-hostnames name, and no other', async (t) => {
  const mock = await httpsMock(t, { hostnames: ['thrive-mock', 'mock.test', '10.1.2.3'] })
  const port = mock.httpsPort as number
  const ca = mock.caCert as string
  for (const name of ['thrive-mock', 'mock.test', 'localhost']) {
    const { authorized, error } = await handshake(port, ca, name)
    t.same({ authorized, error }, { authorized: true, error: null }, `verifies as ${name}`)
  }
  const other = await handshake(port, ca, 'elsewhere.example')
  t.same(other, { authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID', cert: null })

  const { cert } = await handshake(port, ca, 'thrive-mock')
  const server = cert as X509Certificate
  t.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:thrive-mock, DNS:mock.test, IP Address:10.1.2.3')
  t.equal(server.ca, false)
  t.same(server.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth only')
  const days = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / 86_400_000
  t.ok(days < 398, `valid ${days} days, under the 398 that clients accept`)
  t.equal(Math.floor(days), SERVER_VALIDITY_DAYS)
  const caCert = new X509Certificate(ca)
  t.equal(caCert.ca, true)
  t.ok(server.checkIssued(caCert) && server.verify(caCert.publicKey), 'issued and signed by the CA')
})

t.test('a client that does not trust the CA is refused in the handshake, and the mock serves on', async (t) => {
  const mock = await httpsMock(t)
  const other = await loadTlsMaterial({ port: 0, cert: null, key: null, caDir: join(tempDir(), 'other-ca'), hostnames: [] })
  const refused = await handshake(mock.httpsPort as number, other.caCert as string, 'localhost')
  t.same(refused, { authorized: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cert: null })
  const res = await trusting(t, mock.caCert as string)(`${mock.httpsUrl}/__mock/health`)
  t.equal(res.status, 200)
})

t.test('the CA is kept in its directory (key 0600, directory 0700), reused on the next start, and served at /__mock/ca.pem', async (t) => {
  const caDir = join(tempDir(), 'nested', 'ca')
  const first = await httpsMock(t, { caDir })
  const second = await httpsMock(t, { caDir })
  t.equal(second.caCert, first.caCert, 'the same CA: a client trusts it once')
  t.equal(readFileSync(join(caDir, CA_CERT_FILE), 'utf8'), first.caCert)
  t.equal(statSync(join(caDir, CA_KEY_FILE)).mode & 0o777, 0o600)
  t.equal(statSync(caDir).mode & 0o777, 0o700)
  const a = await handshake(first.httpsPort as number, first.caCert as string, 'localhost')
  const b = await handshake(second.httpsPort as number, first.caCert as string, 'localhost')
  t.not(a.cert?.serialNumber, b.cert?.serialNumber, 'each start makes its own server certificate')

  for (const url of [`${first.httpsUrl}/__mock/ca.pem`, `${first.url}/__mock/ca.pem`]) {
    const res = url.startsWith('https:') ? await trusting(t, first.caCert as string)(url) : await fetch(url)
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-type'), 'application/x-pem-file')
    t.equal(await res.text(), first.caCert)
  }
  const doc = await (await fetch(`${first.url}/openapi.json`)).json() as { paths: Record<string, { get: { responses: Record<string, { content: Record<string, unknown> }> } }> }
  t.same(Object.keys(doc.paths['/__mock/ca.pem']?.get.responses['200']?.content ?? {}), ['application/x-pem-file'])
})

t.test('a certificate the user brings is served as it is; the mock then has no CA to serve', async (t) => {
  // A certificate made elsewhere, as mkcert or a company CA would make it: here by another CA directory.
  const dir = tempDir()
  const brought = await loadTlsMaterial({ port: 0, cert: null, key: null, caDir: join(dir, 'their-ca'), hostnames: [] })
  writeFileSync(join(dir, 'cert.pem'), brought.cert)
  writeFileSync(join(dir, 'key.pem'), brought.key)
  const mock = await startMockServer({ fixtures: FIXTURE, https: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } })
  t.teardown(() => mock.close())
  t.equal(mock.caCert, null)
  const tlsFetch = trusting(t, brought.caCert as string)
  const res = await tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT } })
  t.equal(res.status, 200)
  t.match(await res.json(), { id: IDS.aChild })
  const ca = await tlsFetch(`${mock.httpsUrl}/__mock/ca.pem`)
  t.equal(ca.status, 404)
  t.equal(ca.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(await ca.json(), { status: 404, error: 'Not Found', message: NO_CA_MESSAGE })
})

t.test('a client written like the open-source Thrive client, configured only with a host and the CA, reads an audience and gets a token', async (t) => {
  const mock = await httpsMock(t)
  const caFile = join(tempDir(), 'ca.pem')
  writeFileSync(caFile, mock.caCert as string)
  // The client builds every URL as https://{host}/...: the user sets the host only. It trusts the CA the way a Node
  // client in another container would, by NODE_EXTRA_CA_CERTS, and passes no TLS option of its own.
  const client = `
    const host = process.env.THRIVE_HOST
    const headers = { Authorization: 'Basic ' + btoa(process.env.TENANT_ID + ':' + process.env.API_SECRET), 'Content-Type': 'application/json', Accept: 'application/json' }
    const audience = await fetch(\`https://\${host}/rest/v1/audiences/\${encodeURIComponent('backend')}\`, { headers })
    const token = await fetch(\`https://\${host}/oauth2/token/\${process.env.TENANT_ID}\`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' })
    })
    console.log(JSON.stringify({ audience: [audience.status, await audience.json()], token: [token.status, await token.json()] }))
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', client], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: caFile, THRIVE_HOST: `127.0.0.1:${String(mock.httpsPort)}`, TENANT_ID: TENANT_A.tenantId, API_SECRET: TENANT_A.apiSecret },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const [code] = await once(child, 'exit') as [number]
  t.equal(code, 0, out)
  const result = JSON.parse(out) as { audience: [number, unknown], token: [number, Record<string, unknown>] }
  t.equal(result.audience[0], 200)
  t.match(result.audience[1], { id: IDS.aChild, reference: 'backend', name: 'Backend' })
  t.equal(result.token[0], 200)
  t.match(result.token[1], { token_type: 'Bearer', expires_in: 3600, scope: 'api/read api/write api/all api/webhooks', access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
})

/** Raw bytes to a port; resolves with everything the server sent before it closed the connection. */
async function raw (port: number, bytes: string): Promise<string> {
  const socket = netConnect(port, '127.0.0.1')
  socket.end(bytes)
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString() })
  await once(socket, 'close')
  return text
}

t.test('plain HTTP sent to the HTTPS port gets a 400 in the documented error shape and a closed connection, not a hang', async (t) => {
  const mock = await httpsMock(t)
  const answer = await raw(mock.httpsPort as number, 'GET /rest/v1/audiences/backend HTTP/1.1\r\nHost: localhost\r\n\r\n')
  const body = JSON.stringify({ status: 400, error: 'Bad Request', message: PLAIN_HTTP_MESSAGE })
  t.equal(answer, `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  const viaFetch = await fetch(`http://127.0.0.1:${String(mock.httpsPort)}/rest/v1/audiences/backend`)
  t.equal(viaFetch.status, 400)
  t.same(await viaFetch.json(), JSON.parse(body))
})

t.test('a connection closed before its first byte, and garbage inside TLS, are handled like on plain HTTP', async (t) => {
  const mock = await httpsMock(t)
  t.equal(await raw(mock.httpsPort as number, ''), '', 'nothing sent, nothing answered')
  // RFC 9112 §2.2: a request line that is not HTTP gets a 400 from the same client-error handler as plain HTTP.
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: mock.httpsPort as number, ca: mock.caCert as string, servername: 'localhost' }, () => { socket.write('NOT HTTP AT ALL\r\n\r\n') })
    let text = ''
    socket.on('data', (d: Buffer) => { text += d.toString() })
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(answer, /\r\n\r\n\{"status":400,"error":"Bad Request","message":"The request is not valid HTTP"\}$/)
  const res = await trusting(t, mock.caCert as string)(`${mock.httpsUrl}/__mock/health`)
  t.equal(res.status, 200)
})

t.test('closing the mock drains HTTPS too: an in-flight request is answered, then both listeners are closed', async (t) => {
  const mock = await startMockServer({ fixtures: FIXTURE, https: { caDir: join(tempDir(), 'ca') } })
  const tlsFetch = trusting(t, mock.caCert as string)
  const server = mock.app.https?.server as NonNullable<typeof mock.app.https>['server']
  const arrived = once(server, 'request')
  const slow = tlsFetch(`${mock.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, prefer: 'delay=1000' } })
  await arrived
  await mock.close()
  const res = await slow
  t.equal(res.status, 200)
  t.equal(mock.app.https?.server.listening, false)
  t.equal(mock.app.server.listening, false)
})

t.test('a connection that says nothing is dropped after the headers timeout', async (t) => {
  const tls = await loadTlsMaterial({ port: 0, cert: null, key: null, caDir: join(tempDir(), 'ca'), hostnames: [] })
  const app = Fastify()
  await app.register(errors)
  await app.register(httpsPlugin, { tls, limits: { ...LIMITS, headersTimeoutMs: 100 } })
  t.teardown(() => app.close())
  const { port } = await (app.https as NonNullable<typeof app.https>).listen('127.0.0.1', 0)
  const socket = netConnect(port, '127.0.0.1')
  await once(socket, 'close')
  t.pass('the server closed the silent connection')
})

t.test('without HTTPS the mock serves no CA, in the documented error shape', async (t) => {
  const mock = await startMockServer({ fixtures: FIXTURE })
  t.teardown(() => mock.close())
  t.same([mock.httpsUrl, mock.httpsPort, mock.caCert], [null, null, null])
  const res = await fetch(`${mock.url}/__mock/ca.pem`)
  t.equal(res.status, 404)
  t.same(await res.json(), { status: 404, error: 'Not Found', message: NO_CA_MESSAGE })
})

t.test('https: true serves HTTPS on a free port with a CA in a per-process temporary directory', async (t) => {
  const a = await startMockServer({ fixtures: FIXTURE, https: true })
  t.teardown(() => a.close())
  const b = await startMockServer({ fixtures: FIXTURE, https: true })
  t.teardown(() => b.close())
  t.equal(a.caCert, b.caCert, 'one CA for the whole process')
  const res = await trusting(t, a.caCert as string)(`${b.httpsUrl}/__mock/health`)
  t.equal(res.status, 200)
  t.equal(defaultConfig().https.caDir, null)
})

t.test('the HTTPS URL names the address listened on: localhost for every interface, an IPv6 address in brackets', async (t) => {
  const ca = trusting
  for (const [host, expected] of [['0.0.0.0', /^https:\/\/localhost:\d+$/], ['::1', /^https:\/\/\[::1\]:\d+$/]] as const) {
    const mock = await startMockServer({ fixtures: FIXTURE, host, https: { caDir: join(tempDir(), 'ca') } })
    t.teardown(() => mock.close())
    t.match(mock.httpsUrl, expected)
    const res = await ca(t, mock.caCert as string)(`${mock.httpsUrl as string}/__mock/health`)
    t.equal(res.status, 200, `${host}: the certificate covers the URL's host`)
  }
})

t.test('an app built with HTTPS but never listening serves the CA to inject() and closes cleanly', async (t) => {
  const { buildApp } = await import('../src/app.js')
  const app = await buildApp(defaultConfig({ fixtures: [{ name: 'inline', data: FIXTURE }], https: { port: 0, caDir: join(tempDir(), 'ca') } }))
  const res = await app.inject({ url: '/__mock/ca.pem' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/x-pem-file')
  t.equal(res.body, app.https?.tls.caCert)
  await app.close()
  t.equal(app.https?.server.listening, false)
})

t.test('an HTTPS port already in use rejects the start, and nothing is left listening', async (t) => {
  const busy = await startMockServer({ fixtures: FIXTURE })
  t.teardown(() => busy.close())
  await t.rejects(startMockServer({ fixtures: FIXTURE, https: { port: busy.port, caDir: join(tempDir(), 'ca') } }), { code: 'EADDRINUSE' })
})
