// The library API: startMockServer in-process, as a test runner uses it.
import { createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { GENERATED_TENANT, startMockServer, type MockServerOptions } from '../src/index.js'
import { FIXTURE, IDS, TENANT_A, TENANT_B } from './helpers.js'

t.test('two servers run side by side in one process on port 0, each with its own data and faults', async (t) => {
  const one = await startMockServer({ fixtures: FIXTURE })
  const two = await startMockServer({ fixtures: [FIXTURE] })
  t.teardown(() => Promise.all([one.close(), two.close()]))
  t.not(one.port, two.port)
  t.match(one.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  one.armFault({ match: { tenantId: TENANT_A.tenantId }, effect: { status: 503 }, times: 1 })
  const auth = one.basicAuth(TENANT_A.tenantId, TENANT_A.apiSecret)
  const first = await fetch(`${one.url}/rest/v1/audiences/backend`, { headers: { authorization: auth } })
  const other = await fetch(`${two.url}/rest/v1/audiences/backend`, { headers: { authorization: auth } })
  t.equal(first.status, 503)
  t.equal(first.headers.get('retry-after'), '1')
  t.equal(other.status, 200, 'the other server is untouched')
  t.match(await other.json(), { id: IDS.aChild })
  t.equal(one.requests({ tenantId: TENANT_A.tenantId }).length, 1)
  t.equal(two.requests().length, 1)
})

t.test('getToken runs the client-credentials grant; advanceClock expires the token; reset clears a tenant', async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE, token: { ttlSeconds: 60 } })
  t.teardown(server.close)
  const token = await server.getToken({ clientId: 'a-reader', clientSecret: 'a-reader-secret', tenantId: TENANT_A.tenantId, scope: 'api/read' })
  const read = () => fetch(`${server.url}/audiences/backend`, { headers: { authorization: `Bearer ${token}` } })
  t.equal((await read()).status, 200)
  server.advanceClock(120_000)
  t.equal((await read()).status, 401)
  server.armFault({ match: { tenantId: TENANT_B.tenantId }, effect: { status: 500 } })
  // getToken runs the grant in-process, outside the journal; the first read is tenant A's, the 401 had no verified tenant.
  await t.rejects(server.reset('eu-west-2_Nobody00'), { message: 'Unknown tenant "eu-west-2_Nobody00"' }, 'a tenant typo is an error, not a reset of nothing')
  t.same(server.requests({ tenantId: TENANT_A.tenantId }).map((r) => [r.method, r.path, r.status]), [['GET', '/audiences/backend', 200]], 'the failed reset removed nothing')
  t.same(await server.reset(TENANT_A.tenantId), { faultsRemoved: 0, requestsRemoved: 1, clockReset: false })
  t.equal(server.clearFaults(), 1)
  t.same(await server.reset(), { faultsRemoved: 0, requestsRemoved: 1, clockReset: true })
  t.equal((await read()).status, 200, 'the clock is back to real time')
  await t.rejects(server.getToken({ clientId: 'a-reader', clientSecret: 'wrong', tenantId: TENANT_A.tenantId }), { message: 'token request failed: 401 {"error":"invalid_client","error_description":"client authentication failed: unknown client, wrong secret, or the client does not belong to tenant eu-west-2_TestTenA1"}' })
})

t.test('faults given at start are armed; with generate and no fixtures the generated tenant serves data', async (t) => {
  const server = await startMockServer({ fixtures: [], generate: 20, seed: 3, faults: [{ match: { allTenants: true }, effect: { status: 429, retryAfterSeconds: 7 }, times: 1 }] })
  t.teardown(server.close)
  const auth = server.basicAuth(GENERATED_TENANT.tenantId, GENERATED_TENANT.apiSecret)
  const limited = await fetch(`${server.url}/__mock/health`)
  t.match(await limited.json(), { tenants: 1, audiences: 20, generated: 20 })
  const res = await fetch(`${server.url}/audiences/anything`, { headers: { authorization: auth } })
  t.equal(res.status, 429)
  t.equal(res.headers.get('retry-after'), '7')
})

t.test('fixture paths are accepted as strings', async (t) => {
  const server = await startMockServer({ fixtures: new URL('../fixtures/acme.json', import.meta.url).pathname, host: '127.0.0.1', port: 0, journalSize: 5, logLevel: 'silent', adminToken: 'admin-token-1' })
  t.teardown(server.close)
  t.equal((await fetch(`${server.url}/__mock/health`)).status, 200)
  t.equal((await fetch(`${server.url}/__mock/faults`)).status, 401, 'the admin token is enforced')
})

