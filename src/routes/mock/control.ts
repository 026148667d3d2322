// The /__mock control plane: fault rules, the request journal, coverage, reset and the clock. Health lives apart.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { acceptEmptyJson, sendError, sendUnknownTenant } from '../../plugins/errors.js'
import { resetState } from '../../reset.js'
import { ErrorRef } from '../../schemas/common.js'
import { Clock, ClockChange, Removed, ResetResult, StrictChange, StrictSetting } from '../../schemas/control.js'
import { UnknownTenantError } from '../../errors.js'
import type { FaultLimitError } from '../../faults/engine.js'
import { FaultRule, FaultRuleInput } from '../../schemas/faults.js'
import { FixtureFile } from '../../schemas/fixtures.js'
import { JournalEntry, JournalQuery } from '../../schemas/journal.js'
import { secretsEqual } from '../../secrets.js'
import type { TenantRepository } from '../../store/store.js'
import coverageRoutes from './coverage.js'
import { ANONYMOUS_RING_SIZE, JOURNAL_BYTE_BUDGET } from '../../store/journal.js'

export const ADMIN_HEADER = 'x-mock-admin-token'

const TenantQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ minLength: 1, description: 'Only this tenant' }))
}, { additionalProperties: false })

export const CSRF_MESSAGE = 'Control-plane writes must be sent with Content-Type: application/json. This guards against ' +
  'cross-site request forgery: a web page on another origin cannot send that content type without a CORS preflight, ' +
  'which this server never grants.'

/**
 * The tenant a control request names, wherever its route takes one: the path, the query or the body (a fault rule
 * names its tenant inside `match`, which its own check reads).
 */
function namedTenant (request: FastifyRequest): string | undefined {
  for (const source of [request.params, request.query, request.body]) {
    const tenantId = (source as { tenantId?: unknown } | null | undefined)?.tenantId
    if (typeof tenantId === 'string') return tenantId
  }
  return undefined
}

/** The media type without its parameters (RFC 9110 §8.3.1), compared case-insensitively. */
function isJson (contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json'
}

const errors = { 400: ErrorRef, 401: ErrorRef, 404: ErrorRef }
const tags = ['Mock control']

