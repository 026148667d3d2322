// The in-memory store: the Store contract suite, then what only this implementation promises (its id scheme, its seed).
import t from 'tap'
import { Audience, AudienceParent } from '../../src/schemas/audience.js'
import { deriveId } from '../../src/store/load-fixtures.js'
import { MAX_VIEWS, MemoryStore } from '../../src/store/memory-store.js'
import type { TenantRepository } from '../../src/store/store.js'
import { build, IDS, TENANT_A } from '../helpers.js'
import { A, makeSeed, storeContract } from './contract.js'

storeContract('MemoryStore', (seed, options) => new MemoryStore(seed, options))

// The library and the route both get what audiences.get returns; the route's serialiser would hide an extra field and
// fail on a missing one, so the copy itself is what must match the schema ("Gets an audience", thrive-api.md).
t.test('a read returns every field of the Audience schema and no other, the parent block included', async (t) => {
  const app = await build(t)
  const audiences = (app.store.tenant(TENANT_A.tenantId) as TenantRepository).audiences
  const structure = await audiences.get(IDS.aStructure)
  const child = await audiences.get(IDS.aChild)
  t.strictSame(Object.keys(structure ?? {}), Object.keys(Audience.properties), 'a structure')
  t.equal(structure?.parent, null, 'a structure has no parent')
  t.strictSame(Object.keys(child ?? {}), Object.keys(Audience.properties), 'a child audience')
  t.strictSame(Object.keys(child?.parent ?? {}), Object.keys(AudienceParent.properties), 'the parent block')
  t.strictSame(child?.parent, { name: 'Tech', reference: 'shared', id: IDS.aStructure })
})

t.test('a read is a copy: changing what it returns, parent block included, changes no later read', async (t) => {
  const app = await build(t)
  const audiences = (app.store.tenant(TENANT_A.tenantId) as TenantRepository).audiences
  const first = await audiences.get('backend') as Audience
  const before = structuredClone(first)
  first.name = 'Changed'
  ;(first.parent as AudienceParent).name = 'Changed too'
  t.strictSame(await audiences.get('backend'), before)
})

// Created ids come from a counter per tenant hashed with the tenant (part C decided 4: same writes, same ids); a seed
// audience that happens to hold the next one must not be shadowed by a new audience.
t.test('a created id skips one the tenant already holds, and still repeats after a reset', async (t) => {
  const seed = makeSeed()
  const taken = deriveId(A.tenantId, 'created', '0')
  const tenant = seed.tenants[0] as (typeof seed.tenants)[number]
  tenant.audiences.push({ ...(tenant.audiences[1] as (typeof tenant.audiences)[number]), id: taken, reference: 'holds-the-first-id', managers: [] })
  const store = new MemoryStore(seed, { now: () => 0 })
  const audiences = (store.tenant(A.tenantId) as TenantRepository).audiences
  const created = await audiences.create({ name: 'New', reference: 'new', category: 'structure' })
  t.equal(created.id, deriveId(A.tenantId, 'created', '1'))
  t.equal((await audiences.get(taken))?.reference, 'holds-the-first-id')
  await store.reset(A.tenantId)
  t.equal((await audiences.create({ name: 'New', reference: 'new', category: 'structure' })).id, created.id)
})

t.test('seed records and lists are frozen, so no write can reach them in place', async (t) => {
  const seed = makeSeed()
  const store = new MemoryStore(seed, { now: () => 0 })
  const tenant = seed.tenants[0] as (typeof seed.tenants)[number]
  t.ok(Object.isFrozen(tenant.audiences), 'the audience list')
  t.ok(tenant.audiences.every((a) => Object.isFrozen(a) && (a.members === undefined || Object.isFrozen(a.members))), 'every record and member list')
  t.ok(tenant.users.every((u) => Object.isFrozen(u)), 'every user')
  t.equal(store.seedOf(A.tenantId), tenant, 'the seed a reset returns to is the one given, not a copy')
  await store.close()
})

t.test("an unknown tenant's version is 0, a value no known tenant ever has", async (t) => {
  const store = new MemoryStore(makeSeed(), { now: () => 0 })
  t.equal(store.version('eu-west-2_Unknown'), 0)
  t.ok(makeSeed().tenants.map((x) => x.tenantId).every((id) => store.version(id) > 0))
  await store.reset()
  t.ok(makeSeed().tenants.map((x) => x.tenantId).every((id) => store.version(id) > 0))
})

// A filtered list keeps its matches so the next page does not scan the tenant again; each view can be as large as
// the tenant, so only a few are kept.
t.test('filtered lists are kept for the next page, at most MAX_VIEWS of them, and every write drops them', async (t) => {
  const store = new MemoryStore(makeSeed(), { now: () => 0 })
  const audiences = (store.tenant(A.tenantId) as TenantRepository).audiences
  const filters = Array.from({ length: MAX_VIEWS + 2 }, (_, i) => ({ page: 1, perPage: 2, updatedSince: Date.UTC(2024, 0, 1 + i) }))
  const first = await Promise.all(filters.map((f) => audiences.list(f)))
  t.equal(store.data(A.tenantId).views.size, MAX_VIEWS)
  t.strictSame(await Promise.all(filters.map((f) => audiences.list(f))), first, 'an evicted filter is built again, the same')
  t.equal(store.data(A.tenantId).views.size, MAX_VIEWS)
  await audiences.update('eng', { name: 'Renamed' })
  t.equal(store.data(A.tenantId).views.size, 0)
})
