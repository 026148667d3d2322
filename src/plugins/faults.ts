// Fault injection on API and token routes: Prefer headers and armed rules, applied after authentication.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { Compile } from 'typebox/compile'
import { DataFileError, readJsonFile, toJsonPath, firstProblem } from '../data-file.js'
import { FaultEngine, type FiredFault } from '../faults/engine.js'
import { parsePrefer, PreferError } from '../faults/prefer.js'
import { OAuthError, sendOAuthError } from '../oauth-errors.js'
import { FaultRuleInput, MAX_HANG_MS, type FaultEffect } from '../schemas/faults.js'
import type { OAuthErrorCode } from '../schemas/oauth.js'
import { pathOf } from '../store/journal.js'
import { sendError } from './errors.js'

/** What the journal and the request log know about a request beyond Fastify's own fields. */
export interface RequestTrace {
  tenantId: string | null
  clientId: string | null
  fault: string | null
  transport: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    faults: FaultEngine
    applyFaults: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  }
  interface FastifyRequest {
    trace: RequestTrace | null
  }
  interface FastifyContextConfig {
    /** The error dialect of the route: Thrive's {status, error, message} or RFC 6749's {error, error_description}. */
    dialect?: 'thrive' | 'oauth'
  }
}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'The request is not valid',
  401: 'Unauthorized: the credentials are missing, invalid or expired',
  403: 'Forbidden: the credentials do not grant access to this resource',
  404: 'The requested resource was not found',
  409: 'The request conflicts with the current state of the resource',
  422: 'The request is well-formed but cannot be processed',
  429: 'Too many requests: retry after the number of seconds in the Retry-After header',
  500: 'An unexpected error occurred',
  502: 'Bad gateway: an upstream service returned an invalid response',
  503: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header',
  504: 'Gateway timeout: an upstream service did not respond in time'
}

/** RFC 6749 §5.2 has no codes for most statuses; these are what OAuth client libraries know how to handle. */
function oauthCode (status: number): OAuthErrorCode {
  if (status === 401) return 'invalid_client'
  if (status === 429 || status === 503) return 'temporarily_unavailable'
  return status >= 500 ? 'server_error' : 'invalid_request'
}

const checkRule = Compile(FaultRuleInput)

/** Fault rules from a JSON file (an array, or {"rules": [...]}), for docker-compose use. */
export function loadFaultsFile (file: string): FaultRuleInput[] {
  const data = readJsonFile('faults file', file)
  const rules = Array.isArray(data) ? data : (data as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) throw new DataFileError('faults file', file, '$', 'expected an array of fault rules, or {"rules": [...]}')
  const root = Array.isArray(data) ? '$' : '$.rules'
  return rules.map((rule, i) => {
    const problem = firstProblem(checkRule, rule)
    if (problem !== null) throw new DataFileError('faults file', file, toJsonPath(problem[0], `${root}[${i}]`), problem[1])
    return rule as FaultRuleInput
  })
}

/** The client id a token request is made by, from Basic or the body, for matching only (never trusted). */
function tokenClientId (request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (header !== undefined && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')))
    try {
      return decodeURIComponent(user.replaceAll('+', ' '))
    } catch {
      return user
    }
  }
  const id = (request.body as { client_id?: unknown } | undefined)?.client_id
  return typeof id === 'string' ? id : null
}

