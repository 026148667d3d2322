// Contract checks on API and token requests: fills request.ctx.violations, sends X-Mock-Violations, and in strict
// mode (global, per tenant, or per request with Prefer) answers 400 instead of serving a request Thrive would misread.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { StrictModeError } from '../errors.js'
import { preferredHandling } from '../faults/prefer.js'
import type { Operation } from '../operations.js'
import { bodyViolations, CASE_FOLDED_MESSAGE, headerValue, operationRules, requestViolations, strictMessage, userRefsOf, Violations } from '../violations.js'
import type { Store } from '../store/store.js'

export const VIOLATIONS_HEADER = 'x-mock-violations'

declare module 'fastify' {
  interface FastifyInstance {
    contract: ContractChecks
  }
}

export interface ContractChecks {
  /** false when the app was built with contractChecks: false: nothing is checked. */
  readonly enabled: boolean
  /** The onRequest hook of API routes, after authentication: the path, query and headers. */
  checkRequest: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  /** The preValidation hook of API routes, before faults: the parsed body and the user refs. */
  checkBody: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  /** Whether a tenant's request is strict: its Prefer header, else the tenant's setting, else the server's. */
  isStrict: (request: FastifyRequest, tenantId: string) => boolean
  /** The tenant's own setting, or the server's when it has none. */
  tenantStrict: (tenantId: string) => boolean
  setTenantStrict: (tenantId: string, strict: boolean) => void
  /** Back to the server's setting: one tenant, or every tenant. */
  reset: (tenantId?: string) => void
  /** The strict-mode message for the request's violations. */
  strictMessage: (request: FastifyRequest) => string
}

/** Keeps what was found on the request: the context (journal, coverage) and the response header. */
function keep (request: FastifyRequest, reply: FastifyReply, found: Violations): void {
  request.ctx.violations = found.listed
  request.ctx.violationsNotListed = found.notListed
  reply.header(VIOLATIONS_HEADER, headerValue(found.listed, found.notListed))
}

/** The case-folded user refs among those a request names: each matched a user only by lowercasing an email. */
async function caseFoldedRefs (store: Store, tenantId: string, refs: Array<{ location: string, ref: string }>, found: Violations): Promise<void> {
  const users = (store.tenant(tenantId) as NonNullable<ReturnType<Store['tenant']>>).users
  for (const { location, ref } of refs) {
    const user = await users.find(ref)
    // The store matches an id or reference exactly and an email case-insensitively: a user whose id, reference and
    // email all differ from the ref as sent was found only by case-folding.
    if (user !== undefined && user.id !== ref && user.reference !== ref && user.email !== ref) found.add(location, 'case-folded-user-ref', CASE_FOLDED_MESSAGE)
  }
}

async function contractPlugin (fastify: FastifyInstance, opts: { strict: boolean, enabled: boolean }) {
  const { store } = fastify
  const tenants = new Map<string, boolean>()

  const tenantStrict = (tenantId: string): boolean => tenants.get(tenantId) ?? opts.strict
  const isStrict = (request: FastifyRequest, tenantId: string): boolean => preferredHandling(request.headers.prefer) ?? tenantStrict(tenantId)
  const message = (request: FastifyRequest): string => strictMessage(request.ctx.violations, request.ctx.violationsNotListed)

  /** Keeps newly found violations; in strict mode they end the request with a 400 listing them. */
  function settle (request: FastifyRequest, reply: FastifyReply, found: Violations, done: HookHandlerDoneFunction): void {
    keep(request, reply, found)
    if (isStrict(request, request.ctx.tenantId as string)) done(new StrictModeError(message(request)))
    else done()
  }

  // Callback style, like authentication: the common clean request finishes synchronously and allocates nothing.
  function checkRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const found = requestViolations(request.ctx.operation as Operation, request.method, request.url, request.headers, request.query)
    if (found === null) done()
    else settle(request, reply, found, done)
  }

  function checkBody (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const rules = operationRules(request.ctx.operation as Operation)
    if (rules.body === null && rules.userParam === null) {
      done()
      return
    }
    const ctx = request.ctx
    const found = new Violations(ctx.violations, ctx.violationsNotListed)
    const before = found.count
    bodyViolations(rules, request.body, found)
    const refs = userRefsOf(rules, request.body, request.params as Record<string, string>)
    const finish = () => {
      if (found.count === before) done()
      else settle(request, reply, found, done)
    }
    if (refs.length === 0) finish()
    else caseFoldedRefs(store, ctx.tenantId as string, refs, found).then(finish, done)
  }

  fastify.decorate('contract', {
    enabled: opts.enabled,
    checkRequest,
    checkBody,
    isStrict,
    tenantStrict,
    setTenantStrict: (tenantId: string, strict: boolean) => { tenants.set(tenantId, strict) },
    reset: (tenantId?: string) => {
      if (tenantId === undefined) tenants.clear()
      else tenants.delete(tenantId)
    },
    strictMessage: message
  } satisfies ContractChecks)
}

/** A token request's violations, found before its handler authenticates the client and kept only once it has. */
const pendingTokenViolations = new WeakMap<FastifyRequest, Violations>()

/** For the token route, which authenticates in its handler: the request's violations, found in preValidation. */
export function checkTokenRequest (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const operation = request.ctx.operation as Operation
  const found = requestViolations(operation, request.method, request.url, request.headers, request.query) ?? new Violations()
  bodyViolations(operationRules(operation), request.body, found)
  if (found.count > 0) pendingTokenViolations.set(request, found)
  done()
}

/**
 * Called by the token route once the client has authenticated: the request's violations go to its context, journal
 * and header. A request refused before that (401, or an invalid_request about the authentication) carries none, as
 * an API request refused by authentication carries none.
 */
export function keepTokenViolations (request: FastifyRequest, reply: FastifyReply): void {
  const found = pendingTokenViolations.get(request)
  if (found !== undefined) keep(request, reply, found)
}

export default fp(contractPlugin, { name: 'contract', dependencies: ['context', 'store', 'errors'] })
