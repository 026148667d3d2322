// A model-based property test of the stateful audience API, thrive-api.md part C (the table, the shapes and decided
// points 1 and 4–9): random sequences of writes over two tenants, each answer predicted whole by a small reference
// model written from the contract alone, and after every step the server's state compared with the model's.
import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, equal, match, ok } from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { BASIC_A, BASIC_B, build, CLIENT_HEADERS, FIXTURE, IDS, TENANT_A, TENANT_B, USERS } from '../helpers.js'

type TenantKey = 'A' | 'B'
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
type Json = Record<string, unknown>

const TENANTS: Record<TenantKey, { tenantId: string, auth: string }> = {
  A: { tenantId: TENANT_A.tenantId, auth: BASIC_A },
  B: { tenantId: TENANT_B.tenantId, auth: BASIC_B }
}
const OTHER: Record<TenantKey, TenantKey> = { A: 'B', B: 'A' }
const PHRASES: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Content' }
const HEX24 = /^[0-9a-f]{24}$/
/** The frozen mock clock each run starts from: after every seed timestamp, so new audiences list last. */
const T0 = Date.UTC(2030, 0, 1, 0, 0, 0, 0)
const ALL = 1000

// ---------------------------------------------------------------------------------------------------------------
// The reference model: plain data and the rules of part C, nothing from the server's code.

interface Flags {
  manageMembers: boolean
  manageContent: boolean
  assignments: boolean
  canViewLearnPage: boolean
  insights: boolean
  manage: boolean
  canManageAudiences: boolean
  canAddAudienceManagers: boolean
}

interface MUser { id: string, reference: string, email: string }

interface MAudience {
  id: string
  name: string
  reference: string
  apiControlled: boolean
  category: 'structure' | 'audience'
  type: 'manual' | 'smart'
  parentId: string | null
  createdAt: string
  updatedAt: string
  /** User ids, in the order they were added. */
  members: string[]
  managers: Array<{ userId: string, flags: Flags }>
}

interface MTenant { users: MUser[], audiences: MAudience[] }

type Permissions = Partial<Record<'audienceManager' | 'peopleManager' | 'administrator', Partial<Record<keyof Flags, boolean>>>>

const NO_FLAGS: Flags = { manageMembers: false, manageContent: false, assignments: false, canViewLearnPage: false, insights: false, manage: false, canManageAudiences: false, canAddAudienceManagers: false }

function flagsOf (permissions: Permissions | undefined): Flags {
  return { ...NO_FLAGS, ...permissions?.audienceManager, ...permissions?.peopleManager, ...permissions?.administrator }
}

class Model {
  now = T0
  readonly tenants: Record<TenantKey, MTenant>
  constructor (readonly seeds: Record<TenantKey, MTenant>) {
    this.tenants = { A: structuredClone(seeds.A), B: structuredClone(seeds.B) }
  }

  reset (key: TenantKey): void {
    this.tenants[key] = structuredClone(this.seeds[key])
  }
}

/** Decided point 2 of part B: an exact id first, then an exact, case-sensitive reference. */
function lookup (tenant: MTenant, key: string): MAudience | undefined {
  return tenant.audiences.find((a) => a.id === key) ?? tenant.audiences.find((a) => a.reference === key)
}

/** Decided point 7: a user ref is an id, a reference, or an email compared case-insensitively. */
function findUser (tenant: MTenant, ref: string): MUser | undefined {
  return tenant.users.find((u) => u.id === ref) ?? tenant.users.find((u) => u.reference === ref) ?? tenant.users.find((u) => u.email.toLowerCase() === ref.toLowerCase())
}

function byId<T extends { id: string }> (items: readonly T[], id: string): T {
  const found = items.find((item) => item.id === id)
  if (found === undefined) throw new Error(`model: no ${id}`)
  return found
}

