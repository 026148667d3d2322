// Every operation this server serves, each defined once: its operationId (the name fault rules match), the scopes
// it needs, its success and error responses, and its error dialect. Route options, the OpenAPI security block and
// the documented error statuses are all derived from these definitions.
import { Type, type TSchema } from 'typebox'
import type { FastifySchema } from 'fastify'
import { Audience, AudienceParams } from './schemas/audience.js'
import type { ErrorBody } from './schemas/common.js'
import { AudiencePage, BulkResult, Manager, MemberPage } from './schemas/members.js'
import { TokenParams, TokenResponse, type OAuthError, type Scope } from './schemas/oauth.js'
import { CreateAudienceBody, ListAudiencesQuery, ManagerInputs, ManagerParams, MemberParams, PageQuery, Success, UpdateAudienceBody, UpdatedAudience, UserRefs } from './schemas/requests.js'
import { FAULT_STATUSES } from './schemas/statuses.js'
import { oauthCode } from './oauth-errors.js'

/** The prefix real clients call the audience operations under; each is also served without it (see servedAt). */
export const API_PREFIX = '/rest/v1'

/** Who may call: `read` and `write` are Thrive's scope rules (Basic has full access); `client` is the token endpoint. */
export type Access = 'read' | 'write' | 'client'

/** Thrive's `{status, error, message}`, or RFC 6749's `{error, error_description}` (the token endpoint). */
export type ErrorDialect = 'thrive' | 'oauth'

export interface OperationInput {
  operationId: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** The path under its prefix (API_PREFIX for audience operations). */
  path: string
  summary: string
  description: string
  tags: string[]
  access: Access
  errorDialect: ErrorDialect
  /** Each success status and its body (a bulk write answers 200, or 207 when some items failed). */
  success: Record<number, TSchema>
  params?: TSchema
  querystring?: TSchema
  body?: TSchema
  consumes?: string[]
  /** The path parameter that names the audience an operation acts on, so fault rules can match it by id or reference. */
  audienceParam?: string
  /** Why the operation itself answers each error status; every other status in the document comes from fault injection. */
  errors: Record<number, string>
}

export interface Operation extends OperationInput {
  /** Any one of these scopes on a Bearer token; null when the operation does not take tokens. */
  scopes: readonly Scope[] | null
  /** The route schema: params, body, every response, security. */
  schema: FastifySchema & Record<string, unknown>
}

export const SCOPES_FOR: Record<Exclude<Access, 'client'>, readonly Scope[]> = {
  read: ['api/read', 'api/all'],
  write: ['api/write', 'api/all']
}

/** Statuses any operation can answer whatever its own rules: bad input, a body too large, an unexpected failure. */
const COMMON_ERRORS: Record<number, string> = {
  400: 'The request breaks the schema: a parameter or body field is missing, of the wrong type or out of range',
  413: 'The request body is larger than this server accepts',
  500: 'An unexpected failure'
}

const API_ERRORS: Record<number, string> = {
  401: 'The credentials are missing, invalid or expired (with WWW-Authenticate)',
  403: 'The access token lacks the scope this operation needs (the message names the scopes that would do)'
}

function errorSchema (dialect: ErrorDialect, status: number, why: string | undefined) {
  const retry = status === 429 || status === 503 ? ', with Retry-After' : ''
  const injected = `only from fault injection (Prefer: code=${status}, or a fault rule)`
  const description = why ?? (dialect === 'oauth' ? `${oauthCode(status)}${retry}; ${injected}` : `${retry === '' ? '' : 'With Retry-After; '}${injected}`)
  return dialect === 'oauth'
    ? Type.Unsafe<OAuthError>({ $ref: 'OAuthError', description })
    : Type.Unsafe<ErrorBody>({ $ref: 'ErrorBody', description })
}

function securityOf (access: Access): Array<Record<string, string[]>> {
  // Optional client authentication in the document: the body may carry it instead (client_secret_post).
  if (access === 'client') return [{ clientBasic: [] }, {}]
  return [{ basicAuth: [] }, ...SCOPES_FOR[access].map((scope) => ({ bearerAuth: [scope] }))]
}

