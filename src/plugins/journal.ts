// Records every API and token request in the journal and logs one line for it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Journal, pathOf, type JournalRecord } from '../store/journal.js'

declare module 'fastify' {
  interface FastifyInstance {
    journal: Journal
  }
  interface FastifyContextConfig {
    /** false for the control plane, whose traffic would drown the requests under test. */
    journal?: boolean
  }
}

/**
 * What the journal keeps of a request that has ended: answered with `status`, or null when a transport fault left no
 * response. The one builder for both ends, so an answered and a broken request carry the same fields.
 */
export function journalRecord (request: FastifyRequest, reply: FastifyReply, status: number | null): JournalRecord {
  const { arrivedAt, tenantId, clientId, fault, transport, violations, violationsNotListed } = request.ctx
  const durationMs = reply.elapsedTime
  // Stamped with the arrival time, by the clock as it read then: ordering and `since` follow arrival, for slow requests too.
  return { time: arrivedAt, method: request.method, url: request.url, tenantId, clientId, status, fault, transport, durationMs, violations, violationsNotListed }
}

async function journalPlugin (fastify: FastifyInstance, opts: { size: number }) {
  const { store } = fastify
  // Only a tenant this server knows gets a ring of its own: no id a caller makes up can open one.
  const journal = new Journal(opts.size, { tenantKey: (tenantId) => store.has(tenantId) ? tenantId : undefined })
  fastify.decorate('journal', journal)

  // Callback style: this runs on every request, so it should not cost a promise.
  fastify.addHook('onResponse', function (request, reply, done) {
    const ctx = request.ctx
    if (request.routeOptions.config.journal === false) {
      request.log.debug({ method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: reply.elapsedTime }, 'control request')
      done()
      return
    }
    // A broken connection was journaled when it broke; app.inject() still reports its end here.
    if (ctx.transport !== null && ctx.transport !== 'malformed') {
      done()
      return
    }
    const record = journalRecord(request, reply, reply.statusCode)
    journal.record(record)
    request.log.info({ method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: Math.round(record.durationMs * 10) / 10, tenantId: record.tenantId, clientId: record.clientId, fault: record.fault ?? undefined }, 'request')
    done()
  })
}

export default fp(journalPlugin, { name: 'journal', dependencies: ['context', 'store'] })
