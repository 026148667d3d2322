// Generated audiences: reproducible per tenant and seed, realistic in shape, and always within Thrive's rules.
import fc from 'fast-check'
import { faker } from '@faker-js/faker/locale/en'
import t from 'tap'
import { Compile } from 'typebox/compile'
import { UserFixture } from '../../src/schemas/fixtures.js'
import type { User } from '../../src/schemas/members.js'
import type { AudienceSeed as Audience } from '../../src/store/load-fixtures.js'
import { assignMemberships, generateAudiences, generateUsers } from '../../src/store/generate.js'
import { GENERATED_USERS, generatedUserCount } from '../../src/store/seed.js'

const TENANT = 'eu-west-2_GenTest01'
const OTHER_TENANT = 'us-east-1_GenTest02'
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const FIELDS = 'apiControlled,category,createdAt,id,name,parentId,reference,type,updatedAt'

/** Every rule a generated tenant must keep, as readable violations (empty when all hold). */
function violations (audiences: Audience[]): string[] {
  const problems: string[] = []
  const ids = new Set<string>()
  const references = new Set<string>()
  const structures = new Map<string, Audience>()
  let current: Audience | undefined
  let children = 0
  const endStructure = (last: boolean) => {
    if (current !== undefined && !last && (children < 2 || children > 12)) problems.push(`${current.reference}: ${children} children`)
  }
  for (const a of audiences) {
    if (Object.keys(a).sort().join() !== FIELDS) problems.push(`${a.reference}: fields ${Object.keys(a).join()}`)
    if (ids.has(a.id)) problems.push(`${a.id}: duplicate id`)
    if (references.has(a.reference)) problems.push(`${a.reference}: duplicate reference`)
    ids.add(a.id)
    references.add(a.reference)
    if (a.reference.length < 1 || a.reference.length > 100) problems.push(`${a.reference}: reference length ${a.reference.length}`)
    if (!/^[0-9a-f]{24}$/.test(a.id)) problems.push(`${a.id}: malformed id`)
    for (const at of [a.createdAt, a.updatedAt]) {
      if (!TIMESTAMP.test(at) || new Date(at).toISOString() !== at) problems.push(`${a.reference}: malformed timestamp ${at}`)
    }
    if (a.createdAt < '2022' || a.updatedAt >= '2026') problems.push(`${a.reference}: outside 2022–2025`)
    if (a.updatedAt < a.createdAt) problems.push(`${a.reference}: updated before created`)
    if (a.apiControlled && a.type !== 'manual') problems.push(`${a.reference}: API-controlled but ${a.type}`)
    if (a.category === 'structure') {
      endStructure(false)
      current = a
      children = 0
      structures.set(a.id, a)
      if (a.parentId !== null) problems.push(`${a.reference}: structure with a parent`)
      if (a.type !== 'manual') problems.push(`${a.reference}: smart structure`)
      continue
    }
    children += 1
    if (current === undefined) {
      problems.push(`${a.reference}: child before any structure`)
      continue
    }
    if (a.parentId !== current.id) problems.push(`${a.reference}: parent is not the structure before it`)
    if (a.createdAt <= current.createdAt) problems.push(`${a.reference}: created before its structure`)
    if (a.apiControlled && !current.apiControlled) problems.push(`${a.reference}: API-controlled child of a UI structure`)
  }
  endStructure(true)
  return problems
}

const sample = generateAudiences({ tenantId: TENANT, count: 5000, seed: 42 })
const sampleStructures = sample.filter((a) => a.category === 'structure')

t.test('the same tenant and seed give identical audiences, down to the JSON', async (t) => {
  const again = generateAudiences({ tenantId: TENANT, count: 5000, seed: 42 })
  t.same(again, sample)
  t.equal(JSON.stringify(again), JSON.stringify(sample))
})

t.test('another seed gives different audiences', async (t) => {
  t.not(JSON.stringify(generateAudiences({ tenantId: TENANT, count: 5000, seed: 43 })), JSON.stringify(sample))
})

t.test('another tenant with the same seed gives different audiences', async (t) => {
  t.not(JSON.stringify(generateAudiences({ tenantId: OTHER_TENANT, count: 5000, seed: 42 })), JSON.stringify(sample))
})

