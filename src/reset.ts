// Reset, shared by the control route and the library API.
import type { FastifyInstance } from 'fastify'

export interface ResetResult {
  faultsRemoved: number
  requestsRemoved: number
  clockReset: boolean
}

/** One tenant's faults and journal, or (no tenant) everything: those, the shared clock and the data. */
export function resetState (app: FastifyInstance, tenantId?: string): ResetResult {
  const result = { faultsRemoved: app.faults.clear(tenantId), requestsRemoved: app.journal.clear(tenantId), clockReset: tenantId === undefined }
  // The clock and the data are shared by every tenant, so only a full reset may touch them.
  if (tenantId === undefined) {
    app.clock.reset()
    app.store.reset()
  }
  return result
}
