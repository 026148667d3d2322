// Reset, shared by the control route and the library API.
import type { FastifyInstance } from 'fastify'
import { assertKnownTenant } from './errors.js'
import type { ResetResult } from './schemas/control.js'

/**
 * One tenant's data, faults, journal, coverage and strict setting back to the start, or (no tenant) everything's and the
 * shared clock.
 * A tenant this server does not know is an UnknownTenantError (404 over HTTP), not a reset that removes nothing.
 */
export async function resetState (app: FastifyInstance, tenantId?: string): Promise<ResetResult> {
  assertKnownTenant(app.store, tenantId)
  const result: ResetResult = { faultsRemoved: app.faults.clear(tenantId), requestsRemoved: app.journal.clear(tenantId), clockReset: tenantId === undefined }
  app.coverage.clear(tenantId)
  await app.store.reset(tenantId)
  app.contract.reset(tenantId)
  // The clock is shared by every tenant, so only a full reset may touch it.
  if (tenantId === undefined) app.clock.reset()
  return result
}
