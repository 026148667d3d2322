// Records every API and token request in the journal and logs one line for it.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Journal, pathOf } from '../store/journal.js'

declare module 'fastify' {
  interface FastifyInstance {
    journal: Journal
  }
  interface FastifyContextConfig {
    /** false for the control plane, whose traffic would drown the requests under test. */
    journal?: boolean
  }
}

async function journalPlugin (fastify: FastifyInstance, opts: { size: number }) {
  const { store } = fastify
  // Only a tenant this server knows gets a ring of its own: no id a caller makes up can open one.
  const journal = new Journal(opts.size, { tenantKey: (tenantId) => store.has(tenantId) ? tenantId : undefined })
  fastify.decorate('journal', journal)

  // Callback style: this runs on every request, so it should not cost a promise.
  fastify.addHook('onResponse', function (request, reply, done) {
    const ctx = request.ctx
    const durationMs = reply.elapsedTime
    if (request.routeOptions.config.journal === false) {
      request.log.debug({ method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: durationMs }, 'control request')
      done()
      return
    }
    // A broken connection was journaled when it broke; app.inject() still reports its end here.
    if (ctx.transport !== null && ctx.transport !== 'malformed') {
      done()
      return
    }
    const { tenantId, clientId, fault, transport, violations, violationsNotListed } = ctx
    journal.record({ time: ctx.arrivedAt, method: request.method, url: request.url, tenantId, clientId, status: reply.statusCode, fault, transport, durationMs, violations, violationsNotListed })
    request.log.info({ method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: Math.round(durationMs * 10) / 10, tenantId, clientId, fault: fault ?? undefined }, 'request')
    done()
  })
}

export default fp(journalPlugin, { name: 'journal', dependencies: ['context', 'store'] })
