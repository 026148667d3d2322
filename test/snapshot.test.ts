// The snapshot command against this mock as the upstream Thrive tenant (thrive-api.md part C, read operations only):
// what it writes loads into a second mock that answers the same, with faults on the upstream survived.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { defaultConfig } from '../src/config.js'
import { GENERATED_TENANT, startMockServer, type MockServer } from '../src/index.js'
import type { FixtureFile } from '../src/schemas/fixtures.js'
import { runSnapshot, type SnapshotIo } from '../src/snapshot-cli.js'
import { fakeUsers, retryAfterMs } from '../src/snapshot.js'
import { CLI, runCli } from './cli-helpers.js'
import { basic } from './helpers.js'
import { uncheckedResponses } from './response-check.js'

const TENANT = GENERATED_TENANT.tenantId
const UPSTREAM_AUTH = basic(TENANT, GENERATED_TENANT.apiSecret)

interface Run { code: number, stderr: string, out: string, fixture: FixtureFile | null, sleeps: number[] }

async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'snapshot-test-'))
}

async function upstream (t: Test, generate: number, journalSize = 0): Promise<MockServer> {
  const server = await startMockServer({ fixtures: [], generate, journalSize })
  t.teardown(server.close)
  return server
}

/** Runs the command in-process: waits are recorded, not slept, so a Retry-After costs the test nothing. */
async function snapshot (baseUrl: string, args: string[] = [], internal: SnapshotIo['internal'] = {}, io: Partial<SnapshotIo> = {}): Promise<Run> {
  const out = join(await tempDir(), 'tenant.json')
  let stderr = ''
  const sleeps: number[] = []
  const code = await runSnapshot(['--base-url', baseUrl, '--tenant-id', TENANT, '--out', out, ...args], { THRIVE_API_SECRET: GENERATED_TENANT.apiSecret }, {
    stderr: { write: (text: string) => { stderr += text } },
    internal: { sleep: async (ms) => { sleeps.push(ms) }, random: () => 0.5, ...internal },
    ...io
  })
  const fixture = await readFile(out, 'utf8').then((text) => JSON.parse(text) as FixtureFile, () => null)
  return { code, stderr, out, fixture, sleeps }
}

async function loaded (t: Test, run: Run): Promise<{ app: FastifyInstance, auth: string }> {
  const app = await buildApp(defaultConfig({ fixtures: [{ path: run.out }] }))
  t.teardown(() => app.close())
  const tenant = run.fixture?.tenants[0]
  return { app, auth: basic(TENANT, tenant?.apiSecret as string) }
}

interface Page { results: Array<Record<string, unknown>>, pagination: { totalPages: number } }

/** Every answer of every read operation, as raw bytes: the list pages, each audience, its members pages and managers. */
async function everyRead (app: FastifyInstance, auth: string, perPage: number): Promise<Map<string, string>> {
  const answers = new Map<string, string>()
  const get = async (url: string): Promise<string> => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: auth, accept: 'application/json' } })
    answers.set(url, JSON.stringify([res.statusCode, res.headers['content-type'], res.body]))
    return res.body
  }
  const ids: string[] = []
  for (let page = 1, pages = 1; page <= pages; page++) {
    const body = JSON.parse(await get(`/rest/v1/audiences?perPage=${perPage}&page=${page}`)) as Page
    pages = body.pagination.totalPages
    for (const a of body.results) ids.push(a.id as string)
  }
  for (const id of ids) {
    await get(`/rest/v1/audiences/${id}`)
    await get(`/rest/v1/audiences/${id}/managers`)
    for (let page = 1, pages = 1; page <= pages; page++) {
      pages = (JSON.parse(await get(`/rest/v1/audiences/${id}/members?perPage=${perPage}&page=${page}`)) as Page).pagination.totalPages
    }
  }
  return answers
}

