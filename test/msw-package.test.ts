// thrive-audience-mock/msw as a user gets it: the packed package (npm pack of the build; npm test builds first) and msw,
// installed in a scratch project, with tests run there under node --test and vitest, never from this source tree.
// docs/msw.md's example runs there as written.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOC = readFileSync(new URL('../docs/msw.md', import.meta.url), 'utf8')
const MSW_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules/msw/package.json'), 'utf8')) as { version: string }).version
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs')
// The child processes run the packed dist/, which has no business in this project's coverage report.
const ENV = { ...process.env, NODE_OPTIONS: '', _TAPJS_PROCESSINFO_COVERAGE_: '0' }

t.setTimeout(170_000)

function run (cwd: string, command: string, args: string[]) {
  const ran = spawnSync(command, args, { cwd, encoding: 'utf8', env: ENV, timeout: 120_000 })
  return { code: ran.status, out: `${ran.stdout}${ran.stderr}` }
}

/** The proof the issue asks for, written once and run by both runners: `test` and `expect`-free, node:assert only. */
const PROOF = `
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import https from 'node:https'
import { setupServer } from 'msw/node'
import { startMockServer } from 'thrive-audience-mock'
import { createThriveHandlers } from 'thrive-audience-mock/msw'

const TENANT = 'eu-west-2_AcmeCorp1'
const PROD = 'https://public.api.learn.link'
let thrive, server, socket, local
const unhandled = []

export async function setUp () {
  thrive = await createThriveHandlers()
  server = setupServer(...thrive.handlers)
  server.listen({ onUnhandledRequest: (request) => { unhandled.push(request.url) } })
  socket = await startMockServer()
  local = createServer((req, res) => { res.end('local') })
  local.listen(0, '127.0.0.1')
  await once(local, 'listening')
}
export async function tearDown () {
  server.close()
  local.close()
  await Promise.all([thrive.close(), socket.close()])
}
export const resetAll = () => thrive.reset()

const basic = () => ({ authorization: thrive.basicAuth(TENANT, 'acme-api-secret-0001'), accept: 'application/json' })
const text = (res) => res.text()
function httpsGet (url, headers) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }))
    }).on('error', reject)
  })
}

export const cases = {
  async 'fetch and node:https with Basic get the fixture, as over a socket' () {
    const overSocket = await fetch(socket.url + '/rest/v1/audiences/engineering', { headers: basic() })
    const expected = await text(overSocket)
    const viaFetch = await fetch(PROD + '/rest/v1/audiences/engineering', { headers: basic() })
    assert.equal(viaFetch.status, 200)
    assert.equal(viaFetch.headers.get('content-type'), overSocket.headers.get('content-type'))
    assert.equal(await text(viaFetch), expected)
    assert.equal(JSON.parse(expected).id, '63f8c5361b9c80d3274be7ca')
    assert.deepEqual(await httpsGet(PROD + '/rest/v1/audiences/engineering', basic()), { status: 200, type: 'application/json; charset=utf-8', body: expected })
  },
  async 'the token flow on the production host, then Bearer' () {
    const res = await fetch(PROD + '/oauth2/token/' + TENANT, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'acme-reader', client_secret: 'acme-reader-secret' }) })
    assert.equal(res.status, 200)
    const token = await res.json()
    assert.equal(token.expires_in, 3600)
    assert.equal(token.scope, 'api/read')
    const read = await fetch(PROD + '/rest/v1/audiences/engineering', { headers: { authorization: 'Bearer ' + token.access_token } })
    assert.equal(read.status, 200)
    const write = await fetch(PROD + '/rest/v1/audiences/engineering', { method: 'PATCH', headers: { authorization: 'Bearer ' + token.access_token, 'content-type': 'application/json' }, body: '{"name":"x"}' })
    assert.equal(write.status, 403)
  },
  async 'a staging host answers too' () {
    const res = await fetch('https://public.api.learnstaging.link/rest/v1/audiences/engineering', { headers: basic() })
    assert.equal(res.status, 200)
    assert.equal((await httpsGet('https://public.api.meastaging.learn.tech/audiences/engineering', basic())).status, 200)
  },
  async 'an armed 503, then recovery' () {
    thrive.armFault({ match: { tenantId: TENANT }, effect: { status: 503 }, times: 1 })
    const first = await fetch(PROD + '/rest/v1/audiences/engineering', { headers: basic() })
    assert.equal(first.status, 503)
    assert.equal(first.headers.get('retry-after'), '1')
    assert.deepEqual(await first.json(), { status: 503, error: 'Service Unavailable', message: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header' })
    assert.equal((await fetch(PROD + '/rest/v1/audiences/engineering', { headers: basic() })).status, 200)
  },
  async 'a transport reset makes fetch and node:https reject' () {
    thrive.armFault({ match: { tenantId: TENANT }, effect: { transport: 'reset' }, times: 2 })
    await assert.rejects(fetch(PROD + '/rest/v1/audiences/engineering', { headers: basic() }), TypeError)
    await assert.rejects(httpsGet(PROD + '/rest/v1/audiences/engineering', basic()), TypeError)
  },
  async 'a hang ends with the abort signal' () {
    thrive.armFault({ match: { tenantId: TENANT }, effect: { transport: 'hang' }, times: 1 })
    await assert.rejects(fetch(PROD + '/rest/v1/audiences/engineering', { headers: basic(), signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' })
    assert.equal(thrive.requests({ limit: 1 })[0].transport, 'hang')
  },
  async 'requests() lists what the client sent, and reset empties it' () {
    await fetch(PROD + '/rest/v1/audiences?perPage=2', { headers: basic() })
    await fetch(PROD + '/rest/v1/audiences/nope', { headers: basic() })
    assert.deepEqual(thrive.requests().map((r) => [r.method, r.path, r.tenantId, r.status]), [['GET', '/rest/v1/audiences/nope', TENANT, 404], ['GET', '/rest/v1/audiences', TENANT, 200]])
    assert.deepEqual(await thrive.reset(), { faultsRemoved: 0, requestsRemoved: 2, clockReset: true })
    assert.deepEqual(thrive.requests(), [])
  },
  async 'a request to another host reaches onUnhandledRequest' () {
    const url = 'http://127.0.0.1:' + local.address().port + '/other'
    assert.equal(await text(await fetch(url)), 'local')
    assert.ok(unhandled.includes(url), JSON.stringify(unhandled))
    assert.equal(thrive.requests().length, 0)
  }
}
`

