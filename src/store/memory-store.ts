// The in-memory Store: a frozen seed, copy-on-write records and indexes per tenant, a version per tenant.
import { DECOY_DIGEST, matchesDigest, secretDigest } from '../secrets.js'
import type { Audience } from '../schemas/audience.js'
import type { TenantFixture } from '../schemas/fixtures.js'
import type { BulkResult, Manager, ManagerInput, Member, Page, PageRequest, User } from '../schemas/members.js'
import { SCOPES, type Scope } from '../schemas/oauth.js'
import type { AudienceSeed, Seed, TenantSeed } from './load-fixtures.js'
import type {
  AudienceQuery, AudienceRepository, CreateAudienceInput, ManagerRepository, MemberRepository, Store, StoreStats,
  TenantRepository, UpdateAudienceInput, UpdateResult, UserRepository, VerifiedClient
} from './store.js'

export interface MemoryStoreOptions {
  /** The mock clock: createdAt and updatedAt of writes. */
  now: () => number
}

interface ClientEntry {
  clientId: string
  digest: Buffer
  scopes: readonly Scope[]
}

/** What never changes for a tenant: who it is, its credentials (as digests) and its seed. */
interface TenantConstants {
  tenantId: string
  digest: Buffer
  clients: ReadonlyMap<string, ClientEntry>
  seed: TenantSeed
}

/**
 * A tenant's current data. Records are frozen and shared with the seed until written: a write replaces the
 * record (and the lists it changes) with a new frozen one, so a reset only rebuilds the indexes.
 */
export interface TenantData {
  byId: Map<string, AudienceSeed>
  byReference: Map<string, AudienceSeed>
  /** Child ids per structure id, in insertion order. */
  children: Map<string, Set<string>>
  usersById: Map<string, User>
  usersByReference: Map<string, User>
  /** Keyed by the lowercased email: Thrive matches emails case-insensitively. */
  usersByEmail: Map<string, User>
  /** Audiences created since the seed: the next created id is derived from it, so ids repeat after a reset. */
  created: number
}