function compare (t: Test, got: Map<string, string>, want: Map<string, string>): void {
  t.same([...got.keys()], [...want.keys()], 'the same requests were made of both')
  const different = [...want].filter(([url, answer]) => got.get(url) !== answer).map(([url]) => url)
  t.same(different, [], `all ${want.size} answers are byte-identical (status, content type, body)`)
}

t.test('with --keep-personal-data, a 2000-audience tenant loads back to byte-identical answers for every list page, audience, members page and managers list', async (t) => {
  const up = await upstream(t, 2000, 100_000)
  // A page size of 100 (an internal option, the command always asks for 1000) gives several pages of audiences and members.
  const perPage = 100
  let inFlight = 0
  let most = 0
  up.app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    most = Math.max(most, ++inFlight)
    res.on('close', () => { inFlight-- })
  })
  // Slowed answers overlap on the server, so the requests the command keeps in flight can be counted there.
  up.armFault({ match: { tenantId: TENANT }, effect: { delayMs: 20 }, times: 200 })
  const run = await snapshot(up.url, ['--keep-personal-data'], { perPage })
  t.equal(run.code, 0, run.stderr)
  t.equal(most, 4, 'four requests in flight at most, and four were used')

  const journal = up.requests()
  t.equal(journal.length, run.stderr.match(/\((\d+) requests\)/)?.[1] === undefined ? -1 : Number(run.stderr.match(/\((\d+) requests\)/)?.[1]), 'every request the command counts reached the upstream')
  t.same([...new Set(journal.map((e) => e.method))], ['GET'], 'only reads')
  t.same([...new Set(journal.map((e) => e.path.replace(/[0-9a-f]{24}/, '{id}')))].sort(), ['/rest/v1/audiences', '/rest/v1/audiences/{id}/managers', '/rest/v1/audiences/{id}/members'])
  t.ok(journal.some((e) => e.path === '/rest/v1/audiences' && e.query.page === '20'), 'the audience list was read over 20 pages')
  t.ok(journal.some((e) => e.path.endsWith('/members') && e.query.page === '10'), 'a members list was read over 10 pages')
  const listRequests = journal.filter((e) => e.path === '/rest/v1/audiences')
  t.equal(listRequests.length, 20, 'each list page once')

  const { app, auth } = await loaded(t, run)
  const want = await everyRead(up.app, UPSTREAM_AUTH, perPage)
  compare(t, await everyRead(app, auth, perPage), want)
  compare(t, await everyRead(app, auth, 1000), await everyRead(up.app, UPSTREAM_AUTH, 1000))

  const tenant = run.fixture?.tenants[0]
  t.not(tenant?.apiSecret, GENERATED_TENANT.apiSecret, 'a new API secret')
  t.equal(tenant?.clients, undefined, 'no OAuth client is copied')
  const lines = run.stderr.split('\n')
  t.equal(lines.filter((l) => l.includes(tenant?.apiSecret as string)).length, 1, 'the new secret is printed once')
  t.notMatch(run.stderr + JSON.stringify(run.fixture), GENERATED_TENANT.apiSecret, 'the real secret is neither echoed nor written')
  t.match(run.stderr, /--keep-personal-data: the file holds the users' real emails and references/)
  t.match(run.stderr, new RegExp(`use it with: thrive-audience-mock --fixtures .*, then Basic auth ${TENANT}:<that secret>`))
  t.match(run.stderr, /wrote .*tenant\.json: 2000 audiences, 1000 users, \d+ memberships, \d+ managers \(\d+ requests\)/)
  t.match(run.stderr, /snapshot: 2000 audiences to read\n/, 'plain progress lines when stderr is not a terminal')
  t.match(run.stderr, /snapshot: audiences 2000\/2000, members (\d+)\/\1\n/)
})

