// Property tests for fixture loading: any input is a seed or a DataFileError naming where; valid fixtures round-trip to the
// API, and their users, members and managers to the seed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { DataFileError } from '../../src/data-file.js'
import { deriveId, loadFixtures, type AudienceSeed } from '../../src/store/load-fixtures.js'
import { SCOPES } from '../../src/schemas/oauth.js'
import { basic, testConfig } from '../helpers.js'
import { servedAudience } from '../served.js'
import { fcOptions, hasControl } from './contract.js'

function loadOrDataFileError (load: () => unknown): 'loaded' | 'refused' {
  try {
    load()
    return 'loaded'
  } catch (err) {
    if (!(err instanceof DataFileError)) throw err
    if (!/^\$/.test(err.path)) throw new Error(`the JSON path "${err.path}" does not start at $`)
    return 'refused'
  }
}

const hex24 = fc.stringMatching(/^[0-9a-f]{24}$/)
const text100 = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.length <= 100)
// WHATWG URL parsers resolve "." and ".." segments even when percent-encoded, so no HTTP client can ask for them.
const reference = text100.filter((s) => s !== '.' && s !== '..')
const secret = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !hasControl(s) && s.length <= 512)
const instant = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true })

const audience = fc.record({
  id: fc.option(hex24, { nil: undefined }),
  name: text100,
  reference,
  apiControlled: fc.option(fc.boolean(), { nil: undefined }),
  smart: fc.boolean(),
  created: fc.option(fc.tuple(instant, fc.nat({ max: 10 ** 10 }), fc.constantFrom('Z', '+00:00', '+05:30', '-08:00')), { nil: undefined })
}).map(({ smart, created, ...a }) => {
  const out: Record<string, unknown> = { ...a }
  // Thrive: API-controlled audiences are always manual.
  if (a.apiControlled === false) out.type = smart ? 'smart' : 'manual'
  if (created !== undefined) {
    const [at, later, zone] = created
    const offsetMin = zone === 'Z' || zone === '+00:00' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
    const local = (ms: number) => new Date(ms + offsetMin * 60_000).toISOString().replace('Z', zone)
    out.createdAt = local(at.getTime())
    out.updatedAt = local(at.getTime() + later)
  }
  return out
})

// A user's reference has a '-', which no id has, and no '@', which every email has: each user ref names one user only.
const user = fc.record({
  id: fc.option(hex24, { nil: undefined }),
  reference: fc.stringMatching(/^u-[A-Za-z0-9._]{1,12}$/),
  email: fc.tuple(fc.stringMatching(/^[a-z0-9]{1,6}([._+-][a-z0-9]{1,5}){0,2}$/), fc.stringMatching(/^[a-z0-9]{1,10}\.[a-z]{2,6}$/), fc.boolean())
    .map(([local, domain, upper]) => upper ? `${local}@${domain}`.toUpperCase() : `${local}@${domain}`),
  firstName: fc.option(fc.option(text100, { nil: null }), { nil: undefined }),
  lastName: fc.option(fc.option(text100, { nil: null }), { nil: undefined })
}, { requiredKeys: ['reference', 'email'] })
const FLAGS = [
  ['audienceManager', 'manageMembers'], ['audienceManager', 'manageContent'], ['audienceManager', 'assignments'],
  ['peopleManager', 'canViewLearnPage'], ['peopleManager', 'insights'], ['peopleManager', 'manage'],
  ['administrator', 'canManageAudiences'], ['administrator', 'canAddAudienceManagers']
] as const
/** Who an audience names, as indices into the tenant's users, each by id, reference or email (in any case). */
const userRef = fc.tuple(fc.nat(), fc.constantFrom('id', 'reference', 'email', 'EMAIL'))
const people = fc.record({
  members: fc.array(userRef, { maxLength: 4 }),
  managers: fc.array(fc.tuple(userRef, fc.option(fc.array(fc.option(fc.boolean(), { nil: undefined }), { minLength: FLAGS.length, maxLength: FLAGS.length }), { nil: undefined })), { maxLength: 3 })
})
type People = typeof people extends fc.Arbitrary<infer P> ? P : never