t.test('bad input fails start-up: a bad fixture rejects, a bad fault rule rejects and frees the port', async (t) => {
  await t.rejects(startMockServer({ fixtures: { tenants: [{ tenantId: 'bad' }] } }), { name: 'DataFileError', message: /^inline fixture #1: \$\.tenants\[0\]/ })
  await t.rejects(startMockServer({ fixtures: FIXTURE, faults: [{ match: {}, effect: { status: 500 } }] }), { message: /^match\.tenantId: is required/ })
})

t.test('a logger can be passed through', async (t) => {
  const lines: string[] = []
  const server = await startMockServer({ fixtures: FIXTURE, logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  await fetch(`${server.url}/audiences/backend`, { headers: { authorization: server.basicAuth(TENANT_A.tenantId, TENANT_A.apiSecret) } })
  await server.close()
  t.ok(lines.some((l) => /"msg":"request"/.test(l)))
})

t.test('with no options it serves the bundled fixtures on a free loopback port', async (t) => {
  const server = await startMockServer()
  t.teardown(server.close)
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await fetch(`${server.url}/rest/v1/audiences/engineering`, { headers: { authorization: server.basicAuth('eu-west-2_AcmeCorp1', 'acme-api-secret-0001') } })
  t.match(await res.json(), { id: '63f8c5361b9c80d3274be7ca', name: 'Engineering' })
})

t.test('transport faults met without a real connection fail the call with a reason; the process and the server carry on', async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  let closed = false
  t.teardown(async () => { if (!closed) await server.close() })
  const headers = { authorization: server.basicAuth(TENANT_A.tenantId, TENANT_A.apiSecret) }
  for (const transport of ['reset', 'hang', 'empty'] as const) {
    const rule = server.armFault({ match: { tenantId: TENANT_A.tenantId }, effect: { transport }, times: 1 })
    await t.rejects(server.app.inject({ url: '/rest/v1/audiences/backend', headers }), {
      name: 'NoConnectionError',
      message: `fault ${rule.id} (transport "${transport}") needs a real connection, and this request has none (app.inject()): send the request over HTTP to the server's URL to test transport faults`
    }, `inject meets "${transport}"`)
    t.same(server.requests({ tenantId: TENANT_A.tenantId, limit: 1 }).map((r) => [r.status, r.fault, r.transport]), [[null, rule.id, transport]], `"${transport}" is journaled`)
  }
  t.equal((await server.app.inject({ url: '/rest/v1/audiences/backend', headers })).statusCode, 200, 'the next injected request is served')
  t.equal((await fetch(`${server.url}/rest/v1/audiences/backend`, { headers })).status, 200, 'and so is one over HTTP')
  t.same(await server.reset(), { faultsRemoved: 0, requestsRemoved: 5, clockReset: true }, 'reset settles')
  await server.close()
  closed = true
  t.pass('close settles')
})

t.test('getToken runs the grant in-process, outside fault rules and the journal, unless asked to go over HTTP', async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  const client = { clientId: 'a-reader', clientSecret: 'a-reader-secret', tenantId: TENANT_A.tenantId }
  const hang = server.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken' }, effect: { transport: 'hang', hangMs: 50 }, times: 1 })
  const token = await server.getToken(client)
  const read = await fetch(`${server.url}/rest/v1/audiences/backend`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(read.status, 200, 'the in-process token works')
  t.match(server.app.faults.get(hang.id), { fired: 0, remaining: 1 }, 'the rule armed for the client was not used up')
  t.same(server.requests({ tenantId: TENANT_A.tenantId }).map((r) => r.path), ['/rest/v1/audiences/backend'], 'only the read is journaled')
  await t.rejects(server.getToken({ ...client, scope: 'api/write' }), { message: 'token request failed: 400 {"error":"invalid_scope","error_description":"scope not allowed for this client: api/write (allowed: api/read)"}' })

  await t.rejects(server.getToken({ ...client, overHttp: true }), { message: 'fetch failed' }, 'over HTTP, the hang rule closes the connection')
  server.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken' }, effect: { transport: 'reset' }, times: 1 })
  await t.rejects(server.getToken({ ...client, overHttp: true }), { message: 'fetch failed' }, 'and a reset rule resets it')
  server.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken' }, effect: { status: 503 }, times: 1 })
  await t.rejects(server.getToken({ ...client, overHttp: true }), { message: /^token request failed: 503 \{"error":"temporarily_unavailable"/ })
  const viaHttp = await server.getToken({ ...client, scope: 'api/read', overHttp: true })
  t.equal((await fetch(`${server.url}/rest/v1/audiences/backend`, { headers: { authorization: `Bearer ${viaHttp}` } })).status, 200)
  t.same(server.requests({ tenantId: TENANT_A.tenantId }).slice(0, 4).map((r) => [r.path, r.status, r.transport]), [
    ['/rest/v1/audiences/backend', 200, null],
    [`/oauth2/token/${TENANT_A.tenantId}`, 200, null],
    [`/oauth2/token/${TENANT_A.tenantId}`, 503, null],
    [`/oauth2/token/${TENANT_A.tenantId}`, null, 'reset']
  ], 'over HTTP, the token requests are journaled')
})

t.test('armFault and startMockServer({faults}) validate rules as POST /__mock/faults does', async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  const tenantId = TENANT_A.tenantId
  const bad: Array<[unknown, string]> = [
    [{ match: { tenantId }, effect: { status: 418 } }, 'effect.status'],
    [{ match: { tenantId }, effect: { status: 200 } }, 'effect.status'],
    [{ match: { tenantId }, effect: { status: 500 }, times: 0 }, 'times'],
    [{ match: { tenantId }, effect: { status: 500 }, times: -1 }, 'times'],
    [{ match: { tenantId }, effect: { status: 500 }, probability: 7 }, 'probability'],
    [{ match: { tenantId }, effect: { status: 500 }, extra: true }, 'extra'],
    [{ match: { tenantId }, effect: { transport: 'explode' } }, 'effect.transport']
  ]
  for (const [rule, field] of bad) {
    t.throws(() => server.armFault(rule as never), { name: 'FaultRuleError', field }, `armFault: ${JSON.stringify(rule)}`)
    await t.rejects(startMockServer({ fixtures: FIXTURE, faults: [rule as never] }), { name: 'FaultRuleError', field }, `startMockServer: ${JSON.stringify(rule)}`)
  }
  t.same(server.app.faults.list(), [])
  t.equal((await fetch(`${server.url}/rest/v1/audiences/backend`, { headers: { authorization: server.basicAuth(tenantId, TENANT_A.apiSecret) } })).status, 200)
})

async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function canListen (port: number): Promise<boolean> {
  const probe = createServer()
  return await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

/** Start-up must fail on the configuration alone: nothing listens on the port it was given. */
async function rejectsBeforeListening (t: Test, options: MockServerOptions, message: string): Promise<void> {
  const port = options.port ?? await freePort()
  const attempt = startMockServer({ port, ...options })
  // Should it start after all, close it, so that a failing run still ends.
  t.teardown(() => attempt.then(async (server) => { await server.close() }, () => {}))
  await t.rejects(attempt, { name: 'ConfigError', message }, message)
  if (options.port === undefined) t.ok(await canListen(port), `nothing listens on the port it was given (${message})`)
}

t.test('a setting out of its range rejects with a ConfigError naming the option as written, its range and the value, before listening', async (t) => {
  await rejectsBeforeListening(t, { fixtures: FIXTURE, token: { ttlSeconds: -10 } }, 'token.ttlSeconds must be a whole number from 1 to 31536000, got -10')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, journalSize: -1 }, 'journalSize must be a whole number from 0 to 1000000, got -1')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, journalSize: 2.5 }, 'journalSize must be a whole number from 0 to 1000000, got 2.5')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, port: 70_000 }, 'port must be a whole number from 0 to 65535, got 70000')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, logLevel: 'loud' as never }, 'logLevel must be one of fatal, error, warn, info, debug, trace, silent, got "loud"')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, adminToken: 'short' }, 'adminToken must be a string of at least 8 characters, got 5 characters')
})

