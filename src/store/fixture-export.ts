// A tenant's current records as a fixture document: what `--fixtures` loads back to the same answers. Shared by every
// store implementation, so an export reads the same whichever store holds the state.
import type { AudienceFixture, ManagerFixture, StructureFixture, TenantFixture } from '../schemas/fixtures.js'
import type { User } from '../schemas/members.js'
import type { AudienceSeed, ManagerSeed, TenantSeed } from './load-fixtures.js'

/** Every field written out, ids and timestamps included, so nothing is derived again on load. */
function audienceFixture (a: AudienceSeed): AudienceFixture {
  const fixture: AudienceFixture = {
    id: a.id,
    name: a.name,
    reference: a.reference,
    apiControlled: a.apiControlled,
    type: a.type,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt
  }
  // Users are named by id: references and emails may change in a later version of the tenant, ids never do.
  if (a.members !== undefined && a.members.length > 0) fixture.members = [...a.members]
  if (a.managers !== undefined && a.managers.length > 0) fixture.managers = a.managers.map(managerFixture)
  return fixture
}

function managerFixture (m: ManagerSeed): ManagerFixture {
  const { audienceManager: am, peopleManager: pm, administrator: admin } = m.permissions
  return {
    user: m.userId,
    permissions: {
      audienceManager: { manageMembers: am.manageMembers, manageContent: am.manageContent, assignments: am.assignments },
      peopleManager: { canViewLearnPage: pm.canViewLearnPage, insights: pm.insights, manage: pm.manage },
      ...(admin === undefined ? {} : { administrator: { canManageAudiences: admin.canManageAudiences, canAddAudienceManagers: admin.canAddAudienceManagers } })
    }
  }
}

/**
 * The tenant as a fixture: its credentials from the seed (an export is for the operator, behind the control plane),
 * its users, and its structures in list order, each with its children in list order.
 */
export function exportTenant (seed: TenantSeed, audiences: readonly AudienceSeed[], users: Iterable<User>): TenantFixture {
  const children = new Map<string, AudienceFixture[]>()
  for (const a of audiences) {
    if (a.parentId === null) continue
    const list = children.get(a.parentId) ?? []
    list.push(audienceFixture(a))
    children.set(a.parentId, list)
  }
  const structures: StructureFixture[] = audiences.filter((a) => a.parentId === null).map((s) => {
    const list = children.get(s.id)
    return list === undefined ? audienceFixture(s) : { ...audienceFixture(s), audiences: list }
  })
  const fixture: TenantFixture = {
    tenantId: seed.tenantId,
    apiSecret: seed.apiSecret,
    clients: seed.clients.map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret, scopes: [...c.scopes] })),
    users: [...users].map((u) => ({ id: u.id, reference: u.reference, email: u.email, firstName: u.firstName, lastName: u.lastName })),
    structures
  }
  return fixture
}
