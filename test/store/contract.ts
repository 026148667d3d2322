// The Store contract (thrive-api.md part B.2 and part C): every implementation runs this one suite through the Store
// interface alone, so the in-memory store and a shared store answer every call the same way.
import t, { type Test } from 'tap'
import type { StoreFactory } from '../../src/plugins/store.js'
import type { Audience } from '../../src/schemas/audience.js'
import type { BulkResult, Manager, ManagerPermissions, Member } from '../../src/schemas/members.js'
import { SCOPES } from '../../src/schemas/oauth.js'
import type { AudienceSeed, Seed, TenantSeed } from '../../src/store/load-fixtures.js'
import { StoreError, type Store, type StoreErrorStatus, type TenantRepository } from '../../src/store/store.js'
import { servedAudience } from '../served.js'

export const A = { tenantId: 'eu-west-2_StoreTenA', apiSecret: 'store-tenant-a-secret' }
export const B = { tenantId: 'us-east-1_StoreTenB', apiSecret: 'store-tenant-b-secret' }

/** 24-hex ids that say what they name: users start with c, tenant A's audiences with a, tenant B's with b. */
export const ID = {
  ann: 'c00000000000000000000001',
  bob: 'c00000000000000000000002',
  cat: 'c00000000000000000000003',
  dan: 'c00000000000000000000004',
  eve: 'c00000000000000000000005',
  bea: 'c0000000000000000000000b',
  eng: 'a00000000000000000000001',
  backend: 'a00000000000000000000002',
  frontend: 'a00000000000000000000003',
  sales: 'a00000000000000000000004',
  shadow: 'a00000000000000000000005',
  ui: 'a00000000000000000000006',
  smart: 'a00000000000000000000007',
  bEng: 'b00000000000000000000001',
  bTeam: 'b00000000000000000000002'
}

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0, 0)

const perms = (p: Partial<{ manageMembers: boolean, manageContent: boolean, assignments: boolean, canViewLearnPage: boolean, insights: boolean, manage: boolean }> = {}, administrator?: ManagerPermissions['administrator']): ManagerPermissions => ({
  audienceManager: { manageMembers: p.manageMembers ?? false, manageContent: p.manageContent ?? false, assignments: p.assignments ?? false },
  peopleManager: { canViewLearnPage: p.canViewLearnPage ?? false, insights: p.insights ?? false, manage: p.manage ?? false },
  ...(administrator === undefined ? {} : { administrator })
})

function audience (id: string, name: string, reference: string, createdAt: string, updatedAt: string, extra: Partial<AudienceSeed> = {}): AudienceSeed {
  return { id, name, reference, apiControlled: true, category: 'structure', type: 'manual', parentId: null, createdAt, updatedAt, ...extra }
}

/**
 * Tenant A: two API structures (eng with two children, sales with none), a child whose reference is sales's id, and
 * a UI structure with a smart child. Listed out of createdAt order on purpose, with a createdAt tie (backend, sales)
 * broken by id. Managers on API audiences carry UI powers from the seed that must never show.
 */
export function makeSeed (): Seed {
  const tenantA: TenantSeed = {
    ...A,
    clients: [{ clientId: 'a-reader', clientSecret: 'a-reader-secret', scopes: ['api/read'] }, { clientId: 'a-both', clientSecret: 'a-both-secret', scopes: ['api/read', 'api/write'] }],
    users: [
      { id: ID.ann, reference: 'ann', email: 'Ann@Example.com', firstName: 'Ann', lastName: 'Archer' },
      { id: ID.bob, reference: 'bob', email: 'bob@example.com', firstName: null, lastName: null },
      { id: ID.cat, reference: 'cat', email: 'cat@example.com', firstName: 'Cat', lastName: null },
      { id: ID.dan, reference: 'dan', email: 'dan@example.com', firstName: null, lastName: 'Doe' },
      { id: ID.eve, reference: 'eve', email: 'EVE@example.com', firstName: 'Eve', lastName: 'Evans' }
    ],
    audiences: [
      audience(ID.backend, 'Backend', 'backend', '2024-01-03T00:00:00.000Z', '2024-03-01T00:00:00.000Z', {
        category: 'audience',
        parentId: ID.eng,
        members: [ID.bob, ID.ann],
        managers: [{ userId: ID.bob, permissions: perms({ manageMembers: true, assignments: true }, { canManageAudiences: true, canAddAudienceManagers: true }) }]
      }),
      audience(ID.eng, 'Engineering', 'eng', '2024-01-01T00:00:00.000Z', '2024-01-10T00:00:00.000Z', {
        managers: [{ userId: ID.ann, permissions: perms({ manageMembers: true, manageContent: true, insights: true }, { canManageAudiences: true, canAddAudienceManagers: true }) }]
      }),
      audience(ID.frontend, 'Frontend', 'frontend', '2024-01-02T00:00:00.000Z', '2024-02-01T00:00:00.000Z', { category: 'audience', parentId: ID.eng }),
      audience(ID.sales, 'Sales', 'sales', '2024-01-03T00:00:00.000Z', '2024-01-03T00:00:00.000Z', {
        managers: [{ userId: ID.dan, permissions: perms({ canViewLearnPage: true, manage: true }) }]
      }),
      audience(ID.shadow, 'Shadowed', ID.sales, '2024-01-04T00:00:00.000Z', '2024-04-01T00:00:00.000Z', { category: 'audience', parentId: ID.sales }),
      audience(ID.ui, 'UI made', 'ui', '2024-01-05T00:00:00.000Z', '2024-01-05T00:00:00.000Z', {
        apiControlled: false,
        managers: [
          { userId: ID.cat, permissions: perms({ manageMembers: true }, { canManageAudiences: true, canAddAudienceManagers: false }) },
          { userId: ID.eve, permissions: perms({ manage: true }) }
        ]
      }),
      audience(ID.smart, 'Smart one', 'smart', '2024-01-06T00:00:00.000Z', '2024-01-06T00:00:00.000Z', {
        apiControlled: false,
        category: 'audience',
        type: 'smart',
        parentId: ID.ui,
        members: [ID.cat],
        managers: [{ userId: ID.dan, permissions: perms({ manageMembers: true, manageContent: true }) }]
      })
    ],
    source: 'contract-seed'
  }
  const tenantB: TenantSeed = {
    ...B,
    clients: [{ clientId: 'b-reader', clientSecret: 'b-reader-secret', scopes: ['api/read'] }],
    users: [{ id: ID.bea, reference: 'ann', email: 'bea@example.com', firstName: null, lastName: null }],
    audiences: [
      audience(ID.bEng, 'B Engineering', 'eng', '2024-02-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'),
      audience(ID.bTeam, 'B Team', 'b-team', '2024-02-02T00:00:00.000Z', '2024-02-02T00:00:00.000Z', { category: 'audience', parentId: ID.bEng, members: [ID.bea] })
    ],
    source: 'contract-seed'
  }
  return { tenants: [tenantA, tenantB], sources: ['contract-seed'], skipped: [] }
}

