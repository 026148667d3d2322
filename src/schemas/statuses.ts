// The error statuses this server answers with, each stated once: its reason phrase (the one Thrive's docs use) and
// the message a fault answers with when its rule gives none.

// The error statuses fault injection can produce: every status the Thrive docs list, plus the gateway ones
// clients meet in production.
export const FAULT_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504] as const
export type FaultStatus = typeof FAULT_STATUSES[number]

/** Every fault status, its reason phrase and its default fault message. */
export const STATUSES: Readonly<Record<FaultStatus, { reason: string, faultMessage: string }>> = Object.freeze({
  400: { reason: 'Bad Request', faultMessage: 'The request is not valid' },
  401: { reason: 'Unauthorized', faultMessage: 'Unauthorized: the credentials are missing, invalid or expired' },
  403: { reason: 'Forbidden', faultMessage: 'Forbidden: the credentials do not grant access to this resource' },
  404: { reason: 'Not Found', faultMessage: 'The requested resource was not found' },
  409: { reason: 'Conflict', faultMessage: 'The request conflicts with the current state of the resource' },
  422: { reason: 'Unprocessable Content', faultMessage: 'The request is well-formed but cannot be processed' },
  429: { reason: 'Too Many Requests', faultMessage: 'Too many requests: retry after the number of seconds in the Retry-After header' },
  500: { reason: 'Internal Server Error', faultMessage: 'An unexpected error occurred' },
  502: { reason: 'Bad Gateway', faultMessage: 'Bad gateway: an upstream service returned an invalid response' },
  503: { reason: 'Service Unavailable', faultMessage: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header' },
  504: { reason: 'Gateway Timeout', faultMessage: 'Gateway timeout: an upstream service did not respond in time' }
})