function freezeSeed (seed: TenantSeed): TenantSeed {
  for (const a of seed.audiences) {
    if (a.members !== undefined) Object.freeze(a.members)
    if (a.managers !== undefined) for (const m of a.managers) deepFreeze(m)
    Object.freeze(a)
  }
  for (const u of seed.users) Object.freeze(u)
  Object.freeze(seed.audiences)
  Object.freeze(seed.users)
  return seed
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

function indexTenant (seed: TenantSeed): TenantData {
  const data: TenantData = {
    byId: new Map(),
    byReference: new Map(),
    children: new Map(),
    usersById: new Map(),
    usersByReference: new Map(),
    usersByEmail: new Map(),
    created: 0
  }
  for (const a of seed.audiences) indexAudience(data, a)
  for (const u of seed.users) {
    data.usersById.set(u.id, u)
    data.usersByReference.set(u.reference, u)
    data.usersByEmail.set(u.email.toLowerCase(), u)
  }
  return data
}

export function indexAudience (data: TenantData, a: AudienceSeed): void {
  data.byId.set(a.id, a)
  data.byReference.set(a.reference, a)
  if (a.parentId !== null) {
    let set = data.children.get(a.parentId)
    if (set === undefined) {
      set = new Set()
      data.children.set(a.parentId, set)
    }
    set.add(a.id)
  }
}

/**
 * Written out field by field because it runs on every GET: a loop over the schema's keys or a structuredClone costs
 * tens to hundreds of times more. Typed by the schema, so a field added or dropped there fails to compile here.
 * The parent block is read from the parent now, so a renamed structure shows in its children.
 */
export function toAudience (data: TenantData, a: AudienceSeed): Audience {
  const parent = a.parentId === null ? undefined : data.byId.get(a.parentId)
  return {
    id: a.id,
    name: a.name,
    reference: a.reference,
    apiControlled: a.apiControlled,
    category: a.category,
    type: a.type,
    parent: parent === undefined ? null : { name: parent.name, reference: parent.reference, id: parent.id },
    createdAt: a.createdAt,
    updatedAt: a.updatedAt
  }
}

function notImplemented (what: string): never {
  throw new Error(`${what} is not implemented by the in-memory store yet`)
}

class MemoryTenant implements TenantRepository {
  readonly audiences: AudienceRepository
  readonly members: MemberRepository
  readonly managers: ManagerRepository
  readonly users: UserRepository

  constructor (readonly tenantId: string, private readonly store: MemoryStore) {
    const data = () => store.data(tenantId)
    this.audiences = {
      async get (idOrReference: string): Promise<Audience | undefined> {
        const d = data()
        const found = d.byId.get(idOrReference) ?? d.byReference.get(idOrReference)
        return found === undefined ? undefined : toAudience(d, found)
      },
      async resolveId (idOrReference: string): Promise<string | undefined> {
        const d = data()
        return (d.byId.get(idOrReference) ?? d.byReference.get(idOrReference))?.id
      },
      list: async (_query: AudienceQuery): Promise<Page<Audience>> => notImplemented('list'),
      create: async (_input: CreateAudienceInput): Promise<Audience> => notImplemented('create'),
      update: async (_ref: string, _input: UpdateAudienceInput): Promise<UpdateResult> => notImplemented('update'),
      delete: async (_ref: string): Promise<void> => notImplemented('delete')
    }
    this.members = {
      list: async (_audience: string, _page: PageRequest): Promise<Page<Member>> => notImplemented('members.list'),
      add: async (_audience: string, _refs: readonly string[]): Promise<BulkResult> => notImplemented('members.add'),
      replace: async (_audience: string, _refs: readonly string[]): Promise<BulkResult> => notImplemented('members.replace'),
      remove: async (_audience: string, _ref: string): Promise<void> => notImplemented('members.remove')
    }
    this.managers = {
      list: async (_audience: string): Promise<Manager[]> => notImplemented('managers.list'),
      add: async (_audience: string, _m: readonly ManagerInput[]): Promise<BulkResult> => notImplemented('managers.add'),
      replace: async (_audience: string, _m: readonly ManagerInput[]): Promise<BulkResult> => notImplemented('managers.replace'),
      remove: async (_audience: string, _ref: string): Promise<void> => notImplemented('managers.remove')
    }
    this.users = {
      async find (userRef: string): Promise<User | undefined> {
        const d = data()
        return d.usersById.get(userRef) ?? d.usersByReference.get(userRef) ?? d.usersByEmail.get(userRef.toLowerCase())
      }
    }
  }

  async snapshot (): Promise<TenantFixture> {
    return notImplemented('snapshot')
  }
}

export class MemoryStore implements Store {
  readonly sources: readonly string[]
  readonly #options: MemoryStoreOptions
  readonly #constants = new Map<string, TenantConstants>()
  readonly #data = new Map<string, TenantData>()
  readonly #repositories = new Map<string, MemoryTenant>()
  readonly #versions = new Map<string, number>()
  /** Store-wide, so a tenant's version never returns to a value it had before a reset. */
  #nextVersion = 1

  constructor (seed: Seed, options: MemoryStoreOptions) {
    this.#options = options
    this.sources = Object.freeze([...seed.sources])
    for (const tenant of seed.tenants) {
      const clients = new Map(tenant.clients.map((c) => [c.clientId, { clientId: c.clientId, digest: secretDigest(c.clientSecret), scopes: Object.freeze([...c.scopes]) }]))
      this.#constants.set(tenant.tenantId, { tenantId: tenant.tenantId, digest: secretDigest(tenant.apiSecret), clients, seed: freezeSeed(tenant) })
      this.#data.set(tenant.tenantId, indexTenant(tenant))
      this.#repositories.set(tenant.tenantId, new MemoryTenant(tenant.tenantId, this))
      this.#versions.set(tenant.tenantId, this.#nextVersion++)
    }
  }

  /** The mock clock, as the ISO timestamp writes record. */
  nowIso (): string {
    return new Date(this.#options.now()).toISOString()
  }

  /** A tenant's current data, for its repository; the tenant is known (repositories exist only for known tenants). */
  data (tenantId: string): TenantData {
    return this.#data.get(tenantId) as TenantData
  }

  /** Records that a tenant's data changed, so caches keyed on its version let go. */
  touch (tenantId: string): void {
    this.#versions.set(tenantId, this.#nextVersion++)
  }

  seedOf (tenantId: string): TenantSeed {
    return (this.#constants.get(tenantId) as TenantConstants).seed
  }

  has (tenantId: string): boolean {
    return this.#constants.has(tenantId)
  }

  tenant (tenantId: string): TenantRepository | undefined {
    return this.#repositories.get(tenantId)
  }

  tenantIds (): readonly string[] {
    return [...this.#constants.keys()]
  }

  version (tenantId: string): number {
    return this.#versions.get(tenantId) ?? 0
  }

  async verifyTenantSecret (tenantId: string, secret: string): Promise<boolean> {
    const tenant = this.#constants.get(tenantId)
    const ok = matchesDigest(secret, tenant?.digest ?? DECOY_DIGEST)
    return tenant !== undefined && ok
  }

  async findClient (tenantId: string, clientId: string, secret: string): Promise<VerifiedClient | undefined> {
    const tenant = this.#constants.get(tenantId)
    const isTenant = clientId === tenantId
    const client = isTenant ? undefined : tenant?.clients.get(clientId)
    const expected = isTenant ? tenant?.digest : client?.digest
    const ok = matchesDigest(secret, expected ?? DECOY_DIGEST)
    if (tenant === undefined || expected === undefined || !ok) return undefined
    return { tenantId, clientId, scopes: client === undefined ? SCOPES : client.scopes }
  }

  async reset (tenantId?: string): Promise<void> {
    for (const id of tenantId === undefined ? this.#constants.keys() : [tenantId]) {
      const constants = this.#constants.get(id)
      if (constants === undefined) continue
      this.#data.set(id, indexTenant(constants.seed))
      this.touch(id)
    }
  }

  async stats (): Promise<StoreStats> {
    let audiences = 0
    let users = 0
    for (const data of this.#data.values()) {
      audiences += data.byId.size
      users += data.usersById.size
    }
    return { tenants: this.#data.size, audiences, users }
  }

  async close (): Promise<void> {}
}
