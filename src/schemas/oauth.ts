// RFC 6749 client-credentials token request, response and error bodies.
import { Type, type Static } from 'typebox'
import { StringEnum } from './common.js'

export const SCOPES = ['api/read', 'api/write', 'api/all', 'api/webhooks'] as const
export type Scope = typeof SCOPES[number]

export const TokenParams = Type.Object({
  tenantId: Type.String({ description: 'The Tenant ID the client belongs to, e.g. eu-west-2_AbcdEfghI' })
})
export type TokenParams = Static<typeof TokenParams>

export const TokenResponse = Type.Object({
  access_token: Type.String({ description: 'A signed JWT to send as `Authorization: Bearer <token>`' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Lifetime in seconds (3600 unless configured)' }),
  scope: Type.String({ description: 'Granted scopes, space-delimited' })
}, { $id: 'TokenResponse', title: 'TokenResponse', additionalProperties: false })
export type TokenResponse = Static<typeof TokenResponse>

export const OAUTH_ERRORS = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client',
  'unsupported_grant_type', 'invalid_scope', 'server_error', 'temporarily_unavailable'
] as const
export type OAuthErrorCode = typeof OAUTH_ERRORS[number]

export const OAuthError = Type.Object({
  error: StringEnum(OAUTH_ERRORS, { description: 'RFC 6749 §5.2 error code' }),
  error_description: Type.String({ description: 'Human-readable explanation' })
}, { $id: 'OAuthError', title: 'OAuthError', additionalProperties: false })
export type OAuthError = Static<typeof OAuthError>

export const OAuthErrorRef = Type.Unsafe<OAuthError>(Type.Ref('OAuthError'))
