// Authenticates API requests: HTTP Basic (Tenant ID + API secret) or a Bearer access token, then checks scopes.
import basicAuth from '@fastify/basic-auth'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InsufficientScopeError, InvalidCredentialsError, InvalidTokenError, MalformedAuthorizationError, MissingCredentialsError } from '../errors.js'
import type { Scope } from '../schemas/oauth.js'
import { secretsEqual } from '../secrets.js'

export interface Principal {
  tenantId: string
  /** The OAuth client id; the Tenant ID itself for Basic auth. */
  clientId: string
  /** Granted scopes; null means full access (Basic auth). */
  scopes: ReadonlySet<string> | null
  scheme: 'basic' | 'bearer'
}

/** What a route needs: any one of these scopes. Declared per route in `config.scopes`. */
export const READ_SCOPES: readonly Scope[] = ['api/read', 'api/all']

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyContextConfig {
    scopes?: readonly Scope[]
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

const BEARER = /^bearer[ \t]+/i
const BASIC = /^basic(?:[ \t]|$)/i

async function authenticationPlugin (fastify: FastifyInstance) {
  const { store, tokens } = fastify
  // Compared against when the tenant is unknown, so both failures take the same time.
  const decoy = 'decoy-secret-never-matches\u0000'

  fastify.decorateRequest('principal', null)

  await fastify.register(basicAuth, {
    authenticate: false,
    validate: async function (username, password, request) {
      const tenant = store.tenant(username)
      const ok = secretsEqual(password, tenant?.apiSecret ?? decoy)
      if (tenant === undefined || !ok) throw new InvalidCredentialsError()
      request.principal = { tenantId: tenant.tenantId, clientId: tenant.tenantId, scopes: null, scheme: 'basic' }
    }
  })

  const checkBasic = (request: FastifyRequest, reply: FastifyReply) => new Promise<void>((resolve, reject) => {
    fastify.basicAuth(request, reply, (err?: Error) => {
      if (err === undefined) resolve()
      else reject((err as { code?: string }).code === 'FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER' ? new MalformedAuthorizationError() : err)
    })
  })

  function checkBearer (request: FastifyRequest, reply: FastifyReply, header: string): void {
    const token = header.replace(BEARER, '').trim()
    let claims
    try {
      claims = tokens.verify(token)
    } catch (err) {
      const reason = (err as Error).message
      // RFC 6750 §3: the challenge names the error so OAuth clients know to fetch a new token.
      reply.header('www-authenticate', `Bearer realm="Thrive API", error="invalid_token", error_description="${reason.replaceAll('"', "'")}"`)
      throw new InvalidTokenError(reason)
    }
    // A token only counts while its tenant still exists here; otherwise it grants nothing.
    if (store.tenant(claims.tenant_id) === undefined) {
      reply.header('www-authenticate', 'Bearer realm="Thrive API", error="invalid_token", error_description="unknown tenant"')
      throw new InvalidTokenError('the token belongs to a tenant this server does not know')
    }
    request.principal = { tenantId: claims.tenant_id, clientId: claims.client_id, scopes: new Set(claims.scope.split(' ')), scheme: 'bearer' }
  }

  fastify.decorate('authenticate', async function (request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization
    if (header === undefined || header.trim() === '') throw new MissingCredentialsError()
    if (BEARER.test(header)) checkBearer(request, reply, header)
    else if (BASIC.test(header)) await checkBasic(request, reply)
    else throw new MalformedAuthorizationError()

    const needed = request.routeOptions.config.scopes
    const granted = (request.principal as Principal).scopes
    if (needed !== undefined && granted !== null && !needed.some((s) => granted.has(s))) {
      // RFC 6750 §3.1: insufficient_scope names the scope that would have worked.
      reply.header('www-authenticate', `Bearer realm="Thrive API", error="insufficient_scope", scope="${needed.join(' ')}"`)
      throw new InsufficientScopeError(needed.join(' or '))
    }
  })
}

export default fp(authenticationPlugin, { name: 'authentication', dependencies: ['store', 'tokens', 'errors'] })