export default async function controlRoutes (fastify: FastifyInstance, opts: { adminToken: string | null }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { faults, journal, clock } = fastify

  // The admin credential has its own header, which API routes never read and this plane never takes
  // from Authorization, so an API secret or token can never unlock the control plane, nor the reverse.
  if (opts.adminToken !== null) {
    const expected = opts.adminToken
    app.addHook('onRequest', async function (request: FastifyRequest, reply: FastifyReply) {
      const given = request.headers[ADMIN_HEADER]
      if (typeof given !== 'string' || !secretsEqual(given, expected)) {
        reply.header('www-authenticate', 'MockAdmin realm="thrive-audience-mock control plane"')
        return sendError(reply, 401, 'This control-plane route needs the admin token in the X-Mock-Admin-Token header')
      }
    })
  }

  // Derived here, beside the checks, so the published document says what they enforce. The security
  // requirement also makes the docs page's Authorize dialog send the admin header with "Try it out".
  app.addHook('onRoute', (route) => {
    const schema = { ...route.schema }
    // Every route refuses an oversized body, a GET's included (plugins/errors.ts checks those it never reads).
    schema.response = { ...schema.response as object, 413: ErrorRef }
    if (route.method === 'POST') schema.response = { ...schema.response as object, 415: ErrorRef }
    if (opts.adminToken !== null) schema.security = [{ adminToken: [] }]
    route.schema = schema
  })

  // Cross-site request forgery: without an admin token, any web page could make a visitor's browser POST here
  // (a form, or fetch in no-cors mode) and wipe or rig the state. Such a request can only carry no body type,
  // text/plain, a form or multipart; application/json from another origin needs a CORS preflight, which this
  // server never grants (it has no CORS handling). DELETE needs no check: it is not a CORS-safelisted method,
  // so a browser always preflights it, whatever its content type.
  app.addHook('onRequest', async function requireJson (request: FastifyRequest, reply: FastifyReply) {
    if (request.method === 'POST' && !isJson(request.headers['content-type'])) {
      return sendError(reply, 415, CSRF_MESSAGE)
    }
  })
  // An empty JSON body is an absent one, so `POST /reset` with only the JSON content type is a full reset,
  // as a bare POST once was; the other routes' body schemas refuse it.
  acceptEmptyJson(app)

  // One rule for every route that takes a tenant, this scope's and coverage's alike: a tenant the server does not know
  // is a 404 naming it, never an empty answer that would let a typo in a test's setup pass. It runs once the
  // request is valid, so a malformed one is still the 400 that says what is wrong with it.
  app.addHook('preHandler', async function requireKnownTenant (request: FastifyRequest, reply: FastifyReply) {
    const tenantId = namedTenant(request)
    if (tenantId !== undefined && !fastify.store.has(tenantId)) return sendUnknownTenant(reply, tenantId)
  })

  const config = { journal: false }

  await app.register(coverageRoutes, { tags })

  app.post('/faults', {
    config,
    schema: { operationId: 'armFault', summary: 'Arm a fault rule', tags, body: FaultRuleInput, response: { 201: FaultRule, ...errors, 409: ErrorRef } }
  }, async function armFault (request, reply) {
    const problem = faults.check(request.body)
    if (problem instanceof UnknownTenantError) return sendUnknownTenant(reply, problem.tenantId)
    if (problem !== null) return sendError(reply, 400, `Invalid fault rule: ${problem.message}`)
    try {
      return reply.code(201).send(faults.add(request.body))
    } catch (err) {
      // add() runs the checks check() has just passed, so only a limit can stop it.
      return sendError(reply, 409, `Too many fault rules: ${(err as FaultLimitError).message}`)
    }
  })

  app.get('/faults', {
    config,
    schema: { operationId: 'listFaults', summary: 'List armed fault rules, oldest first', tags, querystring: TenantQuery, response: { 200: Type.Array(FaultRule), ...errors } }
  }, async function listFaults (request) {
    return faults.list(request.query.tenantId)
  })

  app.get('/faults/:id', {
    config,
    schema: { operationId: 'getFault', summary: 'One armed fault rule, with its fire count', tags, params: Type.Object({ id: Type.String() }), response: { 200: FaultRule, ...errors } }
  }, async function getFault (request, reply) {
    return faults.get(request.params.id) ?? sendError(reply, 404, `No armed fault rule "${request.params.id}" (it may have retired)`)
  })

  app.delete('/faults/:id', {
    config,
    schema: { operationId: 'removeFault', summary: 'Disarm one fault rule', tags, params: Type.Object({ id: Type.String() }), response: { 204: Type.Null(), ...errors } }
  }, async function removeFault (request, reply) {
    if (!faults.remove(request.params.id)) return sendError(reply, 404, `No armed fault rule "${request.params.id}" (it may have retired)`)
    return reply.code(204).send(null)
  })

  app.delete('/faults', {
    config,
    schema: { operationId: 'clearFaults', summary: 'Disarm every rule, or one tenant\'s', tags, querystring: TenantQuery, response: { 200: Removed, ...errors } }
  }, async function clearFaults (request) {
    return { removed: faults.clear(request.query.tenantId) }
  })

  app.get('/requests', {
    config,
    schema: {
      operationId: 'listRequests',
      summary: 'Recent requests, newest first',
      description: `The journal keeps the last JOURNAL_SIZE API and token requests of each tenant, and the last ${ANONYMOUS_RING_SIZE} requests with no known tenant, within a ${JOURNAL_BYTE_BUDGET / 1024 / 1024} MiB budget that drops the oldest entries first. It never holds an Authorization value, a secret or a raw query string.`,
      tags,
      querystring: JournalQuery,
      response: { 200: Type.Array(JournalEntry), ...errors }
    }
  }, async function listRequests (request) {
    return journal.list(request.query)
  })

  app.delete('/requests', {
    config,
    schema: { operationId: 'clearRequests', summary: 'Forget journal entries, all or one tenant\'s', tags, querystring: TenantQuery, response: { 200: Removed, ...errors } }
  }, async function clearRequests (request) {
    return { removed: journal.clear(request.query.tenantId) }
  })

  app.post('/reset', {
    config,
    // No body (only the JSON content type) means a full reset.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      operationId: 'reset',
      summary: 'Restore data to its seed and clear fault rules and journal (one tenant\'s, or everything, clock included)',
      tags,
      body: Type.Object({ tenantId: Type.Optional(Type.String({ minLength: 1, description: 'Reset only this tenant; omit it (send {}) to reset everything', examples: ['eu-west-2_AcmeCorp1'] })) }, { additionalProperties: false }),
      response: { 200: ResetResult, ...errors }
    }
  }, async function reset (request) {
    return await resetState(fastify, request.body.tenantId)
  })

  app.get('/tenants/:tenantId/fixture', {
    config,
    schema: {
      operationId: 'exportTenant',
      summary: 'A tenant\'s current data as a fixture document, which --fixtures loads back to the same answers',
      description: 'Ids, timestamps, users, members and managers included, and the tenant\'s credentials, so keep an export where you keep other test secrets.',
      tags,
      params: Type.Object({ tenantId: Type.String({ description: 'The Tenant ID', examples: ['eu-west-2_AcmeCorp1'] }) }),
      response: { 200: FixtureFile, ...errors }
    }
  }, async function exportTenant (request) {
    // requireKnownTenant has answered for a tenant the server does not know.
    const tenant = fastify.store.tenant(request.params.tenantId) as TenantRepository
    return { tenants: [await tenant.snapshot()] }
  })

  const tenantParams = Type.Object({ tenantId: Type.String({ description: 'The Tenant ID', examples: ['eu-west-2_AcmeCorp1'] }) })

  app.get('/tenants/:tenantId/strict', {
    config,
    schema: { operationId: 'getTenantStrict', summary: 'Whether strict mode is on for a tenant', tags, params: tenantParams, response: { 200: StrictSetting, ...errors } }
  }, async function getTenantStrict (request) {
    const { tenantId } = request.params
    return { tenantId, strict: fastify.contract.tenantStrict(tenantId) }
  })

  app.put('/tenants/:tenantId/strict', {
    config,
    schema: {
      operationId: 'setTenantStrict',
      summary: 'Turn strict mode on or off for one tenant',
      description: 'In strict mode a request with contract violations (X-Mock-Violations) is answered 400 with the violations in its message, instead of being served. Resetting the tenant restores the server\'s setting (--strict).',
      tags,
      params: tenantParams,
      body: StrictChange,
      response: { 200: StrictSetting, ...errors }
    }
  }, async function setTenantStrict (request) {
    const { tenantId } = request.params
    fastify.contract.setTenantStrict(tenantId, request.body.strict)
    return { tenantId, strict: request.body.strict }
  })

  const clockState = (): Clock => {
    const epochMs = Math.round(clock.now())
    return { now: new Date(epochMs).toISOString(), epochMs, offsetMs: Math.round(clock.offsetMs), real: clock.offsetMs === 0 }
  }

  app.get('/clock', {
    config,
    schema: { operationId: 'getClock', summary: 'The mock clock that token expiry and rule TTLs read', tags, response: { 200: Clock, ...errors } }
  }, async function getClock () {
    return clockState()
  })

  app.post('/clock', {
    config,
    schema: {
      operationId: 'setClock',
      summary: 'Move the mock clock: {advanceMs}, {setTo} or {real: true}',
      description: 'The clock is shared by every tenant: moving it affects every suite using this server.',
      tags,
      body: ClockChange,
      response: { 200: Clock, ...errors }
    }
  }, async function setClock (request) {
    const change = request.body
    if (change.advanceMs !== undefined) clock.advance(change.advanceMs)
    else if (change.setTo !== undefined) clock.set(Date.parse(change.setTo))
    else clock.reset()
    return clockState()
  })
}
