// Generated audiences: reproducible per tenant and seed, realistic in shape, and always within Thrive's rules.
import fc from 'fast-check'
import { faker } from '@faker-js/faker/locale/en'
import t from 'tap'
import type { AudienceSeed as Audience } from '../../src/store/load-fixtures.js'
import { generateAudiences } from '../../src/store/generate.js'

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
