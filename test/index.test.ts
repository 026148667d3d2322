// The library API: startMockServer in-process, as a test runner uses it.
import t from 'tap'
import { GENERATED_TENANT, startMockServer } from '../src/index.js'
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
  // The token request and the first read are tenant A's; the 401 had no verified tenant.
  t.throws(() => server.reset('eu-west-2_Nobody00'), { message: 'Unknown tenant "eu-west-2_Nobody00"' }, 'a tenant typo is an error, not a reset of nothing')
  t.equal(server.requests({ tenantId: TENANT_A.tenantId }).length, 2, 'the failed reset removed nothing')
  t.same(server.reset(TENANT_A.tenantId), { faultsRemoved: 0, requestsRemoved: 2, clockReset: false })
  t.equal(server.clearFaults(), 1)
  t.same(server.reset(), { faultsRemoved: 0, requestsRemoved: 1, clockReset: true })
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
  await t.rejects(startMockServer({ fixtures: FIXTURE, port: 70_000 }), { code: 'ERR_SOCKET_BAD_PORT' })
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