t.test('without --keep-personal-data, each user gets one deterministic fake everywhere it appears and no real email or reference is left', async (t) => {
  const up = await upstream(t, 400)
  const perPage = 3
  const run = await snapshot(up.url, [], { perPage })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /personal data replaced/)
  t.notMatch(run.stderr, /keep-personal-data/)
  const { app, auth } = await loaded(t, run)
  const want = await everyRead(up.app, UPSTREAM_AUTH, perPage)
  const got = await everyRead(app, auth, perPage)
  t.same([...got.keys()], [...want.keys()], 'the same audiences and pages')

  const realUsers = new Map<string, { reference: string, email: string }>()
  const fakes = new Map<string, Set<string>>()
  let appearances = 0
  const people = (answers: Map<string, string>, each: (user: { userId: string, reference: string, email: string }, url: string) => void) => {
    for (const [url, answer] of answers) {
      if (!/\/(members|managers)/.test(url)) continue
      const body = JSON.parse((JSON.parse(answer) as [number, string, string])[2]) as Page | Array<Record<string, unknown>>
      for (const user of Array.isArray(body) ? body : body.results) each(user as { userId: string, reference: string, email: string }, url)
    }
  }
  people(want, (u) => realUsers.set(u.userId, { reference: u.reference, email: u.email }))
  const shapes: string[] = []
  const wantShapes: string[] = []
  people(got, (u, url) => {
    appearances++
    const seen = fakes.get(u.userId) ?? new Set<string>()
    seen.add(`${u.reference} ${u.email}`)
    fakes.set(u.userId, seen)
    shapes.push(`${url} ${u.userId}`)
  })
  people(want, (u, url) => wantShapes.push(`${url} ${u.userId}`))
  t.same(shapes, wantShapes, 'the same users, by id, in the same order in every members page and managers list')
  t.ok(appearances > realUsers.size, 'users appear more than once, so consistency is tested')
  t.same([...fakes.values()].filter((s) => s.size !== 1), [], 'one fake per user in every members page and managers list')
  const text = await readFile(run.out, 'utf8')
  const leaked = [...realUsers.values()].filter((u) => text.toLowerCase().includes(u.email.toLowerCase()))
  t.same(leaked, [], 'no real email anywhere in the file')
  const sameReference = [...fakes].filter(([id, s]) => [...s][0]?.split(' ')[0] === realUsers.get(id)?.reference)
  t.same(sameReference, [], 'no user keeps its reference')
  t.ok([...fakes.values()].every((s) => /@example\.com$/.test([...s][0] as string)), 'fake addresses are under example.com (RFC 2606)')

  // The same user gets the same fake from a later snapshot, and from its id alone.
  const again = await snapshot(up.url, [], { perPage: 1000 })
  t.same(again.fixture?.tenants[0]?.users, run.fixture?.tenants[0]?.users, 'a second snapshot writes the same fakes')
  const first = run.fixture?.tenants[0]?.users?.[0]
  t.same(await fakeUsers(TENANT, [first?.id as string]), [first], "a fake depends on the tenant and the user's id only")
  const other = await fakeUsers('us-east-1_Other1', [first?.id as string])
  t.not(other[0]?.email, first?.email, 'another tenant gives the same id another fake')
})

t.test('two users drawing the same fake are told apart by their ids', async (t) => {
  // Found by search: in this tenant both ids draw Ursula Shanahan 128.
  const first = '00000000000000000000006b'
  const second = '000000000000000000003e22'
  const alone = await fakeUsers(TENANT, [second])
  t.same(alone, [{ id: second, reference: 'ushanahan128', email: 'ursula.shanahan128@example.com', firstName: 'Ursula', lastName: 'Shanahan' }])
  const together = await fakeUsers(TENANT, [second, first])
  t.same(together, [
    { id: second, reference: `ushanahan128-${second}`, email: `ursula.shanahan128.${second}@example.com`, firstName: 'Ursula', lastName: 'Shanahan' },
    { id: first, reference: 'ushanahan128', email: 'ursula.shanahan128@example.com', firstName: 'Ursula', lastName: 'Shanahan' }
  ], 'the lower id keeps the fake, whatever order the users came in')
})