/** An audience's members and managers from its drawn people, within the rules: each user once, UI powers and administrator flags only where allowed. */
function namePeople (tenantId: string, users: Array<Record<string, unknown>>, drawn: People, structure: boolean, apiControlled: boolean): Record<string, unknown> {
  if (users.length === 0) return {}
  const refOf = ([n, how]: [number, string]): [number, string] => {
    const u = users[n % users.length] as { id?: string, reference: string, email: string }
    return [n % users.length, how === 'id' ? u.id ?? deriveId(tenantId, 'user', u.reference) : how === 'reference' ? u.reference : how === 'email' ? u.email.toLowerCase() : u.email.toUpperCase()]
  }
  const once = <T>(items: T[], index: (item: T) => number): T[] => items.filter((item, i) => items.findIndex((other) => index(other) === index(item)) === i)
  const members = once(drawn.members.map(refOf), ([n]) => n).map(([, ref]) => ref)
  const managers = once(drawn.managers.map(([r, flags]) => [refOf(r), flags] as const), ([[n]]) => n).map(([[, ref], flags]) => {
    if (flags === undefined) return { user: ref }
    const permissions: Record<string, Record<string, boolean>> = {}
    FLAGS.forEach(([block, flag], i) => {
      const value = flags[i]
      if (value === undefined) return
      if (value && ((block === 'administrator' && !structure) || (apiControlled && (flag === 'manageMembers' || flag === 'canManageAudiences')))) return
      permissions[block] = { ...permissions[block], [flag]: value }
    })
    return { user: ref, permissions }
  })
  return { members, managers }
}

/** Fixtures that follow every rule of the format: unique ids and references per tenant, unique client ids, consistent apiControlled, users named by their members and managers. */
const fixture = fc.uniqueArray(
  fc.record({
    tenantId: fc.stringMatching(/^[a-z]{2}(-[a-z]{1,6}){1,2}-[0-9]{1,2}_[A-Za-z0-9]{1,10}$/),
    apiSecret: secret,
    clients: fc.option(fc.uniqueArray(fc.record({
      clientId: fc.stringMatching(/^[\x21-\x7e]{1,20}$/),
      clientSecret: secret,
      scopes: fc.shuffledSubarray([...SCOPES], { minLength: 1 })
    }), { maxLength: 3, selector: (c) => c.clientId }), { nil: undefined }),
    users: fc.option(fc.uniqueArray(user, { maxLength: 4, selector: (u) => u.reference }), { nil: undefined }),
    structures: fc.array(fc.tuple(fc.tuple(audience, people), fc.array(fc.tuple(audience, people), { maxLength: 3 })), { maxLength: 4 })
  }),
  { minLength: 1, maxLength: 3, selector: (x) => x.tenantId }
).map((tenants) => ({
  tenants: tenants.map(({ structures, clients, users, ...tenant }) => {
    const ids = new Set<string>()
    const refs = new Set<string>()
    const unique = ([a]: [Record<string, unknown>, People]) => {
      if (typeof a.id === 'string') { if (ids.has(a.id)) return false; ids.add(a.id) }
      if (refs.has(a.reference as string)) return false
      refs.add(a.reference as string)
      return true
    }
    const userIds = new Set<string>()
    const emails = new Set<string>()
    const tenantUsers = (users ?? []).filter((u) => {
      const id = u.id ?? deriveId(tenant.tenantId, 'user', u.reference)
      if (userIds.has(id) || emails.has(u.email.toLowerCase())) return false
      userIds.add(id)
      emails.add(u.email.toLowerCase())
      return true
    }) as Array<Record<string, unknown>>
    return {
      ...tenant,
      ...(clients === undefined ? {} : { clients: clients.filter((c) => c.clientId !== tenant.tenantId) }),
      ...(users === undefined ? {} : { users: tenantUsers }),
      structures: structures.filter(([s]) => unique(s)).map(([[s, sPeople], children]) => ({
        ...s,
        ...namePeople(tenant.tenantId, tenantUsers, sPeople, true, s.apiControlled !== false),
        audiences: children.filter(unique).map(([c, cPeople]) => {
          const child = s.apiControlled === false && c.apiControlled !== false ? { ...c, apiControlled: false } : c
          return { ...child, ...namePeople(tenant.tenantId, tenantUsers, cPeople, false, child.apiControlled !== false) }
        })
      }))
    }
  })
}))

