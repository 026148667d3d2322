// Every failure, Fastify's own included, is Thrive's {status, error, message}: thrive-api.md B.4.
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { BASIC_A, build, CLIENT_HEADERS, json, TENANT_A } from '../helpers.js'

function assertShape (t: Test, res: { statusCode: number, headers: Record<string, unknown>, json: () => unknown }, status: number, error: string, message: RegExp) {
  t.equal(res.statusCode, status)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { status, error, message: (res.json() as { message: string }).message })
  t.match((res.json() as { message: string }).message, message)
}

t.test('an unknown route is a 404 naming the method and path, without the query', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/rest/v1/nothing-here?secret=x', headers: { authorization: BASIC_A } })
  assertShape(t, res, 404, 'Not Found', /^Route GET \/rest\/v1\/nothing-here not found$/)
})

t.test('a method the route does not serve is a 404 in the documented shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'PUT', url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  assertShape(t, res, 404, 'Not Found', /^Route PUT/)
})

t.test('bad percent-encoding in the path is a 400 in the documented shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/rest/v1/audiences/%E0%A4%A', headers: { authorization: BASIC_A } })
  assertShape(t, res, 400, 'Bad Request', /percent-encoding/)
})

t.test('an over-long path parameter is a 414 in the documented shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: `/rest/v1/audiences/${'a'.repeat(2000)}`, headers: { authorization: BASIC_A } })
  assertShape(t, res, 414, 'URI Too Long', /longer than this server accepts/)
})

t.test('an unexpected exception is a 500 whose message leaks nothing', async (t) => {
  // Lazy, so the app is not ready yet and takes a route of the test's own.
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  app.get('/boom', async () => { throw new Error('internal detail: secret=hunter2') })
  const res = await app.inject({ url: '/boom' })
  assertShape(t, res, 500, 'Internal Server Error', /^The mock server hit an unexpected error/)
  t.notMatch(res.body, 'hunter2')
})

t.test('an error with a non-error status code is reported as a 500', async (t) => {
  // Lazy, so the app is not ready yet and takes a route of the test's own.
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  app.get('/odd', async () => { throw Object.assign(new Error('odd'), { statusCode: 302 }) })
  const res = await app.inject({ url: '/odd' })
  assertShape(t, res, 500, 'Internal Server Error', /unexpected error/)
})

t.test('Fastify validation errors are 400s in the documented shape', async (t) => {
  // Lazy, so the app is not ready yet and takes a route of the test's own.
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  app.get('/validated', { schema: { querystring: { type: 'object', properties: { n: { type: 'integer' } } } } }, async () => ({}))
  const res = await app.inject({ url: '/validated?n=abc' })
  assertShape(t, res, 400, 'Bad Request', /querystring\/n must be integer/)
})

async function rawRequest (port: number, request: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
}

