// The client credentials grant (RFC 6749 §4.4): who the client is and what it may have, shared by the token
// route and the library's getToken.
import { OAuthError } from './oauth-errors.js'
import type { Scope, TokenResponse } from './schemas/oauth.js'
import type { Store } from './store/store.js'
import type { TokenService } from './tokens.js'

export interface ClientCredentials {
  clientId: string
  clientSecret: string
}

/** The scopes the client may have; throws invalid_client unless it belongs to the tenant and the secret matches. */
export async function authenticateClient (store: Store, tenantId: string, credentials: ClientCredentials): Promise<readonly Scope[]> {
  const client = await store.findClient(tenantId, credentials.clientId, credentials.clientSecret)
  if (client === undefined) {
    throw new OAuthError('invalid_client', `client authentication failed: unknown client, wrong secret, or the client does not belong to tenant ${tenantId}`)
  }
  return client.scopes
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