/** A valid fixture with one value somewhere replaced, removed or added: near misses of the format. */
const mutated = fc.tuple(fixture, fc.nat(), fc.constantFrom('replace', 'remove', 'add'), fc.jsonValue({ maxDepth: 2 })).map(([doc, pick, how, value]) => {
  const containers: Array<Record<string, unknown> | unknown[]> = []
  const walk = (v: unknown) => {
    if (typeof v === 'object' && v !== null) {
      containers.push(v as Record<string, unknown>)
      for (const child of Object.values(v)) walk(child)
    }
  }
  walk(doc)
  const target = containers[pick % containers.length] as Record<string, unknown>
  const keys = Object.keys(target)
  const key = keys.length === 0 || how === 'add' ? `extra${pick}` : keys[pick % keys.length] as string
  if (how === 'remove') delete target[key]
  else target[key] = value
  return doc
})

t.test('loadFixtures with any JSON, or any near miss of a valid fixture, loads or throws a DataFileError; nothing else', async (t) => {
  const outcomes = { loaded: 0, refused: 0 }
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutated, fc.anything({ maxDepth: 3 })), (data) => {
    outcomes[loadOrDataFileError(() => loadFixtures([{ name: 'generated', data }]))]++
  }), fcOptions(1000))
  t.ok(outcomes.loaded > 50 && outcomes.refused > 500, JSON.stringify(outcomes))
})

t.test('fixture files with any bytes load or throw a DataFileError naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fixture-fuzz-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  fc.assert(fc.property(fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
    fixture.map((f) => Buffer.from(JSON.stringify(f))),
    fc.tuple(fixture, fc.nat()).map(([f, cut]) => { const s = JSON.stringify(f); return Buffer.from(s.slice(0, cut % s.length)) }),
    fixture.map((f) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(f))]))
  ), fc.nat(), (bytes, n) => {
    const file = join(dir, `f${n}.json`)
    writeFileSync(file, bytes)
    try {
      loadFixtures([{ path: file }])
    } catch (err) {
      if (!(err instanceof DataFileError)) throw err
      if (err.source !== file) throw new Error(`the error names ${err.source}, not ${file}`)
    }
  }), fcOptions(150))
  t.pass('every file loaded or was refused by name')
})

const encodeSegment = (s: string) => encodeURIComponent(s).replaceAll('.', '%2E')

/**
 * A seeded audience's members and managers are the users its fixture names, in order, with every output flag present:
 * false unless given, administrator on a structure only (part C, decided 7 and 8).
 */
function checkPeople (tenant: { users: ReadonlyArray<{ id: string, reference: string, email: string }> }, audience: AudienceSeed, source: Record<string, unknown>): void {
  const idOf = (ref: string) => tenant.users.find((u) => u.id === ref || u.reference === ref || u.email.toLowerCase() === ref.toLowerCase())?.id
  const members = (source.members ?? []) as string[]
  if (JSON.stringify(audience.members ?? []) !== JSON.stringify(members.map(idOf))) throw new Error(`members of ${audience.reference}: ${JSON.stringify(audience.members)}`)
  if (audience.members?.length === 0) throw new Error('an empty members list is left out')
  const managers = (source.managers ?? []) as Array<{ user: string, permissions?: Record<string, Record<string, boolean>> }>
  const expected = managers.map(({ user, permissions = {} }) => {
    const out: Record<string, Record<string, boolean>> = {}
    for (const [block, flag] of FLAGS) {
      if (block === 'administrator' && audience.category !== 'structure') continue
      out[block] = { ...out[block], [flag]: permissions[block]?.[flag] ?? false }
    }
    return { userId: idOf(user), permissions: out }
  })
  if (JSON.stringify(audience.managers ?? []) !== JSON.stringify(expected)) throw new Error(`managers of ${audience.reference}: ${JSON.stringify(audience.managers)} != ${JSON.stringify(expected)}`)
}

