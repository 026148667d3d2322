// Fixture loading: every problem stops start-up with one message naming the file, the JSON path and the problem.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { DEFAULT_FIXTURES } from '../../src/config.js'
import { DataFileError } from '../../src/data-file.js'
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
  t.ok(all.some((a) => a.category === 'audience' && a.parent !== null))
})

t.test('several files in a directory are merged, in name order', async (t) => {
  const d = dir({ 'b.json': { tenants: [tenant({ tenantId: 'eu-west-2_Second2' })] }, 'a.json': { tenants: [tenant()] }, 'notes.txt': 'ignored' })
  const seed = loadFixtures([{ path: d }])
  t.same(seed.tenants.map((x) => x.tenantId), ['eu-west-2_FixTest1', 'eu-west-2_Second2'])
  t.equal(seed.sources.length, 2)
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
  t.same(structure?.parent, null)
  t.same(child?.parent, { name: 'Tech', reference: 'tech', id: structure?.id })
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

t.test('invalid JSON', async (t) => {
  expectError(t, { 'broken.json': '{ "tenants": [' }, 'broken.json', '$', /invalid JSON/)
})

t.test('an unreadable entry in a directory', async (t) => {
  const d = dir({})
  mkdirSync(join(d, 'sub.json'))
  t.throws(() => loadFixtures([{ path: d }]), /sub\.json: \$: cannot read file \(EISDIR\)/)
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
