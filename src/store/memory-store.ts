// The in-memory Store: a frozen seed, copy-on-write records and indexes per tenant, a version per tenant.
import { notFoundMessage } from '../errors.js'
import { DECOY_DIGEST, matchesDigest, secretDigest } from '../secrets.js'
import type { Audience } from '../schemas/audience.js'
import type { TenantFixture } from '../schemas/fixtures.js'
import type {
  BulkFailureReason, BulkResult, Manager, ManagerInput, ManagerPermissions, Member, Page, PageRequest, Pagination, User
} from '../schemas/members.js'
import { SCOPES, type Scope } from '../schemas/oauth.js'
import { exportTenant } from './fixture-export.js'
import { deriveId, type AudienceSeed, type ManagerSeed, type Seed, type TenantSeed } from './load-fixtures.js'
import {
  StoreError,
  type AudienceQuery, type AudienceRepository, type CreateAudienceInput, type ManagerRepository, type MemberRepository,
  type ParentInformation, type Store, type StoreStats, type TenantRepository, type UpdateAudienceInput, type UpdateResult,
  type UserRepository, type VerifiedClient
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
  /** The seed's audiences in list order, sorted once on the first list that needs them and shared by every reset. */
  seedOrder?: readonly AudienceSeed[]
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
  /**
   * Every audience in list order (createdAt, then id), built by the first list and kept in step by every write after
   * it, so no list sorts a large tenant. The frozen seed order is shared until a write copies it.
   */
  order: AudienceSeed[] | undefined
  /** Whether any record differs from the seed's, which makes the seed's order stale. */
  changed: boolean
  /**
   * Filtered lists by filter, so a client paging through one filter scans the tenant once, not once per page.
   * Emptied by every write; at most MAX_VIEWS, each at most one entry per audience.
   */
  views: Map<string, AudienceSeed[]>
}

/** Enough for the few filters a client pages through at once, while a large tenant holds few copies of its order. */
export const MAX_VIEWS = 4

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
    created: 0,
    order: undefined,
    changed: false,
    views: new Map()
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