t.test('exactly count audiences are generated', async (t) => {
  for (const count of [1, 2, 3, 13, 1000]) t.equal(generateAudiences({ tenantId: TENANT, count, seed: 1 }).length, count, `count ${count}`)
  t.equal(sample.length, 5000)
})

t.test('count 0 gives no audiences', async (t) => {
  t.same(generateAudiences({ tenantId: TENANT, count: 0, seed: 1 }), [])
})

t.test('a count that is not a whole number from 0 to 16,777,216 is refused', async (t) => {
  for (const count of [-1, 1.5, Number.NaN, 2 ** 24 + 1]) t.throws(() => generateAudiences({ tenantId: TENANT, count, seed: 1 }), RangeError, `count ${count}`)
})

t.test('every generated tenant keeps the rules: documented fields, unique ids and references, timestamps, parents, Thrive rules', async (t) => {
  t.same(violations(sample), [])
})

t.test('ids start with the creation time in seconds, like MongoDB ObjectIds', async (t) => {
  t.same(sample.filter((a) => Number.parseInt(a.id.slice(0, 8), 16) !== Math.floor(Date.parse(a.createdAt) / 1000)), [])
})

t.test('structures come first, each directly followed by 2 to 12 children', async (t) => {
  t.equal(sample[0]?.category, 'structure')
  const sizes = sampleStructures.slice(0, -1).map((s) => sample.filter((a) => a.parentId === s.id).length)
  t.ok(sizes.every((n) => n >= 2 && n <= 12), 'every structure but the last has 2 to 12 children')
  t.ok(new Set(sizes).size > 5, 'the number of children varies')
})

t.test('the last structure is cut short to meet the exact count', async (t) => {
  const audiences = generateAudiences({ tenantId: TENANT, count: 1, seed: 1 })
  t.equal(audiences[0]?.category, 'structure')
  const two = generateAudiences({ tenantId: TENANT, count: 2, seed: 1 })
  t.same(two.map((a) => a.category), ['structure', 'audience'])
})

t.test('most audiences are API-controlled and manual; a minority of structures are UI-created, with smart children among theirs', async (t) => {
  const ui = sampleStructures.filter((s) => !s.apiControlled).length
  t.ok(ui > 0 && ui < sampleStructures.length * 0.3, `${ui} of ${sampleStructures.length} structures are UI-created`)
  const smart = sample.filter((a) => a.type === 'smart')
  t.ok(smart.length > 0, 'some children are smart')
  t.ok(smart.every((a) => !a.apiControlled && a.category === 'audience'))
  t.ok(sample.some((a) => !a.apiControlled && a.category === 'audience' && a.type === 'manual'), 'UI structures also hold manual children')
})

t.test('some audiences were edited after creation and some never were', async (t) => {
  t.ok(sample.some((a) => a.updatedAt > a.createdAt))
  t.ok(sample.some((a) => a.updatedAt === a.createdAt))
})

t.test('names read like organisational units and vary', async (t) => {
  t.ok(new Set(sampleStructures.map((s) => s.name)).size > 100, 'many distinct structure names')
  t.ok(sampleStructures.some((s) => / Division$/.test(s.name)), 'some business units are divisions')
  t.ok(sampleStructures.some((s) => /^(EMEA|APAC|North America|LATAM) /.test(s.name)), 'some structures are regional')
  t.ok(sample.some((a) => a.category === 'audience' && / Office$/.test(a.name)), 'some children are offices')
})

t.test('a repeated structure name gets a numbered reference: name, name-2, name-3…', async (t) => {
  const byName = new Map<string, string[]>()
  for (const s of sampleStructures) byName.set(s.name, [...(byName.get(s.name) ?? []), s.reference])
  const repeated = [...byName.values()].filter((refs) => refs.length >= 3)
  t.ok(repeated.length > 0, 'some names repeat at least three times')
  for (const refs of repeated) {
    const base = refs[0] ?? ''
    t.same(refs, refs.map((_, i) => i === 0 ? base : `${base}-${i + 1}`))
  }
})

t.test('a child reference is its structure reference followed by the slug of its name', async (t) => {
  const child = sample.find((a) => a.name === 'Learning & Development')
  t.equal(child?.reference, `${sample.find((a) => a.id === child?.parentId)?.reference}-learning-and-development`)
})

