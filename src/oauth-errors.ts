// RFC 6749 §5.2 error responses, shared by the token route and by faults fired on it.
import type { FastifyReply } from 'fastify'
import type { OAuthErrorCode } from './schemas/oauth.js'

/** An RFC 6749 §5.2 error, carried to the token route's own error handler. */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly statusCode: number

  constructor (code: OAuthErrorCode, description: string, statusCode = code === 'invalid_client' ? 401 : 400) {
    super(description)
    this.code = code
    this.statusCode = statusCode
  }
}

export function sendOAuthError (reply: FastifyReply, err: OAuthError): FastifyReply {
  // RFC 6749 §5.2: a 401 invalid_client carries a challenge for the scheme the client can use.
  if (err.statusCode === 401) reply.header('www-authenticate', 'Basic realm="Thrive OAuth", charset="UTF-8"')
  return reply.code(err.statusCode).type('application/json; charset=utf-8').header('cache-control', 'no-store').header('pragma', 'no-cache')
    .send({ error: err.code, error_description: err.message })
}

/** RFC 6749 §5.2 has no codes for most statuses; these are what OAuth client libraries know how to handle. */
export function oauthCode (status: number): OAuthErrorCode {
  if (status === 401) return 'invalid_client'
  if (status === 429 || status === 503) return 'temporarily_unavailable'
  return status >= 500 ? 'server_error' : 'invalid_request'
}