t.test('over a real socket: oversized headers are a 431 and garbage is a 400, both in the documented shape', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  const big = await rawRequest(port, `GET /audiences/backend HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.match(big, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  t.match(big, /content-type: application\/json/i)
  const bigBody = JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
  t.same(bigBody, { status: 431, error: 'Request Header Fields Too Large', message: 'The request headers (or URL) are larger than this server accepts' })

  const junk = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n')
  t.match(junk, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.same(JSON.parse(junk.slice(junk.indexOf('\r\n\r\n') + 4)), { status: 400, error: 'Bad Request', message: 'The request is not valid HTTP' })
})

t.test('a client that resets mid-request is dropped quietly', async (t) => {
  const { clientErrorHandler } = await import('../../src/plugins/errors.js')
  let destroyed = false
  const socket = { writable: true, destroy: () => { destroyed = true }, end: () => { t.fail('must not write') } }
  clientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), socket as never)
  t.equal(destroyed, true)
})

t.test('a request timeout from the HTTP parser is a 408', async (t) => {
  const { clientErrorHandler } = await import('../../src/plugins/errors.js')
  let written = ''
  const socket = { writable: true, destroy: () => {}, end: (s: string) => { written = s } }
  clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket as never)
  t.match(written, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  t.match(written, /"status":408/)
})

t.test('the 404 body for an unknown route uses Thrive\'s reason phrase', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/' })
  t.equal(json(res).error, 'Not Found')
})

t.test('reason phrases follow Thrive\'s docs where they differ from Node, and Node elsewhere', async (t) => {
  const { reasonPhrase } = await import('../../src/errors.js')
  t.equal(reasonPhrase(422), 'Unprocessable Content')
  t.equal(reasonPhrase(503), 'Service Unavailable')
  t.equal(reasonPhrase(599), 'Error')
})

// SECURITY.md "Limits": a request body over 64 KiB is a 413, whatever the method and whatever its Content-Type.
const OVER = 'x'.repeat(70 * 1024)
const TOO_LARGE = { status: 413, error: 'Payload Too Large', message: 'The request body is larger than this server accepts' }

t.test('a GET with a 70 KB body is a 413 in Thrive\'s shape, on the API and on the control plane, before authentication', async (t) => {
  const app = await build(t)
  for (const [url, headers] of [
    ['/rest/v1/audiences/backend', { authorization: BASIC_A, ...CLIENT_HEADERS }],
    ['/rest/v1/audiences/backend', { authorization: BASIC_A, 'content-type': 'text/plain' }],
    ['/audiences/backend', {}],
    ['/__mock/requests', { 'content-type': 'application/json' }],
    ['/no-such-route', {}]
  ] as const) {
    const res = await app.inject({ method: 'GET', url, headers, payload: OVER })
    t.equal(res.statusCode, 413, url)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), TOO_LARGE, url)
  }
  const head = await app.inject({ method: 'HEAD', url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A }, payload: OVER })
  t.equal(head.statusCode, 413, 'HEAD too')
})

t.test('a body over the limit is a 413 even where its Content-Type would be refused (415) or is missing', async (t) => {
  const app = await build(t)
  const control = await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'text/csv' }, payload: OVER })
  t.equal(control.statusCode, 413)
  t.same(control.json(), TOO_LARGE)
  // RFC 6749 §5.2: the token route answers in its own shape, with the status that says what is wrong.
  const token = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'text/plain' }, payload: OVER })
  t.equal(token.statusCode, 413)
  t.equal(token.headers['cache-control'], 'no-store')
  t.same(token.json(), { error: 'invalid_request', error_description: 'Request body is too large' })
  const bare = await app.inject({ method: 'POST', url: '/__mock/reset', payload: Buffer.from(OVER) })
  t.equal(bare.statusCode, 413, 'no Content-Type at all')
})

t.test('a GET of exactly 64 KiB, with no body, or with Content-Type: application/json and an empty body is served (B.4, C decided 1)', async (t) => {
  const app = await build(t)
  const expected = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(expected.statusCode, 200)
  t.equal(json(expected).reference, 'backend')
  for (const [name, extra] of [
    ['no body', {}],
    ['an empty JSON body', { headers: CLIENT_HEADERS, payload: '' }],
    ['Content-Length: 0', { headers: { ...CLIENT_HEADERS, 'content-length': '0' } }],
    ['a body of exactly the limit', { headers: CLIENT_HEADERS, payload: 'x'.repeat(64 * 1024) }]
  ] as const) {
    const res = await app.inject({ url: '/rest/v1/audiences/backend', ...extra, headers: { authorization: BASIC_A, ...('headers' in extra ? extra.headers : {}) } })
    t.equal(res.statusCode, 200, name)
    t.equal(res.body, expected.body, name)
  }
})

function chunked (size: number): Readable {
  return Readable.from((function * () { for (let sent = 0; sent < size; sent += 4096) yield Buffer.alloc(Math.min(4096, size - sent), 'x') })())
}

t.test('a chunked GET body, whose size no header gives, is counted: over the limit it is a 413, under it the GET is served', async (t) => {
  const app = await build(t)
  const headers = { authorization: BASIC_A, 'transfer-encoding': 'chunked' }
  const big = await app.inject({ url: '/rest/v1/audiences/backend', headers, payload: chunked(70 * 1024) })
  t.equal(big.statusCode, 413)
  t.same(big.json(), TOO_LARGE)
  const small = await app.inject({ url: '/rest/v1/audiences/backend', headers, payload: chunked(10 * 1024) })
  t.equal(small.statusCode, 200)
  t.equal(json(small).reference, 'backend')
})

t.test('over a real socket, a chunked GET body over the limit is a 413 in Thrive\'s shape', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const chunks = Array.from({ length: 20 }, () => `1000\r\n${'x'.repeat(4096)}\r\n`).join('')
  const res = await rawRequest(port, `GET /rest/v1/audiences/backend HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${BASIC_A}\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`)
  t.match(res, /^HTTP\/1\.1 413 Payload Too Large\r\n/)
  t.same(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)), TOO_LARGE)
})

// Fastify refuses these keys (secure-json-parse); the message must say so rather than call the JSON invalid.
t.test('a JSON body with a "__proto__" or "constructor.prototype" key is a 400 that names the refused key', async (t) => {
  const app = await build(t)
  for (const [payload, key] of <Array<[string, string]>>[
    ['{"tenantId": "x", "__proto__": {"admin": true}}', '__proto__'],
    ['{"a": [1, {"b": {"__proto__": null}}]}', '__proto__'],
    ['{"constructor": {"prototype": {"admin": true}}}', 'constructor.prototype']
  ]) {
    const res = await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 400, payload)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), { status: 400, error: 'Bad Request', message: `The request body contains a "${key}" key, which this server refuses: it could poison object prototypes` }, payload)
  }
  // RFC 6749 §5.2: invalid_request on the token route.
  const token = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/json' }, payload: '{"grant_type": "client_credentials", "__proto__": {"scope": "api/all"}}' })
  t.equal(token.statusCode, 400)
  t.equal(token.headers['cache-control'], 'no-store')
  t.same(token.json(), { error: 'invalid_request', error_description: 'The request body contains a "__proto__" key, which this server refuses: it could poison object prototypes' })
})

t.test('a body that is not JSON at all is still called invalid JSON, and a valid one still parses', async (t) => {
  const app = await build(t)
  const bad = await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": ' })
  t.equal(bad.statusCode, 400)
  t.same(bad.json(), { status: 400, error: 'Bad Request', message: 'The request body is not valid JSON' })
  const ok = await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: '{"tenantId": "eu-west-2_TestTenA1"}' })
  t.equal(ok.statusCode, 200, 'a valid JSON body still parses')
})