t.test('ids already taken in the tenant are never generated, even when they lie on the generated sequence', async (t) => {
  const plain = generateAudiences({ tenantId: TENANT, count: 200, seed: 7 })
  const takenIds = new Set(plain.slice(0, 50).map((a) => a.id))
  const audiences = generateAudiences({ tenantId: TENANT, count: 200, seed: 7, takenIds })
  t.equal(audiences.length, 200)
  t.same(audiences.filter((a) => takenIds.has(a.id)), [])
  t.same(violations(audiences), [])
})

t.test('references already taken in the tenant are never generated; the next free suffix is used', async (t) => {
  const plain = generateAudiences({ tenantId: TENANT, count: 200, seed: 7 })
  const takenReferences = new Set(plain.map((a) => a.reference))
  const audiences = generateAudiences({ tenantId: TENANT, count: 200, seed: 7, takenReferences })
  t.same(audiences.filter((a) => takenReferences.has(a.reference)), [])
  t.match(audiences[0]?.reference, new RegExp(`^${plain[0]?.reference}-\\d+$`))
  t.same(audiences.map((a) => a.id), plain.map((a) => a.id), 'only references change')
  t.same(violations(audiences), [])
})

t.test('the shared faker instance is neither seeded nor advanced', async (t) => {
  faker.seed(123)
  const expected = [faker.number.int(), faker.person.lastName()]
  faker.seed(123)
  generateAudiences({ tenantId: TENANT, count: 100, seed: 1 })
  t.same([faker.number.int(), faker.person.lastName()], expected)
})

t.test('any tenant, seed and count give audiences that keep the rules', async (t) => {
  fc.assert(fc.property(
    fc.constantFrom(TENANT, OTHER_TENANT, 'ap-southeast-2_Zz9'),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.integer({ min: 0, max: 400 }),
    (tenantId, seed, count) => {
      const audiences = generateAudiences({ tenantId, count, seed })
      return audiences.length === count && violations(audiences).length === 0
    }
  ), { numRuns: 100 })
  t.pass('property holds')
})

// Users, members and managers of generated tenants (thrive-api.md part C, decided 7 and 8).
const USER_FIELDS = 'email,firstName,id,lastName,reference'
const checkUserFixture = Compile(UserFixture)
const users = generateUsers({ tenantId: TENANT, count: 2500, seed: 42 })

/** Every rule generated users keep, as readable violations. */
function userViolations (list: User[]): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  for (const u of list) {
    if (Object.keys(u).sort().join() !== USER_FIELDS) problems.push(`${u.reference}: fields ${Object.keys(u).join()}`)
    for (const value of [u.id, u.reference, u.email.toLowerCase()]) {
      if (seen.has(value)) problems.push(`${value}: used twice`)
      seen.add(value)
    }
    if (!/^[0-9a-f]{24}$/.test(u.id)) problems.push(`${u.id}: malformed id`)
    // Valid as a fixture user: a plausible email of at most 254 characters, a reference of 1 to 100.
    const { firstName, lastName, ...required } = u
    if (!checkUserFixture.Check({ ...required, ...(firstName === null ? {} : { firstName }), ...(lastName === null ? {} : { lastName }) })) problems.push(`${u.reference}: not a valid fixture user`)
    if (!u.email.endsWith('.example')) problems.push(`${u.email}: not under the reserved .example domain`)
    if ((u.firstName === null) !== (u.lastName === null)) problems.push(`${u.reference}: half a name`)
  }
  return problems
}

/** Sample audiences with members and managers: a fresh copy each time, as assignMemberships writes into them. */
function withMemberships (seed = 42, list: readonly User[] = users): Audience[] {
  const audiences = generateAudiences({ tenantId: TENANT, count: 5000, seed: 42 })
  assignMemberships({ tenantId: TENANT, seed, audiences, users: list })
  return audiences
}
const assigned = withMemberships()