t.test('an unknown option rejects with a ConfigError naming it, so that a typo is never ignored', async (t) => {
  const top = 'adminToken, faults, fixtures, generate, host, https, journalSize, logLevel, logger, port, seed, strict, token'
  await rejectsBeforeListening(t, { fixtures: FIXTURE, journalsize: 5 } as never, `unknown option "journalsize"; the options are ${top}`)
  await rejectsBeforeListening(t, { fixtures: FIXTURE, admin: { token: 'admin-token-1' } } as never, `unknown option "admin"; the options are ${top}`)
  await rejectsBeforeListening(t, { fixtures: FIXTURE, token: { ttl: 60 } } as never, 'unknown option "token.ttl"; the options are token.ttlSeconds, token.clockToleranceSeconds, token.signingKey, token.issuer')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, token: 60 } as never, 'token must be an object, got 60')
})

t.test('the https option must be true, false or an object of HTTPS settings', async (t) => {
  await rejectsBeforeListening(t, { fixtures: FIXTURE, https: 'yes' } as never, 'https must be an object, got "yes"')
  await rejectsBeforeListening(t, { fixtures: FIXTURE, https: { port: 70000 } }, 'https.port must be a whole number from 0 to 65535, got 70000')
  const off = await startMockServer({ fixtures: FIXTURE, https: false })
  t.teardown(() => off.close())
  t.same([off.httpsUrl, off.httpsPort, off.caCert], [null, null, null])
})
