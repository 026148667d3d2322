// The contract checker: what in a request real Thrive would ignore, misread or refuse, derived from each operation's
// definition (its method, path, query and body schemas), never from per-route code.
import type { IncomingHttpHeaders } from 'node:http'
import type { TSchema } from 'typebox'
import { API_PREFIX, OPERATIONS, type Operation } from './operations.js'
import { MAX_LISTED, type Violation } from './schemas/violations.js'

const API_PREFIX_SLASH = `${API_PREFIX}/`

export { MAX_LISTED }
/** A query or body field name longer than this is cut (and ends with CUT) wherever a violation names it. */
export const MAX_NAME_CHARS = 40
/** ASCII, so that a cut name still fits a header value. */
export const CUT = '...'

/** Every code, what it means, and an example request that has it: the README's table is written from this. */
export const VIOLATION_CODES = {
  'unknown-query-param': 'A query parameter the operation does not document: Thrive ignores it, so the client believes it filtered or paged',
  'limit-with-per-page': 'Both limit and perPage: limit is ignored when perPage is given',
  'short-path': `The short /audiences... path of the reference pages; real clients call ${API_PREFIX}/audiences...`,
  'trailing-slash': 'A trailing slash: Thrive\'s paths have none',
  'body-not-allowed': 'A body on a GET or DELETE: Thrive ignores it',
  'missing-content-type': 'A POST or PATCH without Content-Type: send application/json',
  'non-json-content-type': 'A POST or PATCH whose Content-Type is not application/json',
  'accept-excludes-json': 'Accept rules out application/json, the only type Thrive answers with',
  'unknown-body-field': 'A body field the operation does not document: Thrive ignores it',
  'read-only-field': 'A field Thrive sets itself (id, parent, timestamps, a manager\'s userId or email): ignored in a request',
  'ui-only-field': 'A field only the Thrive UI sets (apiControlled, type, manageMembers, canManageAudiences): ignored by the API',
  'wrapped-array-body': 'An object wrapping the list, e.g. {"users": [...]}, where the documented body is a bare JSON array',
  'case-folded-user-ref': 'A user named by an email that matched only when compared case-insensitively'
} as const
export type ViolationCode = keyof typeof VIOLATION_CODES

/** The violations of one request: at most MAX_LISTED, and how many more were found. */
export class Violations {
  readonly listed: Violation[]
  notListed: number

  constructor (listed: readonly Violation[] = [], notListed = 0) {
    this.listed = [...listed]
    this.notListed = notListed
  }

  add (location: string, code: ViolationCode, message: string): void {
    if (this.listed.length < MAX_LISTED) this.listed.push({ location, code, message })
    else this.notListed++
  }

  get count (): number {
    return this.listed.length + this.notListed
  }
}

/**
 * The X-Mock-Violations value: `<location> <code>: <message>` items, `; `-separated, ASCII only (every location is
 * escaped; messages are this module's own text, with any `;` made a `,` so the separator stays unambiguous).
 */
export function headerValue (listed: readonly Violation[], notListed: number): string {
  let value = ''
  for (const v of listed) value += `${value === '' ? '' : '; '}${v.location} ${v.code}: ${v.message.replaceAll(';', ',')}`
  return notListed === 0 ? value : `${value}; (and ${notListed} more)`
}

/** The message of a strict-mode 400: every listed violation with what Thrive would do, and the count of the rest. */
export function strictMessage (listed: readonly Violation[], notListed: number): string {
  const total = listed.length + notListed
  const items = listed.map((v) => `${v.location} ${v.code}: ${v.message}`).join('; ')
  const more = notListed === 0 ? '' : `; (and ${notListed} more)`
  return `Strict mode: this request has ${total} contract violation${total === 1 ? '' : 's'}, which real Thrive would ignore or misread: ${items}${more}`
}

