// The msw handlers (src/msw.ts, docs/msw.md) from source: a client's own fetch or node:https call to a Thrive host is
// answered by the whole mock, exactly as over a socket, transport faults included. test/msw-package.test.ts runs the
// same from a project that installs the packed package.
import { once } from 'node:events'
import { createServer } from 'node:http'
// The module object, not a named import: msw patches https.request on it, and a named binding keeps the original.
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { setupServer } from 'msw/node'
import t from 'tap'
import { startMockServer } from '../src/index.js'
import { createThriveHandlers, THRIVE_HOSTS } from '../src/msw.js'
import { BASIC_A, CLIENT_HEADERS, FIXTURE, BACKEND_SERVED, IDS, TENANT_A } from './helpers.js'
import { uncheckedResponses } from './response-check.js'

const THRIVE = 'https://public.api.learn.link'
const READ = `${THRIVE}/rest/v1/audiences/backend`
const A = { authorization: BASIC_A, ...CLIENT_HEADERS }
/** What a socket adds and an in-process answer has no use for: the connection's own headers and the time. */
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])

type Teardown = { teardown: (fn: () => unknown) => void }

/** The handlers for FIXTURE, listening (msw's setupServer) until the test ends. */
async function intercept (t: Teardown, options: Parameters<typeof createThriveHandlers>[0] = {}, onUnhandledRequest: Parameters<ReturnType<typeof setupServer>['listen']>[0] = { onUnhandledRequest: 'bypass' }) {
  const thrive = await createThriveHandlers({ fixtures: FIXTURE, ...options })
  const server = setupServer(...thrive.handlers)
  server.listen(onUnhandledRequest)
  t.teardown(async () => {
    server.close()
    await thrive.close()
  })
  return thrive
}

/** A timestamp the mock wrote during the run (fixtures date from 2024), which no two runs share. */
const WRITTEN_NOW = new RegExp(`"${new Date().getUTCFullYear()}-\\d\\d-\\d\\dT[\\d:.]+Z"`, 'g')

async function answered (res: Response) {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !CONNECTION_HEADERS.has(name)))
  return { status: res.status, headers, body: (await res.text()).replace(WRITTEN_NOW, '"(now)"') }
}

t.test('a fetch to the production host with Basic gets the fixture\'s audience, as the same request over a socket does', async (t) => {
  const socket = await startMockServer({ fixtures: FIXTURE })
  t.teardown(socket.close)
  const thrive = await intercept(t)
  const inProcess = await answered(await fetch(READ, { headers: A }))
  t.same(inProcess, await answered(await fetch(`${socket.url}/rest/v1/audiences/backend`, { headers: A })), 'status, headers and body as over the socket')
  t.equal(inProcess.status, 200)
  t.same(JSON.parse(inProcess.body), BACKEND_SERVED, 'the fixture\'s audience (thrive-api.md, GET /audiences/{audienceId})')
  t.same(thrive.requests().map((r) => [r.method, r.path, r.tenantId, r.status]), [['GET', '/rest/v1/audiences/backend', TENANT_A.tenantId, 200]], 'journaled')
})

