// Records, for every operation request, the status it got and the violations it carried, per tenant.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Coverage } from '../store/coverage.js'
import type { RequestContext } from './context.js'

declare module 'fastify' {
  interface FastifyInstance {
    coverage: Coverage
  }
}

/**
 * Counts a request that has ended against its operation (none for a route that is not one): answered with `status`,
 * or null when a transport fault left no response. The one builder for both ends.
 */
export function countRequest (coverage: Coverage, ctx: RequestContext, status: number | null): void {
  if (ctx.operation !== null) coverage.record(ctx.tenantId, ctx.operation.operationId, status, ctx.violations)
}

async function coveragePlugin (fastify: FastifyInstance) {
  const coverage = new Coverage()
  fastify.decorate('coverage', coverage)

  // Callback style: this runs on every request, so it should not cost a promise. Attribution follows the journal:
  // ctx.tenantId is set only once the caller proved who it is, so a request with bad credentials counts for no
  // tenant (a claimed Tenant ID proves nothing, and must not let anyone write into another tenant's report).
  fastify.addHook('onResponse', function (request, reply, done) {
    const ctx = request.ctx
    // A broken connection was counted when it broke (faults plugin); app.inject() still reports its end here.
    if (ctx.transport === null || ctx.transport === 'malformed') countRequest(coverage, ctx, reply.statusCode)
    done()
  })
}

export default fp(coveragePlugin, { name: 'coverage', dependencies: ['context'] })
