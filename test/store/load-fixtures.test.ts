// Fixture loading: every problem stops start-up with one message naming the file, the JSON path and the problem.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { DEFAULT_FIXTURES, defaultConfig } from '../../src/config.js'
import { DataFileError, locateJsonError, readJsonFile } from '../../src/data-file.js'
import { deriveId, loadFixtures } from '../../src/store/load-fixtures.js'

const tenant = (extra: Record<string, unknown> = {}) => ({
  tenantId: 'eu-west-2_FixTest1',
  apiSecret: 's3cret',
  structures: [{ name: 'Tech', reference: 'tech', audiences: [{ name: 'Backend', reference: 'backend' }] }],
  ...extra
})

function dir (files: Record<string, unknown>): string {
  const d = mkdtempSync(join(tmpdir(), 'fixtures-'))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), typeof content === 'string' ? content : JSON.stringify(content))
  return d
}

function expectError (t: Test, files: Record<string, unknown>, file: string, path: string, problem: RegExp) {
  const d = dir(files)
  try {
    loadFixtures([{ path: d }])
    t.fail('expected a DataFileError')
  } catch (err) {
    t.type(err, DataFileError)
    const e = err as DataFileError
    t.equal(e.source.endsWith(file), true, `names the file ${file}`)
    t.equal(e.path, path)
    t.match(e.message, problem)
    t.match(e.message, new RegExp(`${file}: ${path.replace(/[$[\].]/g, '\\$&')}: `))
  }
}

t.test('the bundled fixtures load: two tenants, structures with children, a smart and a UI-created audience', async (t) => {
  const seed = loadFixtures([{ path: DEFAULT_FIXTURES }])
  t.equal(seed.tenants.length, 2)
  const all = seed.tenants.flatMap((x) => x.audiences)
  t.ok(all.some((a) => a.type === 'smart'))
  t.ok(all.some((a) => !a.apiControlled))
  t.ok(all.some((a) => a.category === 'audience' && a.parentId !== null))
})

t.test('the bundled fixtures have users, members and managers for every members and managers operation to show (part C)', async (t) => {
  const seed = loadFixtures([{ path: DEFAULT_FIXTURES }])
  const [acme, globex] = seed.tenants
  t.same(seed.tenants.map((x) => x.users.length), [7, 3], 'several users per tenant')
  t.ok(acme?.users.some((u) => u.firstName === null && u.lastName === null), 'an account without a name')
  t.ok(acme?.users.some((u) => u.email !== u.email.toLowerCase()), 'an email in mixed case')
  const ada = (x: typeof acme) => x?.users.find((u) => u.reference === 'ada.lovelace')?.id
  t.ok(ada(acme) !== undefined && ada(globex) !== undefined && ada(acme) !== ada(globex), 'the same user reference in both tenants names two users')
  const byRef = new Map(seed.tenants.flatMap((x) => x.audiences.map((a) => [`${x.tenantId} ${a.reference}`, a] as const)))
  const at = (ref: string) => byRef.get(`eu-west-2_AcmeCorp1 ${ref}`)
  t.same(at('backend')?.members, ['6601a1000000000000000001', '6601a1000000000000000003', '6601a1000000000000000005', '6601a1000000000000000002'], 'members named by reference, email in another case and id, in order')
  t.equal(at('data analytics')?.members, undefined, 'a child audience without members')
  t.same(at('engineering')?.managers?.[0]?.permissions.administrator, { canManageAudiences: false, canAddAudienceManagers: true }, 'a structure manager with an administrator block')
  t.equal(at('backend')?.managers?.length, 1, 'a child audience manager')
  t.equal(at('backend')?.managers?.[0]?.permissions.administrator, undefined)
  t.equal(at('locations')?.managers?.[0]?.permissions.administrator?.canManageAudiences, true, 'a UI-created structure grants canManageAudiences')
  t.equal(at('remote-staff')?.managers?.[0]?.permissions.audienceManager.manageMembers, true, 'a UI-created audience grants manageMembers')
  t.ok(at('london-office')?.members !== undefined, 'a smart audience has members')
  t.ok(globex?.audiences.some((a) => a.managers !== undefined) && globex.audiences.some((a) => a.members !== undefined))
  // Examples and tests name these ids and references.
  t.same(acme?.audiences.filter((a) => a.id.startsWith('63f8c536') || a.id.startsWith('64a1b2c3') || a.id.startsWith('65c0ffee')).map((a) => `${a.id} ${a.reference}`), [
    '63f8c5361b9c80d3274be7ca engineering', '63f8c5361b9c80d3274be7cb backend', '63f8c5361b9c80d3274be7cc frontend',
    '64a1b2c3d4e5f60718293a4b sales', '65c0ffee00000000000000a1 locations', '65c0ffee00000000000000a2 london-office'
  ])
  t.same(seed.tenants.flatMap((x) => x.audiences.map((a) => a.reference)), ['engineering', 'backend', 'frontend', 'data analytics', 'sales', 'sales/emea', 'équipe-paris', 'locations', 'london-office', 'remote-staff', 'engineering', 'platform', 'mobile', 'customer-success', 'onboarding'])
})