/** The audiences of tenant A as they must read from the seed, in list order. */
function seedAudience (id: string): Audience {
  const all = makeSeed().tenants[0]?.audiences ?? []
  return servedAudience(all.find((x) => x.id === id) as AudienceSeed, all)
}
const SEED_ORDER = [ID.eng, ID.frontend, ID.backend, ID.sales, ID.shadow, ID.ui, ID.smart]

interface World {
  store: Store
  a: TenantRepository
  b: TenantRepository
  clock: { now: number }
}

async function rejects (t: Test, promise: Promise<unknown>, status: StoreErrorStatus, message: RegExp, what: string): Promise<void> {
  try {
    await promise
    t.fail(`${what}: resolved, expected ${status}`)
  } catch (err) {
    t.ok(err instanceof StoreError, `${what}: a StoreError`)
    t.equal((err as StoreError).statusCode, status, `${what}: status ${status}`)
    t.match((err as StoreError).message, message, `${what}: message`)
  }
}

/** Everything the interface can read of a tenant, for whole-state comparisons. */
async function dump (repo: TenantRepository): Promise<unknown> {
  const page = await repo.audiences.list({ page: 1, perPage: 1000 })
  const members: Record<string, Member[]> = {}
  const managers: Record<string, Manager[]> = {}
  for (const a of page.results) {
    members[a.id] = (await repo.members.list(a.id, { page: 1, perPage: 1000 })).results
    managers[a.id] = await repo.managers.list(a.id)
  }
  return { page, members, managers }
}

const memberOf = (id: string, reference: string, email: string): Member => ({ userId: id, reference, email })
const ok = (...references: string[]): BulkResult => ({ success: { count: references.length, entities: references.map((reference) => ({ reference })) } })
const partial = (success: string[], failure: Array<[string, string]>): BulkResult => ({
  ...ok(...success),
  failure: { count: failure.length, entities: failure.map(([reference, reason]) => ({ reference, reason })) }
})

/**
 * Registers the whole contract as subtests of one test named `name`. The factory gets a fresh seed and a clock the
 * suite moves; each subtest builds its own store and closes it.
 */
