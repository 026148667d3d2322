// The seed an app starts from: fixtures, plus generated audiences, users and memberships (thrive-api.md part C, decided 7).
import t from 'tap'
import { helpText } from '../../src/config.js'
import type { User } from '../../src/schemas/members.js'
import { buildSeed, GENERATED_TENANT } from '../../src/store/seed.js'
import type { TenantSeed } from '../../src/store/load-fixtures.js'

const TENANT = { tenantId: 'eu-west-2_SeedTest1', apiSecret: 's3cret' }
const fixtureUsers = [
  { reference: 'u-ada', email: 'ada@example.com', firstName: 'Ada' },
  { reference: 'u-bob', email: 'bob@example.com' }
]
const fixture = (users: unknown[] = fixtureUsers) => ({
  tenants: [{
    ...TENANT,
    users,
    structures: users.length === 0 ? [] : [{ name: 'Tech', reference: 'tech', managers: [{ user: 'u-bob' }], audiences: [{ name: 'Backend', reference: 'backend', members: ['u-ada', 'u-bob'] }] }]
  }]
})
const seedOf = async (data: unknown, generate: number, seed = 3): Promise<TenantSeed> =>
  (await buildSeed({ fixtures: [{ name: 'inline', data }], generate, seed })).tenants[0] as TenantSeed

/** Every id, reference and email (lowercased) a user answers to. */
const refsOf = (users: readonly User[]) => users.flatMap((u) => [u.id, u.reference, u.email.toLowerCase()])

t.test('--generate adds N/2 users (at least 50) to a fixture tenant after its own, and the generated audiences are their members and managers', async (t) => {
  const tenant = await seedOf(fixture(), 400)
  t.equal(tenant.users.length, 2 + 200)
  t.same(tenant.users.slice(0, 2).map((u) => u.reference), ['u-ada', 'u-bob'], 'the fixture users come first, unchanged')
  const [tech, backend] = tenant.audiences
  t.same(backend?.members, tenant.users.slice(0, 2).map((u) => u.id), 'fixture memberships are kept')
  t.same(tech?.managers?.map((m) => m.userId), [tenant.users[1]?.id])
  const generated = tenant.audiences.slice(2)
  const generatedUsers = new Set(tenant.users.slice(2).map((u) => u.id))
  const named = generated.flatMap((a) => [...(a.members ?? []), ...(a.managers ?? []).map((m) => m.userId)])
  t.ok(named.length > 400, `${named.length} memberships`)
  t.same(named.filter((id) => !generatedUsers.has(id)), [], 'generated audiences name generated users only')
  t.equal((await seedOf(fixture(), 10)).users.length, 2 + 50, 'at least 50')
  t.same((await seedOf(fixture(), 0)).users.map((u) => u.reference), ['u-ada', 'u-bob'], 'none without --generate')
})

t.test('the same seed gives the same users and memberships on every build; another seed gives others', async (t) => {
  const a = await seedOf(fixture(), 300, 5)
  const b = await seedOf(fixture(), 300, 5)
  t.equal(JSON.stringify(b), JSON.stringify(a))
  const c = await seedOf(fixture(), 300, 6)
  t.not(JSON.stringify(c.users), JSON.stringify(a.users))
  t.not(JSON.stringify(c.audiences.map((x) => x.members)), JSON.stringify(a.audiences.map((x) => x.members)))
})

t.test('generated users never collide with the fixture\'s users, even when the fixture holds exactly the users generation would make', async (t) => {
  // Without the fixture's users in the way, these are what generation would make first.
  const plain = await seedOf(fixture([]), 400)
  const clashing = plain.users.slice(0, 20).map((u, i) => ({
    id: u.id,
    // Ids, references and emails are one namespace for a user ref: a reference equal to another user's email would be ambiguous.
    reference: i % 2 === 0 ? u.reference : u.email.toUpperCase(),
    email: i % 2 === 0 ? u.email.toUpperCase() : `other${i}@example.com`
  }))
  const tenant = await seedOf({ tenants: [{ ...TENANT, users: clashing, structures: [] }] }, 400)
  t.equal(tenant.users.length, 20 + 200)
  const fixtureRefs = new Set(refsOf(tenant.users.slice(0, 20)))
  t.same(refsOf(tenant.users.slice(20)).filter((r) => fixtureRefs.has(r)), [])
  t.equal(new Set(refsOf(tenant.users)).size, 3 * tenant.users.length, 'every id, reference and email is unique in the tenant')
})

t.test('the generated tenant, made when there are no fixtures, has generated users too', async (t) => {
  const seed = await buildSeed({ fixtures: [], generate: 120, seed: 1 })
  t.equal(seed.tenants[0]?.tenantId, GENERATED_TENANT.tenantId)
  t.equal(seed.tenants[0]?.users.length, 60)
  t.ok(seed.tenants[0]?.audiences.some((a) => a.members !== undefined))
})

t.test('--help says how many users --generate makes', async (t) => {
  t.match(helpText(), /--generate <value>\s+Add N faker-generated audiences to every tenant, with N\/2 generated users \(at least 50, at most 20,000\) as their members and managers/)
})