t.test('the README\'s example of users, members and managers loads as it reads', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const block = /Users, members and managers:\n\n```json\n([\s\S]*?)```/.exec(readme)?.[1]
  const seed = loadFixtures([{ name: 'README', data: JSON.parse(block ?? 'null') }])
  const [ada, bob] = seed.tenants[0]?.users ?? []
  t.same(bob, { id: '6601a1000000000000000002', reference: 'bob', email: 'Bob@Example.com', firstName: null, lastName: null })
  t.same(seed.tenants[0]?.audiences[1]?.members, [ada?.id, bob?.id])
  t.same(seed.tenants[0]?.audiences[0]?.managers, [{
    userId: ada?.id,
    permissions: {
      audienceManager: { manageMembers: false, manageContent: true, assignments: false },
      peopleManager: { canViewLearnPage: false, insights: true, manage: false },
      administrator: { canManageAudiences: false, canAddAudienceManagers: true }
    }
  }])
})

t.test('several files in a directory are merged, in name order', async (t) => {
  const d = dir({ 'b.json': { tenants: [tenant({ tenantId: 'eu-west-2_Second2' })] }, 'a.json': { tenants: [tenant()] }, 'notes.txt': 'ignored' })
  const seed = loadFixtures([{ path: d }])
  t.same(seed.tenants.map((x) => x.tenantId), ['eu-west-2_FixTest1', 'eu-west-2_Second2'])
  t.same(seed.sources, [relative(process.cwd(), join(d, 'a.json')), relative(process.cwd(), join(d, 'b.json'))])
  t.same(seed.skipped, [{ file: relative(process.cwd(), join(d, 'notes.txt')), reason: 'not a .json file' }])
})

t.test('a directory loads .json files whatever the case of the extension, and reports every entry it skips with the reason', async (t) => {
  const d = dir({
    'a.JSON': { tenants: [tenant()] },
    'b.Json': { tenants: [tenant({ tenantId: 'eu-west-2_Second2' })] },
    'c.yaml': 'tenants: []',
    'd.YML': 'tenants: []',
    'e.txt': 'notes'
  })
  mkdirSync(join(d, 'nested'))
  writeFileSync(join(d, 'nested', 'f.json'), JSON.stringify({ tenants: [tenant({ tenantId: 'eu-west-2_Nested3' })] }))
  symlinkSync(join(d, 'gone.json'), join(d, 'g.json'))
  execFileSync('mkfifo', [join(d, 'h.json')])
  const seed = loadFixtures([{ path: d }])
  const at = (f: string) => relative(process.cwd(), join(d, f))
  t.same(seed.tenants.map((x) => x.tenantId), ['eu-west-2_FixTest1', 'eu-west-2_Second2'])
  t.same(seed.sources, [at('a.JSON'), at('b.Json')])
  t.same(seed.skipped, [
    { file: at('c.yaml'), reason: 'YAML is not read: write fixtures as JSON' },
    { file: at('d.YML'), reason: 'YAML is not read: write fixtures as JSON' },
    { file: at('e.txt'), reason: 'not a .json file' },
    { file: at('g.json'), reason: 'cannot read (ENOENT)' },
    { file: at('h.json'), reason: 'not a regular file' },
    { file: at('nested'), reason: 'a subdirectory: only the files directly in a fixture directory are read' }
  ])
})

t.test('a directory with nothing to load names what it skipped', async (t) => {
  const d = dir({ 'a.yaml': 'tenants: []' })
  t.throws(() => loadFixtures([{ path: d }]), { message: `${d}: $: directory holds no .json fixture files (skipped ${relative(process.cwd(), join(d, 'a.yaml'))}: YAML is not read: write fixtures as JSON)` })
})

