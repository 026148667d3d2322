// POST /oauth2/token/{tenantId}: RFC 6749 §4.4 client credentials grant, with §5 responses.
import basicAuth from '@fastify/basic-auth'
import formbody from '@fastify/formbody'
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { authenticateClient, grantScopes, tokenResponse } from '../client-credentials.js'
import { OAuthError, sendOAuthError } from '../oauth-errors.js'
import { OPERATIONS, routeOptions } from '../operations.js'
import { checkTokenRequest, keepTokenViolations } from '../plugins/contract.js'
import type { TokenParams } from '../schemas/oauth.js'

const PARAMETERS = ['grant_type', 'scope', 'client_id', 'client_secret'] as const

declare module 'fastify' {
  interface FastifyRequest {
    basicClient: { clientId: string, clientSecret: string } | null
  }
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64, so decode them. */
function formDecode (value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '))
  } catch {
    throw new OAuthError('invalid_client', 'the HTTP Basic credentials are not valid form-urlencoded text (RFC 6749 §2.3.1)')
  }
}

export default async function oauthTokenRoute (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { store, tokens } = fastify

  // RFC 6749 §4.4.2 bodies are form-encoded; JSON is accepted as a convenience, plain text is not.
  app.removeContentTypeParser('text/plain')
  await app.register(formbody)
  app.decorateRequest('basicClient', null)
  await app.register(basicAuth, {
    authenticate: false,
    validate: async function (username, password, request) {
      request.basicClient = { clientId: formDecode(username), clientSecret: formDecode(password) }
    }
  })

  // This route speaks RFC 6749 §5.2, not Thrive's {status, error, message}.
  app.setErrorHandler(function (err: FastifyError, request, reply) {
    if (err instanceof OAuthError) return sendOAuthError(reply, err)
    if (err.code === 'FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER') {
      return sendOAuthError(reply, new OAuthError('invalid_client', 'malformed Authorization header: expected "Basic <base64 of client_id:client_secret>"'))
    }
    const status = err.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err }, 'token request failed')
      return sendOAuthError(reply, new OAuthError('server_error', 'the mock server hit an unexpected error; the details are in its log', 500))
    }
    const description = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      ? 'the token request body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2) or application/json'
      : err.message
    return sendOAuthError(reply, new OAuthError('invalid_request', description, status === 413 ? 413 : 400))
  })

  // RFC 6749 §3.1: parameters sent without a value are treated as if they were omitted. Form tools send them so:
  // the docs page's "Try it out" sends every optional field it shows, empty or not.
  // Callback style: every token request runs it, and it need not cost a promise.
  app.addHook('preValidation', function omitEmptyParameters (request, _reply, done) {
    const body = request.body
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      for (const [name, value] of Object.entries(body)) if (value === '') Reflect.deleteProperty(body, name)
    }
    done()
  })

  // Contract checks see the body once the empty parameters are gone: RFC 6749 §3.1 treats them as omitted.
  if (fastify.contract.enabled) app.addHook('preValidation', checkTokenRequest)

  app.post<{ Params: TokenParams }>(OPERATIONS.getAccessToken.path, { ...routeOptions(OPERATIONS.getAccessToken), attachValidation: true }, async function issueToken (request, reply) {
    const body = readBody(request)
    const hasHeader = request.headers.authorization !== undefined
    if (hasHeader) {
      await new Promise<void>((resolve, reject) => app.basicAuth(request, reply, (err?: Error) => err === undefined ? resolve() : reject(err)))
    }
    const basic = request.basicClient
    if (basic !== null && body.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'use one client authentication method: HTTP Basic or client_secret in the body, not both (RFC 6749 §2.3)')
    }
    if (basic !== null && body.client_id !== undefined && body.client_id !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id in the body does not match the HTTP Basic username')
    }
    if (body.grant_type === undefined) throw new OAuthError('invalid_request', 'the grant_type parameter is required (RFC 6749 §4.4.2)')

    const credentials = basic ?? (body.client_id !== undefined && body.client_secret !== undefined
      ? { clientId: body.client_id, clientSecret: body.client_secret }
      : null)
    if (credentials === null) {
      throw new OAuthError('invalid_client', body.client_id === undefined
        ? 'client authentication is required: HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)'
        : 'client_secret is required with client_id; public clients are not supported')
    }
    const allowed = await authenticateClient(store, request.params.tenantId, credentials)
    keepTokenViolations(request, reply)
    // Strict mode, like faults, applies once the client has proved who it is: a 401 stays a 401.
    if (request.ctx.violations.length > 0 && fastify.contract.isStrict(request, request.params.tenantId)) {
      throw new OAuthError('invalid_request', fastify.contract.strictMessage(request))
    }
    // Faults (Prefer and rules) apply only once the client has proved who it is, and only to its own tenant:
    // a caller without the secret can neither fire nor use up another tenant's rules, and always gets the real 401.
    const faulted = fastify.applyFaultsFor(request, reply, { tenantId: request.params.tenantId, clientId: credentials.clientId })
    if (faulted !== undefined) {
      await faulted
      if (reply.sent) return reply
    }
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'only grant_type=client_credentials is supported')
    }
    const scopes = grantScopes(body.scope, allowed)
    // RFC 6749 §5.1: token responses must not be cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    return tokenResponse(tokens, request.params.tenantId, credentials.clientId, scopes)
  })

  function readBody (request: FastifyRequest): Partial<Record<typeof PARAMETERS[number], string>> {
    const body = request.body
    if (body === undefined || body === null) throw new OAuthError('invalid_request', 'the token request needs a body: grant_type=client_credentials, as application/x-www-form-urlencoded (RFC 6749 §4.4.2)')
    if (typeof body !== 'object' || Array.isArray(body)) throw new OAuthError('invalid_request', 'the token request body must be an object of parameters')
    const params = body as Record<string, unknown>
    for (const name of PARAMETERS) {
      // RFC 6749 §3.2: request parameters must not be included more than once.
      if (Array.isArray(params[name])) throw new OAuthError('invalid_request', `the ${name} parameter is included more than once (RFC 6749 §3.2)`)
    }
    if (request.validationError !== undefined) throw new OAuthError('invalid_request', `malformed token request: ${request.validationError.message}`)
    return params as Partial<Record<typeof PARAMETERS[number], string>>
  }
}
