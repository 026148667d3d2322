// Records, for every operation request, the status it got and the violations it carried, per tenant.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Coverage } from '../store/coverage.js'

declare module 'fastify' {
  interface FastifyInstance {
    coverage: Coverage
  }
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
    if (ctx.operation !== null && (ctx.transport === null || ctx.transport === 'malformed')) {
      coverage.record(ctx.tenantId, ctx.operation.operationId, reply.statusCode, ctx.violations)
    }
    done()
  })
}

export default fp(coveragePlugin, { name: 'coverage', dependencies: ['context'] })