t.test('the app logs, at info on start, the fixture files loaded and those skipped with the reason', async (t) => {
  const d = dir({ 'a.json': { tenants: [tenant()] }, 'b.yml': 'x: 1' })
  const lines: string[] = []
  const app = await buildApp(defaultConfig({ fixtures: [{ path: d }] }), { logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  t.teardown(() => app.close())
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'fixtures loaded')
  t.match(line, { level: 30 })
  t.same(line?.loaded, [relative(process.cwd(), join(d, 'a.json'))])
  t.same(line?.skipped, [{ file: relative(process.cwd(), join(d, 'b.yml')), reason: 'YAML is not read: write fixtures as JSON' }])
})

t.test('a UTF-8 byte order mark before the JSON is ignored (RFC 8259 §8.1), in fixtures and in the faults file', async (t) => {
  const d = dir({})
  const text = JSON.stringify({ tenants: [tenant()] }, null, 2)
  writeFileSync(join(d, 'bom.json'), `\ufeff${text}`)
  const seed = loadFixtures([{ path: join(d, 'bom.json') }])
  t.same(seed.tenants, loadFixtures([{ name: join(d, 'bom.json'), data: JSON.parse(text) }]).tenants)
  writeFileSync(join(d, 'faults.json'), '\ufeff[{"effect": {"status": 503}}]')
  t.same(readJsonFile('faults file', join(d, 'faults.json')), [{ effect: { status: 503 } }])
  // Columns count from after the mark, as editors show them.
  writeFileSync(join(d, 'bom-broken.json'), '\ufeff{\n  x')
  t.throws(() => loadFixtures([{ path: join(d, 'bom-broken.json') }]), { message: `${join(d, 'bom-broken.json')}: $: invalid JSON at line 2, column 3: unexpected character "x", expected a property name in double quotes` })
})

t.test('a YAML file given by path is not read as YAML, and its JSON error says so', async (t) => {
  const d = dir({ 'f.yaml': 'tenants:\n  - tenantId: x\n', 'g.yml': JSON.stringify({ tenants: [tenant()] }) })
  t.throws(() => loadFixtures([{ path: join(d, 'f.yaml') }]), { message: `${join(d, 'f.yaml')}: $: invalid JSON at line 1, column 2: unexpected character "e", expected "true" (YAML is not read: write the file as JSON)` })
  t.equal(loadFixtures([{ path: join(d, 'g.yml') }]).tenants.length, 1, 'JSON in a .yml file is still JSON')
})

t.test('a single file path loads that file', async (t) => {
  const d = dir({ 'one.json': { tenants: [tenant()] } })
  t.equal(loadFixtures([{ path: join(d, 'one.json') }]).tenants.length, 1)
})

t.test('missing ids and timestamps are derived deterministically: same fixtures, same values', async (t) => {
  const a = loadFixtures([{ name: 'x', data: { tenants: [tenant()] } }])
  const b = loadFixtures([{ name: 'y', data: { tenants: [tenant()] } }])
  t.same(a.tenants[0]?.audiences, b.tenants[0]?.audiences)
  const [structure, child] = a.tenants[0]?.audiences ?? []
  t.equal(structure?.id, deriveId('eu-west-2_FixTest1', 'tech'))
  t.equal(child?.id, deriveId('eu-west-2_FixTest1', 'tech', 'backend'))
  t.match(structure?.id, /^[0-9a-f]{24}$/)
  t.match(structure?.createdAt, /^2024-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(structure?.updatedAt, structure?.createdAt)
  t.equal(structure?.parentId, null)
  t.equal(child?.parentId, structure?.id)
  t.equal(structure?.apiControlled, true)
  t.equal(structure?.type, 'manual')
})

t.test('timestamps with an offset are stored in UTC with milliseconds (B.3)', async (t) => {
  const seed = loadFixtures([{ name: 'x', data: { tenants: [tenant({ structures: [{ name: 'T', reference: 't', createdAt: '2024-01-15T12:20:30+02:00', updatedAt: '2024-01-15T10:20:30.5Z' }] })] } }])
  t.equal(seed.tenants[0]?.audiences[0]?.createdAt, '2024-01-15T10:20:30.000Z')
  t.equal(seed.tenants[0]?.audiences[0]?.updatedAt, '2024-01-15T10:20:30.500Z')
})

t.test('a duplicate tenant across files names the second file and the first', async (t) => {
  expectError(t, { 'a.json': { tenants: [tenant()] }, 'b.json': { tenants: [tenant()] } }, 'b.json', '$.tenants[0].tenantId', /duplicate tenant "eu-west-2_FixTest1" \(already defined in .*a\.json\)/)
})

t.test('a duplicate id within a tenant', async (t) => {
  const id = '0123456789abcdef01234567'
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ id, name: 'A', reference: 'a' }, { id, name: 'B', reference: 'b' }] })] } }, 'f.json', '$.tenants[0].structures[1].id', /duplicate id "0123456789abcdef01234567"/)
})

