// Fixture loading: every problem stops start-up with one message naming the file, the JSON path and the problem.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
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
