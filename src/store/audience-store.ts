// Per-app in-memory state: tenants, their clients and audiences, indexed for O(1) lookup.
import type { Audience } from '../schemas/audience.js'
import type { AudienceSeed, ClientSeed, Seed, TenantSeed } from './load-fixtures.js'

export interface Tenant {
  readonly tenantId: string
  readonly apiSecret: string
  readonly clients: ReadonlyMap<string, ClientSeed>
}

interface TenantState extends Tenant {
  byId: Map<string, AudienceSeed>
  byReference: Map<string, AudienceSeed>
}

// Written out field by field because it runs on every GET: a loop over the schema's keys or a structuredClone costs
// tens to hundreds of times more. Typed by the schema, so a field added or dropped there fails to compile here, and
// the store's test compares what it returns with the schema's properties.
function copyAudience (a: AudienceSeed, parent: AudienceSeed | undefined): Audience {
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

function buildTenant (seed: TenantSeed): TenantState {
  const byId = new Map<string, AudienceSeed>()
  const byReference = new Map<string, AudienceSeed>()
  // The seed's audiences are indexed as they are, not copied: the seed is built for this store and nothing else
  // holds it, and nothing here writes to them (reads copy out). A copy per audience doubled start-up work and
  // memory for large generated tenants.
  for (const audience of seed.audiences) {
    byId.set(audience.id, audience)
    byReference.set(audience.reference, audience)
  }
  const clients = new Map(seed.clients.map((c) => [c.clientId, { ...c, scopes: [...c.scopes] }]))
  return { tenantId: seed.tenantId, apiSecret: seed.apiSecret, clients, byId, byReference }
}

export class AudienceStore {
  readonly #seed: Seed
  #tenants = new Map<string, TenantState>()

  constructor (seed: Seed) {
    this.#seed = seed
    this.reset()
  }

  /** Back to the seed the store was created from. */
  reset (): void {
    this.#tenants = new Map(this.#seed.tenants.map((t) => [t.tenantId, buildTenant(t)]))
  }

  tenant (tenantId: string): Tenant | undefined {
    return this.#tenants.get(tenantId)
  }

  /** Thrive's lookup: an exact id match first, then an exact, case-sensitive reference, within one tenant only. */
  findAudience (tenantId: string, idOrReference: string): Audience | undefined {
    const tenant = this.#tenants.get(tenantId)
    if (tenant === undefined) return undefined
    const found = tenant.byId.get(idOrReference) ?? tenant.byReference.get(idOrReference)
    return found === undefined ? undefined : copyAudience(found, found.parentId === null ? undefined : tenant.byId.get(found.parentId))
  }

  /** The id of the audience an id or reference names, without copying it (for fault matching). */
  resolveId (tenantId: string, idOrReference: string): string | undefined {
    const tenant = this.#tenants.get(tenantId)
    return (tenant?.byId.get(idOrReference) ?? tenant?.byReference.get(idOrReference))?.id
  }

  stats (): { tenants: number, audiences: number } {
    let audiences = 0
    for (const tenant of this.#tenants.values()) audiences += tenant.byId.size
    return { tenants: this.#tenants.size, audiences }
  }

  get sources (): readonly string[] {
    return this.#seed.sources
  }
}