t.test('a duplicate reference within a tenant, even between a structure and a child', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A', reference: 'a', audiences: [{ name: 'B', reference: 'a' }] }] })] } }, 'f.json', '$.tenants[0].structures[0].audiences[0].reference', /duplicate reference "a"/)
})

t.test('a malformed id', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ id: 'XYZ', name: 'A', reference: 'a' }] })] } }, 'f.json', '$.tenants[0].structures[0].id', /must match pattern .*got "XYZ"/)
})

t.test('an unknown field', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ colour: 'blue' })] } }, 'f.json', '$.tenants[0].colour', /unknown field "colour"/)
})

t.test('a wrong type', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A', reference: 'a', apiControlled: 'yes' }] })] } }, 'f.json', '$.tenants[0].structures[0].apiControlled', /must be boolean, got "yes"/)
})

t.test('a value outside an enum lists the allowed values', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ clients: [{ clientId: 'c', clientSecret: 's', scopes: ['api/everything'] }] })] } }, 'f.json', '$.tenants[0].clients[0].scopes[0]', /one of "api\/read", "api\/write", "api\/all", "api\/webhooks"/)
})

t.test('a missing required field', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A' }] })] } }, 'f.json', '$.tenants[0].structures[0].reference', /required field is missing/)
})

t.test('a malformed tenant id', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ tenantId: 'not a tenant' })] } }, 'f.json', '$.tenants[0].tenantId', /must match pattern/)
})

t.test('invalid JSON names the line and the column where it breaks', async (t) => {
  expectError(t, { 'broken.json': '{ "tenants": [' }, 'broken.json', '$', /: invalid JSON at line 1, column 15: unexpected end of input, expected a value$/)
  expectError(t, { 'broken.json': '{\n  "tenants": [\n    { "tenantId": "x", }\n  ]\n}\n' }, 'broken.json', '$', /: invalid JSON at line 3, column 24: unexpected character "}", expected a property name in double quotes$/)
})

// Every way RFC 8259's grammar can break, with where: the position is found by walking the grammar, since
// JSON.parse's messages differ between Node versions and Node 20 gives no position for an unexpected token.
const SYNTAX_ERRORS: Array<[string, number, number, string]> = [
  ['', 1, 1, 'unexpected end of input, expected a value'],
  ['  \r\n\t', 2, 2, 'unexpected end of input, expected a value'],
  ['{"a": x}', 1, 7, 'unexpected character "x", expected a value'],
  ['{"a": tru}', 1, 10, 'unexpected character "}", expected "true"'],
  ['[fals', 1, 6, 'unexpected end of input, expected "false"'],
  ['nul', 1, 4, 'unexpected end of input, expected "null"'],
  ['{"a" 1}', 1, 6, 'unexpected character "1", expected \':\' after a property name'],
  ['{"a": 1,}', 1, 9, 'unexpected character "}", expected a property name in double quotes'],
  ['{"a": 1 "b": 2}', 1, 9, 'unexpected character "\\"", expected \',\' or \'}\''],
  ['[1, 2\n', 2, 1, 'unexpected end of input, expected \',\' or \']\''],
  ['[[], {}, [1, {"a": [true, false, null]}]] x', 1, 43, 'unexpected character "x", expected the end of the file after the JSON value'],
  ['{"a": 01}', 1, 8, 'unexpected character "1", expected \',\' or \'}\''],
  ['[12', 1, 4, 'unexpected end of input, expected \',\' or \']\''],
  ['"\\u12', 1, 6, 'unexpected end of input, expected four hex digits after \\u'],
  ['-', 1, 2, 'unexpected end of input, expected a digit'],
  ['[-x]', 1, 3, 'unexpected character "x", expected a digit'],
  ['1.', 1, 3, 'unexpected end of input, expected a digit after the decimal point'],
  ['-12.5e', 1, 7, 'unexpected end of input, expected a digit in the exponent'],
  ['[1E+x]', 1, 5, 'unexpected character "x", expected a digit in the exponent'],
  ['"abc', 1, 5, 'unexpected end of input, expected a closing \'"\''],
  ['"a\u0001"', 1, 3, 'unexpected character "\\u0001", expected an escaped control character (\\n, \\t, \\u0001...)'],
  ['"\\q"', 1, 3, 'unexpected character "q", expected an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u'],
  ['"\\u12G4"', 1, 6, 'unexpected character "G", expected four hex digits after \\u'],
  ['"\\"\\\\\\/\\b\\f\\n\\r\\t\\uAbC9" 1', 1, 26, 'unexpected character "1", expected the end of the file after the JSON value']
]