/** Statuses of an API operation that reads a JSON body (the token route answers a wrong body type with invalid_request). */
const BODY_ERRORS: Record<number, string> = {
  415: 'The body\'s Content-Type is missing or not application/json'
}

export function defineOperation (input: OperationInput): Operation {
  const api = input.access !== 'client'
  const own = { ...COMMON_ERRORS, ...(api && input.body !== undefined ? BODY_ERRORS : {}), ...(api ? API_ERRORS : {}), ...input.errors }
  const statuses = [...new Set([...FAULT_STATUSES, ...Object.keys(own).map(Number)])].sort((a, b) => a - b)
  const response: Record<number, TSchema> = { ...input.success }
  for (const status of statuses) response[status] = errorSchema(input.errorDialect, status, own[status])
  const schema: Operation['schema'] = {
    operationId: input.operationId,
    summary: input.summary,
    description: input.description,
    tags: input.tags,
    security: securityOf(input.access),
    response
  }
  if (input.params !== undefined) schema.params = input.params
  if (input.querystring !== undefined) schema.querystring = input.querystring
  if (input.body !== undefined) schema.body = input.body
  if (input.consumes !== undefined) schema.consumes = input.consumes
  return { ...input, errors: own, scopes: input.access === 'client' ? null : SCOPES_FOR[input.access], schema }
}

/** Audience operations are served twice; the document lists the first path and says so. */
function servedAt (path: string): string {
  const shown = path.replace(/:(\w+)/g, '{$1}')
  return `Served at \`${API_PREFIX}${shown}\`, the path real clients call, and at \`${shown}\`, the form Thrive's reference pages write; both answer the same.`
}

const AudienceRef = Type.Unsafe<Audience>(Type.Ref('Audience'))

/** The token request parameters; the examples are what the docs page's "Try it out" form starts from. */
export const TokenRequest = Type.Object({
  // Swagger UI fills every form field with its schema's sample, the type name ("string") when there is no example,
  // and sends it; an empty example is left out of the request, so an optional parameter is only sent when typed.
  grant_type: Type.Optional(Type.String({ description: 'Must be client_credentials', examples: ['client_credentials'] })),
  scope: Type.Optional(Type.String({ description: 'Space-delimited scopes, e.g. `api/read`; leave out for every scope the client is allowed', examples: [''] })),
  client_id: Type.Optional(Type.String({ description: 'client_secret_post: the client id (the Tenant ID, or an OAuth client id); leave out with HTTP Basic', examples: [''] })),
  client_secret: Type.Optional(Type.String({ description: 'client_secret_post: the client secret (the API secret, or the OAuth client secret); leave out with HTTP Basic', examples: [''] }))
}, { examples: [{ grant_type: 'client_credentials' }] })

const NOT_FOUND = 'No audience with this id or reference in the caller\'s tenant'
const UI_CONTROLLED = 'The audience is managed in the Thrive UI (apiControlled: false), so the API cannot change it'
const BULK = { 200: BulkResult, 207: Type.Unsafe<BulkResult>({ ...BulkResult, description: 'Some items failed: `failure` lists each with its reason' }) }
const audienceOperation = {
  tags: ['Audiences'],
  errorDialect: 'thrive' as const,
  audienceParam: 'audienceId'
}

