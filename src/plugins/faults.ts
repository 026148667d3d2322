// Fault injection on API and token routes: Prefer headers and armed rules, applied after authentication.
import { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { DataFileError, readJsonFile } from '../data-file.js'
import { UnknownTenantError } from '../errors.js'
import { FaultEngine, type FiredFault } from '../faults/engine.js'
import { parsePrefer, PreferError } from '../faults/prefer.js'
import { OAuthError, oauthCode, sendOAuthError } from '../oauth-errors.js'
import { MAX_HANG_MS, type FaultEffect, type FaultRuleInput } from '../schemas/faults.js'
import { STATUSES, type FaultStatus } from '../schemas/statuses.js'
import { pathOf } from '../store/journal.js'
import { countRequest } from './coverage.js'
import { sendError } from './errors.js'
import { tcpSocket } from './https.js'
import { journalRecord } from './journal.js'
import type { RequestContext } from './context.js'
import type { Store } from '../store/store.js'

// FastifyRequest is named through import() here: tsc drops a plain import that only this block uses from the
// published declarations, which then fail to compile for a consumer that checks library types.
declare module 'fastify' {
  interface FastifyInstance {
    faults: FaultEngine
    /** The preValidation hook of API routes, which have authenticated the caller by then. */
    applyFaults: (request: import('fastify').FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
    /**
     * For a route that authenticates in its handler (the token route): applies the faults of the tenant and client
     * it has authenticated. Undefined when none can apply (no Prefer, no rule armed), so the common case costs no
     * promise; otherwise the handler awaits it and stops if `reply.sent` is true.
     */
    applyFaultsFor: (request: import('fastify').FastifyRequest, reply: FastifyReply, caller: { tenantId: string, clientId: string }) => Promise<void> | undefined
  }
}

/** A transport fault met by a request that has no real connection to break (app.inject()). */
export class NoConnectionError extends Error {
  override name = 'NoConnectionError'
  /**
   * The transport fault that fired, and for "hang" how long the connection would have stayed open: what an adapter
   * without a connection (the msw handlers) needs to give its client the same failure.
   */
  constructor (message: string, readonly transport: string, readonly hangMs: number) {
    super(message)
  }
}

/** Fault rules from a JSON file (an array, or {"rules": [...]}), for docker-compose use; checked when armed. */
export function loadFaultsFile (file: string): { rules: unknown[], root: string } {
  const data = readJsonFile('faults file', file)
  if (Array.isArray(data)) return { rules: data, root: '$' }
  const rules = (data as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) throw new DataFileError('faults file', file, '$', 'expected an array of fault rules, or {"rules": [...]}')
  return { rules, root: '$.rules' }
}

async function faultsPlugin (fastify: FastifyInstance, opts: { faultsFile: string | null }) {
  const { store, clock, journal, coverage } = fastify
  const engine = new FaultEngine({ clock, tenantExists: (tenantId) => store.has(tenantId) })
  if (opts.faultsFile !== null) {
    const file = opts.faultsFile
    const { rules, root } = loadFaultsFile(file)
    rules.forEach((rule, i) => {
      const problem = engine.check(rule)
      if (problem instanceof UnknownTenantError) throw new DataFileError('faults file', file, `${root}[${i}].match.tenantId`, problem.message)
      if (problem !== null) throw new DataFileError('faults file', file, `${root}[${i}]${problem.at}`, problem.problem)
      engine.add(rule as FaultRuleInput)
    })
    fastify.log.info({ file, rules: engine.list().length }, 'fault rules armed from file')
  }
  fastify.decorate('faults', engine)

  // Pending delays and hung sockets end when the server closes, so shutdown never waits on a fault.
  const pending = new Set<() => void>()
  fastify.addHook('preClose', async function () {
    for (const finish of pending) finish()
  })

  function wait (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => { clearTimeout(timer); pending.delete(finish); resolve() }
      const timer = setTimeout(finish, ms)
      pending.add(finish)
    })
  }

  function recordTransport (request: FastifyRequest, reply: FastifyReply, transport: string) {
    const ctx = request.ctx
    ctx.transport = transport
    journal.record(journalRecord(request, reply, null))
    countRequest(coverage, ctx, null)
    request.log.info({ method: request.method, url: pathOf(request.url), tenantId: ctx.tenantId, fault: ctx.fault, transport }, 'request ended by a transport fault')
  }

  function breakConnection (request: FastifyRequest, reply: FastifyReply, effect: FaultEffect & { transport: string }, ruleId: string): void {
    const socket = request.raw.socket
    reply.hijack()
    if (!(socket instanceof Socket)) {
      // app.inject() has no connection to break: fail the call with a reason rather than crash or hang it.
      recordTransport(request, reply, effect.transport)
      reply.raw.destroy(new NoConnectionError(`fault ${ruleId} (transport "${effect.transport}") needs a real connection, and this request has none (app.inject()): send the request over HTTP to the server's URL to test transport faults`, effect.transport, effect.hangMs ?? MAX_HANG_MS))
      return
    }
    if (effect.transport === 'reset') {
      recordTransport(request, reply, 'reset')
      tcpSocket(socket).resetAndDestroy()
      return
    }
    if (effect.transport === 'empty') {
      // Headers promise a body that never comes: the client sees a premature close.
      reply.raw.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': '1024' })
      reply.raw.flushHeaders()
      recordTransport(request, reply, 'empty')
      setImmediate(() => socket.destroy())
      return
    }
    // hang: say nothing until the client gives up, or the cap passes.
    const finish = () => { clearTimeout(timer); pending.delete(finish); socket.destroy() }
    const timer = setTimeout(finish, effect.hangMs ?? MAX_HANG_MS)
    pending.add(finish)
    socket.once('close', () => { if (pending.delete(finish)) clearTimeout(timer) })
    recordTransport(request, reply, 'hang')
  }

  function sendStatus (request: FastifyRequest, reply: FastifyReply, effect: FaultEffect & { status: number }): FastifyReply {
    const message = effect.message ?? STATUSES[effect.status as FaultStatus].faultMessage
    if (effect.status === 429 || effect.status === 503) reply.header('retry-after', String(effect.retryAfterSeconds ?? 1))
    if (request.ctx.operation?.errorDialect === 'oauth') return sendOAuthError(reply, new OAuthError(oauthCode(effect.status), message, effect.status))
    return sendError(reply, effect.status, message)
  }

  // A callback-style preValidation hook: the common case (no Prefer header, no rule armed for the tenant)
  // finishes synchronously, without a promise; the rest goes async.
  fastify.decorate('applyFaults', function applyFaults (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (request.headers.prefer === undefined && !engine.armedFor(request.ctx.tenantId as string)) {
      done()
      return
    }
    applyFaultsAsync(request, reply).then(() => done(), done)
  })

  fastify.decorate('applyFaultsFor', function applyFaultsFor (request: FastifyRequest, reply: FastifyReply, caller: { tenantId: string, clientId: string }) {
    request.ctx.tenantId = caller.tenantId
    request.ctx.clientId = caller.clientId
    if (request.headers.prefer === undefined && !engine.armedFor(caller.tenantId)) return undefined
    return applyFaultsAsync(request, reply)
  })

  async function applyFaultsAsync (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ctx = request.ctx
    const tenantId = ctx.tenantId as string

    let fired: FiredFault | null
    try {
      const preferred = parsePrefer(request.headers.prefer)
      fired = preferred === null ? null : { id: 'prefer', effect: preferred, delayMs: preferred.delayMs ?? 0 }
    } catch (err) {
      const message = (err as PreferError).message
      if (ctx.operation?.errorDialect === 'oauth') {
        sendOAuthError(reply, new OAuthError('invalid_request', message))
        return
      }
      sendError(reply, 400, message)
      return
    }
    if (fired === null && engine.armedFor(tenantId)) {
      fired = engine.match({
        tenantId,
        clientId: ctx.clientId,
        method: request.method,
        operation: ctx.operation?.operationId,
        path: request.url.split('?')[0] as string,
        audienceKeys: await audienceKeys(store, ctx, tenantId)
      })
    }
    if (fired === null) return
    ctx.fault = fired.id
    reply.header('x-mock-fault', fired.id)
    if (fired.delayMs > 0) await wait(fired.delayMs)
    const { effect } = fired
    if (effect.transport === 'malformed') ctx.transport = 'malformed'
    else if (effect.transport !== undefined) breakConnection(request, reply, effect as FaultEffect & { transport: string }, fired.id)
    else if (effect.status !== undefined) sendStatus(request, reply, effect as FaultEffect & { status: number })
  }

  // transport "malformed": whatever the route answers becomes a 200 with half its JSON.
  // Callback style: this runs on every reply, so it should not cost a promise.
  fastify.addHook('onSend', function (request, reply, payload, done) {
    if (request.ctx.transport !== 'malformed' || typeof payload !== 'string') {
      done(null, payload)
      return
    }
    reply.code(200)
    done(null, payload.slice(0, Math.max(1, Math.floor(payload.length / 2))))
  })
}

/** The names the request's audience answers to in Thrive's lookup (see FaultContext.audienceKeys). */
async function audienceKeys (store: Store, ctx: RequestContext, tenantId: string): Promise<string[] | null> {
  const ref = ctx.audienceRef
  if (ref === null) return null
  const audiences = (store.tenant(tenantId) as NonNullable<ReturnType<Store['tenant']>>).audiences
  const audience = await audiences.get(ref)
  if (audience === undefined) return [ref]
  return await audiences.resolveId(audience.reference) === audience.id ? [audience.id, audience.reference] : [audience.id]
}

export default fp(faultsPlugin, { name: 'faults', dependencies: ['context', 'store', 'clock', 'journal', 'coverage', 'errors'] })