t.test('each kind of JSON syntax error is named, with its line and column', async (t) => {
  const d = dir({})
  for (const [text, line, column, problem] of SYNTAX_ERRORS) {
    t.throws(() => JSON.parse(text), SyntaxError, `${JSON.stringify(text)} is not JSON`)
    const file = join(d, 'f.json')
    writeFileSync(file, text)
    t.throws(() => readJsonFile('fixture', file), { message: `${file}: $: invalid JSON at line ${line}, column ${column}: ${problem}` }, JSON.stringify(text))
    const where = locateJsonError(text)
    const position = /at position (\d+)/.exec((() => { try { JSON.parse(text) } catch (err) { return (err as Error).message } })() ?? '')
    if (position !== null) t.equal(where?.offset, Number(position[1]), `the same position as JSON.parse reports for ${JSON.stringify(text)}`)
  }
  t.equal(locateJsonError('{"a": [1, -2.5e+3, "\\u00e9", {}], "b": {"c": null}}'), null, 'valid JSON has no error')
})

t.test('an unreadable file is named with the reason', async (t) => {
  const d = dir({})
  t.throws(() => readJsonFile('faults file', d), { message: `${d}: $: cannot read file (EISDIR)` })
})

t.test('a missing path and an empty directory', async (t) => {
  t.throws(() => loadFixtures([{ path: '/nonexistent/fixtures.json' }]), /\/nonexistent\/fixtures\.json: \$: no such file or directory/)
  t.throws(() => loadFixtures([{ path: dir({}) }]), /directory holds no \.json fixture files/)
})

t.test('a duplicate client id, or a client id equal to the Tenant ID', async (t) => {
  const client = { clientId: 'c1', clientSecret: 's', scopes: ['api/read'] }
  expectError(t, { 'f.json': { tenants: [tenant({ clients: [client, client] })] } }, 'f.json', '$.tenants[0].clients[1].clientId', /duplicate client id "c1"/)
  expectError(t, { 'f.json': { tenants: [tenant({ clients: [{ ...client, clientId: 'eu-west-2_FixTest1' }] })] } }, 'f.json', '$.tenants[0].clients[0].clientId', /duplicate client id/)
})

t.test('Thrive\'s rules: API-controlled audiences are manual and live only in API-controlled structures', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A', reference: 'a', type: 'smart' }] })] } }, 'f.json', '$.tenants[0].structures[0].type', /always "manual"/)
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A', reference: 'a', apiControlled: false, audiences: [{ name: 'B', reference: 'b' }] }] })] } }, 'f.json', '$.tenants[0].structures[0].audiences[0].apiControlled', /only live inside an API-controlled structure/)
})

t.test('updatedAt before createdAt', async (t) => {
  expectError(t, { 'f.json': { tenants: [tenant({ structures: [{ name: 'A', reference: 'a', createdAt: '2024-02-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' }] })] } }, 'f.json', '$.tenants[0].structures[0].updatedAt', /is before createdAt/)
})