t.test('429 with Retry-After, 503 twice, a reset connection, a hang and a truncated body on the upstream are survived with nothing missing', async (t) => {
  uncheckedResponses(t, 'the upstream\'s malformed fault answers half of the JSON on purpose')
  const up = await upstream(t, 150, 10_000)
  const perPage = 4
  const match = { tenantId: TENANT }
  up.armFault({ match: { ...match, route: 'listMembers' }, effect: { status: 429, retryAfterSeconds: 7 }, times: 3 })
  up.armFault({ match: { ...match, route: 'listAudiences' }, effect: { status: 503, retryAfterSeconds: 2 }, times: 2 })
  up.armFault({ match: { ...match, route: 'listManagers' }, effect: { transport: 'reset' }, times: 2 })
  up.armFault({ match: { ...match, route: 'listManagers' }, effect: { transport: 'hang', hangMs: 60_000 }, times: 1 })
  up.armFault({ match: { ...match, route: 'listMembers' }, effect: { transport: 'malformed' }, times: 1 })
  up.armFault({ match: { ...match, route: 'listMembers' }, effect: { status: 500 }, times: 1 })
  const run = await snapshot(up.url, ['--keep-personal-data'], { perPage, timeoutMs: 1000 })
  t.equal(run.code, 0, run.stderr)
  t.same(up.app.faults.list(), [], 'every rule fired all its times and retired')
  t.equal(up.requests().filter((e) => e.fault !== null).length, 3 + 2 + 2 + 1 + 1 + 1, 'each fault answered once per time')
  // RFC 9110 §10.2.3: the waits the server asked for, in seconds; the rest is backoff from 500 ms.
  t.same(run.sleeps.filter((ms) => ms === 7000).length, 3, 'waited the 7 s each 429 asked for')
  t.same(run.sleeps.filter((ms) => ms === 2000).length, 2, 'waited the 2 s each 503 asked for')
  t.ok(run.sleeps.filter((ms) => ms !== 7000 && ms !== 2000).every((ms) => ms >= 250 && ms <= 30_000), 'backoff otherwise')
  t.equal(run.sleeps.length, 3 + 2 + 2 + 1 + 1 + 1, 'one wait per fault')
  const { app, auth } = await loaded(t, run)
  up.clearFaults()
  compare(t, await everyRead(app, auth, perPage), await everyRead(up.app, UPSTREAM_AUTH, perPage))
})

t.test('a request that keeps failing ends the snapshot naming the operation, and writes nothing', async (t) => {
  const up = await upstream(t, 10)
  up.armFault({ match: { tenantId: TENANT, route: 'listAudiences' }, effect: { status: 503, retryAfterSeconds: 0 } })
  const run = await snapshot(up.url, [], { attempts: 3 })
  t.equal(run.code, 1)
  t.match(run.stderr, /thrive-audience-mock snapshot: listAudiences, page 1: HTTP 503, 3 attempts made\n/)
  t.same(run.sleeps, [0, 0], 'Retry-After: 0 honoured between the attempts')
  t.equal(run.fixture, null)
  t.same(await readdir(join(run.out, '..')), [], 'no file, temporary or not')
})

