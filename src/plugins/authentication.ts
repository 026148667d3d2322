// Authenticates API requests: HTTP Basic (Tenant ID + API secret) or a Bearer access token, then checks scopes.
import basicAuth from '@fastify/basic-auth'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { InsufficientScopeError, InvalidCredentialsError, InvalidTokenError, MalformedAuthorizationError, MissingCredentialsError } from '../errors.js'
import type { AccessClaims } from '../tokens.js'
import type { Principal } from './context.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  }
}

/** A verified token and the principal built from it, shared by every request that presents it. */
interface VerifiedToken {
  claims: AccessClaims
  principal: Principal
}

const BEARER = /^bearer[ \t]+/i
const BASIC = /^basic(?:[ \t]|$)/i

async function authenticationPlugin (fastify: FastifyInstance) {
  const { store, tokens, cache } = fastify

  // Basic Authorization headers that passed the full check are cached (keyed by the whole header) with the
  // principal: a client repeats the same header on every request, and a repeat then costs one lookup instead of
  // parsing and hashing. Only successes are kept, so only a holder of the secret can reach an entry, and a wrong
  // guess always pays the full constant-time check. Entries let go when the tenant's store version moves.
  await fastify.register(basicAuth, {
    authenticate: false,
    validate: async function (username, password, request) {
      if (!await store.verifyTenantSecret(username, password)) throw new InvalidCredentialsError()
      const principal: Principal = { tenantId: username, clientId: username, scopes: null, scheme: 'basic' }
      cache.set(request.headers.authorization as string, username, principal)
      request.ctx.principal = principal
    }
  })

  function checkBearer (request: FastifyRequest, reply: FastifyReply, header: string): void {
    const token = header.replace(BEARER, '').trim()
    let verified = cache.get<VerifiedToken>(header)
    try {
      if (verified === undefined) {
        const claims = tokens.verifySignature(token)
        // A token only counts while its tenant exists here; otherwise it grants nothing.
        if (!store.has(claims.tenant_id)) throw new Error('the token belongs to a tenant this server does not know')
        verified = { claims, principal: { tenantId: claims.tenant_id, clientId: claims.client_id, scopes: new Set(claims.scope.split(' ')), scheme: 'bearer' } }
        cache.set(header, claims.tenant_id, verified)
      }
      tokens.checkLifetime(verified.claims)
    } catch (err) {
      const reason = (err as Error).message
      // RFC 6750 §3: the challenge names the error so OAuth clients know to fetch a new token.
      reply.header('www-authenticate', `Bearer realm="Thrive API", error="invalid_token", error_description="${reason.replaceAll('"', "'")}"`)
      throw new InvalidTokenError(reason)
    }
    request.ctx.principal = verified.principal
  }

  function authenticated (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const ctx = request.ctx
    const principal = ctx.principal as Principal
    ctx.tenantId = principal.tenantId
    ctx.clientId = principal.clientId
    const needed = ctx.operation?.scopes
    const granted = principal.scopes
    if (needed != null && granted !== null && !needed.some((s) => granted.has(s))) {
      // RFC 6750 §3.1: insufficient_scope names the scope that would have worked.
      reply.header('www-authenticate', `Bearer realm="Thrive API", error="insufficient_scope", scope="${needed.join(' ')}"`)
      done(new InsufficientScopeError(needed.join(' or ')))
      return
    }
    done()
  }

  // A callback-style onRequest hook: every API request runs it, and a cached credential completes without a promise.
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
      authenticated(request, reply, done)
    } else if (BASIC.test(header)) {
      const known = cache.get<Principal>(header)
      if (known !== undefined) {
        request.ctx.principal = known
        authenticated(request, reply, done)
        return
      }
      fastify.basicAuth(request, reply, (err?: Error) => {
        if (err === undefined) authenticated(request, reply, done)
        else done((err as { code?: string }).code === 'FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER' ? new MalformedAuthorizationError() : err)
      })
    } else {
      done(new MalformedAuthorizationError())
    }
  })
}

export default fp(authenticationPlugin, { name: 'authentication', dependencies: ['context', 'store', 'cache', 'tokens', 'errors'] })