t.test('inline sources are named in messages, and odd keys are quoted in the JSON path', async (t) => {
  t.throws(() => loadFixtures([{ name: 'inline', data: { tenants: [tenant({ 'odd key': 1 })] } }]), /^inline: \$\.tenants\[0\]\["odd key"\]: unknown field "odd key"$/)
  t.throws(() => loadFixtures([{ name: 'inline', data: { tenants: [tenant({ apiSecret: undefined })] } }]), { message: /apiSecret: must be string, got undefined$/ })
  t.throws(() => loadFixtures([{ name: 'inline', data: [] }]), /^inline: \$: must be object, got \[\]$/)
  t.throws(() => loadFixtures([{ name: 'inline', data: { tenants: [tenant({ structures: [{ name: 'x'.repeat(101), reference: 'r' }] })] } }]), { message: /must not have more than 100 characters, got "x{56}\.\.\.$/ })
})

t.test('nothing is half-loaded: one bad file among good ones loads nothing', async (t) => {
  const d = dir({ 'a.json': { tenants: [tenant()] }, 'b.json': '{' })
  t.throws(() => loadFixtures([{ path: d }]), DataFileError)
})

// Users, members and managers (thrive-api.md part C, decided 7 and 8): a user ref is an id, a reference or an
// email (case-insensitively); managers are stored with the output permissions the API serves.
const people = (extra: Record<string, unknown> = {}) => tenant({
  users: [
    { reference: 'u-ada', email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace' },
    { id: 'abcdefabcdefabcdefabcdef', reference: 'u-bob', email: 'bob@example.com' },
    { reference: 'u-cy', email: 'cy@example.com', firstName: null, lastName: 'Young' }
  ],
  ...extra
})
const ALL_FALSE = {
  audienceManager: { manageMembers: false, manageContent: false, assignments: false },
  peopleManager: { canViewLearnPage: false, insights: false, manage: false }
}

t.test('users, members and managers resolve into the seed: ids derived, names null when absent, members as user ids in order, managers with output permissions', async (t) => {
  const seed = loadFixtures([{
    name: 'x',
    data: {
      tenants: [people({
        structures: [{
          name: 'Tech',
          reference: 'tech',
          managers: [
            { user: 'u-bob', permissions: { administrator: { canAddAudienceManagers: true }, peopleManager: { insights: true } } },
            { user: 'ada@example.COM' }
          ],
          audiences: [
            { name: 'Backend', reference: 'backend', members: ['u-cy', 'ADA@example.com', 'abcdefabcdefabcdefabcdef'], managers: [{ user: 'u-cy', permissions: { audienceManager: { manageContent: true, assignments: true }, administrator: { canAddAudienceManagers: false } } }] },
            { name: 'Empty', reference: 'empty', members: [], managers: [] }
          ]
        }, {
          name: 'UI',
          reference: 'ui',
          apiControlled: false,
          managers: [{ user: 'u-ada', permissions: { administrator: { canManageAudiences: true } } }],
          audiences: [{ name: 'Site', reference: 'site', apiControlled: false, managers: [{ user: 'u-ada', permissions: { audienceManager: { manageMembers: true }, peopleManager: { canViewLearnPage: true, manage: true } } }] }]
        }]
      })]
    }
  }])
  const ada = deriveId('eu-west-2_FixTest1', 'user', 'u-ada')
  const cy = deriveId('eu-west-2_FixTest1', 'user', 'u-cy')
  const bob = 'abcdefabcdefabcdefabcdef'
  t.same(seed.tenants[0]?.users, [
    { id: ada, reference: 'u-ada', email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace' },
    { id: bob, reference: 'u-bob', email: 'bob@example.com', firstName: null, lastName: null },
    { id: cy, reference: 'u-cy', email: 'cy@example.com', firstName: null, lastName: 'Young' }
  ])
  t.match(ada, /^[0-9a-f]{24}$/)
  const [tech, backend, empty, ui, site] = seed.tenants[0]?.audiences ?? []
  t.same(tech?.managers, [
    { userId: bob, permissions: { ...ALL_FALSE, peopleManager: { canViewLearnPage: false, insights: true, manage: false }, administrator: { canManageAudiences: false, canAddAudienceManagers: true } } },
    { userId: ada, permissions: { ...ALL_FALSE, administrator: { canManageAudiences: false, canAddAudienceManagers: false } } }
  ])
  t.equal(tech?.members, undefined, 'no members key when none are given')
  t.same(backend?.members, [cy, ada, bob], 'in the order given, by reference, email (any case) or id')
  t.same(backend?.managers, [{ userId: cy, permissions: { ...ALL_FALSE, audienceManager: { manageMembers: false, manageContent: true, assignments: true } } }], 'an all-false administrator block on a child is ignored')
  t.same(Object.keys(empty ?? {}).sort(), ['apiControlled', 'category', 'createdAt', 'id', 'name', 'parentId', 'reference', 'type', 'updatedAt'], 'empty lists leave no key')
  t.same(ui?.managers, [{ userId: ada, permissions: { ...ALL_FALSE, administrator: { canManageAudiences: true, canAddAudienceManagers: false } } }])
  t.same(site?.managers, [{ userId: ada, permissions: { audienceManager: { manageMembers: true, manageContent: false, assignments: false }, peopleManager: { canViewLearnPage: true, insights: false, manage: true } } }])
})

t.test('a tenant without users has none, and its audiences no members or managers', async (t) => {
  const seed = loadFixtures([{ name: 'x', data: { tenants: [tenant()] } }])
  t.same(seed.tenants[0]?.users, [])
  t.same(seed.tenants[0]?.audiences.filter((a) => 'members' in a || 'managers' in a), [])
})

t.test('a member or a manager that names no user of its own tenant entry', async (t) => {
  const f = (structures: unknown[], extra: Record<string, unknown> = {}) => ({ 'f.json': { tenants: [people({ structures, ...extra })] } })
  expectError(t, f([{ name: 'A', reference: 'a', audiences: [{ name: 'B', reference: 'b', members: ['u-ada', 'nobody'] }] }]), 'f.json', '$.tenants[0].structures[0].audiences[0].members[1]', /no user "nobody" in tenant eu-west-2_FixTest1: name one of the users listed in this tenant entry by id, reference or email$/)
  expectError(t, f([{ name: 'A', reference: 'a', managers: [{ user: 'u-ad' }] }]), 'f.json', '$.tenants[0].structures[0].managers[0].user', /no user "u-ad" in tenant/)
  // Users are per tenant: another tenant's user is unknown here, even in the same file.
  const other = { tenantId: 'eu-west-2_Other2', apiSecret: 's', users: [{ reference: 'u-zed', email: 'zed@example.com' }], structures: [] }
  expectError(t, { 'f.json': { tenants: [other, people({ structures: [{ name: 'A', reference: 'a', members: ['u-zed'] }] })] } }, 'f.json', '$.tenants[1].structures[0].members[0]', /no user "u-zed" in tenant eu-west-2_FixTest1/)
  // An email is matched case-insensitively, a reference exactly.
  expectError(t, f([{ name: 'A', reference: 'a', members: ['U-ADA'] }]), 'f.json', '$.tenants[0].structures[0].members[0]', /no user "U-ADA"/)
})

t.test('a duplicate user id, reference or email (case-insensitively) in a tenant', async (t) => {
  const users = (list: unknown[]) => ({ 'f.json': { tenants: [tenant({ users: list })] } })
  const id = '0123456789abcdef01234567'
  expectError(t, users([{ id, reference: 'a', email: 'a@x.io' }, { id, reference: 'b', email: 'b@x.io' }]), 'f.json', '$.tenants[0].users[1].id', /duplicate user id "0123456789abcdef01234567" in tenant eu-west-2_FixTest1 \(also at \$\.tenants\[0\]\.users\[0\]\)$/)
  expectError(t, users([{ reference: 'a', email: 'a@x.io' }, { id, reference: 'a', email: 'b@x.io' }]), 'f.json', '$.tenants[0].users[1].reference', /duplicate user reference "a" in tenant eu-west-2_FixTest1 \(also at \$\.tenants\[0\]\.users\[0\]\)$/)
  expectError(t, users([{ reference: 'a', email: 'a@x.io' }, { reference: 'b', email: 'b@x.io' }, { reference: 'c', email: 'B@X.io' }]), 'f.json', '$.tenants[0].users[2].email', /duplicate email "B@X\.io" in tenant eu-west-2_FixTest1, compared case-insensitively \(also at \$\.tenants\[0\]\.users\[1\]\)$/)
  // A derived id collides when a given id equals the one derived from another user's reference.
  expectError(t, users([{ reference: 'a', email: 'a@x.io' }, { id: deriveId('eu-west-2_FixTest1', 'user', 'a'), reference: 'b', email: 'b@x.io' }]), 'f.json', '$.tenants[0].users[1].id', /duplicate user id/)
  // The same reference or email in two tenants is fine.
  const seed = loadFixtures([{ name: 'x', data: { tenants: [people(), people({ tenantId: 'eu-west-2_Other2' })] } }])
  t.equal(seed.tenants[1]?.users[0]?.id, deriveId('eu-west-2_Other2', 'user', 'u-ada'), 'ids derive from the tenant too')
})

t.test('the same user twice in one audience\'s members or managers, however it is named', async (t) => {
  const f = (audience: Record<string, unknown>) => ({ 'f.json': { tenants: [people({ structures: [{ name: 'A', reference: 'a', ...audience }] })] } })
  expectError(t, f({ members: ['u-ada', 'u-bob', 'ADA@example.com'] }), 'f.json', '$.tenants[0].structures[0].members[2]', /user "ADA@example\.com" is already a member of this audience \(\$\.tenants\[0\]\.structures\[0\]\.members\[0\]\)$/)
  expectError(t, f({ managers: [{ user: 'abcdefabcdefabcdefabcdef' }, { user: 'u-bob' }] }), 'f.json', '$.tenants[0].structures[0].managers[1].user', /user "u-bob" is already a manager of this audience \(\$\.tenants\[0\]\.structures\[0\]\.managers\[0\]\)$/)
  // A member may also be a manager, and a user may belong to several audiences.
  const seed = loadFixtures([{ name: 'x', data: { tenants: [people({ structures: [{ name: 'A', reference: 'a', members: ['u-ada'], managers: [{ user: 'u-ada' }], audiences: [{ name: 'B', reference: 'b', members: ['u-ada'] }] }] })] } }])
  t.equal(seed.tenants[0]?.audiences[1]?.members?.[0], seed.tenants[0]?.audiences[0]?.managers?.[0]?.userId)
})

t.test('an administrator block with a true flag on a child audience is refused (part C decided 1)', async (t) => {
  for (const flag of ['canAddAudienceManagers', 'canManageAudiences']) {
    const child = { name: 'B', reference: 'b', apiControlled: false, managers: [{ user: 'u-ada', permissions: { administrator: { [flag]: true } } }] }
    expectError(t, { 'f.json': { tenants: [people({ structures: [{ name: 'A', reference: 'a', apiControlled: false, audiences: [child] }] })] } }, 'f.json', '$.tenants[0].structures[0].audiences[0].managers[0].permissions.administrator', /an administrator block applies to a structure only: on a child audience every flag must be false or absent$/)
  }
})

t.test('manageMembers and canManageAudiences, Thrive UI powers, are refused on an API-controlled audience (part C decided 8)', async (t) => {
  const f = (structure: Record<string, unknown>) => ({ 'f.json': { tenants: [people({ structures: [{ name: 'A', reference: 'a', ...structure }] })] } })
  expectError(t, f({ audiences: [{ name: 'B', reference: 'b', managers: [{ user: 'u-ada', permissions: { audienceManager: { manageMembers: true } } }] }] }), 'f.json', '$.tenants[0].structures[0].audiences[0].managers[0].permissions.audienceManager.manageMembers', /manageMembers is a Thrive UI power: only a UI-created audience \(apiControlled: false\) can grant it$/)
  expectError(t, f({ managers: [{ user: 'u-ada', permissions: { administrator: { canManageAudiences: true } } }] }), 'f.json', '$.tenants[0].structures[0].managers[0].permissions.administrator.canManageAudiences', /canManageAudiences is a Thrive UI power: only a UI-created structure \(apiControlled: false\) can grant it$/)
  // false is what an API-controlled audience shows anyway, so a snapshot that writes it loads back.
  const seed = loadFixtures([{ name: 'x', data: { tenants: [people({ structures: [{ name: 'A', reference: 'a', managers: [{ user: 'u-ada', permissions: { audienceManager: { manageMembers: false }, administrator: { canManageAudiences: false } } }] }] })] } }])
  t.same(seed.tenants[0]?.audiences[0]?.managers?.[0]?.permissions, { ...ALL_FALSE, administrator: { canManageAudiences: false, canAddAudienceManagers: false } })
})

t.test('users, members and managers are checked against the fixture schema', async (t) => {
  const users = (list: unknown[]) => ({ 'f.json': { tenants: [tenant({ users: list })] } })
  expectError(t, users([{ reference: 'a', email: 'not-an-email' }]), 'f.json', '$.tenants[0].users[0].email', /must match format "email", got "not-an-email"/)
  expectError(t, users([{ reference: 'a', email: `${'x'.repeat(250)}@x.io` }]), 'f.json', '$.tenants[0].users[0].email', /must not have more than 254 characters/)
  expectError(t, users([{ reference: 'r'.repeat(101), email: 'a@x.io' }]), 'f.json', '$.tenants[0].users[0].reference', /must not have more than 100 characters/)
  expectError(t, users([{ reference: '', email: 'a@x.io' }]), 'f.json', '$.tenants[0].users[0].reference', /must not have fewer than 1 characters/)
  expectError(t, users([{ email: 'a@x.io' }]), 'f.json', '$.tenants[0].users[0].reference', /required field is missing/)
  expectError(t, users([{ id: 'nope', reference: 'a', email: 'a@x.io' }]), 'f.json', '$.tenants[0].users[0].id', /must match pattern/)
  const manager = (m: unknown) => ({ 'f.json': { tenants: [people({ structures: [{ name: 'A', reference: 'a', managers: [m] }] })] } })
  expectError(t, manager({ user: 'u-ada', permissions: { audienceManager: { delete: true } } }), 'f.json', '$.tenants[0].structures[0].managers[0].permissions.audienceManager.delete', /unknown field "delete"/)
  expectError(t, manager({ user: 'u-ada', permissions: { peopleManager: { insights: 'yes' } } }), 'f.json', '$.tenants[0].structures[0].managers[0].permissions.peopleManager.insights', /must be boolean/)
  expectError(t, manager({ reference: 'u-ada' }), 'f.json', '$.tenants[0].structures[0].managers[0].user', /required field is missing/)
  expectError(t, { 'f.json': { tenants: [people({ structures: [{ name: 'A', reference: 'a', members: [42] }] })] } }, 'f.json', '$.tenants[0].structures[0].members[0]', /must be string, got 42/)
})
