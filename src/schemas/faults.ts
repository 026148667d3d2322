// Fault rules: what to match, what to do, and how long to keep doing it.
import { Type, type Static } from 'typebox'
import { API_PREFIX, OPERATION_IDS } from '../operations.js'
import { StringEnum } from './common.js'

import { FAULT_STATUSES } from './statuses.js'
export { FAULT_STATUSES }
export const TRANSPORTS = ['reset', 'hang', 'malformed', 'empty'] as const
/** The names rules match in `route`: every operation this server defines. */
export const OPERATIONS = OPERATION_IDS
export const MAX_DELAY_MS = 60_000
export const MAX_HANG_MS = 300_000
/** A century: long enough for any suite, short enough that expiresAt is always a printable date. */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000

/**
 * Armed rules are held in memory for as long as they live, so their number and every string in them is capped:
 * at the caps, a full rule set holds a few tens of MB at most (SECURITY.md lists the caps).
 */
export const RULE_LIMITS = {
  perTenant: 1_000,
  total: 5_000,
  tenantId: 128,
  clientId: 128,
  method: 16,
  path: 2_048,
  /** A path parameter longer than the server's maxParamLength never reaches a route, so no rule needs more. */
  audienceId: 1_024,
  name: 200,
  message: 1_000
} as const

export const FaultMatch = Type.Object({
  tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: RULE_LIMITS.tenantId, description: 'Only requests of this tenant (required unless allTenants is true)' })),
  allTenants: Type.Optional(Type.Boolean({ description: 'Match requests of every tenant; must be asked for explicitly' })),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: RULE_LIMITS.clientId, description: 'Only requests by this OAuth client (the Tenant ID for Basic auth)' })),
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$', maxLength: RULE_LIMITS.method, description: 'HTTP method, e.g. GET' })),
  route: Type.Optional(StringEnum(OPERATIONS, { description: `The operation (its operationId): ${OPERATION_IDS.join(', ')}` })),
  path: Type.Optional(Type.String({ pattern: '^/', maxLength: RULE_LIMITS.path, description: `Request path without query, compared after percent-decoding and without a trailing slash (so ${API_PREFIX}/audiences/sales%2Femea and ${API_PREFIX}/audiences/sales/emea/ both match ${API_PREFIX}/audiences/sales/emea); a prefix when it ends in *` })),
  audienceId: Type.Optional(Type.String({ minLength: 1, maxLength: RULE_LIMITS.audienceId, description: 'Only reads of this audience, given by id or reference' }))
}, { additionalProperties: false })
export type FaultMatch = Static<typeof FaultMatch>

export const FaultEffect = Type.Object({
  status: Type.Optional(Type.Unsafe<typeof FAULT_STATUSES[number]>({ type: 'integer', enum: [...FAULT_STATUSES], description: 'Answer with this status and its documented body' })),
  message: Type.Optional(Type.String({ minLength: 1, maxLength: RULE_LIMITS.message, description: 'The message (or error_description) of that body' })),
  retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'Retry-After on 429 and 503 (default 1)' })),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS, description: 'Wait this long before answering' })),
  jitterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS, description: 'Add a random 0..jitterMs to the delay' })),
  transport: Type.Optional(StringEnum(TRANSPORTS, { description: 'reset: destroy the socket; hang: never answer; malformed: 200 with truncated JSON; empty: close after the headers' })),
  hangMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HANG_MS, description: 'For transport hang: close the socket after this long (default and cap 300000)' }))
}, { additionalProperties: false })
export type FaultEffect = Static<typeof FaultEffect>

export const FaultRuleInput = Type.Object({
  match: FaultMatch,
  effect: FaultEffect,
  times: Type.Optional(Type.Integer({ minimum: 1, description: 'Fire this many times, then retire' })),
  probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Chance of firing on each matching request' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'Seed for probability and jitter; the same seed gives the same sequence' })),
  ttlMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_MS, description: 'Retire after this long, by the mock clock' })),
  name: Type.Optional(Type.String({ maxLength: RULE_LIMITS.name, description: 'A label for people reading the rule list' }))
}, { $id: 'FaultRuleInput', title: 'FaultRuleInput', additionalProperties: false })
export type FaultRuleInput = Static<typeof FaultRuleInput>

export const FaultRule = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  match: FaultMatch,
  effect: FaultEffect,
  times: Type.Optional(Type.Integer()),
  probability: Type.Optional(Type.Number()),
  seed: Type.Integer({ description: 'The seed in use (chosen at random when not given)' }),
  ttlMs: Type.Optional(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  fired: Type.Integer({ description: 'How many times it has fired' }),
  remaining: Type.Union([Type.Integer(), Type.Null()], { description: 'Fires left before it retires; null when unlimited' })
}, { $id: 'FaultRule', title: 'FaultRule', additionalProperties: false })
export type FaultRule = Static<typeof FaultRule>
