// One error handler and one not-found handler: every failure becomes Thrive's {status, error, message}.
import type { Socket } from 'node:net'
import { errorCodes, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import createError from '@fastify/error'
import fp from 'fastify-plugin'
import { reasonPhrase, RouteNotFoundError, UnknownTenantError } from '../errors.js'
import { OAuthError, sendOAuthError } from '../oauth-errors.js'
import type { ErrorBody } from '../schemas/common.js'

/** Both schemes Thrive accepts, as one RFC 9110 §11.6.1 challenge list. */
export const API_CHALLENGE = 'Basic realm="Thrive API", charset="UTF-8", Bearer realm="Thrive API"'

export function errorBody (status: number, message: string): ErrorBody {
  return { status, error: reasonPhrase(status), message }
}

const FRIENDLY: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than this server accepts',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type: send application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
  FST_ERR_BAD_URL: 'The URL is not valid: check its percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is longer than this server accepts'
}

/** Fastify's JSON parser refuses these keys (prototype poisoning); the client is told which, not just "not valid JSON". */
export const ForbiddenJsonKeyError = createError(
  'THRIVE_MOCK_FORBIDDEN_JSON_KEY',
  'The request body contains a "%s" key, which this server refuses: it could poison object prototypes',
  400,
  Error,
  false
)

/** The forbidden key a body holds, when JSON.parse accepts it and only the prototype-poisoning check refused it. */
function forbiddenKey (body: string): string | null {
  let proto = false
  try {
    JSON.parse(body, (key, value: unknown) => {
      if (key === '__proto__') proto = true
      return value
    })
  } catch {
    return null
  }
  // The other key the check refuses is an object's "constructor" holding a "prototype".
  return proto ? '__proto__' : 'constructor.prototype'
}

// Fastify reads only the bodies of methods that carry one; a GET, HEAD or TRACE body is never read, so its size is
// checked here, and a chunked one is counted as it arrives.
const UNREAD_BODY_METHODS = new Set(['GET', 'HEAD', 'TRACE'])

function checkBodySize (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  const limit = request.routeOptions.bodyLimit
  const length = request.headers['content-length']
  if (length !== undefined && Number(length) > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
    return
  }
  if (request.headers['transfer-encoding'] === undefined || !UNREAD_BODY_METHODS.has(request.method)) {
    done()
    return
  }
  let received = 0
  const raw = request.raw
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received <= limit) return
    finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
  }
  const onEnd = () => finish()
  function finish (err?: Error) {
    raw.off('data', onData).off('end', onEnd).off('error', finish)
    done(err)
  }
  raw.on('data', onData).on('end', onEnd).on('error', finish)
}

/** The status and client-facing message for any error; 5xx never reveal internals. */
export function describeError (err: FastifyError): { status: number, message: string } {
  const raw = err.validation === undefined ? err.statusCode : 400
  const status = raw !== undefined && raw >= 400 && raw <= 599 ? raw : 500
  if (status >= 500) return { status, message: 'The mock server hit an unexpected error; the details are in its log' }
  return { status, message: FRIENDLY[err.code] ?? err.message }
}

export function sendError (reply: FastifyReply, status: number, message: string): FastifyReply {
  if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', API_CHALLENGE)
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, message))
}

/** The control plane's 404 for a tenant this server does not know, with UnknownTenantError's message. */
export function sendUnknownTenant (reply: FastifyReply, tenantId: string): FastifyReply {
  return sendError(reply, 404, new UnknownTenantError(tenantId).message)
}

/** Fastify's `frameworkErrors`: errors raised before routing (bad percent-encoding, over-long parameters). */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, message } = describeError(err)
  // The token endpoint answers in RFC 6749 §5.2 form even before routing, so an OAuth client can always parse it.
  if (request.method === 'POST' && request.url.startsWith('/oauth2/token/')) {
    sendOAuthError(reply, new OAuthError('invalid_request', message, status))
    return
  }
  sendError(reply, status, message)
}

/** Errors Node's HTTP parser raises before Fastify sees a request (oversized headers, garbage). */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const message = status === 431
    ? 'The request headers (or URL) are larger than this server accepts'
    : status === 408 ? 'The request was not received in time' : 'The request is not valid HTTP'
  const body = JSON.stringify(errorBody(status, message))
  socket.end(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/** Fastify's own JSON parser with its defaults: a poisoned body is refused, never silently stripped. */
export function jsonParser (fastify: FastifyInstance) {
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  return function (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void): void {
    parseJson(request, body as string, (err: Error | null, value?: unknown) => {
      const key = (err as FastifyError | null)?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? forbiddenKey(body as string) : null
      if (key === null) done(err, value)
      else done(new ForbiddenJsonKeyError(key), undefined)
    })
  }
}

/**
 * Replaces a scope's JSON parser with one that reads an empty body as no body: clients send
 * `Content-Type: application/json` on every call, a bodiless DELETE or POST included. Routes whose schema needs a
 * body still refuse the empty one (400); everything else is the app's JSON parser.
 */
export function acceptEmptyJson (scope: FastifyInstance): void {
  const parseJson = jsonParser(scope)
  scope.removeContentTypeParser('application/json')
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, function (request, body, done) {
    if (body === '') return done(null, undefined)
    parseJson(request, body, done)
  })
}

async function errorsPlugin (fastify: FastifyInstance) {
  fastify.addHook('onRequest', checkBodySize)

  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser(fastify))

  fastify.setErrorHandler(function (err: FastifyError, request, reply) {
    const { status, message } = describeError(err)
    if (status >= 500) request.log.error({ err }, 'request failed')
    sendError(reply, status, message)
  })

  fastify.setNotFoundHandler(function (request, reply) {
    const err = new RouteNotFoundError(request.method, request.url.split('?')[0])
    sendError(reply, 404, err.message)
  })
}

export default fp(errorsPlugin, { name: 'errors' })
