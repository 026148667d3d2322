// The error statuses fault injection can produce: every status the Thrive docs list, plus the gateway ones
// clients meet in production.
export const FAULT_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504] as const
export type FaultStatus = typeof FAULT_STATUSES[number]
