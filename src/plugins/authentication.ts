// Authenticates API requests: HTTP Basic (Tenant ID + API secret) or a Bearer access token, then checks scopes.
import basicAuth from '@fastify/basic-auth'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { InsufficientScopeError, InvalidCredentialsError, InvalidTokenError, MalformedAuthorizationError, MissingCredentialsError } from '../errors.js'
import type { Scope } from '../schemas/oauth.js'
import { secretsEqual } from '../secrets.js'
import type { AccessClaims } from '../tokens.js'
import type { Tenant } from '../store/audience-store.js'

/** Shared by every request of the same tenant (Basic) or token (Bearer), so read-only. */
export interface Principal {
  readonly tenantId: string
  /** The OAuth client id; the Tenant ID itself for Basic auth. */
  readonly clientId: string
  /** Granted scopes; null means full access (Basic auth). */
  readonly scopes: ReadonlySet<string> | null
  readonly scheme: 'basic' | 'bearer'
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
    authenticate: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  }
}

/** Distinct verified Basic headers remembered; a mock serves a handful of tenants, so this is never reached in use. */
export const VERIFIED_BASIC_CACHE_SIZE = 1000

const BEARER = /^bearer[ \t]+/i
const BASIC = /^basic(?:[ \t]|$)/i

async function authenticationPlugin (fastify: FastifyInstance) {
  const { store, tokens } = fastify
  // Compared against when the tenant is unknown, so both failures take the same time.
  const decoy = 'decoy-secret-never-matches\u0000'

  fastify.decorateRequest('principal', null)

  // A principal never changes for a verified token, so each is built once and shared by its requests.
  // Weak keys: an evicted token takes its principal with it.
  const bearerPrincipals = new WeakMap<AccessClaims, Principal>()

  /**
   * Basic Authorization headers that passed the full check, with their tenant: a client repeats the same header
   * on every request, and a repeat then costs one lookup instead of parsing and hashing. Only successes are kept,
   * keyed by the whole header, so only a holder of the secret can reach an entry, and a wrong guess always pays
   * the full constant-time check. A store reset makes new tenant objects, which retires the entries (checked on use).
   */
  const verifiedBasic = new Map<string, { tenant: Tenant, principal: Principal }>()

  await fastify.register(basicAuth, {
    authenticate: false,
    // Synchronous, calling done itself: no promise per request.
    validate: function (username, password, request, _reply, done) {
      const tenant = store.tenant(username)
      const ok = secretsEqual(password, tenant?.apiSecret ?? decoy)
      if (tenant === undefined || !ok) {
        done(new InvalidCredentialsError())
        return
      }
      const principal: Principal = { tenantId: tenant.tenantId, clientId: tenant.tenantId, scopes: null, scheme: 'basic' }
      if (verifiedBasic.size >= VERIFIED_BASIC_CACHE_SIZE) verifiedBasic.clear()
      verifiedBasic.set(request.headers.authorization as string, { tenant, principal })
      request.principal = principal
      done()
    }
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
    let principal = bearerPrincipals.get(claims)
    if (principal === undefined) {
      principal = { tenantId: claims.tenant_id, clientId: claims.client_id, scopes: new Set(claims.scope.split(' ')), scheme: 'bearer' }
      bearerPrincipals.set(claims, principal)
    }
    request.principal = principal
  }

  function checkScopes (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const needed = request.routeOptions.config.scopes
    const granted = (request.principal as Principal).scopes
    if (needed !== undefined && granted !== null && !needed.some((s) => granted.has(s))) {
      // RFC 6750 §3.1: insufficient_scope names the scope that would have worked.
      reply.header('www-authenticate', `Bearer realm="Thrive API", error="insufficient_scope", scope="${needed.join(' ')}"`)
      done(new InsufficientScopeError(needed.join(' or ')))
      return
    }
    done()
  }

  // A callback-style onRequest hook: every API request runs it, and it completes without a promise.
  fastify.decorate('authenticate', function (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const header = request.headers.authorization
    if (header === undefined || header.trim() === '') {
      done(new MissingCredentialsError())
    } else if (BEARER.test(header)) {
      try {
        checkBearer(request, reply, header)
      } catch (err) {
        done(err as Error)
        return
      }
      checkScopes(request, reply, done)
    } else if (BASIC.test(header)) {
      const known = verifiedBasic.get(header)
      if (known !== undefined && store.tenant(known.tenant.tenantId) === known.tenant) {
        request.principal = known.principal
        checkScopes(request, reply, done)
        return
      }
      fastify.basicAuth(request, reply, (err?: Error) => {
        if (err === undefined) checkScopes(request, reply, done)
        else done((err as { code?: string }).code === 'FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER' ? new MalformedAuthorizationError() : err)
      })
    } else {
      done(new MalformedAuthorizationError())
    }
  })
}

export default fp(authenticationPlugin, { name: 'authentication', dependencies: ['store', 'tokens', 'errors'] })