export const OPERATIONS = {
  listAudiences: defineOperation({
    ...audienceOperation,
    operationId: 'listAudiences',
    method: 'GET',
    path: '/audiences',
    summary: 'Gets audiences',
    description: `Every audience of the tenant, oldest first (createdAt, then id), a page at a time. ${servedAt('/audiences')}`,
    audienceParam: undefined,
    access: 'read',
    success: { 200: AudiencePage },
    querystring: ListAudiencesQuery,
    errors: { 400: 'A query value breaks its rule: page below 1, perPage outside 1–1000, limit outside 1–100, apiControlled not true/false, updatedSince not a date-time' }
  }),
  getAudience: defineOperation({
    operationId: 'getAudience',
    method: 'GET',
    path: '/audiences/:audienceId',
    summary: 'Gets an audience',
    description: `Takes in an audience id/reference and returns the audience. ${servedAt('/audiences/:audienceId')}`,
    tags: ['Audiences'],
    access: 'read',
    errorDialect: 'thrive',
    success: { 200: AudienceRef },
    params: AudienceParams,
    audienceParam: 'audienceId',
    errors: { 404: NOT_FOUND }
  }),
  createAudience: defineOperation({
    ...audienceOperation,
    operationId: 'createAudience',
    method: 'POST',
    path: '/audiences',
    summary: 'Creates an audience',
    description: `Creates a structure (no parentId) or a child audience (parentId: its structure, by id or reference). Answers 201 with the audience and a Location header. ${servedAt('/audiences')}`,
    audienceParam: undefined,
    access: 'write',
    success: { 201: AudienceRef },
    body: CreateAudienceBody,
    errors: {
      403: 'The parent structure is managed in the Thrive UI; or the token lacks api/write or api/all',
      409: 'The reference is already used by another audience of the tenant',
      422: 'A structure with parentId, an audience without one, or a parent that does not exist or is not a structure'
    }
  }),
  updateAudience: defineOperation({
    ...audienceOperation,
    operationId: 'updateAudience',
    method: 'PATCH',
    path: '/audiences/:audienceId',
    summary: 'Updates an audience',
    description: `Renames an audience, changes its reference, or moves a child audience to another structure (parentId). \`memberOperations\` is null unless it moved. ${servedAt('/audiences/:audienceId')}`,
    access: 'write',
    success: { 200: UpdatedAudience },
    params: AudienceParams,
    body: UpdateAudienceBody,
    errors: {
      400: 'The body breaks the schema, or sets none of name, reference and parentId',
      403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`,
      404: NOT_FOUND,
      409: 'The new reference is already used by another audience of the tenant',
      422: 'parentId on a structure (structures cannot move), or a parent that does not exist or is not a structure'
    }
  }),
  deleteAudience: defineOperation({
    ...audienceOperation,
    operationId: 'deleteAudience',
    method: 'DELETE',
    path: '/audiences/:audienceId',
    summary: 'Deletes an audience',
    description: `Removes an audience that has no child audiences, with its members and managers; its reference is free again. ${servedAt('/audiences/:audienceId')}`,
    access: 'write',
    success: { 200: Success },
    params: AudienceParams,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: NOT_FOUND, 409: 'The structure still has child audiences' }
  }),
  listMembers: defineOperation({
    ...audienceOperation,
    operationId: 'listMembers',
    method: 'GET',
    path: '/audiences/:audienceId/members',
    summary: 'Gets the members of an audience',
    description: `Members in the order they were added, a page at a time. ${servedAt('/audiences/:audienceId/members')}`,
    access: 'read',
    success: { 200: MemberPage },
    params: AudienceParams,
    querystring: PageQuery,
    errors: { 400: 'A query value breaks its rule: page below 1, perPage outside 1–1000, limit outside 1–100', 404: NOT_FOUND }
  }),
  addMembers: defineOperation({
    ...audienceOperation,
    operationId: 'addMembers',
    method: 'POST',
    path: '/audiences/:audienceId/members',
    summary: 'Adds members to an audience',
    description: `1–100 users by id, reference or email. 200 when every one was added; 207 with the reason for each that was not (\`user not found\`, \`already a member\`, \`duplicate in request\`). ${servedAt('/audiences/:audienceId/members')}`,
    access: 'write',
    success: BULK,
    params: AudienceParams,
    body: UserRefs,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: NOT_FOUND }
  }),
  replaceMembers: defineOperation({
    ...audienceOperation,
    operationId: 'replaceMembers',
    method: 'PATCH',
    path: '/audiences/:audienceId/members',
    summary: 'Replaces the members of an audience',
    description: `The members become exactly the 1–100 users of the request that were found (an empty list is not supported). 207 names each user that was not. ${servedAt('/audiences/:audienceId/members')}`,
    access: 'write',
    success: BULK,
    params: AudienceParams,
    body: UserRefs,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: NOT_FOUND }
  }),
  removeMember: defineOperation({
    ...audienceOperation,
    operationId: 'removeMember',
    method: 'DELETE',
    path: '/audiences/:audienceId/members/:userRef',
    summary: 'Removes a member from an audience',
    description: `The user is named by id, reference or email. ${servedAt('/audiences/:audienceId/members/:userRef')}`,
    access: 'write',
    success: { 200: Success },
    params: MemberParams,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: `${NOT_FOUND}; or the user does not exist or is not a member` }
  }),
  listManagers: defineOperation({
    ...audienceOperation,
    operationId: 'listManagers',
    method: 'GET',
    path: '/audiences/:audienceId/managers',
    summary: 'Gets the managers of an audience',
    description: `A bare array of managers with their permissions (\`administrator\` only on a structure). ${servedAt('/audiences/:audienceId/managers')}`,
    access: 'read',
    success: { 200: Type.Array(Manager) },
    params: AudienceParams,
    errors: { 404: NOT_FOUND }
  }),
  addManagers: defineOperation({
    ...audienceOperation,
    operationId: 'addManagers',
    method: 'POST',
    path: '/audiences/:audienceId/managers',
    summary: 'Adds managers to an audience',
    description: `1–100 managers: a user (\`reference\`: id, reference or email) and permissions, every flag false unless set. 207 names each that failed (\`user not found\`, \`already a manager\`, \`duplicate in request\`). ${servedAt('/audiences/:audienceId/managers')}`,
    access: 'write',
    success: BULK,
    params: AudienceParams,
    body: ManagerInputs,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: NOT_FOUND, 422: 'An administrator permission set on a child audience (administrator applies to structures only)' }
  }),
  replaceManagers: defineOperation({
    ...audienceOperation,
    operationId: 'replaceManagers',
    method: 'PATCH',
    path: '/audiences/:audienceId/managers',
    summary: 'Replaces the managers of an audience',
    description: `The managers become exactly the 1–100 of the request whose user was found (an empty list is not supported). ${servedAt('/audiences/:audienceId/managers')}`,
    access: 'write',
    success: BULK,
    params: AudienceParams,
    body: ManagerInputs,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: NOT_FOUND, 422: 'An administrator permission set on a child audience (administrator applies to structures only)' }
  }),
  removeManager: defineOperation({
    ...audienceOperation,
    operationId: 'removeManager',
    method: 'DELETE',
    path: '/audiences/:audienceId/managers/:userId',
    summary: 'Removes a manager from an audience',
    description: `The user is named by id, reference or email. ${servedAt('/audiences/:audienceId/managers/:userId')}`,
    access: 'write',
    success: { 200: Success },
    params: ManagerParams,
    errors: { 403: `${UI_CONTROLLED}; or the token lacks api/write or api/all`, 404: `${NOT_FOUND}; or the user does not exist or is not a manager` }
  }),
  getAccessToken: defineOperation({
    operationId: 'getAccessToken',
    method: 'POST',
    path: '/oauth2/token/:tenantId',
    summary: 'Gets an OAuth 2.0 access token (client credentials)',
    description: 'RFC 6749 §4.4. Authenticate the client with HTTP Basic (client_secret_basic) or with client_id and client_secret in the body (client_secret_post), not both.',
    tags: ['OAuth'],
    access: 'client',
    errorDialect: 'oauth',
    success: { 200: Type.Unsafe<TokenResponse>(Type.Ref('TokenResponse')) },
    params: TokenParams,
    body: TokenRequest,
    consumes: ['application/x-www-form-urlencoded', 'application/json'],
    errors: {
      400: 'invalid_request, unsupported_grant_type or invalid_scope',
      401: 'invalid_client, with WWW-Authenticate: Basic when HTTP Basic was tried',
      413: 'invalid_request: the body is larger than this server accepts',
      500: 'server_error: an unexpected failure'
    }
  })
} as const satisfies Record<string, Operation>

export type OperationId = keyof typeof OPERATIONS
export const OPERATION_IDS = Object.keys(OPERATIONS) as OperationId[]

/**
 * The options of an operation's route: method, path, schema (hidden from the document for an alias path) and the
 * operation itself in the route config, where authentication, faults and the request context read it.
 */
export function routeOptions (operation: Operation, options: { hide?: boolean } = {}) {
  return {
    method: operation.method,
    url: operation.path,
    config: { operation },
    schema: options.hide === true ? { ...operation.schema, hide: true } : operation.schema
  }
}