async function faultsPlugin (fastify: FastifyInstance, opts: { faultsFile: string | null }) {
  const { store, clock, journal } = fastify
  const engine = new FaultEngine({
    clock,
    tenantExists: (tenantId) => store.tenant(tenantId) !== undefined,
    resolveAudience: (tenantId, idOrReference) => store.resolveId(tenantId, idOrReference)
  })
  if (opts.faultsFile !== null) {
    const file = opts.faultsFile
    loadFaultsFile(file).forEach((rule, i) => {
      const problem = engine.check(rule)
      if (problem !== null) throw new DataFileError('faults file', file, `$[${i}].${problem.field}`, problem.problem)
      engine.add(rule)
    })
    fastify.log.info({ file, rules: engine.list().length }, 'fault rules armed from file')
  }
  fastify.decorate('faults', engine)
  fastify.decorateRequest('trace', null)

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
    const trace = request.trace as RequestTrace
    trace.transport = transport
    journal.record({ time: clock.now() - reply.elapsedTime, method: request.method, url: request.url, tenantId: trace.tenantId, clientId: trace.clientId, status: null, fault: trace.fault, transport, durationMs: reply.elapsedTime })
    request.log.info({ method: request.method, url: pathOf(request.url), tenantId: trace.tenantId, fault: trace.fault, transport }, 'request ended by a transport fault')
  }

  function breakConnection (request: FastifyRequest, reply: FastifyReply, effect: FaultEffect): void {
    const socket = request.raw.socket
    reply.hijack()
    if (effect.transport === 'reset') {
      recordTransport(request, reply, 'reset')
      socket.resetAndDestroy()
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
    const message = effect.message ?? DEFAULT_MESSAGES[effect.status] as string
    if (effect.status === 429 || effect.status === 503) reply.header('retry-after', String(effect.retryAfterSeconds ?? 1))
    if (request.routeOptions.config.dialect === 'oauth') return sendOAuthError(reply, new OAuthError(oauthCode(effect.status), message, effect.status))
    return sendError(reply, effect.status, message)
  }

  /** The trace a fault or a token request needs; a plain API request without one goes without (the journal reads its principal). */
  function traceOf (request: FastifyRequest): RequestTrace & { tenantId: string } {
    if (request.trace !== null) return request.trace as RequestTrace & { tenantId: string }
    const principal = request.principal
    // API routes know the tenant from the credentials; the token route from its path.
    const tenantId = principal?.tenantId ?? (request.params as { tenantId: string }).tenantId
    const clientId = principal?.clientId ?? tokenClientId(request)
    const trace = { tenantId, clientId, fault: null, transport: null }
    request.trace = trace
    return trace
  }

  // A callback-style preValidation hook: the common case (no Prefer header, no rule armed for the tenant)
  // finishes synchronously, without a promise, and an API request without a trace; the rest goes async.
  fastify.decorate('applyFaults', function applyFaults (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    // The token route has no principal (not even the decorator): its tenant comes from the trace.
    const tenantId = request.principal?.tenantId ?? traceOf(request).tenantId
    if (request.headers.prefer === undefined && !engine.armedFor(tenantId)) {
      done()
      return
    }
    applyFaultsAsync(request, reply).then(() => done(), done)
  })

  async function applyFaultsAsync (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const trace = traceOf(request)
    const { tenantId, clientId } = trace

    let fired: FiredFault | null
    try {
      const preferred = parsePrefer(request.headers.prefer)
      fired = preferred === null ? null : { id: 'prefer', effect: preferred, delayMs: preferred.delayMs ?? 0 }
    } catch (err) {
      const message = (err as PreferError).message
      if (request.routeOptions.config.dialect === 'oauth') {
        sendOAuthError(reply, new OAuthError('invalid_request', message))
        return
      }
      sendError(reply, 400, message)
      return
    }
    if (fired === null && engine.armedFor(tenantId)) {
      const param = (request.params as { audienceId?: string }).audienceId
      fired = engine.match({
        tenantId,
        clientId,
        method: request.method,
        operation: (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId,
        path: request.url.split('?')[0] as string,
        audienceId: param === undefined ? null : store.resolveId(tenantId, param) ?? param
      })
    }
    if (fired === null) return
    trace.fault = fired.id
    reply.header('x-mock-fault', fired.id)
    if (fired.delayMs > 0) await wait(fired.delayMs)
    const { effect } = fired
    if (effect.transport === 'malformed') trace.transport = 'malformed'
    else if (effect.transport !== undefined) breakConnection(request, reply, effect)
    else if (effect.status !== undefined) sendStatus(request, reply, effect as FaultEffect & { status: number })
  }

  // transport "malformed": whatever the route answers becomes a 200 with half its JSON.
  // Callback style: this runs on every reply, so it should not cost a promise.
  fastify.addHook('onSend', function (request, reply, payload, done) {
    if (request.trace?.transport !== 'malformed' || typeof payload !== 'string') {
      done(null, payload)
      return
    }
    reply.code(200)
    done(null, payload.slice(0, Math.max(1, Math.floor(payload.length / 2))))
  })
}

export default fp(faultsPlugin, { name: 'faults', dependencies: ['store', 'clock', 'journal', 'errors'] })
