// Stable error codes, and the reason phrases Thrive's docs use for each status.
import { STATUS_CODES } from 'node:http'
import createError from '@fastify/error'
import { STATUSES } from './schemas/statuses.js'

/** The reason phrase the Thrive docs use for a status, falling back to Node's for the rest. */
export function reasonPhrase (status: number): string {
  return (STATUSES as Record<number, { reason: string } | undefined>)[status]?.reason ?? STATUS_CODES[status] ?? 'Error'
}

// Client errors (4xx) are answers, not faults: capturing a stack trace for each would make a 401 or 404 cost
// more than a 200, and the trace is never logged or shown.
export const MissingCredentialsError = createError(
  'THRIVE_MOCK_MISSING_CREDENTIALS',
  'Missing Authorization header: send HTTP Basic credentials (Tenant ID as username, API secret as password) or "Bearer <access token>"',
  401,
  Error,
  false
)
export const MalformedAuthorizationError = createError(
  'THRIVE_MOCK_MALFORMED_AUTHORIZATION',
  'Malformed Authorization header: expected "Basic <base64 of tenantId:apiSecret>" or "Bearer <access token>"',
  401,
  Error,
  false
)
export const InvalidCredentialsError = createError(
  'THRIVE_MOCK_INVALID_CREDENTIALS',
  'Invalid credentials: the Tenant ID and API secret do not match a known tenant',
  401,
  Error,
  false
)
export const InvalidTokenError = createError(
  'THRIVE_MOCK_INVALID_TOKEN',
  'Invalid access token: %s',
  401,
  Error,
  false
)
export const InsufficientScopeError = createError(
  'THRIVE_MOCK_INSUFFICIENT_SCOPE',
  'The access token lacks the scope this operation needs: %s',
  403,
  Error,
  false
)
/** Strict mode: a request with contract violations is refused; the message lists them. */
export const StrictModeError = createError(
  'THRIVE_MOCK_STRICT_MODE',
  '%s',
  400,
  Error,
  false
)
/** The 404 message for an audience id or reference the caller's tenant does not have. */
export function notFoundMessage (idOrReference: string): string {
  return `No audience with id or reference "${idOrReference}" exists in this tenant`
}
/**
 * A tenant id the server does not know, named to a control route or a library method: the control plane answers 404
 * with this message, the library throws this. `tenantId` is the id as given; the message cuts it so it stays small.
 */
export class UnknownTenantError extends Error {
  override name = 'UnknownTenantError'
  readonly code = 'THRIVE_MOCK_UNKNOWN_TENANT'
  readonly statusCode = 404
  readonly tenantId: string
  constructor (tenantId: string) {
    super(`Unknown tenant "${tenantId.slice(0, 128)}"`)
    this.tenantId = tenantId
  }
}

/** Throws UnknownTenantError unless the tenant is absent (no tenant named) or one the store knows. */
export function assertKnownTenant (store: { has: (tenantId: string) => boolean }, tenantId: string | undefined): void {
  if (tenantId !== undefined && !store.has(tenantId)) throw new UnknownTenantError(tenantId)
}
export const RouteNotFoundError = createError(
  'THRIVE_MOCK_ROUTE_NOT_FOUND',
  'Route %s %s not found',
  404,
  Error,
  false
)
export const ClockOutOfRangeError = createError(
  'THRIVE_MOCK_CLOCK_OUT_OF_RANGE',
  'The mock clock must stay between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: %s',
  400
)