t.test('both modes answer the same request list alike: status, headers that matter, body, journal and coverage', async (t) => {
  const socket = await startMockServer({ fixtures: FIXTURE })
  t.teardown(socket.close)
  const thrive = await intercept(t)
  const token = async (base: string) => {
    const res = await fetch(`${base}/oauth2/token/${TENANT_A.tenantId}`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'a-all', client_secret: 'a-all-secret' }) })
    return (await res.json() as { access_token: string }).access_token
  }
  const list: Array<(base: string, bearer: string) => [string, RequestInit]> = [
    (b) => [`${b}/rest/v1/audiences/backend`, { headers: A }],
    (b) => [`${b}/audiences/backend?pageSize=5`, { headers: A }],
    (b) => [`${b}/rest/v1/audiences?perPage=2`, { headers: A }],
    (b) => [`${b}/rest/v1/audiences/nope`, { headers: A }],
    (b) => [`${b}/rest/v1/audiences/backend`, { headers: { ...CLIENT_HEADERS, authorization: 'Basic bm90OnJpZ2h0' } }],
    (b) => [`${b}/rest/v1/audiences/backend`, { headers: CLIENT_HEADERS }],
    (b, bearer) => [`${b}/rest/v1/audiences/with%20space`, { headers: { ...CLIENT_HEADERS, authorization: `Bearer ${bearer}` } }],
    (b) => [`${b}/rest/v1/audiences/backend`, { method: 'PATCH', headers: A, body: JSON.stringify({ name: 'Back end' }) }],
    (b) => [`${b}/rest/v1/audiences/backend`, { method: 'PATCH', headers: A, body: '{not json' }],
    (b) => [`${b}/rest/v1/audiences/backend`, { headers: { ...A, prefer: 'status=429' } }],
    (b) => [`${b}/rest/v1/audiences/backend/members`, { headers: A }],
    (b) => [`${b}/oauth2/token/${TENANT_A.tenantId}`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'wrong' }) }],
    (b) => [`${b}/.well-known/jwks.json`, {}],
    (b) => [`${b}/__mock/faults`, {}]
  ]
  const bearers = { socket: await token(socket.url), thrive: await token(THRIVE) }
  for (const [i, make] of list.entries()) {
    const [socketUrl, init] = make(socket.url, bearers.socket)
    const [thriveUrl, thriveInit] = make(THRIVE, bearers.thrive)
    const over = await answered(await fetch(socketUrl, init))
    t.same(await answered(await fetch(thriveUrl, thriveInit)), over, `request ${i + 1}: ${init.method ?? 'GET'} ${socketUrl.slice(socket.url.length)} (${over.status})`)
  }
  const journal = (entries: ReturnType<typeof thrive.requests>) => entries.map(({ time, durationMs, ...rest }) => rest)
  t.same(journal(thrive.requests()), journal(socket.requests()), 'the same journal')
  t.ok(thrive.requests().length >= 12, 'which holds the API and token requests')
  t.same(thrive.coverage(), socket.coverage(), 'the same coverage')
})

t.test('every documented Thrive host answers on https and http, and the hosts option adds one; no other host is matched', async (t) => {
  const unhandled: string[] = []
  const local = createServer((req, res) => { res.end(`passed through ${req.url as string}`) })
  local.listen(0, '127.0.0.1')
  await once(local, 'listening')
  t.teardown(() => { local.close() })
  const thrive = await intercept(t, { hosts: ['Thrive.Internal.Test', 'localhost:3000'] }, { onUnhandledRequest: (request) => { unhandled.push(request.url) } })
  t.same(thrive.hosts, [...THRIVE_HOSTS, 'thrive.internal.test', 'localhost:3000'])
  t.equal(THRIVE_HOSTS.length, 8, 'the four public.api.* and four user.api.* hosts of thrive-api.md, "Hosts"')
  for (const host of thrive.hosts) {
    for (const scheme of ['https', 'http']) {
      const res = await fetch(`${scheme}://${host}/rest/v1/audiences/shared`, { headers: A })
      t.equal(res.status, 200, `${scheme}://${host}`)
    }
  }
  t.equal(thrive.requests().length, 20, 'each journaled')
  const port = (local.address() as AddressInfo).port
  const res = await fetch(`http://127.0.0.1:${port}/rest/v1/audiences/shared`)
  t.equal(await res.text(), 'passed through /rest/v1/audiences/shared', 'another host reaches the network')
  t.same(unhandled, [`http://127.0.0.1:${port}/rest/v1/audiences/shared`], 'through onUnhandledRequest')
  t.equal(thrive.requests().length, 20, 'and not the mock')
})