const SAFE_NAME = /^[A-Za-z0-9_$@-]+$/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * A query or body field name as a location shows it: cut to MAX_NAME_CHARS, anything outside letters, digits and
 * `_$@-` percent-encoded (UTF-8), so a location is ASCII, holds no separator and fits a header value.
 */
export function fieldName (raw: string): string {
  const long = raw.length > MAX_NAME_CHARS
  let name = long ? raw.slice(0, MAX_NAME_CHARS) : raw
  if (name === '') return '""'
  if (!SAFE_NAME.test(name)) {
    name = encodeURIComponent(name.replace(LONE_SURROGATE, '\ufffd'))
      .replace(/[.!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  }
  return long ? name + CUT : name
}

interface ObjectRules {
  properties: Record<string, TSchema>
  /** Field -> message for fields Thrive sets itself, or only its UI does. */
  readOnly: Record<string, string>
  uiOnly: Record<string, string>
  unknownMessage: string
}

/** What the checker knows of one operation, derived once from its definition. */
export interface OperationRules {
  /** Empty when the operation takes no query parameters. */
  queryNames: ReadonlySet<string>
  unknownQueryMessage: string
  hasPaging: boolean
  /** GET and DELETE: no body; POST and PATCH: a JSON body. */
  bodyless: boolean
  body: TSchema | null
  /** Where user refs sit: every item of a bare array, each item's `reference`, or a path parameter. */
  userRefs: 'items' | 'item-reference' | null
  userParam: string | null
  /** The token endpoint: form-encoded per RFC 6749, checked by the OAuth rules. */
  token: boolean
}

const AUDIENCE_OUTPUT = {
  readOnly: {
    id: 'set by Thrive when the audience is created: a request cannot choose it',
    parent: 'output only: send parentId (the structure\'s id or reference) to choose the parent',
    createdAt: 'set by Thrive: ignored in a request',
    updatedAt: 'set by Thrive: ignored in a request',
    memberOperations: 'output only, in an update\'s answer: ignored in a request'
  },
  uiOnly: {
    apiControlled: 'every audience the API creates is apiControlled: true, and only the Thrive UI makes others',
    type: 'the API creates manual audiences only: smart audiences exist only from the Thrive UI'
  }
}
const MANAGER_OUTPUT = {
  readOnly: {
    userId: 'output only: name the user in reference (their email, reference or id)',
    email: 'output only: name the user in reference (their email, reference or id)'
  },
  uiOnly: {}
}
const NESTED_OUTPUT: Record<string, { readOnly: Record<string, string>, uiOnly: Record<string, string> }> = {
  audienceManager: { readOnly: {}, uiOnly: { manageMembers: 'a UI power: the API ignores it and shows false on API-controlled audiences' } },
  administrator: { readOnly: {}, uiOnly: { canManageAudiences: 'a UI power: the API ignores it and shows false on API-controlled audiences' } }
}

function propertiesOf (schema: TSchema): Record<string, TSchema> | null {
  return (schema as { type?: string }).type === 'object' ? (schema as { properties: Record<string, TSchema> }).properties : null
}

function itemsOf (schema: TSchema): TSchema | null {
  return (schema as { type?: string }).type === 'array' ? (schema as { items: TSchema }).items : null
}

function objectRules (schema: TSchema, output: { readOnly: Record<string, string>, uiOnly: Record<string, string> }): ObjectRules {
  const properties = propertiesOf(schema) as Record<string, TSchema>
  return {
    properties,
    ...output,
    unknownMessage: `not a documented field here, so Thrive ignores it (documented: ${Object.keys(properties).join(', ')})`
  }
}

const objectRuleCache = new Map<TSchema, ObjectRules>()

function rulesOfObject (schema: TSchema, field: string | null): ObjectRules {
  let rules = objectRuleCache.get(schema)
  if (rules === undefined) {
    const output = field === null ? AUDIENCE_OUTPUT : field === '[]' ? MANAGER_OUTPUT : NESTED_OUTPUT[field] ?? { readOnly: {}, uiOnly: {} }
    rules = objectRules(schema, output)
    objectRuleCache.set(schema, rules)
  }
  return rules
}

function rulesFor (operation: Operation): OperationRules {
  const query = operation.querystring === undefined ? null : propertiesOf(operation.querystring)
  const queryNames = new Set(query === null ? [] : Object.keys(query))
  const body = operation.body ?? null
  const items = body === null ? null : itemsOf(body)
  const params = operation.params === undefined ? [] : Object.keys(propertiesOf(operation.params) as object)
  const userParam = params.find((p) => p !== 'audienceId' && p !== 'tenantId') ?? null
  return {
    queryNames,
    unknownQueryMessage: queryNames.size === 0
      ? `${operation.operationId} takes no query parameters, so Thrive ignores it`
      : `not a documented query parameter of ${operation.operationId}, so Thrive ignores it (documented: ${[...queryNames].join(', ')})`,
    hasPaging: queryNames.has('limit') && queryNames.has('perPage'),
    bodyless: operation.method === 'GET' || operation.method === 'DELETE',
    body,
    userRefs: items === null ? null : propertiesOf(items) === null ? 'items' : 'item-reference',
    userParam,
    token: operation.errorDialect === 'oauth'
  }
}

const RULES = new Map<string, OperationRules>(Object.values(OPERATIONS).map((op) => [op.operationId, rulesFor(op)]))

export function operationRules (operation: Operation): OperationRules {
  return RULES.get(operation.operationId) as OperationRules
}

const JSON_TYPE = /^application\/json\s*(?:;|$)/i

/** RFC 9110 §12.5.1: does the Accept header allow application/json (a range that covers it, with q above 0)? */
export function acceptsJson (accept: string): boolean {
  if (accept === 'application/json' || accept === '*/*' || accept.trim() === '') return true
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';')
    const media = (type as string).trim().toLowerCase()
    if (media !== 'application/json' && media !== 'application/*' && media !== '*/*') continue
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined)
    if (q === undefined || Number(q) > 0) return true
  }
  return false
}