t.test('a 401 upstream exits 2 with one line naming the tenant and the base URL, and writes no file (built CLI)', async (t) => {
  const up = await upstream(t, 10)
  const dir = await tempDir()
  const out = join(dir, 'x.json')
  const { spawn } = await import('node:child_process')
  const bundle = new URL('../dist/cli.bundle.js', import.meta.url).pathname
  const child = spawn(process.execPath, [bundle, 'snapshot', '--base-url', up.url, '--tenant-id', TENANT, '--out', out], { env: { ...process.env, THRIVE_API_SECRET: 'not-the-secret' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 2)
  t.equal(stdout, '')
  const errors = stderr.split('\n').filter((l) => l.startsWith('thrive-audience-mock'))
  t.same(errors, [`thrive-audience-mock snapshot: the credentials of tenant ${TENANT} were refused by ${up.url} (401): check the Tenant ID and the API secret`])
  t.notMatch(stderr, 'not-the-secret', 'the secret is never echoed')
  t.same(await readdir(dir), [])
})

t.test('a 401 upstream ends the snapshot in-process too, with exit status 2', async (t) => {
  const up = await upstream(t, 10)
  const run = await snapshot(up.url, ['--api-secret', 'wrong-secret'])
  t.equal(run.code, 2)
  t.match(run.stderr, `thrive-audience-mock snapshot: the credentials of tenant ${TENANT} were refused by ${up.url} (401)`)
  t.notMatch(run.stderr, 'wrong-secret')
  t.equal(run.fixture, null)
})

t.test('Ctrl-C while reading leaves no file and exits 130 (built CLI)', async (t) => {
  const up = await upstream(t, 10)
  up.armFault({ match: { tenantId: TENANT, route: 'listAudiences' }, effect: { transport: 'hang', hangMs: 60_000 } })
  const dir = await tempDir()
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, [CLI, 'snapshot', '--base-url', up.url, '--tenant-id', TENANT, '--out', join(dir, 'x.json')], { env: { ...process.env, THRIVE_API_SECRET: GENERATED_TENANT.apiSecret }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  // Once the upstream has the first request, the command is waiting on an answer that will not come.
  await new Promise((resolve) => up.app.server.once('request', resolve))
  child.kill('SIGINT')
  t.equal(await exited, 130)
  t.same(await readdir(dir), [])
})

t.test('403 on members or managers (scope) is a note, and those audiences are written without them', async (t) => {
  const up = await upstream(t, 40)
  const list = await up.app.inject({ method: 'GET', url: '/rest/v1/audiences?perPage=1000', headers: { authorization: UPSTREAM_AUTH } })
  const withMembers = (list.json() as Page).results.filter((a) => a.parent !== null).slice(0, 3).map((a) => a.id as string)
  for (const id of withMembers) up.armFault({ match: { tenantId: TENANT, route: 'listMembers', audienceId: id }, effect: { status: 403 } })
  up.armFault({ match: { tenantId: TENANT, route: 'listManagers' }, effect: { status: 403 } })
  const run = await snapshot(up.url, ['--keep-personal-data'])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /note: members were refused \(403\) for 3 audiences: they are written without members\n/)
  t.match(run.stderr, /note: managers were refused \(403\) for 40 audiences: they are written without managers\n/)
  const all = run.fixture?.tenants[0]?.structures.flatMap((s) => [s, ...(s.audiences ?? [])]) ?? []
  t.equal(all.length, 40, 'every audience is written')
  t.same(all.filter((a) => withMembers.includes(a.id as string)).map((a) => a.members), [undefined, undefined, undefined])
  t.ok(all.some((a) => (a.members?.length ?? 0) > 0), 'the others keep their members')
  t.same(all.filter((a) => a.managers !== undefined), [])
})

t.test('--max-audiences keeps the first N of the list and leaves out children whose structure is not among them', async (t) => {
  const at = (day: number) => `2024-01-0${day}T00:00:00.000Z`
  const up = await startMockServer({
    fixtures: {
      tenants: [{
        ...GENERATED_TENANT,
        structures: [
          { id: 'aaaaaaaaaaaaaaaaaaaaaaa1', name: 'Early', reference: 'early', createdAt: at(2), updatedAt: at(2), audiences: [{ id: 'aaaaaaaaaaaaaaaaaaaaaaa2', name: 'Early child', reference: 'early-child', createdAt: at(3), updatedAt: at(3) }] },
          // A child created before its structure is listed before it (the list is in createdAt order).
          { id: 'aaaaaaaaaaaaaaaaaaaaaaa3', name: 'Late', reference: 'late', createdAt: at(5), updatedAt: at(5), audiences: [{ id: 'aaaaaaaaaaaaaaaaaaaaaaa4', name: 'Late child', reference: 'late-child', createdAt: at(1), updatedAt: at(1) }] },
          { id: 'aaaaaaaaaaaaaaaaaaaaaaa5', name: 'Last', reference: 'last', createdAt: at(6), updatedAt: at(6) }
        ]
      }]
    },
    journalSize: 100
  })
  t.teardown(up.close)
  const run = await snapshot(up.url, ['--max-audiences', '3'], { perPage: 2 })
  t.equal(run.code, 0, run.stderr)
  const written = (run.fixture?.tenants[0]?.structures.flatMap((s) => [s, ...(s.audiences ?? [])]) ?? []).map((a) => a.id)
  t.same(written, ['aaaaaaaaaaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaaaaaaaaaa2'], 'of the first three (late child, early, early child), the late child has no structure')
  t.match(run.stderr, /note: only the first 3 of the 5 audiences were read \(--max-audiences\)\n/)
  t.match(run.stderr, /note: 1 child audiences were left out because their structure is not in the snapshot \(--max-audiences\)\n/)
  t.match(run.stderr, /wrote .*: 2 audiences, 0 users/)
  t.same(up.requests().filter((e) => e.path === '/rest/v1/audiences').map((e) => e.query.page).sort(), ['1', '2'], 'the list is not read past the pages needed')
})

t.test('a progress bar is drawn in place when stderr is a terminal', async (t) => {
  const up = await upstream(t, 20)
  let stderr = ''
  const code = await runSnapshot(['--base-url', up.url, '--tenant-id', TENANT, '--out', join(await tempDir(), 'x.json')], { THRIVE_API_SECRET: GENERATED_TENANT.apiSecret }, {
    stderr: { isTTY: true, write: (text: string) => { stderr += text } }
  })
  t.equal(code, 0)
  // ECMA-48 EL (erase in line): ESC [ K clears what a longer previous line left behind.
  const erase = `${String.fromCharCode(27)}[K`
  t.ok(stderr.includes(`\r[${'.'.repeat(20)}] audiences 0/20, members 0/0${erase}`), 'an empty bar once the list is read')
  t.match(stderr.split('\r').at(-1), /^\[#{20}\] audiences 20\/20, members (\d+)\/\1/, 'a full bar at the end')
  t.ok(stderr.includes(`${erase}\nsnapshot: wrote `), 'and the line is ended before the summary')
  t.notMatch(stderr, /audiences to read/, 'no plain lines on a terminal')
})

/** An upstream that answers what the test says, for the shapes this mock never serves. */
async function scripted (t: Test, answer: (url: string) => [number, unknown]): Promise<string> {
  const server = createServer((req, res) => {
    const [status, body] = answer(req.url as string)
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

const AUDIENCE = { id: 'aaaaaaaaaaaaaaaaaaaaaaa1', name: 'Tech', reference: 'tech', apiControlled: true, category: 'structure', type: 'manual', parent: null, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' }
const page = (results: unknown[], totalPages = 1) => ({ results, pagination: { totalResults: results.length, totalPages, page: 1, perPage: 1000 } })

t.test('an answer that is not the documented shape, or an unexpected status, is reported with the operation and the page', async (t) => {
  const cases: Array<[string, (url: string) => [number, unknown], RegExp]> = [
    ['an audience without its id', () => [200, page([{ ...AUDIENCE, id: undefined }])], /^thrive-audience-mock snapshot: listAudiences, page 1: the answer is not the documented shape: \/results\/0\/id: required field is missing$/],
    ['members that are not a page', (url) => url.includes('/members') ? [200, []] : url.includes('/managers') ? [200, []] : [200, page([AUDIENCE])], /^thrive-audience-mock snapshot: listMembers of audience aaaaaaaaaaaaaaaaaaaaaaa1, page 1: the answer is not the documented shape: the body: /],
    ['managers that are not an array', (url) => url.includes('/members') ? [200, page([])] : url.includes('/managers') ? [200, { results: [] }] : [200, page([AUDIENCE])], /^thrive-audience-mock snapshot: listManagers of audience aaaaaaaaaaaaaaaaaaaaaaa1: the answer is not the documented shape: the body: /],
    ['a 404 with the documented body', () => [404, { status: 404, error: 'Not Found', message: 'No such thing' }], /^thrive-audience-mock snapshot: listAudiences, page 1: HTTP 404: No such thing$/],
    ['a 400 with some other body', () => [400, 'x'.repeat(300)], new RegExp(`^thrive-audience-mock snapshot: listAudiences, page 1: HTTP 400: ${'x'.repeat(197)}\\.\\.\\.$`)],
    ['a 400 with a short body', () => [400, 'oops'], /^thrive-audience-mock snapshot: listAudiences, page 1: HTTP 400: oops$/],
    ['a 403 on the audience list', () => [403, { status: 403, error: 'Forbidden', message: 'no' }], /^thrive-audience-mock snapshot: listAudiences, page 1: refused \(403\): the API secret's tenant cannot read audiences$/],
    ['a 403 on a second members page', (url) => url.includes('/members') ? (url.includes('page=2') ? [403, {}] : [200, page([], 2)]) : url.includes('/managers') ? [200, []] : [200, page([AUDIENCE])], /^thrive-audience-mock snapshot: listMembers of audience aaaaaaaaaaaaaaaaaaaaaaa1, page 2: refused \(403\) after page 1 was served$/],
    ['a name longer than a fixture allows', (url) => url.includes('/members') ? [200, page([])] : url.includes('/managers') ? [200, []] : [200, page([{ ...AUDIENCE, name: 'n'.repeat(101) }])], /^thrive-audience-mock snapshot: the tenant's data does not fit the fixture format, nothing written: .*structures\[0\]\.name/]
  ]
  for (const [name, answer, message] of cases) {
    const url = await scripted(t, answer)
    const run = await snapshot(url, [], { attempts: 1 })
    t.equal(run.code, 1, name)
    t.match(run.stderr.split('\n').filter((l) => l.startsWith('thrive-audience-mock')).join('\n'), message, name)
    t.equal(run.fixture, null, `${name}: no file`)
  }
})

t.test('a body that is not JSON and a refused connection are retried, then reported', async (t) => {
  const url = await scripted(t, () => [200, '{"results": ['])
  const run = await snapshot(url, [], { attempts: 2 })
  t.equal(run.code, 1)
  t.match(run.stderr, /listAudiences, page 1: the body is not JSON, 2 attempts made\n/)
  t.same(run.sleeps, [375], 'backoff from 500 ms, scaled by a jitter from 0.5 to 1 (0.75 here)')
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as { port: number }).port
  await new Promise((resolve) => closed.close(resolve))
  const refused = await snapshot(`http://127.0.0.1:${port}`, [], { attempts: 2 })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /listAudiences, page 1: network error: ECONNREFUSED, 2 attempts made\n/)
})

t.test('Retry-After is read as seconds or as an HTTP-date (RFC 9110 §10.2.3)', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(retryAfterMs('3', now), 3000)
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000)
  t.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date in the past: no wait')
  t.equal(retryAfterMs('soon', now), null, 'unreadable: backoff instead')
  t.equal(retryAfterMs(null, now), null)
})

t.test('bad command lines are one clear line and exit 1; --help exits 0', async (t) => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], {}, /^thrive-audience-mock snapshot: --base-url is required/],
    [['--base-url', 'nope'], {}, /--base-url must be a URL such as https:\/\/public\.api\.learnstaging\.link, got "nope"/],
    [['--base-url', 'https://h.example/rest/v1'], {}, /--base-url must be the host's origin only.*the command adds \/rest\/v1/],
    [['--base-url', 'ftp://h.example'], {}, /--base-url must be the host's origin only/],
    [['--base-url', 'https://h.example'], {}, /--tenant-id is required/],
    [['--base-url', 'https://h.example', '--tenant-id', TENANT], {}, /the API secret is required: set THRIVE_API_SECRET \(or give --api-secret\)/],
    [['--base-url', 'https://h.example', '--tenant-id', TENANT, '--max-audiences', '0'], { THRIVE_API_SECRET: 's' }, /--max-audiences must be a whole number from 1, got "0"/],
    [['--bogus'], {}, /Unknown option '--bogus'.*snapshot --help/]
  ]
  for (const [argv, env, message] of cases) {
    let stderr = ''
    const code = await runSnapshot(argv, env, { stderr: { write: (text: string) => { stderr += text } } })
    t.equal(code, 1, argv.join(' '))
    t.match(stderr, message)
    t.equal(stderr.split('\n').length, 2, 'one line')
  }
  let help = ''
  t.equal(await runSnapshot(['--help'], {}, { stderr: { write: (text: string) => { help += text } } }), 0)
  t.match(help, /Usage: thrive-audience-mock snapshot --base-url <url> --tenant-id <id>/)
})

t.test("the server's --help points to the snapshot command, whose --help the built CLI prints", async (t) => {
  const main = await runCli(['--help'])
  t.equal(main.code, 0)
  t.match(main.stdout, /\n {7}thrive-audience-mock snapshot --help {3}\(copy a real tenant into a fixture file\)\n/)
  const own = await runCli(['snapshot', '--help'])
  t.equal(own.code, 0)
  t.equal(own.stderr, '')
  t.match(own.stdout, /^Usage: thrive-audience-mock snapshot --base-url <url> --tenant-id <id> \[options\]\n/)
})

t.test('--api-secret is taken too, and a file that cannot be written is an error with no temporary file left', async (t) => {
  const up = await upstream(t, 10)
  const dir = await tempDir()
  let stderr = ''
  const code = await runSnapshot(['--base-url', up.url, '--tenant-id', TENANT, '--api-secret', GENERATED_TENANT.apiSecret, '--out', join(dir, 'missing', 'x.json')], {}, { stderr: { write: (text: string) => { stderr += text } } })
  t.equal(code, 1)
  t.match(stderr, /cannot write .*missing\/x\.json: ENOENT/)
  t.same(await readdir(dir), [])
})

t.test('without --out the file is <tenant-id>.snapshot.json in the working directory', async (t) => {
  const up = await upstream(t, 10)
  const dir = await tempDir()
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => { process.chdir(cwd) })
  let stderr = ''
  const code = await runSnapshot(['--base-url', up.url, '--tenant-id', TENANT], { THRIVE_API_SECRET: GENERATED_TENANT.apiSecret }, { stderr: { write: (text: string) => { stderr += text } } })
  t.equal(code, 0, stderr)
  t.same(await readdir(dir), [`${TENANT}.snapshot.json`])
  t.match(stderr, `wrote ${TENANT}.snapshot.json: 10 audiences`)
})

t.test('Ctrl-C removes the temporary file, whenever it comes, and exits 130', async (t) => {
  const up = await upstream(t, 10)
  const listeners: Array<() => void> = []
  const exits: number[] = []
  const run = await snapshot(up.url, [], {}, { signals: { once: (_event, listener) => listeners.push(listener), exit: (code) => { exits.push(code) } } })
  t.equal(run.code, 0)
  t.equal(listeners.length, 1, 'one SIGINT listener')
  const temp = `${run.out}.${process.pid}.tmp`
  await writeFile(temp, '{')
  const exited = new Promise<void>((resolve) => { const check = () => exits.length > 0 ? resolve() : setImmediate(check); check() })
  listeners[0]?.()
  await exited
  t.same(exits, [130])
  t.same(await readdir(join(run.out, '..')), ['tenant.json'], 'the temporary file is gone, a finished fixture stays')
})