t.test('generated users: the same tenant and seed give identical users; another seed or tenant gives others', async (t) => {
  t.equal(JSON.stringify(generateUsers({ tenantId: TENANT, count: 2500, seed: 42 })), JSON.stringify(users))
  const otherSeed = generateUsers({ tenantId: TENANT, count: 2500, seed: 43 })
  const otherTenant = generateUsers({ tenantId: OTHER_TENANT, count: 2500, seed: 42 })
  for (const other of [otherSeed, otherTenant]) {
    t.equal(other.length, 2500)
    t.not(JSON.stringify(other), JSON.stringify(users))
    const ids = new Set(users.map((u) => u.id))
    t.ok(other.filter((u) => ids.has(u.id)).length < 5, 'ids differ')
  }
})

t.test('generated users keep the rules: the User fields, unique ids, references and emails, valid as fixture users', async (t) => {
  t.equal(users.length, 2500)
  t.same(userViolations(users), [])
  t.same(generateUsers({ tenantId: TENANT, count: 0, seed: 1 }), [])
  for (const count of [-1, 2.5, Number.NaN, 2 ** 24 + 1]) t.throws(() => generateUsers({ tenantId: TENANT, count, seed: 1 }), RangeError, `count ${count}`)
})

t.test('generated users look like people: varied names, emails from the name (numbered when a name repeats), a few nameless accounts', async (t) => {
  const named = users.filter((u) => u.firstName !== null)
  t.ok(new Set(named.map((u) => u.firstName)).size > 100, 'many first names')
  t.ok(new Set(named.map((u) => u.lastName)).size > 100, 'many last names')
  const local = (u: User) => u.email.slice(0, u.email.indexOf('@'))
  const plain = (u: User) => `${u.firstName ?? ''}.${u.lastName ?? ''}`.toLowerCase().replace(/[^a-z0-9.]+/g, '')
  t.same(named.filter((u) => !local(u).startsWith(plain(u))), [], 'an email starts with first.last')
  const numbered = named.filter((u) => local(u) !== plain(u))
  t.ok(numbered.length > 0, 'a repeated name gets a numbered email')
  t.same(numbered.filter((u) => !/^\d+$/.test(local(u).slice(plain(u).length)) || !users.some((v) => local(v) === plain(u))), [], 'only after the plain one')
  const nameless = users.filter((u) => u.firstName === null)
  t.ok(nameless.length > 0 && nameless.length < users.length * 0.1, `${nameless.length} nameless accounts`)
  t.same(nameless.filter((u) => local(u) !== u.reference), [], 'a nameless account is addressed by its reference')
  t.equal(new Set(users.map((u) => u.email.slice(u.email.indexOf('@')))).size, 1, 'one company domain')
})

t.test('generated users avoid the ids, references and emails of the tenant\'s other users, even on their own sequence', async (t) => {
  const plain = generateUsers({ tenantId: TENANT, count: 200, seed: 7 })
  const taken = new Set(plain.slice(0, 50).flatMap((u) => [u.id, u.reference, u.email.toLowerCase()]))
  const list = generateUsers({ tenantId: TENANT, count: 200, seed: 7, taken })
  t.equal(list.length, 200)
  t.same(list.filter((u) => taken.has(u.id) || taken.has(u.reference) || taken.has(u.email.toLowerCase())), [])
  t.same(userViolations(list), [])
})

t.test('memberships: the same tenant, seed, audiences and users give the same members and managers; another seed gives others', async (t) => {
  t.equal(JSON.stringify(withMemberships()), JSON.stringify(assigned))
  t.not(JSON.stringify(withMemberships(43)), JSON.stringify(assigned))
  t.ok(assigned.some((a) => a.members !== undefined) && assigned.some((a) => a.managers !== undefined))
})

t.test('every child audience has members, distinct users of the tenant; no structure has; a few have hundreds, enough to page through', async (t) => {
  const ids = new Set(users.map((u) => u.id))
  const children = assigned.filter((a) => a.category === 'audience')
  t.same(children.filter((a) => a.members === undefined || a.members.length === 0).map((a) => a.reference), [])
  t.same(assigned.filter((a) => a.category === 'structure' && a.members !== undefined).map((a) => a.reference), [])
  t.same(children.filter((a) => new Set(a.members).size !== a.members?.length || a.members.some((id) => !ids.has(id))).map((a) => a.reference), [])
  const many = children.filter((a) => (a.members?.length ?? 0) > 100)
  t.ok(many.length > 0 && many.length < children.length / 100, `${many.length} of ${children.length} have more than a page of 100`)
  t.ok(children.filter((a) => (a.members?.length ?? 0) <= 8).length > children.length * 0.95, 'most have a handful')
  t.ok(new Set(children.map((a) => a.members?.length)).size > 8, 'sizes vary')
  const used = new Set(children.flatMap((a) => a.members ?? []))
  t.ok(used.size > users.length * 0.9, `${used.size} of ${users.length} users are members somewhere`)
})