const NODE_TEST = `
import { after, afterEach, before, test } from 'node:test'
import { cases, resetAll, setUp, tearDown } from './proof.mjs'
before(setUp)
afterEach(resetAll)
after(tearDown)
for (const [name, fn] of Object.entries(cases)) test(name, fn)
`

// vitest's globals (--globals): the file imports nothing from vitest, so the scratch project does not install it.
const VITEST_TEST = `
import { cases, resetAll, setUp, tearDown } from './proof.mjs'
beforeAll(setUp)
afterEach(resetAll)
afterAll(tearDown)
for (const [name, fn] of Object.entries(cases)) test(name, fn)
`

t.test('from a scratch project that installs the packed package and msw', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'thrive-msw-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const packed = run(ROOT, 'npm', ['pack', '--silent', '--pack-destination', dir])
  t.equal(packed.code, 0, 'npm pack', { output: packed.out })
  const tarball = join(dir, packed.out.trim().split('\n').at(-1) as string)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }))
  const installed = run(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, `msw@${MSW_VERSION}`])
  t.equal(installed.code, 0, 'npm install of the tarball and msw', { output: installed.out.slice(-4000) })

  const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/thrive-audience-mock/package.json'), 'utf8')) as { peerDependencies: object, peerDependenciesMeta: object }
  t.same([pkg.peerDependencies, pkg.peerDependenciesMeta], [{ msw: '^2.12 || ^3' }, { msw: { optional: true } }], 'msw is an optional peer')
  t.ok(readFileSync(join(dir, 'node_modules/thrive-audience-mock/dist/msw.d.ts'), 'utf8').includes('createThriveHandlers'), 'with its types')

  writeFileSync(join(dir, 'proof.mjs'), PROOF)
  writeFileSync(join(dir, 'proof.test.mjs'), NODE_TEST)
  const nodeTest = run(dir, process.execPath, ['--test', 'proof.test.mjs'])
  t.equal(nodeTest.code, 0, 'node --test exits 0', { output: nodeTest.out.slice(-6000) })
  t.match(nodeTest.out, /# pass 8\n# fail 0/, 'node --test: every case passes')

  writeFileSync(join(dir, 'proof.spec.mjs'), VITEST_TEST)
  const vitest = run(dir, process.execPath, [VITEST, 'run', '--root', dir, '--globals', '--dir', dir, 'proof.spec'])
  t.equal(vitest.code, 0, 'vitest exits 0', { output: vitest.out.slice(-6000) })
  t.match(vitest.out, /Tests\s+8 passed \(8\)/, 'vitest: every case passes')

  const example = /## A complete test[\s\S]*?```js\n([\s\S]*?)```/.exec(DOC)?.[1] as string
  t.match(example, "from 'thrive-audience-mock/msw'", 'the docs example imports the package by name')
  writeFileSync(join(dir, 'thrive.test.mjs'), example)
  const docs = run(dir, process.execPath, ['--test', 'thrive.test.mjs'])
  t.equal(docs.code, 0, 'node --test of the docs example exits 0', { output: docs.out.slice(-6000) })
  t.match(docs.out, /# pass 7\n# fail 0/, 'docs/msw.md\'s example passes as written')

  // Without msw installed, the main entry still loads and serves: it never imports msw.
  rmSync(join(dir, 'node_modules/msw'), { recursive: true, force: true })
  const main = run(dir, process.execPath, ['--input-type=module', '-e', "const { startMockServer } = await import('thrive-audience-mock'); const m = await startMockServer(); const r = await fetch(m.url + '/__mock/health'); console.log(r.status); await m.close()"])
  t.same([main.code, main.out.trim()], [0, '200'], 'without msw, the main entry serves', { output: main.out })
  const subpath = run(dir, process.execPath, ['--input-type=module', '-e', "await import('thrive-audience-mock/msw')"])
  t.not(subpath.code, 0, 'and the msw entry says msw is missing')
  t.match(subpath.out, /Cannot find package 'msw'/)
})