t.test('the app sees the Host the client addressed, as over a socket', async (t) => {
  const thrive = await intercept(t)
  const seen: string[] = []
  thrive.app.addHook('onRequest', async (request) => { seen.push(request.host) })
  await fetch('https://public.api.mea.learn.tech/rest/v1/audiences/backend', { headers: A })
  await fetch('http://user.api.learn.link/.well-known/jwks.json')
  t.same(seen, ['public.api.mea.learn.tech', 'user.api.learn.link'])
})

t.test('node:https requests are answered too, with the request body', async (t) => {
  const thrive = await intercept(t)
  const call = async (method: string, path: string, body?: string) => await new Promise<{ status: number, headers: Record<string, unknown>, body: string }>((resolve, reject) => {
    const req = https.request(`https://public.api.learnstaging.link${path}`, { method, headers: A }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
  const created = await call('POST', '/rest/v1/audiences', JSON.stringify({ name: 'Platform', reference: 'platform', category: 'audience', parentId: IDS.aStructure }))
  t.equal(created.status, 201)
  const audience = JSON.parse(created.body) as { id: string }
  t.equal(created.headers.location, `/rest/v1/audiences/${audience.id}`, 'Location, as over a socket')
  t.match(audience, { name: 'Platform', reference: 'platform', category: 'audience', parent: { id: IDS.aStructure } })
  const deleted = await call('DELETE', `/rest/v1/audiences/${audience.id}`)
  t.same([deleted.status, JSON.parse(deleted.body)], [200, { success: true }])
  const head = await call('HEAD', '/rest/v1/audiences/shared')
  t.same([head.status, head.headers['content-type'], head.body], [200, 'application/json; charset=utf-8', ''], 'a HEAD has headers and no body')
  t.same(thrive.requests().map((r) => [r.method, r.status]), [['HEAD', 200], ['DELETE', 200], ['POST', 201]])
  t.same((await thrive.exportTenant(TENANT_A.tenantId)).tenants[0]?.structures.flatMap((s) => s.audiences ?? []).some((a) => a.reference === 'platform'), false, 'exportTenant sees the same state')
})

t.test('faults: an armed 503, then recovery; delays and malformed bodies as over a socket', async (t) => {
  const socket = await startMockServer({ fixtures: FIXTURE })
  t.teardown(socket.close)
  uncheckedResponses(t, 'a malformed fault answers half of the JSON on purpose')
  const thrive = await intercept(t, { faults: [{ match: { tenantId: TENANT_A.tenantId }, effect: { status: 503, retryAfterSeconds: 7 }, times: 1 }] })
  const armed = thrive.app.faults.list()[0]?.id
  t.match(armed, /^fault-/, 'the faults option arms the rule')
  const unavailable = await fetch(READ, { headers: A })
  t.equal(unavailable.status, 503)
  t.equal(unavailable.headers.get('retry-after'), '7')
  t.equal(unavailable.headers.get('x-mock-fault'), armed)
  t.same(await unavailable.json(), { status: 503, error: 'Service Unavailable', message: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header' })
  t.equal((await fetch(READ, { headers: A })).status, 200, 'the rule was used up: the next call is served')

  for (const mock of [socket, thrive]) mock.armFault({ match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'malformed' }, times: 1 })
  const malformed = await answered(await fetch(READ, { headers: A }))
  const overSocket = await answered(await fetch(`${socket.url}/rest/v1/audiences/backend`, { headers: A }))
  t.same({ ...malformed, headers: { ...malformed.headers, 'x-mock-fault': '' } }, { ...overSocket, headers: { ...overSocket.headers, 'x-mock-fault': '' } }, 'malformed: the same truncated body')
  t.throws(() => JSON.parse(malformed.body), SyntaxError, 'which does not parse')
  t.equal(malformed.status, 200)
})

t.test('transport faults reject the client\'s call as a network error does; hang waits for the abort signal or hangMs', async (t) => {
  const thrive = await intercept(t)
  const arm = (effect: { transport: 'reset' | 'empty' | 'hang', hangMs?: number }) => thrive.armFault({ match: { tenantId: TENANT_A.tenantId }, effect, times: 1 })
  for (const transport of ['reset', 'empty'] as const) {
    const rule = arm({ transport })
    await t.rejects(fetch(READ, { headers: A }), { name: 'TypeError', message: 'Failed to fetch' }, `${transport}: fetch rejects`)
    t.same(thrive.requests({ limit: 1 }).map((r) => [r.status, r.fault, r.transport]), [[null, rule.id, transport]], `${transport}: journaled`)
  }
  arm({ transport: 'reset' })
  await t.rejects(new Promise((resolve, reject) => { https.request(READ, { headers: A }, resolve).on('error', reject).end() }), { name: 'TypeError', message: 'Network error' }, 'reset: node:https emits an error')

  arm({ transport: 'hang' })
  const controller = new AbortController()
  const hung = fetch(READ, { headers: A, signal: controller.signal })
  // The request is journaled when the hang starts: then the client gives up.
  while (thrive.requests({ limit: 1 })[0]?.transport !== 'hang') await new Promise((resolve) => setImmediate(resolve))
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const whileHung = timers()
  controller.abort()
  await t.rejects(hung, { name: 'AbortError' }, 'hang: only the abort signal ends the call')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(timers(), whileHung - 1, 'and the abort clears the hang\'s timer: nothing waits out the 300 s')

  arm({ transport: 'hang', hangMs: 20 })
  await t.rejects(fetch(READ, { headers: A }), { name: 'TypeError', message: 'Failed to fetch' }, 'hang: hangMs passes, the connection closes')
  t.equal((await fetch(READ, { headers: A })).status, 200, 'and the next call is served')
})

t.test('close ends a hung request at once, so no timer outlives the mock', async (t) => {
  const thrive = await createThriveHandlers({ fixtures: FIXTURE, faults: [{ match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'hang' } }] })
  const server = setupServer(...thrive.handlers)
  server.listen({ onUnhandledRequest: 'bypass' })
  t.teardown(() => { server.close() })
  const hung = fetch(READ, { headers: A })
  while (thrive.requests({ limit: 1 })[0]?.transport !== 'hang') await new Promise((resolve) => setImmediate(resolve))
  await thrive.close()
  await t.rejects(hung, { name: 'TypeError', message: 'Failed to fetch' }, 'the hung call rejects when the mock closes, not 300 s later')
})

t.test('getToken: in-process by default; overHttp goes through the handlers, faults and journal included', async (t) => {
  const thrive = await intercept(t)
  const client = { clientId: 'a-reader', clientSecret: 'a-reader-secret', tenantId: TENANT_A.tenantId }
  const read = async (token: string) => (await fetch(READ, { headers: { ...CLIENT_HEADERS, authorization: `Bearer ${token}` } })).status
  t.equal(await read(await thrive.getToken(client)), 200, 'an in-process token works')
  t.equal(thrive.requests().length, 1, 'and only the read is journaled')
  t.equal(await read(await thrive.getToken({ ...client, overHttp: true })), 200, 'so does one over the handlers')
  t.same(thrive.requests({ limit: 2 }).map((r) => [r.method, r.path, r.clientId, r.status]).slice(1), [['POST', `/oauth2/token/${TENANT_A.tenantId}`, 'a-reader', 200]], 'which is journaled')
  thrive.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken' }, effect: { transport: 'reset' }, times: 1 })
  await t.rejects(thrive.getToken({ ...client, overHttp: true }), { name: 'TypeError', message: 'fetch failed' }, 'a reset rejects it as over a socket')
  thrive.armFault({ match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken' }, effect: { status: 503 }, times: 1 })
  await t.rejects(thrive.getToken({ ...client, overHttp: true }), { message: /^token request failed: 503 \{"error":"temporarily_unavailable"/ })
  await t.rejects(thrive.getToken({ ...client, clientSecret: 'wrong' }), { message: /^token request failed: 401 \{"error":"invalid_client"/ })
})

t.test('the control methods work on the same state: strict, clock, coverage, clearFaults and reset', async (t) => {
  const thrive = await intercept(t)
  thrive.setStrict(TENANT_A.tenantId, true)
  const strict = await fetch(`${THRIVE}/rest/v1/audiences?pageSize=5`, { headers: A })
  t.equal(strict.status, 400, 'strict mode refuses an undocumented query parameter')
  thrive.setStrict(TENANT_A.tenantId, false)
  t.equal((await fetch(`${THRIVE}/rest/v1/audiences?pageSize=5`, { headers: A })).status, 200)
  t.match(thrive.coverage(TENANT_A.tenantId).operations.find((o) => o.operationId === 'listAudiences'), { operationId: 'listAudiences' })
  thrive.armFault({ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } })
  t.equal(thrive.clearFaults(TENANT_A.tenantId), 1)
  const token = await thrive.getToken({ clientId: 'a-reader', clientSecret: 'a-reader-secret', tenantId: TENANT_A.tenantId })
  thrive.advanceClock(3601_000)
  t.equal((await fetch(READ, { headers: { ...CLIENT_HEADERS, authorization: `Bearer ${token}` } })).status, 401, 'advanceClock expires the token')
  t.same(await thrive.reset(), { faultsRemoved: 0, requestsRemoved: 3, clockReset: true })
  t.same(thrive.requests(), [], 'reset empties the journal')
  t.equal((await fetch(READ, { headers: { ...CLIENT_HEADERS, authorization: `Bearer ${token}` } })).status, 200, 'and the clock')
})

t.test('options: those that need a socket, a bad host list, a misspelt option or a bad rule reject before anything is built', async (t) => {
  for (const key of ['port', 'host', 'https']) {
    await t.rejects(createThriveHandlers({ [key]: 1 } as never), { name: 'ConfigError', message: `option "${key}" needs a socket, and the msw handlers have none: leave it out, or use startMockServer` })
  }
  for (const hosts of ['thrive.test', ['https://thrive.test'], [''], [7]]) {
    await t.rejects(createThriveHandlers({ hosts } as never), { name: 'ConfigError', message: `hosts must be an array of host names (with an optional :port), e.g. ["thrive.internal.test"], got ${JSON.stringify(hosts)}` })
  }
  await t.rejects(createThriveHandlers({ journalsize: 5 } as never), { name: 'ConfigError', message: /^unknown option "journalsize"/ })
  await t.rejects(createThriveHandlers({ fixtures: FIXTURE, faults: [{ match: {}, effect: { status: 500 } }] } as never), { message: /^match\.tenantId: is required/ })
})

t.test('with no options it serves the bundled fixtures, logging through a given logger', async (t) => {
  const lines: string[] = []
  const thrive = await createThriveHandlers({ logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  const server = setupServer(...thrive.handlers)
  server.listen({ onUnhandledRequest: 'bypass' })
  t.teardown(async () => { server.close(); await thrive.close() })
  const res = await fetch(`${THRIVE}/rest/v1/audiences/engineering`, { headers: { authorization: thrive.basicAuth('eu-west-2_AcmeCorp1', 'acme-api-secret-0001') } })
  t.match(await res.json(), { id: '63f8c5361b9c80d3274be7ca', name: 'Engineering' })
  t.ok(lines.some((l) => /"msg":"request"/.test(l)), 'the request is logged')
})

t.test('a request after close is refused with msw\'s own error, not answered from a closed mock', async (t) => {
  const thrive = await createThriveHandlers({ fixtures: FIXTURE })
  const server = setupServer(...thrive.handlers)
  server.listen({ onUnhandledRequest: 'bypass' })
  t.teardown(() => { server.close() })
  await thrive.close()
  const res = await fetch(READ, { headers: A })
  t.equal(res.status, 500, 'msw answers a handler that threw with a 500')
  t.match(await res.json(), { name: 'Error' })
})