function hasBody (headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length']
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined
}

/**
 * What the path, query and headers of a request break, or null when nothing: the common case, which allocates nothing.
 * Runs before the body is read, so a request the body parser then refuses (415) still carries them.
 */
export function requestViolations (operation: Operation, method: string, url: string, headers: IncomingHttpHeaders, query: unknown): Violations | null {
  const rules = operationRules(operation)
  let found: Violations | null = null
  const q = url.indexOf('?')
  const end = q === -1 ? url.length : q
  if (!rules.token && !url.startsWith(API_PREFIX_SLASH)) {
    (found ??= new Violations()).add('path', 'short-path', `the short form of Thrive's reference pages, while real clients call the same path under ${API_PREFIX}`)
  }
  if (end > 1 && url.charCodeAt(end - 1) === 47) {
    (found ??= new Violations()).add('path', 'trailing-slash', 'Thrive\'s paths have no trailing slash: the mock tolerates one, a client should not rely on it')
  }
  if (q !== -1 && q < url.length - 1) found = queryViolations(rules, query as Record<string, unknown>, found)
  const accept = headers.accept
  if (accept !== undefined && !acceptsJson(accept)) {
    (found ??= new Violations()).add('header.accept', 'accept-excludes-json', 'Thrive answers application/json only, which this Accept header rules out')
  }
  if (rules.bodyless) {
    if (hasBody(headers)) (found ??= new Violations()).add('body', 'body-not-allowed', `${method} takes no body: Thrive ignores it`)
  } else if (!rules.token) {
    const type = headers['content-type']
    if (type === undefined) {
      if (hasBody(headers)) (found ??= new Violations()).add('header.content-type', 'missing-content-type', `a ${method} body without Content-Type: send Content-Type: application/json`)
    } else if (!JSON_TYPE.test(type)) {
      (found ??= new Violations()).add('header.content-type', 'non-json-content-type', `Thrive reads ${method} bodies as JSON: send Content-Type: application/json`)
    }
  }
  return found
}

