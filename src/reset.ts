// Reset, shared by the control route and the library API.
import type { FastifyInstance } from 'fastify'
import { UnknownTenantError } from './errors.js'
import type { ResetResult } from './schemas/control.js'

/**
 * One tenant's faults and journal, or (no tenant) everything: those, the shared clock and the data.
 * A tenant this server does not know is an error (400 over HTTP), not a reset that removes nothing.
 */
export function resetState (app: FastifyInstance, tenantId?: string): ResetResult {
  if (tenantId !== undefined && app.store.tenant(tenantId) === undefined) throw new UnknownTenantError(tenantId)
  const result: ResetResult = { faultsRemoved: app.faults.clear(tenantId), requestsRemoved: app.journal.clear(tenantId), clockReset: tenantId === undefined }
  // The clock and the data are shared by every tenant, so only a full reset may touch them.
  if (tenantId === undefined) {
    app.clock.reset()
    app.store.reset()
  }
  return result
}
