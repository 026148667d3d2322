// The Audience the API serves for a stored audience, written apart from the store's own copy so tests can hold the
// store to it: every field of "Gets an audience", the parent block read from the parent as it is now (thrive-api.md B.3).
import type { Audience } from '../src/schemas/audience.js'
import type { AudienceSeed } from '../src/store/load-fixtures.js'

export function servedAudience (a: AudienceSeed, all: readonly AudienceSeed[]): Audience {
  const parent = all.find((p) => p.id === a.parentId)
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
