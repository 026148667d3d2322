// The state interface every route, plugin and the library talk to. The in-memory store implements it today; a
// shared (Redis) store will implement the same interface and pass the same contract suite (test/store/contract.ts).
import type { Audience } from '../schemas/audience.js'
import type { TenantFixture } from '../schemas/fixtures.js'
import type { BulkResult, Manager, ManagerInput, Member, Page, PageRequest, User } from '../schemas/members.js'
import type { Scope } from '../schemas/oauth.js'

/** How a list of audiences is filtered and paged (validated by the route before it gets here). */
export interface AudienceQuery extends PageRequest {
  apiControlled?: boolean
  /** Epoch ms: keep audiences with updatedAt >= this. */
  updatedSince?: number
}

export interface CreateAudienceInput {
  name: string
  reference: string
  category: 'structure' | 'audience'
  /** Id or reference of the parent structure; required for an audience, absent for a structure. */
  parentId?: string
}

export interface UpdateAudienceInput {
  name?: string
  reference?: string
  /** Id or reference of the structure to move a child audience to. */
  parentId?: string
}

/** The `{id, name, reference}` of a structure, as `memberOperations` names the old and new parent. */
export interface ParentInformation {
  id: string
  name: string
  reference: string
}

export interface UpdateResult {
  audience: Audience
  /** null unless the audience moved. */
  memberOperations: { from: ParentInformation, to: ParentInformation } | null
}

/** Why a write was refused: the route answers the status with the message. */
export type StoreErrorStatus = 403 | 404 | 409 | 422

/** A write or lookup the documented rules refuse; nothing was changed. */
export class StoreError extends Error {
  override name = 'StoreError'
  constructor (readonly statusCode: StoreErrorStatus, message: string) {
    super(message)
  }
}

export interface AudienceRepository {
  /** Thrive's lookup: an exact id first, then an exact, case-sensitive reference. */
  get (idOrReference: string): Promise<Audience | undefined>
  /** The id an id or reference names, without building the audience (fault matching). */
  resolveId (idOrReference: string): Promise<string | undefined>
  /** Ordered by createdAt, then id. A page past the end has no results. */
  list (query: AudienceQuery): Promise<Page<Audience>>
  create (input: CreateAudienceInput): Promise<Audience>
  update (idOrReference: string, input: UpdateAudienceInput): Promise<UpdateResult>
  /** 409 while it has children; its members and managers go with it. */
  delete (idOrReference: string): Promise<void>
}

export interface MemberRepository {
  list (audience: string, page: PageRequest): Promise<Page<Member>>
  add (audience: string, userRefs: readonly string[]): Promise<BulkResult>
  /** The list becomes exactly the items that succeeded. */
  replace (audience: string, userRefs: readonly string[]): Promise<BulkResult>
  /** 404 when the user does not exist or is not a member. */
  remove (audience: string, userRef: string): Promise<void>
}

export interface ManagerRepository {
  list (audience: string): Promise<Manager[]>
  add (audience: string, managers: readonly ManagerInput[]): Promise<BulkResult>
  replace (audience: string, managers: readonly ManagerInput[]): Promise<BulkResult>
  remove (audience: string, userRef: string): Promise<void>
}

export interface UserRepository {
  /** By id, reference, or email (case-insensitively). */
  find (userRef: string): Promise<User | undefined>
}

/** One tenant's data. Every method is scoped to it: no call can reach another tenant. */
export interface TenantRepository {
  readonly tenantId: string
  readonly audiences: AudienceRepository
  readonly members: MemberRepository
  readonly managers: ManagerRepository
  readonly users: UserRepository
  /**
   * The tenant's current state as a fixture document that loads back to the same answers. It carries the tenant's
   * credentials (a fixture needs them), so it is only served behind the control plane.
   */
  snapshot (): Promise<TenantFixture>
}

/** An OAuth client a credential check found; never its secret. */
export interface VerifiedClient {
  tenantId: string
  clientId: string
  scopes: readonly Scope[]
}

export interface StoreStats {
  tenants: number
  audiences: number
  users: number
}

export interface Store {
  /** Tenants are fixed by the seed, so this answers synchronously on every implementation. */
  has (tenantId: string): boolean
  /** The tenant's repository, or undefined when this server does not know the tenant. */
  tenant (tenantId: string): TenantRepository | undefined
  /**
   * Bumped by every write to the tenant and by its reset; caches keyed on it can never serve stale data.
   * Synchronous: a shared store keeps it current from change notifications.
   */
  version (tenantId: string): number
  /** Constant time for a known and an unknown tenant alike; the secret never leaves the store. */
  verifyTenantSecret (tenantId: string, secret: string): Promise<boolean>
  /**
   * The client with this id and secret in the tenant: the tenant itself (client id = Tenant ID, secret = API secret,
   * every scope) or one of its OAuth clients; undefined when any part does not match, in the same time.
   */
  findClient (tenantId: string, clientId: string, secret: string): Promise<VerifiedClient | undefined>
  /** One tenant, or every tenant, back to the seed. */
  reset (tenantId?: string): Promise<void>
  stats (): Promise<StoreStats>
  /** Fixture sources the seed was read from, in load order. */
  readonly sources: readonly string[]
  close (): Promise<void>
}