t.test('managers: most audiences have none; structures carry the administrator block, children not; UI powers only on UI-created audiences; permissions vary', async (t) => {
  const managed = assigned.filter((a) => a.managers !== undefined)
  t.ok(managed.length > 0 && managed.length < assigned.length / 4, `${managed.length} of ${assigned.length} have managers`)
  t.ok(managed.some((a) => a.category === 'structure') && managed.some((a) => a.category === 'audience'), 'structures and children alike')
  const ids = new Set(users.map((u) => u.id))
  const problems: string[] = []
  const flags = new Map<string, Set<boolean>>()
  for (const a of managed) {
    const managers = a.managers ?? []
    if (managers.length === 0 || new Set(managers.map((m) => m.userId)).size !== managers.length) problems.push(`${a.reference}: empty or repeated managers`)
    for (const { userId, permissions } of managers) {
      if (!ids.has(userId)) problems.push(`${a.reference}: unknown user ${userId}`)
      if ((a.category === 'structure') !== (permissions.administrator !== undefined)) problems.push(`${a.reference}: administrator block on a ${a.category}`)
      if (Object.keys(permissions).sort().join() !== (a.category === 'structure' ? 'administrator,audienceManager,peopleManager' : 'audienceManager,peopleManager')) problems.push(`${a.reference}: blocks ${Object.keys(permissions).join()}`)
      if (a.apiControlled && (permissions.audienceManager.manageMembers || permissions.administrator?.canManageAudiences === true)) problems.push(`${a.reference}: a UI power on an API-controlled audience`)
      for (const [block, values] of Object.entries(permissions)) {
        for (const [flag, value] of Object.entries(values as Record<string, boolean>)) {
          const key = `${a.apiControlled ? 'api' : 'ui'} ${a.category} ${block}.${flag}`
          flags.set(key, (flags.get(key) ?? new Set()).add(value))
        }
      }
    }
  }
  t.same(problems, [])
  t.same([...flags].filter(([key, values]) => values.size !== 2 && !/^api .*(manageMembers|canManageAudiences)$/.test(key)).map(([key]) => key), [], 'every flag is true somewhere and false somewhere')
  t.ok(flags.has('ui structure administrator.canManageAudiences') && flags.has('ui audience audienceManager.manageMembers'), 'UI-created structures and children have managers')
})

t.test('generated lists share nothing mutable: each audience has its own member array, manager list and permission objects', async (t) => {
  const lists = assigned.flatMap((a) => [a.members, a.managers]).filter((l) => l !== undefined)
  t.equal(new Set(lists).size, lists.length)
  const objects = assigned.flatMap((a) => (a.managers ?? []).flatMap((m) => [m, m.permissions, ...Object.values(m.permissions)]))
  t.equal(new Set(objects).size, objects.length)
})

t.test('with fewer users than an audience would have members, every user is a member once; with none, no memberships', async (t) => {
  const three = users.slice(0, 3)
  const few = withMemberships(42, three)
  t.ok(few.some((a) => a.members?.length === 3), 'some audiences take all three')
  t.same(few.filter((a) => a.members !== undefined && new Set(a.members).size !== a.members.length), [])
  t.same(few.filter((a) => (a.managers?.length ?? 0) > 3), [])
  t.same(withMemberships(42, []).filter((a) => a.members !== undefined || a.managers !== undefined), [])
  const one = withMemberships(42, users.slice(0, 1))
  t.same(one.filter((a) => a.category === 'audience' && a.members?.join() !== users[0]?.id), [])
})

t.test('generated users per tenant: N/2, at least 50 and at most 20,000, none without generated audiences', async (t) => {
  t.same([0, 1, 100, 101, 1000, 40_000, 40_001, 1_000_000].map(generatedUserCount), [0, 50, 50, 51, 500, 20_000, 20_000, 20_000])
  t.same(GENERATED_USERS, { min: 50, max: 20_000 })
})