/** Decided point 3: createdAt ascending, then id. */
function ordered (tenant: MTenant): MAudience[] {
  return [...tenant.audiences].sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function info (a: MAudience) {
  return { id: a.id, name: a.name, reference: a.reference }
}

/** The Audience of part A: a child shows its structure's current {name, reference, id} (decided point 5). */
function audienceOut (tenant: MTenant, a: MAudience): Json {
  const parent = a.parentId === null ? null : info(byId(tenant.audiences, a.parentId))
  return { id: a.id, name: a.name, reference: a.reference, apiControlled: a.apiControlled, category: a.category, type: a.type, parent, createdAt: a.createdAt, updatedAt: a.updatedAt }
}

function memberOut (tenant: MTenant, userId: string): Json {
  const u = byId(tenant.users, userId)
  return { userId: u.id, reference: u.reference, email: u.email }
}

/** Decided point 8: UI powers are false on API-controlled audiences; `administrator` only on a structure. */
function managerOut (tenant: MTenant, a: MAudience, m: { userId: string, flags: Flags }): Json {
  const f = m.flags
  const ui = !a.apiControlled
  const permissions: Json = {
    audienceManager: { manageMembers: ui && f.manageMembers, manageContent: f.manageContent, assignments: f.assignments },
    peopleManager: { canViewLearnPage: f.canViewLearnPage, insights: f.insights, manage: f.manage }
  }
  if (a.category === 'structure') permissions.administrator = { canManageAudiences: ui && f.canManageAudiences, canAddAudienceManagers: f.canAddAudienceManagers }
  return { ...memberOut(tenant, m.userId), permissions }
}

function page<T> (items: readonly T[], pageNumber: number, perPage: number) {
  return {
    results: items.slice((pageNumber - 1) * perPage, pageNumber * perPage),
    pagination: { totalResults: items.length, totalPages: Math.ceil(items.length / perPage), page: pageNumber, perPage }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The seed, from the test fixture; ids and timestamps the fixture leaves out are derived by the server, so they are
// read once over HTTP.

interface FixtureAudience {
  id?: string
  name: string
  reference: string
  apiControlled?: boolean
  type?: 'manual' | 'smart'
  createdAt?: string
  updatedAt?: string
  members?: string[]
  managers?: Array<{ user: string, permissions?: Permissions }>
  audiences?: FixtureAudience[]
}
interface FixtureTenant { tenantId: string, users?: Array<{ id?: string, reference: string, email: string }>, structures?: FixtureAudience[] }

interface Derived { audiences: Map<string, { id: string, createdAt: string, updatedAt: string }>, users: Map<string, string> }

function seedOf (fixture: FixtureTenant, derived: Derived): MTenant {
  const users = (fixture.users ?? []).map((u) => ({ id: u.id ?? (derived.users.get(u.reference) as string), reference: u.reference, email: u.email }))
  const tenant: MTenant = { users, audiences: [] }
  const userId = (ref: string) => (findUser(tenant, ref) as MUser).id
  const add = (a: FixtureAudience, parentId: string | null) => {
    const seen = derived.audiences.get(a.reference)
    const id = a.id ?? (seen?.id as string)
    const createdAt = a.createdAt ?? (seen?.createdAt as string)
    tenant.audiences.push({
      id,
      name: a.name,
      reference: a.reference,
      apiControlled: a.apiControlled ?? true,
      category: parentId === null ? 'structure' : 'audience',
      type: a.type ?? 'manual',
      parentId,
      createdAt,
      updatedAt: a.updatedAt ?? (a.createdAt === undefined ? seen?.updatedAt as string : createdAt),
      members: (a.members ?? []).map(userId),
      managers: (a.managers ?? []).map((m) => ({ userId: userId(m.user), flags: flagsOf(m.permissions) }))
    })
    for (const child of a.audiences ?? []) add(child, id)
  }
  for (const s of fixture.structures ?? []) add(s, null)
  return tenant
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the server the way real clients do: Basic auth, JSON content type and accept on every call, every path
// segment URL-encoded.

async function send (app: FastifyInstance, key: TenantKey, method: Method, path: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return await app.inject({
    method,
    url: `/rest/v1${path}`,
    headers: { authorization: TENANTS[key].auth, ...CLIENT_HEADERS },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
}

const seg = encodeURIComponent

async function getJson (app: FastifyInstance, key: TenantKey, path: string): Promise<unknown> {
  const res = await send(app, key, 'GET', path)
  equal(res.statusCode, 200, `GET ${path}: ${res.body}`)
  return res.json()
}

async function resetTenant (app: FastifyInstance, key: TenantKey): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' }, payload: { tenantId: TENANTS[key].tenantId } })
}

// ---------------------------------------------------------------------------------------------------------------
// One step: the model's prediction for a request, then the request, then the comparison.

interface Expected {
  status: number
  /** The whole success body. */
  body?: unknown
  /** Checks a success body the model cannot write in advance (a new id). */
  verify?: (res: LightMyRequestResponse) => void
  /** What an error message must name, so a client developer can act on it. */
  message?: RegExp | string
}

interface Plan {
  method: Method
  path: string
  payload?: unknown
  expect: Expected
  /** Applies a successful write to the model. */
  commit?: (res: LightMyRequestResponse) => void
  /** Audiences whose members and managers the step could have changed. */
  touched: string[]
  /** Ids and references the request named, read back afterwards: each must find what the model's lookup finds. */
  probes?: string[]
}

interface Real { app: FastifyInstance }

const STATUSES_SEEN = new Map<string, number>()

function expectAnswer (res: LightMyRequestResponse, plan: Plan): void {
  const { expect } = plan
  const what = `${plan.method} ${plan.path} ${JSON.stringify(plan.payload) ?? ''}`
  equal(res.statusCode, expect.status, `${what}: expected ${expect.status}, got ${res.statusCode} ${res.body}`)
  match(String(res.headers['content-type']), /^application\/json/)
  const body = res.json() as Json
  if (expect.status >= 400) {
    // Decided point 1 and part B point 4: {status, error, message}, the docs' reason phrase.
    deepStrictEqual(Object.keys(body).sort(), ['error', 'message', 'status'], what)
    equal(body.status, expect.status)
    equal(body.error, PHRASES[expect.status])
    equal(typeof body.message, 'string')
    ok((body.message as string).length > 0)
    if (typeof expect.message === 'string') ok((body.message as string).includes(expect.message), `${what}: message ${String(body.message)} should name ${expect.message}`)
    else if (expect.message !== undefined) match(body.message as string, expect.message, what)
  } else {
    if (expect.body !== undefined) deepStrictEqual(body, expect.body, what)
    expect.verify?.(res)
  }
}

/** What part C itself guarantees of a list, whatever the model says: unique references, children under structures. */
function checkStructure (results: Json[]): void {
  const references = results.map((a) => a.reference)
  equal(new Set(references).size, references.length, 'references are unique per tenant')
  equal(new Set(results.map((a) => a.id)).size, results.length, 'ids are unique')
  for (const a of results) {
    match(String(a.id), HEX24)
    if (a.category === 'structure') {
      equal(a.parent, null, 'a structure has no parent')
      continue
    }
    const parent = a.parent as { id: string }
    const structure = results.find((s) => s.id === parent.id)
    ok(structure !== undefined, `the parent of ${String(a.reference)} exists`)
    equal(structure.category, 'structure', 'children live only under structures')
    deepStrictEqual(a.parent, { name: structure.name, reference: structure.reference, id: structure.id }, 'the parent block is the structure as it is now')
  }
}

async function checkList (app: FastifyInstance, model: Model, key: TenantKey): Promise<string> {
  const res = await send(app, key, 'GET', `/audiences?perPage=${ALL}`)
  equal(res.statusCode, 200)
  const body = res.json() as { results: Json[] }
  checkStructure(body.results)
  const tenant = model.tenants[key]
  deepStrictEqual(body, page(ordered(tenant).map((a) => audienceOut(tenant, a)), 1, ALL), `tenant ${key}: the list`)
  return res.body
}

/** Part B point 2: a key names the audience with that id, else the one with that reference, else nothing (404). */
async function checkLookups (app: FastifyInstance, model: Model, key: TenantKey, probes: Iterable<string>): Promise<void> {
  const tenant = model.tenants[key]
  for (const probe of probes) {
    const a = lookup(tenant, probe)
    const res = await send(app, key, 'GET', `/audiences/${seg(probe)}`)
    if (a === undefined) equal(res.statusCode, 404, `"${probe}" names no audience: ${res.body}`)
    else deepStrictEqual(res.json(), audienceOut(tenant, a), `"${probe}" names ${a.reference}`)
  }
}

/** A filtered list after every step: a filter's result kept from before a write would show here. */
async function checkFiltered (app: FastifyInstance, model: Model, key: TenantKey): Promise<void> {
  const tenant = model.tenants[key]
  const kept = ordered(tenant).filter((a) => a.apiControlled)
  deepStrictEqual(await getJson(app, key, `/audiences?apiControlled=true&perPage=${ALL}`), page(kept.map((a) => audienceOut(tenant, a)), 1, ALL), `tenant ${key}: apiControlled=true`)
}

async function checkPeople (app: FastifyInstance, model: Model, key: TenantKey, ids: readonly string[]): Promise<void> {
  const tenant = model.tenants[key]
  for (const id of ids) {
    const a = tenant.audiences.find((x) => x.id === id)
    if (a === undefined) continue
    deepStrictEqual(await getJson(app, key, `/audiences/${id}/members?perPage=${ALL}`), page(a.members.map((u) => memberOut(tenant, u)), 1, ALL), `${a.reference}: members`)
    deepStrictEqual(await getJson(app, key, `/audiences/${id}/managers`), a.managers.map((m) => managerOut(tenant, a, m)), `${a.reference}: managers`)
  }
}

class Step implements fc.AsyncCommand<Model, Real> {
  constructor (readonly label: string, readonly tenant: TenantKey, readonly advance: boolean, readonly planner: (model: Model, tenant: MTenant) => Plan) {}

  check (): boolean {
    return true
  }

  async run (model: Model, real: Real): Promise<void> {
    const other = OTHER[this.tenant]
    const before = await checkList(real.app, model, other)
    // Some steps share an instant so equal createdAt values are ordered by id.
    if (this.advance) model.now += 1000
    const plan = this.planner(model, model.tenants[this.tenant])
    const res = plan.path.startsWith('/__mock')
      ? await real.app.inject({ method: plan.method, url: plan.path, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(plan.payload) })
      : await send(real.app, this.tenant, plan.method, plan.path, plan.payload)
    const seen = `${plan.method} ${res.statusCode}`
    STATUSES_SEEN.set(seen, (STATUSES_SEEN.get(seen) ?? 0) + 1)
    expectAnswer(res, plan)
    // The references the step could have freed, as well as the ids and references it named.
    const tenant = model.tenants[this.tenant]
    const probes = new Set([...plan.probes ?? [], ...plan.touched, ...plan.touched.map((id) => tenant.audiences.find((a) => a.id === id)?.reference ?? id)])
    if (res.statusCode < 300) plan.commit?.(res)
    await checkList(real.app, model, this.tenant)
    await checkFiltered(real.app, model, this.tenant)
    await checkPeople(real.app, model, this.tenant, plan.touched)
    await checkLookups(real.app, model, this.tenant, probes)
    equal(await checkList(real.app, model, other), before, `tenant ${other} is untouched`)
  }

  toString (): string {
    return `${this.tenant}${this.advance ? '+' : ''} ${this.label}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What the steps are made of: small pools, so references collide, users repeat and targets recur.

const REFERENCES = ['r1', 'r2', 'r3', 'with space', 'sales/emea', 'shared', 'Shared', 'backend', 'équipe', '100%', 'q?x#y', 'a@b.com', IDS.aStructure, IDS.bStructure, 'x'.repeat(100)]
const NAMES = ['Team', 'Tech', 'Équipe Ω', 'n/a']
const USER_REFS = [USERS.ada.id, 'ada', 'ada@example.com', 'ADA@EXAMPLE.COM', 'Ada', 'grace', 'grace.hopper@example.com', USERS.grace.id, 'linus', 'LINUS@example.com', 'nobody', 'nobody@example.com']

/** An audience of the tenant by its index in the list, by id or reference; now and then one that does not exist. */
type Target = { index: number, byReference: boolean, structuresOnly: boolean } | string
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ index: fc.nat(), byReference: fc.boolean(), structuresOnly: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constantFrom('ghost', 'aaaaaaaaaaaaaaaaaaaaaaa9') }
)

function pick (tenant: MTenant, chosen: Target): string {
  if (typeof chosen === 'string') return chosen
  const all = ordered(tenant)
  const structures = all.filter((a) => a.category === 'structure')
  const pool = chosen.structuresOnly && structures.length > 0 ? structures : all
  const a = pool[chosen.index % Math.max(pool.length, 1)]
  if (a === undefined) return 'ghost'
  return chosen.byReference ? a.reference : a.id
}

const permissions: fc.Arbitrary<Permissions> = fc.record({
  audienceManager: fc.record({ manageContent: fc.boolean(), assignments: fc.boolean() }, { requiredKeys: [] }),
  peopleManager: fc.record({ canViewLearnPage: fc.boolean(), insights: fc.boolean(), manage: fc.boolean() }, { requiredKeys: [] }),
  administrator: fc.record({ canAddAudienceManagers: fc.boolean() }, { requiredKeys: [] })
}, { requiredKeys: [] })

const managerItems = fc.array(fc.record({ reference: fc.constantFrom(...USER_REFS), permissions: fc.option(permissions, { nil: undefined }) }), { minLength: 1, maxLength: 4 })
const userRefs = fc.array(fc.constantFrom(...USER_REFS), { minLength: 1, maxLength: 5 })
const tenantKey = fc.constantFrom<TenantKey>('A', 'B')
const advance = fc.boolean()

function fail (method: Method, path: string, payload: unknown, touched: string[], status: number, message?: RegExp | string): Plan {
  // Messages cut what they echo at 100 characters, so only a shorter name must appear whole.
  const named = typeof message === 'string' && message.length > 100 ? undefined : message
  return { method, path, payload, touched, expect: { status, ...(named === undefined ? {} : { message: named }) } }
}

/** The first rules every write to an existing audience meets: 404 when unknown, 403 when made in the Thrive UI. */
function writable (tenant: MTenant, key: string): MAudience | { status: number, message: RegExp | string } {
  const a = lookup(tenant, key)
  if (a === undefined) return { status: 404, message: key }
  if (!a.apiControlled) return { status: 403, message: /Thrive UI/ }
  return a
}

function create (name: string, reference: string, category: 'structure' | 'audience', parent: Target | undefined) {
  return (model: Model, tenant: MTenant): Plan => {
    const parentKey = parent === undefined ? undefined : pick(tenant, parent)
    const payload = { name, reference, category, ...(parentKey === undefined ? {} : { parentId: parentKey }) }
    const no = (status: number, message?: RegExp | string) => ({ ...fail('POST', '/audiences', payload, [], status, message), probes: [reference] })
    let parentId: string | null = null
    if (category === 'structure' && parentKey !== undefined) return no(422, /structure/)
    if (category === 'audience') {
      if (parentKey === undefined) return no(422, /parentId/)
      const p = lookup(tenant, parentKey)
      if (p === undefined) return no(422, parentKey)
      if (p.category !== 'structure') return no(422, /structure/)
      if (!p.apiControlled) return no(403, /Thrive UI/)
      parentId = p.id
    }
    if (tenant.audiences.some((a) => a.reference === reference)) return no(409, reference)
    const stamp = new Date(model.now).toISOString()
    const made = (id: string): MAudience => ({ id, name, reference, apiControlled: true, category, type: 'manual', parentId, createdAt: stamp, updatedAt: stamp, members: [], managers: [] })
    return {
      method: 'POST',
      path: '/audiences',
      payload,
      touched: [],
      probes: [reference],
      expect: {
        status: 201,
        verify: (res) => {
          const id = (res.json() as Json).id as string
          match(id, HEX24)
          ok(tenant.audiences.every((a) => a.id !== id), 'a new id')
          // Decided point 4: 201 with Location.
          equal(res.headers.location, `/rest/v1/audiences/${id}`)
          deepStrictEqual(res.json(), audienceOut({ ...tenant, audiences: [...tenant.audiences, made(id)] }, made(id)))
        }
      },
      commit: (res) => { tenant.audiences.push(made((res.json() as Json).id as string)) }
    }
  }
}

interface UpdateFields { name?: string, reference?: string, parent?: Target | undefined }

function update (chosen: Target, fields: UpdateFields) {
  return (model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const parentKey = fields.parent === undefined ? undefined : pick(tenant, fields.parent)
    const payload = { ...(fields.name === undefined ? {} : { name: fields.name }), ...(fields.reference === undefined ? {} : { reference: fields.reference }), ...(parentKey === undefined ? {} : { parentId: parentKey }) }
    const path = `/audiences/${seg(key)}`
    const found = lookup(tenant, key)
    const probes = [key, ...fields.reference === undefined ? [] : [fields.reference]]
    const no = (status: number, message?: RegExp | string) => ({ ...fail('PATCH', path, payload, found === undefined ? [] : [found.id], status, message), probes })
    // Decided point 5: at least one of name, reference, parentId.
    if (Object.keys(payload).length === 0) return no(400, /at least one/)
    const a = writable(tenant, key)
    if (!('id' in a)) return no(a.status, a.message)
    let to: MAudience | undefined
    if (parentKey !== undefined) {
      if (a.category === 'structure') return no(422, /structure/)
      to = lookup(tenant, parentKey)
      if (to === undefined) return no(422, parentKey)
      if (to.category !== 'structure') return no(422, /structure/)
      if (!to.apiControlled) return no(403, /Thrive UI/)
    }
    if (fields.reference !== undefined && tenant.audiences.some((x) => x !== a && x.reference === fields.reference)) return no(409, fields.reference)
    const from = a.parentId === null ? undefined : byId(tenant.audiences, a.parentId)
    // Decided point 5: memberOperations is null unless the audience really moved.
    const memberOperations = to !== undefined && from !== undefined && to.id !== from.id ? { from: info(from), to: info(to) } : null
    const after: MAudience = { ...a, name: fields.name ?? a.name, reference: fields.reference ?? a.reference, parentId: to?.id ?? a.parentId, updatedAt: new Date(model.now).toISOString() }
    const withAfter = { ...tenant, audiences: tenant.audiences.map((x) => x === a ? after : x) }
    return {
      method: 'PATCH',
      path,
      payload,
      touched: [a.id],
      probes,
      expect: { status: 200, body: { ...audienceOut(withAfter, after), memberOperations } },
      commit: () => { Object.assign(a, after) }
    }
  }
}

function remove (chosen: Target) {
  return (_model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const path = `/audiences/${seg(key)}`
    const a = writable(tenant, key)
    if (!('id' in a)) return fail('DELETE', path, undefined, [], a.status, a.message)
    if (tenant.audiences.some((x) => x.parentId === a.id)) return fail('DELETE', path, undefined, [a.id], 409, /child/)
    return {
      method: 'DELETE',
      path,
      touched: [a.id],
      expect: { status: 200, body: { success: true } },
      commit: () => { tenant.audiences = tenant.audiences.filter((x) => x !== a) }
    }
  }
}

/** Decided point 8: each item succeeds or fails with its reason; 200 when all succeed, else 207 with both lists. */
function bulk (tenant: MTenant, refs: readonly string[], already: ((userId: string) => boolean) | undefined, already_: string) {
  const seen = new Set<string>()
  const success: Array<{ reference: string }> = []
  const failure: Array<{ reference: string, reason: string }> = []
  const accepted: Array<{ index: number, userId: string }> = []
  refs.forEach((reference, index) => {
    const u = findUser(tenant, reference)
    if (u === undefined) failure.push({ reference, reason: 'user not found' })
    else if (seen.has(u.id)) failure.push({ reference, reason: 'duplicate in request' })
    else {
      seen.add(u.id)
      if (already?.(u.id) === true) failure.push({ reference, reason: already_ })
      else {
        success.push({ reference })
        accepted.push({ index, userId: u.id })
      }
    }
  })
  const body = { success: { count: success.length, entities: success }, ...(failure.length === 0 ? {} : { failure: { count: failure.length, entities: failure } }) }
  return { status: failure.length === 0 ? 200 : 207, body, accepted }
}

function members (chosen: Target, refs: string[], replace: boolean) {
  return (_model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const path = `/audiences/${seg(key)}/members`
    const method = replace ? 'PATCH' : 'POST'
    const a = writable(tenant, key)
    if (!('id' in a)) return fail(method, path, refs, [], a.status, a.message)
    const result = bulk(tenant, refs, replace ? undefined : (id) => a.members.includes(id), 'already a member')
    const ids = result.accepted.map((x) => x.userId)
    return {
      method,
      path,
      payload: refs,
      touched: [a.id],
      expect: { status: result.status, body: result.body },
      commit: () => { a.members = replace ? ids : [...a.members, ...ids] }
    }
  }
}

function managers (chosen: Target, items: Array<{ reference: string, permissions?: Permissions | undefined }>, replace: boolean) {
  return (_model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const path = `/audiences/${seg(key)}/managers`
    const method = replace ? 'PATCH' : 'POST'
    const a = writable(tenant, key)
    if (!('id' in a)) return fail(method, path, items, [], a.status, a.message)
    // Decided point 1: a true administrator flag on a child is a 422; the all-false block is ignored.
    if (a.category === 'audience' && items.some((i) => i.permissions?.administrator?.canAddAudienceManagers === true)) return fail(method, path, items, [a.id], 422, /administrator/)
    const result = bulk(tenant, items.map((i) => i.reference), replace ? undefined : (id) => a.managers.some((m) => m.userId === id), 'already a manager')
    const added = result.accepted.map((x) => ({ userId: x.userId, flags: flagsOf(items[x.index]?.permissions) }))
    return {
      method,
      path,
      payload: items,
      touched: [a.id],
      expect: { status: result.status, body: result.body },
      commit: () => { a.managers = replace ? added : [...a.managers, ...added] }
    }
  }
}

function removePerson (chosen: Target, userRef: string, kind: 'members' | 'managers') {
  return (_model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const path = `/audiences/${seg(key)}/${kind}/${seg(userRef)}`
    const a = writable(tenant, key)
    if (!('id' in a)) return fail('DELETE', path, undefined, [], a.status, a.message)
    const u = findUser(tenant, userRef)
    const has = u !== undefined && (kind === 'members' ? a.members.includes(u.id) : a.managers.some((m) => m.userId === u.id))
    // Decided point 6: a user who is not there, or does not exist, is a 404.
    if (!has) return fail('DELETE', path, undefined, [a.id], 404, userRef)
    return {
      method: 'DELETE',
      path,
      touched: [a.id],
      expect: { status: 200, body: { success: true } },
      commit: () => {
        if (kind === 'members') a.members = a.members.filter((id) => id !== u.id)
        else a.managers = a.managers.filter((m) => m.userId !== u.id)
      }
    }
  }
}

function listPage (apiControlled: boolean | undefined, since: 'seed' | 'now' | 'earlier' | undefined, perPage: number, pageNumber: number, useLimit: boolean) {
  return (model: Model, tenant: MTenant): Plan => {
    const sinceIso = since === undefined ? undefined : since === 'seed' ? '2024-01-17T00:00:00.000Z' : new Date(model.now - (since === 'earlier' ? 1000 : 0)).toISOString()
    const query = new URLSearchParams({
      ...(apiControlled === undefined ? {} : { apiControlled: String(apiControlled) }),
      ...(sinceIso === undefined ? {} : { updatedSince: sinceIso }),
      [useLimit ? 'limit' : 'perPage']: String(perPage),
      page: String(pageNumber)
    })
    // Decided point 3: filters, then createdAt and id order, then the page.
    const kept = ordered(tenant).filter((a) => (apiControlled === undefined || a.apiControlled === apiControlled) && (sinceIso === undefined || a.updatedAt >= sinceIso))
    return { method: 'GET', path: `/audiences?${query.toString()}`, touched: [], expect: { status: 200, body: page(kept.map((a) => audienceOut(tenant, a)), pageNumber, perPage) } }
  }
}

function membersPage (chosen: Target, perPage: number, pageNumber: number) {
  return (_model: Model, tenant: MTenant): Plan => {
    const key = pick(tenant, chosen)
    const path = `/audiences/${seg(key)}/members?perPage=${perPage}&page=${pageNumber}`
    const a = lookup(tenant, key)
    // Reads of a UI-made audience are allowed; only writes are refused.
    if (a === undefined) return fail('GET', path, undefined, [], 404, key)
    return { method: 'GET', path, touched: [], expect: { status: 200, body: page(a.members.map((u) => memberOut(tenant, u)), pageNumber, perPage) } }
  }
}

function reset (key: TenantKey) {
  return (model: Model): Plan => ({
    method: 'POST',
    path: '/__mock/reset',
    payload: { tenantId: TENANTS[key].tenantId },
    touched: model.tenants[key].audiences.map((a) => a.id),
    expect: {
      status: 200,
      verify: (res) => {
        const body = res.json() as Json
        deepStrictEqual(Object.keys(body).sort(), ['clockReset', 'faultsRemoved', 'requestsRemoved'])
        equal(body.clockReset, false, 'a tenant reset leaves the shared clock alone')
        equal(body.faultsRemoved, 0)
        equal(typeof body.requestsRemoved, 'number')
      }
    },
    commit: () => { model.reset(key) }
  })
}

const show = (x: unknown) => JSON.stringify(x)
/** A structure is rarely sent a parentId (a 422), a child rarely lacks one. */
const rarely = fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: target })

const commands = [
  fc.tuple(tenantKey, advance, fc.constantFrom(...NAMES), fc.constantFrom(...REFERENCES), rarely)
    .map(([k, adv, name, ref, parent]) => new Step(`createStructure ${show({ name, ref, parent })}`, k, adv, create(name, ref, 'structure', parent))),
  fc.tuple(tenantKey, advance, fc.constantFrom(...NAMES), fc.constantFrom(...REFERENCES), fc.option(target, { nil: undefined, freq: 12 }).map((p) => p === undefined ? undefined : typeof p === 'string' ? p : { ...p, structuresOnly: true }))
    .map(([k, adv, name, ref, parent]) => new Step(`createChild ${show({ name, ref, parent })}`, k, adv, create(name, ref, 'audience', parent))),
  fc.tuple(tenantKey, advance, target, fc.oneof(
    { weight: 8, arbitrary: fc.record({ name: fc.constantFrom(...NAMES), reference: fc.constantFrom(...REFERENCES), parent: rarely }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.constant({}) }
  ))
    .map(([k, adv, at, fields]) => new Step(`update ${show({ at, fields })}`, k, adv, update(at, fields))),
  fc.tuple(tenantKey, advance, fc.record({ index: fc.nat(), byReference: fc.boolean(), structuresOnly: fc.constant(false) }), fc.record({ index: fc.nat(), byReference: fc.boolean(), structuresOnly: fc.constant(true) }))
    .map(([k, adv, at, parent]) => new Step(`move ${show({ at, parent })}`, k, adv, update(at, { parent }))),
  fc.tuple(tenantKey, advance, target).map(([k, adv, at]) => new Step(`delete ${show(at)}`, k, adv, remove(at))),
  fc.tuple(tenantKey, advance, target, userRefs, fc.boolean())
    .map(([k, adv, at, refs, replace]) => new Step(`${replace ? 'replace' : 'add'}Members ${show({ at, refs })}`, k, adv, members(at, refs, replace))),
  fc.tuple(tenantKey, advance, target, fc.constantFrom(...USER_REFS)).map(([k, adv, at, ref]) => new Step(`removeMember ${show({ at, ref })}`, k, adv, removePerson(at, ref, 'members'))),
  fc.tuple(tenantKey, advance, target, managerItems, fc.boolean())
    .map(([k, adv, at, items, replace]) => new Step(`${replace ? 'replace' : 'add'}Managers ${show({ at, items })}`, k, adv, managers(at, items, replace))),
  fc.tuple(tenantKey, advance, target, fc.constantFrom(...USER_REFS)).map(([k, adv, at, ref]) => new Step(`removeManager ${show({ at, ref })}`, k, adv, removePerson(at, ref, 'managers'))),
  fc.tuple(tenantKey, advance, fc.option(fc.boolean(), { nil: undefined }), fc.constantFrom<'seed' | 'now' | 'earlier' | undefined>(undefined, 'seed', 'now', 'earlier'), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean())
    .map(([k, adv, api, since, perPage, p, useLimit]) => new Step(`listAudiences ${show({ api, since, perPage, p, useLimit })}`, k, adv, listPage(api, since, perPage, p, useLimit))),
  fc.tuple(tenantKey, advance, target, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .map(([k, adv, at, perPage, p]) => new Step(`listMembers ${show({ at, perPage, p })}`, k, adv, membersPage(at, perPage, p))),
  fc.tuple(tenantKey, advance).map(([k, adv]) => new Step('reset', k, adv, reset(k)))
]

// ---------------------------------------------------------------------------------------------------------------

const app = await build(t)

/** Reads what the fixture leaves to the server: derived audience ids and timestamps, and derived user ids. */
async function derive (key: TenantKey, fixture: FixtureTenant): Promise<Derived> {
  const list = (await getJson(app, key, `/audiences?perPage=${ALL}`)) as { results: Array<{ id: string, reference: string, createdAt: string, updatedAt: string, apiControlled: boolean }> }
  const audiences = new Map(list.results.map((a) => [a.reference, a]))
  const users = new Map<string, string>()
  const host = list.results.find((a) => a.apiControlled)
  for (const u of fixture.users ?? []) {
    if (u.id !== undefined || host === undefined) continue
    equal((await send(app, key, 'PATCH', `/audiences/${host.id}/members`, [u.reference])).statusCode, 200)
    const listed = (await getJson(app, key, `/audiences/${host.id}/members?perPage=${ALL}`)) as { results: Array<{ userId: string }> }
    users.set(u.reference, listed.results[0]?.userId as string)
  }
  equal((await resetTenant(app, key)).statusCode, 200)
  return { audiences, users }
}

const fixtures = FIXTURE.tenants as unknown as [FixtureTenant, FixtureTenant]
const seeds = { A: seedOf(fixtures[0], await derive('A', fixtures[0])), B: seedOf(fixtures[1], await derive('B', fixtures[1])) }

/** Replays a reported failure: FC_SEED (and FC_PATH, which fast-check prints with it). */
const replay = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED), ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }) }

t.test('random sequences of writes over two tenants answer what the model of part C predicts, and leave the state it predicts', async (t) => {
  // Timestamps come from the model's clock, so each write's createdAt and updatedAt are known exactly.
  let current = new Model(seeds)
  app.clock.now = () => current.now
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 25, size: 'max' }), async (steps) => {
    runs++
    await fc.asyncModelRun(async () => {
      equal((await resetTenant(app, 'A')).statusCode, 200)
      equal((await resetTenant(app, 'B')).statusCode, 200)
      current = new Model(seeds)
      return { model: current, real: { app } }
    }, steps)
    // Everything at the end of a run, members and managers of every audience included.
    for (const key of ['A', 'B'] as const) {
      await checkList(app, current, key)
      await checkPeople(app, current, key, current.tenants[key].audiences.map((a) => a.id))
    }
  }), { numRuns: 500, ...replay })
  t.equal(runs >= 500, true, 'at least 500 runs')
  // The sequences reached every answer part C describes, so the model was tested on each.
  const seen = [...STATUSES_SEEN.keys()]
  for (const expected of ['POST 201', 'PATCH 200', 'DELETE 200', 'POST 200', 'POST 207', 'PATCH 207', 'POST 403', 'PATCH 403', 'DELETE 403', 'POST 404', 'PATCH 404', 'DELETE 404', 'POST 409', 'PATCH 409', 'DELETE 409', 'POST 422', 'PATCH 422', 'PATCH 400', 'GET 200', 'GET 404']) {
    t.ok(seen.includes(expected), `${expected} was answered (${STATUSES_SEEN.get(expected) ?? 0} times)`)
  }
})