export function storeContract (name: string, factory: StoreFactory): void {
  t.test(name, async (t) => {
    function world (t: Test, seed: Seed = makeSeed()): World {
      const clock = { now: NOW }
      const store = factory(seed, { now: () => clock.now })
      t.teardown(() => store.close())
      return { store, a: store.tenant(A.tenantId) as TenantRepository, b: store.tenant(B.tenantId) as TenantRepository, clock }
    }

    /** Asserts that a refused call leaves the tenant's state and version exactly as they were. */
    async function refusedChangesNothing (t: Test, w: World, call: () => Promise<unknown>, status: StoreErrorStatus, message: RegExp, what: string): Promise<void> {
      const before = await dump(w.a)
      const version = w.store.version(A.tenantId)
      await rejects(t, call(), status, message, what)
      t.equal(w.store.version(A.tenantId), version, `${what}: version unchanged`)
      t.strictSame(await dump(w.a), before, `${what}: state unchanged`)
    }

    t.test('tenants: the seed decides which exist; an unknown tenant has no repository', async (t) => {
      const { store } = world(t)
      t.equal(store.has(A.tenantId), true)
      t.equal(store.has('eu-west-2_Unknown'), false)
      t.equal(store.tenant('eu-west-2_Unknown'), undefined)
      t.equal(store.has(B.tenantId), true)
      t.equal(store.tenant(A.tenantId)?.tenantId, A.tenantId)
      t.strictSame(store.sources, ['contract-seed'])
      t.strictSame(await store.stats(), { tenants: 2, audiences: 9, users: 6 })
    })

    t.test('get: an exact id first, then an exact case-sensitive reference; a child shows its structure (part B.2, B.3)', async (t) => {
      const { a } = world(t)
      t.strictSame(await a.audiences.get(ID.backend), seedAudience(ID.backend), 'by id')
      t.strictSame(await a.audiences.get('backend'), seedAudience(ID.backend), 'by reference')
      t.strictSame((await a.audiences.get('backend'))?.parent, { name: 'Engineering', reference: 'eng', id: ID.eng })
      t.equal((await a.audiences.get('eng'))?.parent, null, 'a structure has parent null')
      t.equal((await a.audiences.get(ID.sales))?.id, ID.sales, "an id wins over another audience's equal reference")
      t.equal(await a.audiences.get('Backend'), undefined, 'references are case-sensitive')
      t.equal(await a.audiences.get('nope'), undefined)
      t.equal(await a.audiences.resolveId('frontend'), ID.frontend)
      t.equal(await a.audiences.resolveId(ID.sales), ID.sales)
      t.equal(await a.audiences.resolveId('nope'), undefined)
    })

    t.test('credentials: the tenant secret, the tenant as a client with every scope, its own clients only (part B.5)', async (t) => {
      const { store } = world(t)
      t.equal(await store.verifyTenantSecret(A.tenantId, A.apiSecret), true)
      t.equal(await store.verifyTenantSecret(A.tenantId, B.apiSecret), false, "another tenant's secret")
      t.equal(await store.verifyTenantSecret(A.tenantId, ''), false)
      t.equal(await store.verifyTenantSecret('eu-west-2_Unknown', A.apiSecret), false, 'an unknown tenant (decoy compare)')
      t.strictSame(await store.findClient(A.tenantId, A.tenantId, A.apiSecret), { tenantId: A.tenantId, clientId: A.tenantId, scopes: SCOPES })
      t.strictSame(await store.findClient(A.tenantId, 'a-both', 'a-both-secret'), { tenantId: A.tenantId, clientId: 'a-both', scopes: ['api/read', 'api/write'] })
      t.equal(await store.findClient(A.tenantId, 'a-reader', 'a-both-secret'), undefined, "another client's secret")
      t.equal(await store.findClient(A.tenantId, A.tenantId, 'a-reader-secret'), undefined)
      t.equal(await store.findClient(A.tenantId, 'b-reader', 'b-reader-secret'), undefined, "another tenant's client")
      t.equal(await store.findClient(A.tenantId, 'nobody', 'a-reader-secret'), undefined, 'an unknown client')
      t.equal(await store.findClient('eu-west-2_Unknown', 'a-reader', 'a-reader-secret'), undefined, 'an unknown tenant')
      t.equal(await store.findClient('eu-west-2_Unknown', 'eu-west-2_Unknown', 'x'), undefined, 'an unknown tenant as its own client')
    })

    t.test('list: createdAt then id, paged with ceil(total / perPage) pages, past the end empty (part C decided 3)', async (t) => {
      const { a } = world(t)
      const all = await a.audiences.list({ page: 1, perPage: 100 })
      t.strictSame(all, { results: SEED_ORDER.map(seedAudience), pagination: { totalResults: 7, totalPages: 1, page: 1, perPage: 100 } })
      t.strictSame(await a.audiences.list({ page: 2, perPage: 3 }), { results: [ID.sales, ID.shadow, ID.ui].map(seedAudience), pagination: { totalResults: 7, totalPages: 3, page: 2, perPage: 3 } })
      t.strictSame(await a.audiences.list({ page: 3, perPage: 3 }), { results: [seedAudience(ID.smart)], pagination: { totalResults: 7, totalPages: 3, page: 3, perPage: 3 } })
      t.strictSame(await a.audiences.list({ page: 4, perPage: 3 }), { results: [], pagination: { totalResults: 7, totalPages: 3, page: 4, perPage: 3 } })
      const b = world(t).b
      t.strictSame((await b.audiences.list({ page: 1, perPage: 10 })).results.map((x) => x.id), [ID.bEng, ID.bTeam], "only the tenant's own audiences")
    })

    t.test('list: apiControlled filters, updatedSince keeps updatedAt >= it, and both page the filtered set', async (t) => {
      const { a } = world(t)
      const ids = async (query: Parameters<TenantRepository['audiences']['list']>[0]) => {
        const page = await a.audiences.list(query)
        return { ids: page.results.map((x) => x.id), pagination: page.pagination }
      }
      t.strictSame(await ids({ page: 1, perPage: 100, apiControlled: false }), { ids: [ID.ui, ID.smart], pagination: { totalResults: 2, totalPages: 1, page: 1, perPage: 100 } })
      t.strictSame(await ids({ page: 1, perPage: 100, apiControlled: true }), { ids: [ID.eng, ID.frontend, ID.backend, ID.sales, ID.shadow], pagination: { totalResults: 5, totalPages: 1, page: 1, perPage: 100 } })
      t.strictSame(await ids({ page: 1, perPage: 100, updatedSince: Date.parse('2024-02-01T00:00:00.000Z') }), { ids: [ID.frontend, ID.backend, ID.shadow], pagination: { totalResults: 3, totalPages: 1, page: 1, perPage: 100 } }, 'the boundary is inclusive')
      t.strictSame(await ids({ page: 1, perPage: 100, updatedSince: Date.parse('2024-02-01T00:00:00.001Z') }), { ids: [ID.backend, ID.shadow], pagination: { totalResults: 2, totalPages: 1, page: 1, perPage: 100 } })
      t.strictSame(await ids({ page: 2, perPage: 1, apiControlled: true, updatedSince: Date.parse('2024-01-10T00:00:00.000Z') }), { ids: [ID.frontend], pagination: { totalResults: 4, totalPages: 4, page: 2, perPage: 1 } })
      t.strictSame(await ids({ page: 3, perPage: 2, apiControlled: false }), { ids: [], pagination: { totalResults: 2, totalPages: 1, page: 3, perPage: 2 } })
      t.strictSame(await ids({ page: 1, perPage: 5, updatedSince: Date.parse('2030-01-01T00:00:00.000Z') }), { ids: [], pagination: { totalResults: 0, totalPages: 0, page: 1, perPage: 5 } })
    })

    t.test('list: creates, renames, moves, member writes and deletes show in place, whether or not a list ran first', async (t) => {
      for (const listFirst of [true, false]) {
        const w = world(t)
        const recent = { page: 1, perPage: 100, updatedSince: Date.parse('2024-02-01T00:00:00.000Z') }
        if (listFirst) {
          await w.a.audiences.list({ page: 1, perPage: 1 })
          t.strictSame((await w.a.audiences.list(recent)).results.map((x) => x.reference), ['frontend', 'backend', ID.sales])
          t.strictSame((await w.a.audiences.list({ page: 1, perPage: 100, apiControlled: false })).results.map((x) => x.reference), ['ui', 'smart'])
        }
        w.clock.now = Date.parse('2024-01-02T12:00:00.000Z')
        const early = await w.a.audiences.create({ name: 'Early', reference: 'early', category: 'structure' })
        w.clock.now = NOW
        const late = await w.a.audiences.create({ name: 'Late', reference: 'late', category: 'audience', parentId: 'sales' })
        await w.a.audiences.update('frontend', { name: 'Web' })
        await w.a.members.add('sales', ['ann'])
        await w.a.audiences.delete(ID.shadow)
        const page = await w.a.audiences.list({ page: 1, perPage: 100 })
        t.strictSame(page.results.map((x) => x.reference), ['eng', 'frontend', 'early', 'backend', 'sales', 'ui', 'smart', 'late'], `order (list first: ${listFirst})`)
        t.equal(page.results[1]?.name, 'Web', `the renamed audience reads its new name (list first: ${listFirst})`)
        t.equal(page.results[1]?.updatedAt, new Date(NOW).toISOString())
        t.strictSame(page.results[2], early)
        t.strictSame(page.results[7], late)
        t.equal(page.pagination.totalResults, 8)
        t.strictSame((await w.a.audiences.list(recent)).results.map((x) => x.reference), ['frontend', 'backend', 'late'], `a filtered list follows the writes; a member write leaves updatedAt (list first: ${listFirst})`)
        t.strictSame((await w.a.audiences.list({ page: 1, perPage: 100, apiControlled: false })).results.map((x) => x.reference), ['ui', 'smart'])
        await w.store.reset(A.tenantId)
        t.strictSame((await w.a.audiences.list({ page: 1, perPage: 100 })).results, SEED_ORDER.map(seedAudience), `the seed order after a reset (list first: ${listFirst})`)
      }
    })

    t.test('create: a structure and a child, apiControlled and manual, stamped with the clock (part C decided 4)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      const structure = await w.a.audiences.create({ name: 'Ops', reference: 'ops', category: 'structure' })
      t.match(structure.id, /^[0-9a-f]{24}$/)
      const at = new Date(NOW).toISOString()
      t.strictSame(structure, { id: structure.id, name: 'Ops', reference: 'ops', apiControlled: true, category: 'structure', type: 'manual', parent: null, createdAt: at, updatedAt: at })
      t.not(w.store.version(A.tenantId), version, 'the version moved')
      const child = await w.a.audiences.create({ name: 'On call', reference: 'on-call', category: 'audience', parentId: 'ops' })
      t.strictSame(child, { id: child.id, name: 'On call', reference: 'on-call', apiControlled: true, category: 'audience', type: 'manual', parent: { name: 'Ops', reference: 'ops', id: structure.id }, createdAt: at, updatedAt: at })
      const byId = await w.a.audiences.create({ name: 'Pager', reference: 'pager', category: 'audience', parentId: structure.id })
      t.equal(byId.parent?.id, structure.id, 'parentId may be an id')
      t.not(child.id, structure.id)
      t.not(byId.id, child.id)
      t.strictSame(await w.a.audiences.get(child.id), child)
      t.strictSame(await w.a.audiences.get('on-call'), child)
      t.strictSame(await w.a.members.list(child.id, { page: 1, perPage: 10 }), { results: [], pagination: { totalResults: 0, totalPages: 0, page: 1, perPage: 10 } })
      t.strictSame(await w.a.managers.list(child.id), [])
      t.strictSame(await w.store.stats(), { tenants: 2, audiences: 12, users: 6 })
    })

    t.test('create: every refusal has its status, and changes nothing (part C decided 1, 4)', async (t) => {
      const w = world(t)
      const create = (input: Parameters<TenantRepository['audiences']['create']>[0]) => () => w.a.audiences.create(input)
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'backend', category: 'structure' }), 409, /backend/, 'a duplicate reference')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'structure', parentId: 'eng' }), 422, /structure/, 'a structure with a parent')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'audience' }), 422, /parentId/, 'an audience without a parent')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'audience', parentId: 'nope' }), 422, /nope/, 'an unknown parent')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'audience', parentId: 'backend' }), 422, /not a structure/, 'a child audience as the parent')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'audience', parentId: 'ui' }), 403, /Thrive UI/, 'a UI structure as the parent')
      await refusedChangesNothing(t, w, create({ name: 'X', reference: 'x', category: 'audience', parentId: ID.bEng }), 422, new RegExp(ID.bEng), "another tenant's structure")
      const fresh = world(t)
      t.equal((await w.a.audiences.create({ name: 'X', reference: 'x', category: 'structure' })).id, (await fresh.a.audiences.create({ name: 'X', reference: 'x', category: 'structure' })).id, 'refused creates use up no id')
    })

    t.test('create: the same writes after a reset give the same ids (part C decided 4)', async (t) => {
      const w = world(t)
      const run = async () => {
        const ids: string[] = []
        ids.push((await w.a.audiences.create({ name: 'One', reference: 'one', category: 'structure' })).id)
        ids.push((await w.a.audiences.create({ name: 'Two', reference: 'two', category: 'audience', parentId: 'one' })).id)
        await w.a.audiences.delete('two')
        ids.push((await w.a.audiences.create({ name: 'Two again', reference: 'two', category: 'audience', parentId: 'one' })).id)
        return ids
      }
      const first = await run()
      t.equal(new Set(first).size, 3, 'every created id is new')
      for (const id of first) t.match(id, /^[0-9a-f]{24}$/)
      await w.store.reset(A.tenantId)
      t.strictSame(await run(), first)
      await w.store.reset()
      t.strictSame(await run(), first, 'after a reset of every tenant too')
      t.strictSame(await world(t).a.audiences.create({ name: 'One', reference: 'one', category: 'structure' }).then((x) => x.id), first[0], 'and on a fresh store')
    })

    t.test('update: rename and re-reference; updatedAt moves, createdAt stays, memberOperations null (part C decided 5)', async (t) => {
      const w = world(t)
      w.clock.now = Date.parse('2025-07-01T00:00:00.000Z')
      const version = w.store.version(A.tenantId)
      const result = await w.a.audiences.update('backend', { name: 'Back end', reference: 'back-end' })
      t.strictSame(result, { audience: { ...seedAudience(ID.backend), name: 'Back end', reference: 'back-end', updatedAt: '2025-07-01T00:00:00.000Z' }, memberOperations: null })
      t.not(w.store.version(A.tenantId), version)
      t.strictSame(await w.a.audiences.get('back-end'), result.audience)
      t.equal(await w.a.audiences.get('backend'), undefined, 'the old reference no longer names it')
      t.equal((await w.a.audiences.create({ name: 'New', reference: 'backend', category: 'structure' })).reference, 'backend', 'the old reference is free')
      t.strictSame(await w.a.members.list('back-end', { page: 1, perPage: 10 }), { results: [memberOf(ID.bob, 'bob', 'bob@example.com'), memberOf(ID.ann, 'ann', 'Ann@Example.com')], pagination: { totalResults: 2, totalPages: 1, page: 1, perPage: 10 } }, 'members stay')
      const same = await w.a.audiences.update(ID.frontend, { reference: 'frontend' })
      t.equal(same.audience.reference, 'frontend', 'an audience may keep its own reference')
      t.strictSame(await w.a.audiences.update('frontend', { parentId: 'eng' }), { audience: { ...seedAudience(ID.frontend), updatedAt: '2025-07-01T00:00:00.000Z' }, memberOperations: null }, 'the same parent is not a move')
    })

    t.test('update: a renamed structure shows in its children at once (part C decided 5)', async (t) => {
      const w = world(t)
      await w.a.audiences.update('eng', { name: 'Eng', reference: 'engineering' })
      const expected = { name: 'Eng', reference: 'engineering', id: ID.eng }
      t.strictSame((await w.a.audiences.get('backend'))?.parent, expected)
      t.strictSame((await w.a.audiences.get('frontend'))?.parent, expected)
      t.strictSame((await w.a.audiences.list({ page: 1, perPage: 3 })).results.map((x) => x.parent), [null, expected, expected])
      t.equal(await w.a.audiences.resolveId('eng'), undefined)
      t.equal(await w.a.audiences.resolveId('engineering'), ID.eng)
    })

    t.test('update: a move names the old and new structure, and the children of both follow it', async (t) => {
      const w = world(t)
      await w.a.audiences.update('eng', { name: 'Eng' })
      const result = await w.a.audiences.update('backend', { parentId: ID.sales })
      t.strictSame(result.memberOperations, { from: { id: ID.eng, name: 'Eng', reference: 'eng' }, to: { id: ID.sales, name: 'Sales', reference: 'sales' } })
      t.strictSame(result.audience.parent, { name: 'Sales', reference: 'sales', id: ID.sales })
      await w.a.audiences.delete(ID.shadow)
      await rejects(t, w.a.audiences.delete('sales'), 409, /child/, 'the new structure has the moved child')
      await w.a.audiences.delete('frontend')
      await w.a.audiences.delete('eng')
      t.equal(await w.a.audiences.get('eng'), undefined, 'the old structure had no child left once frontend went')
      t.strictSame((await w.a.audiences.get('backend'))?.parent, { name: 'Sales', reference: 'sales', id: ID.sales })
    })

    t.test('update: every refusal has its status, and changes nothing (part C decided 1, 5)', async (t) => {
      const w = world(t)
      const update = (ref: string, input: Parameters<TenantRepository['audiences']['update']>[1]) => () => w.a.audiences.update(ref, input)
      await refusedChangesNothing(t, w, update('nope', { name: 'X' }), 404, /nope/, 'an unknown audience')
      await refusedChangesNothing(t, w, update(ID.bEng, { name: 'X' }), 404, new RegExp(ID.bEng), "another tenant's audience")
      await refusedChangesNothing(t, w, update('ui', { name: 'X' }), 403, /Thrive UI/, 'a UI structure')
      await refusedChangesNothing(t, w, update('smart', { name: 'X' }), 403, /Thrive UI/, 'a UI audience')
      await refusedChangesNothing(t, w, update('backend', { reference: 'frontend' }), 409, /frontend/, "another audience's reference")
      await refusedChangesNothing(t, w, update('eng', { parentId: 'sales' }), 422, /structure/, 'moving a structure')
      await refusedChangesNothing(t, w, update('backend', { parentId: 'nope' }), 422, /nope/, 'an unknown new parent')
      await refusedChangesNothing(t, w, update('backend', { parentId: 'frontend' }), 422, /not a structure/, 'a child audience as the new parent')
      await refusedChangesNothing(t, w, update('backend', { parentId: 'ui' }), 403, /Thrive UI/, 'a UI structure as the new parent')
      await refusedChangesNothing(t, w, update('backend', { parentId: ID.bEng }), 422, new RegExp(ID.bEng), "another tenant's structure as the new parent")
    })

    t.test('delete: the audience, its members and managers go, and its reference is free (part C decided 6)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.equal(await w.a.audiences.delete('backend'), undefined)
      t.not(w.store.version(A.tenantId), version)
      t.equal(await w.a.audiences.get(ID.backend), undefined)
      t.equal(await w.a.audiences.get('backend'), undefined)
      await rejects(t, w.a.members.list(ID.backend, { page: 1, perPage: 10 }), 404, /backend|a00000000000000000000002/, 'its members')
      await rejects(t, w.a.managers.list(ID.backend), 404, /backend|a00000000000000000000002/, 'its managers')
      t.strictSame(await w.store.stats(), { tenants: 2, audiences: 8, users: 6 })
      const again = await w.a.audiences.create({ name: 'Backend', reference: 'backend', category: 'audience', parentId: 'eng' })
      t.not(again.id, ID.backend)
      t.strictSame(await w.a.members.list('backend', { page: 1, perPage: 10 }), { results: [], pagination: { totalResults: 0, totalPages: 0, page: 1, perPage: 10 } }, 'a new audience under the old reference starts empty')
      t.strictSame(await w.a.managers.list('backend'), [])
      await w.a.audiences.delete('frontend')
      await w.a.audiences.delete(again.id)
      await w.a.audiences.delete('eng')
      t.equal(await w.a.audiences.get('eng'), undefined, 'a structure goes once its children have')
    })

    t.test('delete: every refusal has its status, and changes nothing (part C decided 1, 6)', async (t) => {
      const w = world(t)
      await refusedChangesNothing(t, w, () => w.a.audiences.delete('nope'), 404, /nope/, 'an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.audiences.delete(ID.bTeam), 404, new RegExp(ID.bTeam), "another tenant's audience")
      await refusedChangesNothing(t, w, () => w.a.audiences.delete('smart'), 403, /Thrive UI/, 'a UI audience')
      await refusedChangesNothing(t, w, () => w.a.audiences.delete('eng'), 409, /child/, 'a structure with children')
    })

    t.test('members.list: in the order added, paged like the audience list; 404 for an unknown audience', async (t) => {
      const { a } = world(t)
      t.strictSame(await a.members.list('backend', { page: 1, perPage: 100 }), { results: [memberOf(ID.bob, 'bob', 'bob@example.com'), memberOf(ID.ann, 'ann', 'Ann@Example.com')], pagination: { totalResults: 2, totalPages: 1, page: 1, perPage: 100 } })
      t.strictSame(await a.members.list(ID.backend, { page: 2, perPage: 1 }), { results: [memberOf(ID.ann, 'ann', 'Ann@Example.com')], pagination: { totalResults: 2, totalPages: 2, page: 2, perPage: 1 } })
      t.strictSame(await a.members.list('backend', { page: 3, perPage: 1 }), { results: [], pagination: { totalResults: 2, totalPages: 2, page: 3, perPage: 1 } })
      t.strictSame(await a.members.list('smart', { page: 1, perPage: 10 }), { results: [memberOf(ID.cat, 'cat', 'cat@example.com')], pagination: { totalResults: 1, totalPages: 1, page: 1, perPage: 10 } }, 'a UI audience can be read')
      await rejects(t, a.members.list('nope', { page: 1, perPage: 10 }), 404, /nope/, 'an unknown audience')
      await rejects(t, a.members.list(ID.bTeam, { page: 1, perPage: 10 }), 404, new RegExp(ID.bTeam), "another tenant's audience")
    })

    t.test('members.add: by id, reference or any-case email; every failure reason; echoes what was sent (part C decided 7, 8)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.strictSame(await w.a.members.add('frontend', ['EVE@EXAMPLE.COM']), ok('EVE@EXAMPLE.COM'), 'all succeeded: no failure block')
      t.not(w.store.version(A.tenantId), version)
      const result = await w.a.members.add('frontend', [ID.cat, 'nobody', 'Dan@Example.com', 'eve', 'cat', 'dan', ID.bea, 'nobody'])
      t.strictSame(result, partial([ID.cat, 'Dan@Example.com'], [['nobody', 'user not found'], ['eve', 'already a member'], ['cat', 'duplicate in request'], ['dan', 'duplicate in request'], [ID.bea, 'user not found'], ['nobody', 'user not found']]))
      t.strictSame((await w.a.members.list('frontend', { page: 1, perPage: 10 })).results, [memberOf(ID.eve, 'eve', 'EVE@example.com'), memberOf(ID.cat, 'cat', 'cat@example.com'), memberOf(ID.dan, 'dan', 'dan@example.com')], 'appended in request order')
      t.strictSame(await w.a.members.add('backend', ['ann', 'ann@example.com', 'bob']), partial([], [['ann', 'already a member'], ['ann@example.com', 'duplicate in request'], ['bob', 'already a member']]), 'nothing succeeded: a count of 0')
      t.strictSame((await w.a.members.list('backend', { page: 1, perPage: 10 })).results.map((m) => m.userId), [ID.bob, ID.ann], 'nothing changed')
      t.strictSame(await w.a.members.add('eng', ['ann']), ok('ann'), 'a structure has members too')
    })

    t.test('members.add: 404 for an unknown audience, 403 on a UI audience, and nothing changes (part C decided 1)', async (t) => {
      const w = world(t)
      await refusedChangesNothing(t, w, () => w.a.members.add('nope', ['ann']), 404, /nope/, 'an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.members.add('smart', ['ann']), 403, /Thrive UI/, 'a UI audience')
      await refusedChangesNothing(t, w, () => w.a.members.replace('nope', ['ann']), 404, /nope/, 'replace: an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.members.replace('smart', ['ann']), 403, /Thrive UI/, 'replace: a UI audience')
      await refusedChangesNothing(t, w, () => w.a.members.remove('nope', 'ann'), 404, /nope/, 'remove: an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.members.remove('smart', 'cat'), 403, /Thrive UI/, 'remove: a UI audience')
    })

    t.test('members.replace: the list becomes exactly the successes, in request order; no "already a member" (part C decided 8)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.strictSame(await w.a.members.replace('backend', ['cat', 'ANN@example.com', 'nobody', ID.cat]), partial(['cat', 'ANN@example.com'], [['nobody', 'user not found'], [ID.cat, 'duplicate in request']]))
      t.not(w.store.version(A.tenantId), version)
      t.strictSame((await w.a.members.list('backend', { page: 1, perPage: 10 })).results, [memberOf(ID.cat, 'cat', 'cat@example.com'), memberOf(ID.ann, 'ann', 'Ann@Example.com')])
      t.strictSame(await w.a.members.replace('backend', ['dan']), ok('dan'))
      t.strictSame((await w.a.members.list('backend', { page: 1, perPage: 10 })).results, [memberOf(ID.dan, 'dan', 'dan@example.com')])
      t.strictSame(await w.a.members.replace('backend', ['nobody']), partial([], [['nobody', 'user not found']]))
      t.strictSame(await w.a.members.list('backend', { page: 1, perPage: 10 }), { results: [], pagination: { totalResults: 0, totalPages: 0, page: 1, perPage: 10 } }, 'nothing succeeded: the list is empty')
    })

    t.test('members.remove: the member goes; an unknown user or a non-member is a 404 that says which (part C decided 6)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.equal(await w.a.members.remove('backend', 'BOB@example.com'), undefined)
      t.not(w.store.version(A.tenantId), version)
      t.strictSame((await w.a.members.list('backend', { page: 1, perPage: 10 })).results, [memberOf(ID.ann, 'ann', 'Ann@Example.com')])
      await refusedChangesNothing(t, w, () => w.a.members.remove('backend', 'nobody'), 404, /user.*nobody|nobody.*user/i, 'an unknown user')
      await refusedChangesNothing(t, w, () => w.a.members.remove('backend', 'bob'), 404, /not a member/, 'a user who is not a member')
      await refusedChangesNothing(t, w, () => w.a.members.remove('frontend', 'bob'), 404, /not a member/, 'an audience without members')
      await refusedChangesNothing(t, w, () => w.a.members.remove('backend', ID.bea), 404, new RegExp(ID.bea), "another tenant's user")
      await w.a.members.remove('backend', ID.ann)
      t.strictSame(await w.a.members.list('backend', { page: 1, perPage: 10 }), { results: [], pagination: { totalResults: 0, totalPages: 0, page: 1, perPage: 10 } })
    })

    t.test('managers.list: administrator only on structures; UI powers false on API audiences, kept on UI ones (part C shapes, decided 8)', async (t) => {
      const { a } = world(t)
      t.strictSame(await a.managers.list('eng'), [{ userId: ID.ann, reference: 'ann', email: 'Ann@Example.com', permissions: perms({ manageContent: true, insights: true }, { canManageAudiences: false, canAddAudienceManagers: true }) }])
      t.strictSame(await a.managers.list('backend'), [{ userId: ID.bob, reference: 'bob', email: 'bob@example.com', permissions: perms({ assignments: true }) }], 'a child shows no administrator block')
      t.strictSame(await a.managers.list(ID.sales), [{ userId: ID.dan, reference: 'dan', email: 'dan@example.com', permissions: perms({ canViewLearnPage: true, manage: true }, { canManageAudiences: false, canAddAudienceManagers: false }) }], 'a structure always shows one')
      t.strictSame(await a.managers.list('ui'), [
        { userId: ID.cat, reference: 'cat', email: 'cat@example.com', permissions: perms({ manageMembers: true }, { canManageAudiences: true, canAddAudienceManagers: false }) },
        { userId: ID.eve, reference: 'eve', email: 'EVE@example.com', permissions: perms({ manage: true }, { canManageAudiences: false, canAddAudienceManagers: false }) }
      ], 'a UI structure keeps its UI powers, and shows an administrator block the seed left out')
      t.strictSame(await a.managers.list('smart'), [{ userId: ID.dan, reference: 'dan', email: 'dan@example.com', permissions: perms({ manageMembers: true, manageContent: true }) }])
      t.strictSame(await a.managers.list('frontend'), [])
      await rejects(t, a.managers.list('nope'), 404, /nope/, 'an unknown audience')
    })

    t.test('managers.add: flags default to false, every failure reason, appended in request order (part C shapes, decided 8)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.strictSame(await w.a.managers.add('eng', [
        { reference: 'bob@EXAMPLE.com', permissions: { audienceManager: { assignments: true }, administrator: { canAddAudienceManagers: true } } },
        { reference: 'ann', permissions: { peopleManager: { manage: true } } },
        { reference: 'nobody' },
        { reference: ID.bob },
        { reference: 'cat' }
      ]), partial(['bob@EXAMPLE.com', 'cat'], [['ann', 'already a manager'], ['nobody', 'user not found'], [ID.bob, 'duplicate in request']]))
      t.not(w.store.version(A.tenantId), version)
      t.strictSame(await w.a.managers.list('eng'), [
        { userId: ID.ann, reference: 'ann', email: 'Ann@Example.com', permissions: perms({ manageContent: true, insights: true }, { canManageAudiences: false, canAddAudienceManagers: true }) },
        { userId: ID.bob, reference: 'bob', email: 'bob@example.com', permissions: perms({ assignments: true }, { canManageAudiences: false, canAddAudienceManagers: true }) },
        { userId: ID.cat, reference: 'cat', email: 'cat@example.com', permissions: perms({}, { canManageAudiences: false, canAddAudienceManagers: false }) }
      ])
      t.strictSame(await w.a.managers.add('frontend', [
        { reference: 'eve', permissions: { audienceManager: { manageContent: true, assignments: false }, peopleManager: { canViewLearnPage: true, insights: true }, administrator: { canAddAudienceManagers: false } } }
      ]), ok('eve'), 'an all-false administrator block on a child is ignored')
      t.strictSame(await w.a.managers.list('frontend'), [{ userId: ID.eve, reference: 'eve', email: 'EVE@example.com', permissions: perms({ manageContent: true, canViewLearnPage: true, insights: true }) }])
      t.strictSame(await w.a.managers.add('frontend', [{ reference: 'eve' }]), partial([], [['eve', 'already a manager']]))
    })

    t.test('managers.add and replace: an administrator flag on a child refuses the whole request; 404 and 403 as for members (part C decided 1)', async (t) => {
      const w = world(t)
      const admin = [{ reference: 'eve' }, { reference: 'dan', permissions: { administrator: { canAddAudienceManagers: true } } }]
      await refusedChangesNothing(t, w, () => w.a.managers.add('frontend', admin), 422, /administrator/, 'add: administrator on a child')
      await refusedChangesNothing(t, w, () => w.a.managers.replace('backend', admin), 422, /administrator/, 'replace: administrator on a child')
      await refusedChangesNothing(t, w, () => w.a.managers.add('nope', [{ reference: 'eve' }]), 404, /nope/, 'add: an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.managers.add('ui', [{ reference: 'eve' }]), 403, /Thrive UI/, 'add: a UI structure')
      await refusedChangesNothing(t, w, () => w.a.managers.replace('nope', [{ reference: 'eve' }]), 404, /nope/, 'replace: an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.managers.replace('smart', [{ reference: 'eve' }]), 403, /Thrive UI/, 'replace: a UI audience')
      await refusedChangesNothing(t, w, () => w.a.managers.remove('nope', 'dan'), 404, /nope/, 'remove: an unknown audience')
      await refusedChangesNothing(t, w, () => w.a.managers.remove('smart', 'dan'), 403, /Thrive UI/, 'remove: a UI audience')
    })

    t.test('managers.replace: the list becomes exactly the successes with their new permissions (part C decided 8)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.strictSame(await w.a.managers.replace('eng', [
        { reference: 'dan', permissions: { administrator: { canAddAudienceManagers: true } } },
        { reference: 'ANN@example.com', permissions: { audienceManager: { manageContent: false } } },
        { reference: 'dan@example.com' },
        { reference: 'nobody' }
      ]), partial(['dan', 'ANN@example.com'], [['dan@example.com', 'duplicate in request'], ['nobody', 'user not found']]))
      t.not(w.store.version(A.tenantId), version)
      t.strictSame(await w.a.managers.list('eng'), [
        { userId: ID.dan, reference: 'dan', email: 'dan@example.com', permissions: perms({}, { canManageAudiences: false, canAddAudienceManagers: true }) },
        { userId: ID.ann, reference: 'ann', email: 'Ann@Example.com', permissions: perms({}, { canManageAudiences: false, canAddAudienceManagers: false }) }
      ], 'an existing manager is replaced with the permissions sent')
      t.strictSame(await w.a.managers.replace('backend', [{ reference: 'cat', permissions: { peopleManager: { insights: true } } }]), ok('cat'))
      t.strictSame(await w.a.managers.list('backend'), [{ userId: ID.cat, reference: 'cat', email: 'cat@example.com', permissions: perms({ insights: true }) }])
    })

    t.test('managers.remove: the manager goes; an unknown user or a non-manager is a 404 that says which (part C decided 6)', async (t) => {
      const w = world(t)
      const version = w.store.version(A.tenantId)
      t.equal(await w.a.managers.remove('eng', ID.ann), undefined)
      t.not(w.store.version(A.tenantId), version)
      t.strictSame(await w.a.managers.list('eng'), [])
      await refusedChangesNothing(t, w, () => w.a.managers.remove('backend', 'nobody'), 404, /user.*nobody|nobody.*user/i, 'an unknown user')
      await refusedChangesNothing(t, w, () => w.a.managers.remove('backend', 'ann'), 404, /not a manager/, 'a user who is not a manager')
      await refusedChangesNothing(t, w, () => w.a.managers.remove('frontend', 'ann'), 404, /not a manager/, 'an audience without managers')
      t.equal(await w.a.managers.remove('backend', 'Bob@Example.com'), undefined)
      t.strictSame(await w.a.managers.list('backend'), [])
    })

    t.test('users.find: by id, reference or any-case email, within the tenant only (part C decided 7)', async (t) => {
      const { a, b } = world(t)
      const ann = { id: ID.ann, reference: 'ann', email: 'Ann@Example.com', firstName: 'Ann', lastName: 'Archer' }
      t.strictSame(await a.users.find(ID.ann), ann)
      t.strictSame(await a.users.find('ann'), ann)
      t.strictSame(await a.users.find('aNN@example.COM'), ann)
      t.equal(await a.users.find('Ann'), undefined, 'references are case-sensitive')
      t.equal(await a.users.find(ID.bea), undefined, "another tenant's user")
      t.equal(await a.users.find('bea@example.com'), undefined)
      t.strictSame(await b.users.find('ann'), { id: ID.bea, reference: 'ann', email: 'bea@example.com', firstName: null, lastName: null }, 'the same reference in another tenant is another user')
    })

    t.test("version: every write moves it to a value it never had; another tenant's stays (Store.version)", async (t) => {
      const w = world(t)
      const seen = new Set([w.store.version(A.tenantId), w.store.version(B.tenantId)])
      const versionB = w.store.version(B.tenantId)
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['create', () => w.a.audiences.create({ name: 'New', reference: 'new', category: 'structure' })],
        ['update', () => w.a.audiences.update('new', { name: 'Newer' })],
        ['delete', () => w.a.audiences.delete('new')],
        ['members.add', () => w.a.members.add('backend', ['cat'])],
        ['members.replace', () => w.a.members.replace('backend', ['dan'])],
        ['members.remove', () => w.a.members.remove('backend', 'dan')],
        ['managers.add', () => w.a.managers.add('backend', [{ reference: 'cat' }])],
        ['managers.replace', () => w.a.managers.replace('backend', [{ reference: 'dan' }])],
        ['managers.remove', () => w.a.managers.remove('backend', 'dan')],
        ['reset of the tenant', () => w.store.reset(A.tenantId)],
        ['create after the reset', () => w.a.audiences.create({ name: 'New', reference: 'new', category: 'structure' })],
        ['reset of every tenant', () => w.store.reset()]
      ]
      for (const [what, write] of writes) {
        await write()
        const version = w.store.version(A.tenantId)
        t.notOk(seen.has(version), `${what}: a version never seen before`)
        seen.add(version)
        if (what !== 'reset of every tenant') t.equal(w.store.version(B.tenantId), versionB, `${what}: the other tenant's version stays`)
      }
      t.notOk(seen.has(w.store.version(B.tenantId)), "a reset of every tenant moves the other tenant's version too")
    })

    t.test('reset(tenant) restores exactly its seed and leaves the other tenant alone (part C decided 9)', async (t) => {
      const w = world(t)
      const seedA = await dump(w.a)
      const seedB = await dump(w.b)
      const created = await w.a.audiences.create({ name: 'New', reference: 'new', category: 'audience', parentId: 'sales' })
      await w.a.audiences.update('eng', { name: 'Renamed', reference: 'renamed' })
      await w.a.audiences.update('backend', { parentId: 'sales' })
      await w.a.audiences.delete('frontend')
      await w.a.members.add(ID.shadow, ['ann'])
      await w.a.members.replace('backend', ['eve'])
      await w.a.managers.replace(ID.eng, [{ reference: 'eve' }])
      await w.a.managers.remove('backend', 'bob')
      await w.b.members.remove('b-team', 'ann')
      await w.b.audiences.create({ name: 'B new', reference: 'b-new', category: 'structure' })
      const writtenB = await dump(w.b)
      t.notSame(await dump(w.a), seedA, 'the writes changed tenant A')
      t.notSame(writtenB, seedB, 'and tenant B')
      await w.store.reset(A.tenantId)
      t.strictSame(await dump(w.a), seedA, 'tenant A reads its seed again')
      t.equal(await w.a.audiences.get(created.id), undefined)
      t.equal((await w.a.audiences.get('eng'))?.name, 'Engineering')
      t.strictSame(await dump(w.b), writtenB, "tenant B's writes survive")
      await w.a.members.add(ID.shadow, ['ann'])
      await w.store.reset()
      t.strictSame(await dump(w.a), seedA, 'a reset of every tenant restores A')
      t.strictSame(await dump(w.b), seedB, 'and B')
      t.strictSame(await w.store.stats(), { tenants: 2, audiences: 9, users: 6 })
      await w.store.reset('eu-west-2_Unknown')
      t.strictSame(await dump(w.a), seedA, 'a reset of an unknown tenant touches nothing')
    })

    t.test("no call reaches another tenant's audiences or users (part B.2, C decided 9)", async (t) => {
      const w = world(t)
      t.equal(await w.a.audiences.get(ID.bEng), undefined)
      t.equal(await w.a.audiences.resolveId(ID.bTeam), undefined)
      t.equal((await w.a.audiences.get('eng'))?.id, ID.eng, "a reference both tenants use names the caller's own")
      await rejects(t, w.a.members.list(ID.bTeam, { page: 1, perPage: 10 }), 404, new RegExp(ID.bTeam), 'members of B')
      await rejects(t, w.a.managers.list(ID.bEng), 404, new RegExp(ID.bEng), 'managers of B')
      await rejects(t, w.a.members.add(ID.bTeam, ['ann']), 404, new RegExp(ID.bTeam), 'writing members of B')
      t.strictSame(await w.a.members.add('frontend', [ID.bea, 'bea@example.com']), partial([], [[ID.bea, 'user not found'], ['bea@example.com', 'user not found']]), "B's users are unknown to A")
      t.strictSame(await w.a.managers.add('frontend', [{ reference: ID.bea }]), partial([], [[ID.bea, 'user not found']]))
      await w.a.audiences.update('eng', { name: 'A only' })
      t.equal((await w.b.audiences.get('eng'))?.name, 'B Engineering', "A's write does not show in B")
    })

    t.test('nothing a caller gets back aliases stored state', async (t) => {
      const w = world(t)
      const mutate = (value: unknown): void => {
        if (Array.isArray(value)) {
          for (const v of value) mutate(v)
          value.push('added')
        } else if (typeof value === 'object' && value !== null) {
          for (const [k, v] of Object.entries(value)) {
            if (typeof v === 'object' && v !== null) mutate(v)
            else (value as Record<string, unknown>)[k] = typeof v === 'boolean' ? !v : 'changed'
          }
        }
      }
      const before = await dump(w.a)
      const reads: Array<() => Promise<unknown>> = [
        () => w.a.audiences.get('backend'),
        () => w.a.audiences.list({ page: 1, perPage: 100 }),
        () => w.a.audiences.list({ page: 1, perPage: 100, apiControlled: true }),
        () => w.a.members.list('backend', { page: 1, perPage: 10 }),
        () => w.a.managers.list('eng'),
        () => w.a.managers.list('backend'),
        () => w.a.users.find('ann')
      ]
      for (const read of reads) {
        const value = await read()
        t.doesNotThrow(() => { mutate(value) }, 'a result can be changed freely')
      }
      t.strictSame(await dump(w.a), before, 'the changed results left the state alone')
      t.strictSame(await w.a.users.find('ann'), { id: ID.ann, reference: 'ann', email: 'Ann@Example.com', firstName: 'Ann', lastName: 'Archer' })

      const created = await w.a.audiences.create({ name: 'New', reference: 'new', category: 'audience', parentId: 'eng' })
      const copy = structuredClone(created)
      mutate(created)
      t.strictSame(await w.a.audiences.get('new'), copy, 'a created audience')
      const updated = await w.a.audiences.update('new', { parentId: 'sales' })
      const updatedCopy = structuredClone(updated)
      mutate(updated)
      t.strictSame(await w.a.audiences.get('new'), updatedCopy.audience, 'an updated audience and its memberOperations')
      t.strictSame((await w.a.audiences.update('new', { parentId: 'eng' })).memberOperations?.to, { id: ID.eng, name: 'Engineering', reference: 'eng' })

      const refs = ['ann', 'nobody']
      const managers = [{ reference: 'ann', permissions: { audienceManager: { manageContent: true } } }]
      mutate(await w.a.members.add('new', refs))
      mutate(await w.a.managers.add('new', managers))
      refs[0] = 'bob'
      ;(managers[0] as { permissions: { audienceManager: { manageContent: boolean } } }).permissions.audienceManager.manageContent = false
      t.strictSame((await w.a.members.list('new', { page: 1, perPage: 10 })).results, [memberOf(ID.ann, 'ann', 'Ann@Example.com')], 'the request array is not kept')
      t.strictSame(await w.a.managers.list('new'), [{ userId: ID.ann, reference: 'ann', email: 'Ann@Example.com', permissions: perms({ manageContent: true }) }], 'nor the permissions object sent')
    })

    t.test('the seed given to the factory is never changed by writes or resets', async (t) => {
      const seed = makeSeed()
      const pristine = structuredClone(seed)
      const w = world(t, seed)
      await w.a.audiences.create({ name: 'New', reference: 'new', category: 'structure' })
      await w.a.audiences.update('eng', { name: 'Renamed', reference: 'renamed' })
      await w.a.audiences.update('backend', { parentId: 'sales' })
      await w.a.audiences.delete('frontend')
      await w.a.members.add('backend', ['cat'])
      await w.a.members.replace(ID.shadow, ['dan'])
      await w.a.members.remove('backend', 'bob')
      await w.a.managers.add('renamed', [{ reference: 'cat' }])
      await w.a.managers.replace('backend', [{ reference: 'eve' }])
      await w.a.managers.remove('sales', 'dan')
      await w.b.members.remove('b-team', 'ann')
      await w.store.reset(A.tenantId)
      await w.a.members.add('backend', ['cat'])
      t.strictSame(seed, pristine)
    })
  })
}