t.test('valid fixtures round-trip: every audience is served by id and by reference with exactly its fields, to its own tenant only', async (t) => {
  await fc.assert(fc.asyncProperty(fixture, async (data) => {
    const seed = loadFixtures([{ name: 'generated', data }])
    const app = await buildApp(testConfig({ fixtures: [{ name: 'generated', data }] }))
    try {
      for (const [i, tenant] of data.tenants.entries()) {
        const auth = { authorization: basic(tenant.tenantId, tenant.apiSecret) }
        const seeded = seed.tenants.find((s) => s.tenantId === tenant.tenantId)
        const given = tenant.structures.flatMap((s) => [s, ...s.audiences]) as Array<Record<string, unknown>>
        if (seeded?.audiences.length !== given.length) throw new Error('every fixture audience is in the seed')
        const users = ((tenant as { users?: Array<Record<string, unknown>> }).users ?? []).map((u) => ({
          id: u.id ?? deriveId(tenant.tenantId, 'user', u.reference as string),
          reference: u.reference,
          email: u.email,
          firstName: u.firstName ?? null,
          lastName: u.lastName ?? null
        }))
        if (JSON.stringify(seeded.users) !== JSON.stringify(users)) throw new Error(`users: ${JSON.stringify(seeded.users)} != ${JSON.stringify(users)}`)
        const ids = new Set(seeded.audiences.map((a) => a.id))
        for (const [k, audience] of seeded.audiences.entries()) {
          const source = given[k] as Record<string, unknown>
          if (audience.name !== source.name || audience.reference !== source.reference) throw new Error(`fields changed: ${JSON.stringify(audience)}`)
          if (source.id !== undefined && audience.id !== source.id) throw new Error('a given id is kept')
          if (!/^[0-9a-f]{24}$/.test(audience.id)) throw new Error(`id ${audience.id}`)
          if (source.createdAt !== undefined && Date.parse(audience.createdAt) !== Date.parse(source.createdAt as string)) throw new Error(`createdAt ${audience.createdAt} != ${String(source.createdAt)}`)
          if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(audience.createdAt) || audience.updatedAt < audience.createdAt) throw new Error(`timestamps ${audience.createdAt} ${audience.updatedAt}`)
          checkPeople(seeded, audience, source)
          const served = JSON.stringify(servedAudience(audience, seeded.audiences))
          const byId = await app.inject({ url: `/rest/v1/audiences/${audience.id}`, headers: auth })
          if (byId.statusCode !== 200 || byId.body !== served) throw new Error(`by id: ${byId.statusCode} ${byId.body} != ${served}`)
          // Thrive looks up an exact id first, so a reference that equals another audience's id finds that one.
          if (ids.has(audience.reference) && audience.reference !== audience.id) continue
          const byRef = await app.inject({ url: `/audiences/${encodeSegment(audience.reference)}`, headers: auth })
          if (byRef.statusCode !== 200 || byRef.body !== byId.body) throw new Error(`by reference ${JSON.stringify(audience.reference)}: ${byRef.statusCode} ${byRef.body}`)
          const other = data.tenants[(i + 1) % data.tenants.length]
          if (other !== undefined && other.tenantId !== tenant.tenantId && !(other.structures as Array<Record<string, unknown> & { audiences: Array<Record<string, unknown>> }>).some((s) => [s, ...s.audiences].some((a) => a.reference === audience.reference || a.id === audience.id || a.reference === audience.id))) {
            const elsewhere = await app.inject({ url: `/audiences/${encodeSegment(audience.reference)}`, headers: { authorization: basic(other.tenantId, other.apiSecret) } })
            if (elsewhere.statusCode !== 404) throw new Error(`another tenant saw ${audience.reference}: ${elsewhere.statusCode}`)
          }
        }
        for (const client of tenant.clients ?? []) {
          const token = await app.inject({ method: 'POST', url: `/oauth2/token/${tenant.tenantId}`, payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
          if (token.statusCode !== 200 || (JSON.parse(token.body) as { scope: string }).scope !== client.scopes.join(' ')) throw new Error(`client ${client.clientId}: ${token.body}`)
        }
      }
    } finally {
      await app.close()
    }
  }), fcOptions(8))
  t.pass('every generated fixture served exactly what it holds')
})

t.test('a leap second, valid RFC 3339 but not representable, is a DataFileError naming the field', async (t) => {
  const data = { tenants: [{ tenantId: 'eu-west-2_Leap1', apiSecret: 's', structures: [{ name: 'A', reference: 'a', createdAt: '2016-12-31T23:59:60Z' }, { name: 'B', reference: 'b', updatedAt: '2016-12-31T23:59:60Z' }] }] }
  t.throws(() => loadFixtures([{ name: 'leap', data }]), { name: 'DataFileError', message: 'leap: $.tenants[0].structures[0].createdAt: "2016-12-31T23:59:60Z" is a valid RFC 3339 date-time but not one this server can represent (leap seconds are not supported)' })
  data.tenants[0]?.structures.shift()
  t.throws(() => loadFixtures([{ name: 'leap', data }]), { name: 'DataFileError', path: '$.tenants[0].structures[0].updatedAt' })
})

t.test('a secret with a control character, which RFC 7617 §2 forbids in Basic credentials, is refused at load', async (t) => {
  const tenant = { tenantId: 'eu-west-2_Ctl1', apiSecret: 'a\u0001b', structures: [] }
  t.throws(() => loadFixtures([{ name: 'ctl', data: { tenants: [tenant] } }]), { name: 'DataFileError', path: '$.tenants[0].apiSecret' })
  t.throws(() => loadFixtures([{ name: 'ctl', data: { tenants: [{ ...tenant, apiSecret: 'ok', clients: [{ clientId: 'c', clientSecret: 'tab\there', scopes: ['api/read'] }] }] } }]), { name: 'DataFileError', path: '$.tenants[0].clients[0].clientSecret' })
})

t.test('a byte order mark before any valid fixture file changes nothing: the same seed loads (RFC 8259 §8.1)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fixture-bom-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  fc.assert(fc.property(fixture, fc.boolean(), (data, pretty) => {
    const text = JSON.stringify(data, null, pretty ? 2 : undefined)
    const file = join(dir, 'bom.json')
    writeFileSync(file, `\ufeff${text}`)
    const withMark = loadFixtures([{ path: file }])
    const without = loadFixtures([{ name: file, data: JSON.parse(text) }])
    if (JSON.stringify(withMark) !== JSON.stringify(without)) throw new Error('the mark changed the seed')
  }), fcOptions(50))
  t.pass('every fixture with a mark loaded as without it')
})

