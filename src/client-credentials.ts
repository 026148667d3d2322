// The client credentials grant (RFC 6749 §4.4): who the client is and what it may have, shared by the token
// route and the library's getToken.
import { OAuthError } from './oauth-errors.js'
import { SCOPES, type Scope, type TokenResponse } from './schemas/oauth.js'
import { secretsEqual } from './secrets.js'
import type { AudienceStore } from './store/audience-store.js'
import type { TokenService } from './tokens.js'

export interface ClientCredentials {
  clientId: string
  clientSecret: string
}

// Compared against when the client is unknown, so an unknown client and a wrong secret take the same time.
const DECOY = 'decoy-secret-never-matches\u0000'

/** The scopes the client may have; throws invalid_client unless it belongs to the tenant and the secret matches. */
export function authenticateClient (store: AudienceStore, tenantId: string, credentials: ClientCredentials): readonly Scope[] {
  const tenant = store.tenant(tenantId)
  const isTenant = credentials.clientId === tenantId
  const client = isTenant ? undefined : tenant?.clients.get(credentials.clientId)
  const expected = isTenant ? tenant?.apiSecret : client?.clientSecret
  const ok = secretsEqual(credentials.clientSecret, expected ?? DECOY)
  if (tenant === undefined || expected === undefined || !ok) {
    throw new OAuthError('invalid_client', `client authentication failed: unknown client, wrong secret, or the client does not belong to tenant ${tenantId}`)
  }
  return isTenant ? SCOPES : (client as { scopes: Scope[] }).scopes
}

/** RFC 6749 §3.3: no scope asked for means every scope allowed; one not allowed is invalid_scope. */
export function grantScopes (requested: string | undefined, allowed: readonly Scope[]): Scope[] {
  const wanted = requested?.split(' ').filter((s) => s !== '') ?? []
  if (wanted.length === 0) return [...allowed]
  const refused = wanted.filter((s) => !(allowed as readonly string[]).includes(s))
  if (refused.length > 0) {
    throw new OAuthError('invalid_scope', `scope not allowed for this client: ${refused.join(' ')} (allowed: ${allowed.join(' ')})`)
  }
  return [...new Set(wanted)] as Scope[]
}

/** The §5.1 response body for a client whose credentials and scope have been checked. */
export function tokenResponse (tokens: TokenService, tenantId: string, clientId: string, scopes: Scope[]): TokenResponse {
  const { token } = tokens.issue({ tenantId, clientId, scopes })
  return { access_token: token, token_type: 'Bearer', expires_in: tokens.ttlSeconds, scope: scopes.join(' ') }
}
