// One context per request, owned here: authentication and routes fill it, faults and the journal read it.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import type { Operation } from '../operations.js'
import { NO_VIOLATIONS, type Violation } from '../schemas/violations.js'

/** Who called. Shared by every request of the same tenant (Basic) or token (Bearer), so read-only. */
export interface Principal {
  readonly tenantId: string
  /** The OAuth client id; the Tenant ID itself for Basic auth. */
  readonly clientId: string
  /** Granted scopes; null means full access (Basic auth). */
  readonly scopes: ReadonlySet<string> | null
  readonly scheme: 'basic' | 'bearer'
}

export interface RequestContext {
  /** The operation the route serves; null for routes that are not operations (control plane, docs, not found). */
  readonly operation: Operation | null
  /** The audience id or reference in the path, for operations that act on one. */
  readonly audienceRef: string | null
  /** The caller once authenticated: the principal of an API request, the client of a token request. */
  tenantId: string | null
  clientId: string | null
  principal: Principal | null
  /** The fault rule that fired ("prefer" for a Prefer header), and the transport fault it applied. */
  fault: string | null
  transport: string | null
  /** What in the request real Thrive would ignore, misread or refuse; NO_VIOLATIONS when nothing. */
  violations: readonly Violation[]
  /** Violations found beyond the listed ones (at most MAX_LISTED are listed), so only counted. */
  violationsNotListed: number
  /**
   * When the request arrived, epoch ms by the mock clock as it read then: the journal's `time`, so a slow request
   * keeps its place among faster ones, whatever the clock does while it waits.
   */
  readonly arrivedAt: number
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext
  }
  interface FastifyContextConfig {
    operation?: Operation
  }
}

function createContext (this: FastifyInstance, request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const operation = request.routeOptions.config.operation ?? null
  const param = operation?.audienceParam
  request.ctx = {
    arrivedAt: this.clock.now(),
    operation,
    audienceRef: param === undefined ? null : (request.params as Record<string, string>)[param] as string,
    tenantId: null,
    clientId: null,
    principal: null,
    fault: null,
    transport: null,
    violations: NO_VIOLATIONS,
    violationsNotListed: 0
  }
  done()
}

async function contextPlugin (fastify: FastifyInstance) {
  fastify.decorateRequest('ctx', null as unknown as RequestContext)
  // The first hook of every request (this plugin is registered first but for the clock, which has no hooks), so every
  // later hook finds the context.
  fastify.addHook('onRequest', createContext)
}

export default fp(contextPlugin, { name: 'context', dependencies: ['clock'] })