function queryViolations (rules: OperationRules, query: Record<string, unknown>, found: Violations | null): Violations | null {
  for (const name in query) {
    if (!rules.queryNames.has(name)) (found ??= new Violations()).add(`query.${fieldName(name)}`, 'unknown-query-param', rules.unknownQueryMessage)
  }
  if (rules.hasPaging && query.limit !== undefined && query.perPage !== undefined) {
    (found ??= new Violations()).add('query.limit', 'limit-with-per-page', 'limit is ignored when perPage is given: send one of them')
  }
  return found
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Unknown, read-only and UI-only fields of an object body, and of its nested objects, against its schema. */
function objectViolations (schema: TSchema, value: Record<string, unknown>, at: string, field: string | null, found: Violations): void {
  const rules = rulesOfObject(schema, field)
  for (const name in value) {
    const location = `${at}.${fieldName(name)}`
    const known = Object.hasOwn(rules.properties, name) ? rules.properties[name] as TSchema : undefined
    if (known === undefined) {
      const readOnly = Object.hasOwn(rules.readOnly, name) ? rules.readOnly[name] : undefined
      const uiOnly = Object.hasOwn(rules.uiOnly, name) ? rules.uiOnly[name] : undefined
      if (readOnly !== undefined) found.add(location, 'read-only-field', readOnly)
      else if (uiOnly !== undefined) found.add(location, 'ui-only-field', uiOnly)
      else found.add(location, 'unknown-body-field', rules.unknownMessage)
      continue
    }
    const nested = value[name]
    if (isObject(nested) && propertiesOf(known) !== null) objectViolations(known, nested, location, name, found)
  }
}

/** What the parsed body breaks: fields the schema does not document, or a wrapped list. Adds to `found`. */
export function bodyViolations (rules: OperationRules, body: unknown, found: Violations): void {
  const schema = rules.body
  if (schema === null || body === undefined || body === null) return
  const items = itemsOf(schema)
  if (items === null) {
    // The token request's fields are RFC 6749's; the output-only names are the audience's.
    if (isObject(body)) objectViolations(schema, body, 'body', rules.token ? 'token' : null, found)
    return
  }
  if (isObject(body)) {
    const keys = Object.keys(body)
    const wrapped = keys.find((k) => Array.isArray(body[k]))
    found.add(wrapped === undefined ? 'body' : `body.${fieldName(wrapped)}`, 'wrapped-array-body', 'the documented body is a bare JSON array of the items, not an object around it')
    return
  }
  if (!Array.isArray(body) || propertiesOf(items) === null) return
  for (let i = 0; i < body.length; i++) {
    const item: unknown = body[i]
    if (isObject(item)) objectViolations(items, item, `body[${i}]`, '[]', found)
  }
}

/** The user refs a request names, with where each sits; only the operations that take users have any. */
export function userRefsOf (rules: OperationRules, body: unknown, params: Record<string, string>): Array<{ location: string, ref: string }> {
  const refs: Array<{ location: string, ref: string }> = []
  if (rules.userParam !== null) refs.push({ location: `path.${rules.userParam}`, ref: params[rules.userParam] as string })
  if (rules.userRefs !== null && Array.isArray(body)) {
    body.forEach((item: unknown, i) => {
      if (rules.userRefs === 'items' && typeof item === 'string') refs.push({ location: `body[${i}]`, ref: item })
      else if (isObject(item) && typeof item.reference === 'string') refs.push({ location: `body[${i}].reference`, ref: item.reference })
    })
  }
  return refs
}

export const CASE_FOLDED_MESSAGE = 'matched a user only by comparing the email case-insensitively: send the email as Thrive stores it, or the user\'s id or reference'
