// Every failure, Fastify's own included, is Thrive's {status, error, message}: thrive-api.md B.4.
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { BASIC_A, build, json } from '../helpers.js'

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
  const res = await app.inject({ method: 'DELETE', url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  assertShape(t, res, 404, 'Not Found', /^Route DELETE/)
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
  const app = await build(t)
  app.get('/boom', async () => { throw new Error('internal detail: secret=hunter2') })
  const res = await app.inject({ url: '/boom' })
  assertShape(t, res, 500, 'Internal Server Error', /^The mock server hit an unexpected error/)
  t.notMatch(res.body, 'hunter2')
})

t.test('an error with a non-error status code is reported as a 500', async (t) => {
  const app = await build(t)
  app.get('/odd', async () => { throw Object.assign(new Error('odd'), { statusCode: 302 }) })
  const res = await app.inject({ url: '/odd' })
  assertShape(t, res, 500, 'Internal Server Error', /unexpected error/)
})

t.test('Fastify validation errors are 400s in the documented shape', async (t) => {
  const app = await build(t)
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
