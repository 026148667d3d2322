// Every response the test suite produces is checked against the /openapi.json response for its operation and status.
// Loaded into every test process (tap's node-arg --import): each Fastify app built there, whether by build(),
// startMockServer() or buildApp(), gets a last onSend hook per route that validates what is sent, and a mismatch
// becomes a 500 naming it, so the test that produced it fails (and the process exits non-zero whatever it asserts).
import { channel } from 'node:diagnostics_channel'
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, RouteOptions } from 'fastify'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsPlugin from 'ajv-formats'

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string, responses?: Record<string, { content?: Record<string, { schema: object }> }> }>>
  components?: object
}

interface CheckState {
  /** Why the current test's responses are not checked; null while they are. */
  exemptBecause: string | null
  failures: string[]
  /** How many responses were checked, so a test can see the check ran. */
  checked: number
  validators: Map<string, ValidateFunction>
}

// On globalThis, so the copy loaded by --import and the one a test imports share one state whatever their URLs.
const KEY = Symbol.for('thrive-audience-mock.response-check')
const state: CheckState = ((globalThis as Record<symbol, unknown>)[KEY] ??= { exemptBecause: null, failures: [], checked: 0, validators: new Map() }) as CheckState

// Compiled once per process: one Ajv, one validator per operation and status, whatever the number of apps.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }))

/** What the document says an operation answers with a status: undefined when it does not document that status. */
function documentedResponse (document: OpenApiDocument, operationId: string, status: number) {
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods)) {
      if (operation.operationId === operationId) return operation.responses?.[String(status)] ?? operation.responses?.default
    }
  }
  return undefined
}

/**
 * Null when the response is what the document says the operation answers with that status; otherwise what is wrong.
 * `payload` is the serialized body (a string), or null when there is none.
 */
export function checkResponse (document: OpenApiDocument, operationId: string, status: number, contentType: string | undefined, payload: string | null): string | null {
  const documented = documentedResponse(document, operationId, status)
  if (documented === undefined) return `${operationId} answered ${status}, a status its OpenAPI response list does not document`
  const content = documented.content
  // RFC 9110 §15.3.5: a 204 has no body; Node drops whatever the route serialized.
  if (status === 204) return null
  if (content === undefined) return payload === null || payload === '' ? null : `${operationId} ${status}: a body where the document shows none`
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '(none)'
  const media = content[mediaType]
  if (media === undefined) return `${operationId} ${status}: Content-Type ${mediaType}, the document shows ${Object.keys(content).join(', ')}`
  if (mediaType !== 'application/json') return null
  const key = `${operationId} ${status}`
  let validate = state.validators.get(key)
  if (validate === undefined) {
    // The document's components travel with the schema, so its "#/components/schemas/..." references resolve.
    validate = ajv.compile({ allOf: [media.schema], components: document.components })
    state.validators.set(key, validate)
  }
  let body: unknown
  try {
    body = JSON.parse(payload ?? '')
  } catch {
    return `${key}: the body is not JSON: ${String(payload).slice(0, 120)}`
  }
  if (validate(body)) return null
  return `${key}: the body does not match the documented schema: ${ajv.errorsText(validate.errors)}; body ${JSON.stringify(body).slice(0, 300)}`
}

/** The current test's responses go unchecked, for the reason given (a deliberately malformed answer, say). */
export function uncheckedResponses (t: { teardown: (fn: () => void) => void }, reason: string): void {
  if (reason.trim() === '') throw new Error('uncheckedResponses needs a reason')
  state.exemptBecause = reason
  t.teardown(() => { state.exemptBecause = null })
}

/** The mismatches found so far in this process, forgotten once taken: a test that makes one on purpose takes it. */
export function takeResponseCheckFailures (): string[] {
  return state.failures.splice(0)
}

/** How many responses this process has checked. */
export function responsesChecked (): number {
  return state.checked
}

function install (root: FastifyInstance): void {
  const check: onSendHookHandler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) {
    const operationId = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId
    // A HEAD answer has no body to check; a stream (a static file) is not an operation's answer.
    if (operationId === undefined || request.method === 'HEAD' || state.exemptBecause !== null || (payload !== null && payload !== undefined && typeof payload !== 'string')) {
      done(null, payload)
      return
    }
    const swagger = (root as unknown as { swagger?: () => OpenApiDocument }).swagger
    // Only apps with a document: a bare Fastify that a test or a bench builds for comparison has none.
    if (swagger === undefined) {
      done(null, payload)
      return
    }
    const document = swagger.call(root)
    state.checked++
    const problem = checkResponse(document, operationId, reply.statusCode, reply.getHeader('content-type') as string | undefined, (payload as string | null | undefined) ?? null)
    if (problem === null) {
      done(null, payload)
      return
    }
    state.failures.push(problem)
    reply.code(500).header('content-type', 'application/json; charset=utf-8').header('x-response-check', 'failed')
    done(null, JSON.stringify({ responseCheck: problem }))
  }
  // A route-level hook runs after every instance-level one, so it sees the payload as it leaves (faults included).
  root.addHook('onRoute', (route: RouteOptions) => {
    const own = route.onSend
    route.onSend = own === undefined ? [check] : [...(Array.isArray(own) ? own : [own]), check]
  })
}

channel('fastify.initialization').subscribe((message) => {
  const { fastify } = message as { fastify: FastifyInstance }
  install(fastify)
})

process.on('exit', () => {
  if (state.failures.length === 0) return
  process.stderr.write(`\n${state.failures.length} response(s) did not match /openapi.json:\n${state.failures.map((f) => `  - ${f}`).join('\n')}\n`)
  process.exitCode = 1
})