/** List order: createdAt ascending, then id. ISO timestamps of one format compare as strings. */
export function compareAudiences (a: AudienceSeed, b: AudienceSeed): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The first index whose audience does not sort before `a`: where `a` is, or would go. */
function lowerBound (order: readonly AudienceSeed[], a: AudienceSeed): number {
  let low = 0
  let high = order.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (compareAudiences(order[mid] as AudienceSeed, a) < 0) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * Called by every write before it changes a record: the order to change in place, copied first if it is still the
 * seed's, or undefined when no list has built one.
 */
function ownOrder (data: TenantData): AudienceSeed[] | undefined {
  if (data.order !== undefined && Object.isFrozen(data.order)) data.order = data.order.slice()
  data.changed = true
  data.views.clear()
  return data.order
}

function insertRecord (data: TenantData, a: AudienceSeed): void {
  indexAudience(data, a)
  const order = ownOrder(data)
  if (order !== undefined) order.splice(lowerBound(order, a), 0, a)
}

/** Swaps a record for its written copy; createdAt and id never change, so its place in the order stays. */
function replaceRecord (data: TenantData, old: AudienceSeed, next: AudienceSeed): void {
  data.byId.set(next.id, next)
  if (old.reference !== next.reference) data.byReference.delete(old.reference)
  data.byReference.set(next.reference, next)
  if (old.parentId !== next.parentId) {
    data.children.get(old.parentId as string)?.delete(old.id)
    indexAudience(data, next)
  }
  const order = ownOrder(data)
  if (order !== undefined) order[lowerBound(order, old)] = next
}

function removeRecord (data: TenantData, a: AudienceSeed): void {
  data.byId.delete(a.id)
  data.byReference.delete(a.reference)
  if (a.parentId !== null) data.children.get(a.parentId)?.delete(a.id)
  data.children.delete(a.id)
  const order = ownOrder(data)
  if (order !== undefined) order.splice(lowerBound(order, a), 1)
}

/** A record with one of its lists replaced; an empty list is left out, as the seed leaves it out. */
function withList (a: AudienceSeed, key: 'members' | 'managers', list: string[] | ManagerSeed[]): AudienceSeed {
  const next: AudienceSeed = { ...a }
  if (list.length === 0) delete next[key]
  else (next as Record<typeof key, unknown>)[key] = Object.freeze(list)
  return Object.freeze(next)
}

function paginate (total: number, page: PageRequest): Pagination {
  return { totalResults: total, totalPages: Math.ceil(total / page.perPage), page: page.page, perPage: page.perPage }
}

function info (a: AudienceSeed): ParentInformation {
  return { id: a.id, name: a.name, reference: a.reference }
}

const uiManaged = (what: string, ref: string): StoreError =>
  new StoreError(403, `${what} "${ref}" is managed in the Thrive UI (apiControlled: false): change it there, not through the API`)

function toMember (user: User): Member {
  return { userId: user.id, reference: user.reference, email: user.email }
}

/**
 * Output permissions as Thrive shows them: administrator only on a structure (all false when the seed gave none), and
 * the UI powers manageMembers and canManageAudiences only on audiences made in the UI.
 */
function toPermissions (a: AudienceSeed, p: ManagerPermissions): ManagerPermissions {
  const ui = !a.apiControlled
  const permissions: ManagerPermissions = {
    audienceManager: { manageMembers: ui && p.audienceManager.manageMembers, manageContent: p.audienceManager.manageContent, assignments: p.audienceManager.assignments },
    peopleManager: { canViewLearnPage: p.peopleManager.canViewLearnPage, insights: p.peopleManager.insights, manage: p.peopleManager.manage }
  }
  if (a.category === 'structure') {
    permissions.administrator = {
      canManageAudiences: ui && (p.administrator?.canManageAudiences ?? false),
      canAddAudienceManagers: p.administrator?.canAddAudienceManagers ?? false
    }
  }
  return permissions
}

/** Input permissions (every flag defaulting to false, no UI powers) as stored. */
function fromInput (a: AudienceSeed, input: ManagerInput['permissions']): ManagerPermissions {
  const permissions: ManagerPermissions = {
    audienceManager: { manageMembers: false, manageContent: input?.audienceManager?.manageContent ?? false, assignments: input?.audienceManager?.assignments ?? false },
    peopleManager: { canViewLearnPage: input?.peopleManager?.canViewLearnPage ?? false, insights: input?.peopleManager?.insights ?? false, manage: input?.peopleManager?.manage ?? false }
  }
  if (a.category === 'structure') permissions.administrator = { canManageAudiences: false, canAddAudienceManagers: input?.administrator?.canAddAudienceManagers ?? false }
  return deepFreeze(permissions)
}

interface Sorted<T> {
  accepted: Array<{ user: User, item: T }>
  result: BulkResult
}

/**
 * Thrive's per-item outcome of a bulk write: an unknown user, a user the request already named (by any of its refs),
 * or what `refuse` says; `reference` echoes each item as sent.
 */
function sortItems<T> (find: (ref: string) => User | undefined, items: readonly T[], refOf: (item: T) => string, refuse: (user: User) => BulkFailureReason | undefined): Sorted<T> {
  const accepted: Array<{ user: User, item: T }> = []
  const successes: Array<{ reference: string }> = []
  const failures: Array<{ reference: string, reason: string }> = []
  const seen = new Set<string>()
  for (const item of items) {
    const reference = refOf(item)
    const user = find(reference)
    let reason: BulkFailureReason | undefined
    if (user === undefined) reason = 'user not found'
    else if (seen.has(user.id)) reason = 'duplicate in request'
    else {
      seen.add(user.id)
      reason = refuse(user)
    }
    if (reason !== undefined) failures.push({ reference, reason })
    else {
      accepted.push({ user: user as User, item })
      successes.push({ reference })
    }
  }
  const result: BulkResult = { success: { count: successes.length, entities: successes } }
  if (failures.length > 0) result.failure = { count: failures.length, entities: failures }
  return { accepted, result }
}

const nobody = (): undefined => undefined

class MemoryTenant implements TenantRepository {
  readonly audiences: AudienceRepository
  readonly members: MemberRepository
  readonly managers: ManagerRepository
  readonly users: UserRepository

  constructor (readonly tenantId: string, private readonly store: MemoryStore) {
    const data = () => store.data(tenantId)
    const touch = () => { store.touch(tenantId) }
    const resolve = (d: TenantData, ref: string) => d.byId.get(ref) ?? d.byReference.get(ref)
    const findUser = (d: TenantData) => (ref: string): User | undefined =>
      d.usersById.get(ref) ?? d.usersByReference.get(ref) ?? d.usersByEmail.get(ref.toLowerCase())
    const existing = (d: TenantData, ref: string): AudienceSeed => {
      const found = resolve(d, ref)
      if (found === undefined) throw new StoreError(404, notFoundMessage(ref))
      return found
    }
    const writable = (d: TenantData, ref: string): AudienceSeed => {
      const found = existing(d, ref)
      if (!found.apiControlled) throw uiManaged(found.category === 'structure' ? 'Structure' : 'Audience', ref)
      return found
    }
    /** The structure a child is created in or moved to: an API-controlled structure of this tenant. */
    const parentStructure = (d: TenantData, ref: string): AudienceSeed => {
      const parent = resolve(d, ref)
      if (parent === undefined) throw new StoreError(422, `parentId "${ref}" does not name a structure of this tenant: parent not found`)
      if (parent.category !== 'structure') throw new StoreError(422, `parentId "${ref}" is a child audience, not a structure: audiences live only inside structures`)
      if (!parent.apiControlled) throw uiManaged('Structure', ref)
      return parent
    }
    const userOf = (d: TenantData, id: string): User => d.usersById.get(id) as User
    /** The user a path names, and whether it is in the audience's list; 404s say which is missing. */
    const listedUser = (d: TenantData, ref: string, userRef: string, ids: readonly string[], role: string): User => {
      const user = findUser(d)(userRef)
      if (user === undefined) throw new StoreError(404, `No user with id, reference or email "${userRef}" in this tenant`)
      if (!ids.includes(user.id)) throw new StoreError(404, `User "${userRef}" is not a ${role} of audience "${ref}"`)
      return user
    }

    this.audiences = {
      async get (idOrReference: string): Promise<Audience | undefined> {
        const d = data()
        const found = resolve(d, idOrReference)
        return found === undefined ? undefined : toAudience(d, found)
      },
      async resolveId (idOrReference: string): Promise<string | undefined> {
        return resolve(data(), idOrReference)?.id
      },
      async list (query: AudienceQuery): Promise<Page<Audience>> {
        const d = data()
        d.order ??= d.changed ? [...d.byId.values()].sort(compareAudiences) : store.seedOrder(tenantId)
        const start = (query.page - 1) * query.perPage
        const end = start + query.perPage
        const { apiControlled } = query
        // The route accepts RFC 3339 date-times only, whose four-digit years give ISO strings that compare as instants.
        const since = query.updatedSince === undefined ? undefined : new Date(query.updatedSince).toISOString()
        let matching: readonly AudienceSeed[] = d.order
        if (apiControlled !== undefined || since !== undefined) {
          const key = `${String(apiControlled)} ${String(since)}`
          let view = d.views.get(key)
          if (view === undefined) {
            view = d.order.filter((a) => (apiControlled === undefined || a.apiControlled === apiControlled) && (since === undefined || a.updatedAt >= since))
            if (d.views.size >= MAX_VIEWS) d.views.delete(d.views.keys().next().value as string)
            d.views.set(key, view)
          }
          matching = view
        }
        return { results: matching.slice(start, end).map((a) => toAudience(d, a)), pagination: paginate(matching.length, query) }
      },
      async create (input: CreateAudienceInput): Promise<Audience> {
        const d = data()
        let parent: AudienceSeed | null = null
        if (input.category === 'structure') {
          if (input.parentId !== undefined) throw new StoreError(422, 'A structure is top level: send no parentId when category is "structure"')
        } else {
          if (input.parentId === undefined) throw new StoreError(422, 'An audience lives inside a structure: send parentId (the structure\'s id or reference) when category is "audience"')
          parent = parentStructure(d, input.parentId)
        }
        if (d.byReference.has(input.reference)) throw new StoreError(409, `Reference "${input.reference}" is already used by another audience of this tenant`)
        let id: string
        // Counted, not random, so the same writes after a reset give the same ids; a taken id is skipped.
        do id = deriveId(tenantId, 'created', String(d.created++))
        while (d.byId.has(id))
        const now = store.nowIso()
        const record: AudienceSeed = Object.freeze({
          id,
          name: input.name,
          reference: input.reference,
          apiControlled: true,
          category: input.category,
          type: 'manual',
          parentId: parent === null ? null : parent.id,
          createdAt: now,
          updatedAt: now
        })
        insertRecord(d, record)
        touch()
        return toAudience(d, record)
      },
      async update (idOrReference: string, input: UpdateAudienceInput): Promise<UpdateResult> {
        const d = data()
        const a = writable(d, idOrReference)
        const from = a.parentId === null ? undefined : d.byId.get(a.parentId)
        let to = from
        if (input.parentId !== undefined) {
          if (a.category === 'structure') throw new StoreError(422, `"${idOrReference}" is a structure: structures are top level and cannot be moved, so parentId applies to audiences only`)
          to = parentStructure(d, input.parentId)
        }
        if (input.reference !== undefined) {
          const holder = d.byReference.get(input.reference)
          if (holder !== undefined && holder.id !== a.id) throw new StoreError(409, `Reference "${input.reference}" is already used by another audience of this tenant`)
        }
        const next: AudienceSeed = Object.freeze({
          ...a,
          name: input.name ?? a.name,
          reference: input.reference ?? a.reference,
          parentId: to === undefined ? null : to.id,
          updatedAt: store.nowIso()
        })
        replaceRecord(d, a, next)
        touch()
        const moved = from !== undefined && to !== undefined && from.id !== to.id ? { from: info(from), to: info(to) } : null
        return { audience: toAudience(d, next), memberOperations: moved }
      },
      async delete (idOrReference: string): Promise<void> {
        const d = data()
        const a = writable(d, idOrReference)
        const children = d.children.get(a.id)?.size ?? 0
        if (children > 0) throw new StoreError(409, `"${idOrReference}" still has ${children} child audience${children === 1 ? '' : 's'}: delete or move them first`)
        removeRecord(d, a)
        touch()
      }
    }

    this.members = {
      async list (audience: string, page: PageRequest): Promise<Page<Member>> {
        const d = data()
        const ids = existing(d, audience).members ?? []
        const start = (page.page - 1) * page.perPage
        return { results: ids.slice(start, start + page.perPage).map((id) => toMember(userOf(d, id))), pagination: paginate(ids.length, page) }
      },
      async add (audience: string, userRefs: readonly string[]): Promise<BulkResult> {
        const d = data()
        const a = writable(d, audience)
        const current = new Set(a.members)
        const { accepted, result } = sortItems(findUser(d), userRefs, (ref) => ref, (user) => current.has(user.id) ? 'already a member' : undefined)
        if (accepted.length > 0) {
          replaceRecord(d, a, withList(a, 'members', [...a.members ?? [], ...accepted.map(({ user }) => user.id)]))
          touch()
        }
        return result
      },
      async replace (audience: string, userRefs: readonly string[]): Promise<BulkResult> {
        const d = data()
        const a = writable(d, audience)
        const { accepted, result } = sortItems(findUser(d), userRefs, (ref) => ref, nobody)
        replaceRecord(d, a, withList(a, 'members', accepted.map(({ user }) => user.id)))
        touch()
        return result
      },
      async remove (audience: string, userRef: string): Promise<void> {
        const d = data()
        const a = writable(d, audience)
        const ids = a.members ?? []
        const user = listedUser(d, audience, userRef, ids, 'member')
        replaceRecord(d, a, withList(a, 'members', ids.filter((id) => id !== user.id)))
        touch()
      }
    }

    const managerIds = (a: AudienceSeed) => (a.managers ?? []).map((m) => m.userId)
    /** The whole request is refused when any item gives a child audience an administrator power (part C decided 1). */
    const managersFor = (d: TenantData, audience: string, managers: readonly ManagerInput[]): AudienceSeed => {
      const a = writable(d, audience)
      if (a.category === 'audience' && managers.some((m) => Object.values(m.permissions?.administrator ?? {}).includes(true))) {
        throw new StoreError(422, `"${audience}" is a child audience: administrator permissions apply to structures only (send them all false, or leave them out)`)
      }
      return a
    }
    const toManagerSeeds = (a: AudienceSeed, accepted: Sorted<ManagerInput>['accepted']): ManagerSeed[] =>
      accepted.map(({ user, item }) => Object.freeze({ userId: user.id, permissions: fromInput(a, item.permissions) }))

    this.managers = {
      async list (audience: string): Promise<Manager[]> {
        const d = data()
        const a = existing(d, audience)
        return (a.managers ?? []).map((m) => ({ ...toMember(userOf(d, m.userId)), permissions: toPermissions(a, m.permissions) }))
      },
      async add (audience: string, managers: readonly ManagerInput[]): Promise<BulkResult> {
        const d = data()
        const a = managersFor(d, audience, managers)
        const current = new Set(managerIds(a))
        const { accepted, result } = sortItems(findUser(d), managers, (m) => m.reference, (user) => current.has(user.id) ? 'already a manager' : undefined)
        if (accepted.length > 0) {
          replaceRecord(d, a, withList(a, 'managers', [...a.managers ?? [], ...toManagerSeeds(a, accepted)]))
          touch()
        }
        return result
      },
      async replace (audience: string, managers: readonly ManagerInput[]): Promise<BulkResult> {
        const d = data()
        const a = managersFor(d, audience, managers)
        const { accepted, result } = sortItems(findUser(d), managers, (m) => m.reference, nobody)
        replaceRecord(d, a, withList(a, 'managers', toManagerSeeds(a, accepted)))
        touch()
        return result
      },
      async remove (audience: string, userRef: string): Promise<void> {
        const d = data()
        const a = writable(d, audience)
        const managers = a.managers ?? []
        const user = listedUser(d, audience, userRef, managers.map((m) => m.userId), 'manager')
        replaceRecord(d, a, withList(a, 'managers', managers.filter((m) => m.userId !== user.id)))
        touch()
      }
    }

    this.users = {
      async find (userRef: string): Promise<User | undefined> {
        const user = findUser(data())(userRef)
        return user === undefined ? undefined : { ...user }
      }
    }
  }

  async snapshot (): Promise<TenantFixture> {
    const d = this.store.data(this.tenantId)
    return exportTenant(this.store.seedOf(this.tenantId), [...d.byId.values()].sort(compareAudiences), d.usersById.values())
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

  /** The seed's audiences in list order: sorted on first use, then shared (frozen) by every reset of the tenant. */
  seedOrder (tenantId: string): AudienceSeed[] {
    const constants = this.#constants.get(tenantId) as TenantConstants
    constants.seedOrder ??= Object.freeze([...constants.seed.audiences].sort(compareAudiences))
    return constants.seedOrder as AudienceSeed[]
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