t.test('any broken fixture text is refused with its line and column, the same place JSON.parse reports where it reports one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fixture-syntax-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const noise = fc.string({ maxLength: 3, unit: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '-', '0', '.', 'e', 't', 'x', ' ', '\n', '\u0001', 'u') })
  let compared = 0
  fc.assert(fc.property(fixture, fc.nat(), noise, fc.nat({ max: 2 }), (data, at, insert, drop) => {
    const valid = JSON.stringify(data, null, 2)
    const cut = at % (valid.length + 1)
    const text = valid.slice(0, cut) + insert + valid.slice(cut + drop)
    let native: string | null = null
    try { JSON.parse(text) } catch (err) { native = (err as Error).message }
    if (native === null) return
    const file = join(dir, 'broken.json')
    writeFileSync(file, text)
    let message = ''
    try { loadFixtures([{ path: file }]) } catch (err) { if (!(err instanceof DataFileError)) throw err; message = err.message }
    const where = /^.*: \$: invalid JSON at line (\d+), column (\d+): unexpected (end of input|character .*), expected .+$/.exec(message)
    if (where === null) throw new Error(`no line and column in ${JSON.stringify(message)}`)
    // Node 20 says "at position N" for most errors, Node 22 adds "(line L column C)"; neither is relied on, both are checked.
    const position = /at position (\d+)/.exec(native)
    if (position !== null) {
      compared++
      const before = text.slice(0, Number(position[1]))
      const line = before.split('\n').length
      const column = before.length - before.lastIndexOf('\n')
      if (Number(where[1]) !== line || Number(where[2]) !== column) throw new Error(`${message} but JSON.parse says ${native}`)
    }
  }), fcOptions(400))
  t.ok(compared > 50, `${compared} positions compared with JSON.parse`)
})
