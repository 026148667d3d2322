// Snapshot of a Thrive tenant into a fixture document: the documented read operations only, paged through with
// retries, then the answers put back together in the fixture format, with personal data replaced unless kept.
import { createHash } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { Type, type TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { firstProblem } from './data-file.js'
import { Audience, AudienceParent } from './schemas/audience.js'
import type { AudienceFixture, FixtureFile, ManagerFixture, StructureFixture, UserFixture } from './schemas/fixtures.js'
import { Manager, Member, Pagination } from './schemas/members.js'

/** Thrive's largest page (part C: perPage 1–1000): the fewest requests for a large tenant. */
export const MAX_PER_PAGE = 1000
/** At most this many requests in flight, so a snapshot never looks like a flood to the tenant's rate limit. */
export const MAX_IN_FLIGHT = 4

export interface SnapshotOptions {
  /** The host's origin, e.g. https://public.api.learnstaging.link; /rest/v1 is added. */
  baseUrl: string
  tenantId: string
  apiSecret: string
  keepPersonalData?: boolean
  /** The first N audiences of the list, in list order. */
  maxAudiences?: number
  /** Page size of every list; 1000 unless a test needs more pages from a small tenant. */
  perPage?: number
  /** Per request, from sending to the end of the body. */
  timeoutMs?: number
  /** Attempts per request, the first one included. */
  attempts?: number
  /** Waits between attempts (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>
  /** 0 <= x < 1, spreads the backoff of concurrent retries. */
  random?: () => number
  onProgress?: (progress: SnapshotProgress) => void
}

export interface SnapshotProgress {
  audiences: { done: number, total: number | null }
  members: { done: number, total: number }
}

export interface SnapshotResult {
  fixture: FixtureFile
  /** Things the reader should know: audiences left out, operations refused by scope. */
  notes: string[]
  audiences: number
  users: number
  members: number
  managers: number
  requests: number
}

export class SnapshotError extends Error {
  override name = 'SnapshotError'
  /** 2 when the credentials were refused, so a script can tell it from any other failure. */
  readonly exitCode: number
  constructor (message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

const pageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ results: Type.Array(item), pagination: Pagination })
// The served schema writes null the OpenAPI way (`nullable`), which a JSON Schema validator does not read.
const checkAudiencePage = Compile(pageOf(Type.Object({ ...Audience.properties, parent: Type.Union([AudienceParent, Type.Null()]) }, { additionalProperties: false })))
const checkMemberPage = Compile(pageOf(Member))
const checkManagers = Compile(Type.Array(Manager))
type AudiencePage = { results: Audience[], pagination: Pagination }
type MemberPage = { results: Member[], pagination: Pagination }

/** The answer a caller can act on: a 403 is the tenant's scope, not a failure of the snapshot. */
const FORBIDDEN = Symbol('forbidden')

interface Call {
  operation: 'listAudiences' | 'listMembers' | 'listManagers'
  path: string
  page?: number
  audienceId?: string
}

function where (call: Call): string {
  const audience = call.audienceId === undefined ? '' : ` of audience ${call.audienceId}`
  const page = call.page === undefined ? '' : `, page ${call.page}`
  return `${call.operation}${audience}${page}`
}

/** Retry-After in seconds or as an HTTP-date (RFC 9110 §10.2.3), in ms from now; null when absent or unreadable. */
export function retryAfterMs (value: string | null, now: number): number | null {
  if (value === null) return null
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

/** A slot per request in flight: a request waits for a free slot before it is sent. */
function limiter (slots: number): <T>(task: () => Promise<T>) => Promise<T> {
  let free = slots
  const waiting: Array<() => void> = []
  return async (task) => {
    if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve))
    else free--
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next === undefined) free++
      else next()
    }
  }
}

class Client {
  readonly root: string
  requests = 0
  private readonly auth: string
  private readonly limit = limiter(MAX_IN_FLIGHT)

  constructor (private readonly options: Required<Pick<SnapshotOptions, 'baseUrl' | 'tenantId' | 'timeoutMs' | 'attempts' | 'sleep' | 'random'>>, apiSecret: string) {
    this.root = `${options.baseUrl}/rest/v1`
    this.auth = `Basic ${Buffer.from(`${options.tenantId}:${apiSecret}`).toString('base64')}`
  }

  /** The parsed body of a 200, or FORBIDDEN; retries 429, 5xx, network errors, timeouts and unreadable bodies. */
  async get (call: Call): Promise<unknown> {
    return await this.limit(async () => {
      const { attempts, sleep, random, timeoutMs } = this.options
      let problem = ''
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let wait: number | null = null
        try {
          this.requests++
          const res = await fetch(`${this.root}${call.path}`, {
            headers: { authorization: this.auth, accept: 'application/json' },
            signal: AbortSignal.timeout(timeoutMs)
          })
          const text = await res.text()
          if (res.status === 200) {
            try {
              return JSON.parse(text)
            } catch {
              problem = 'the body is not JSON'
            }
          } else if (res.status === 401) {
            throw new SnapshotError(`the credentials of tenant ${this.options.tenantId} were refused by ${this.options.baseUrl} (401): check the Tenant ID and the API secret`, 2)
          } else if (res.status === 403) {
            return FORBIDDEN
          } else if (res.status === 429 || res.status >= 500) {
            problem = `HTTP ${res.status}`
            wait = retryAfterMs(res.headers.get('retry-after'), Date.now())
          } else {
            throw new SnapshotError(`${where(call)}: HTTP ${res.status}: ${messageOf(text)}`)
          }
        } catch (err) {
          if (err instanceof SnapshotError) throw err
          problem = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeNetworkError(err as Error)
        }
        // Exponential backoff with jitter unless the server said when to come back.
        if (attempt < attempts) await sleep(wait ?? Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + random() / 2))
      }
      throw new SnapshotError(`${where(call)}: ${problem}, ${attempts} attempts made`)
    })
  }
}

function describeNetworkError (err: Error): string {
  const cause = (err as { cause?: { code?: string } }).cause
  /* c8 ignore next - undici's "fetch failed" always carries the socket error's code; the message stands in otherwise */
  return `network error: ${cause?.code ?? err.message}`
}

/** The documented error body's message, or the start of whatever came instead. */
function messageOf (text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown }
    if (typeof body.message === 'string') return body.message
  } catch {}
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}

function checked<T> (call: Call, validator: Validator<any, TSchema>, body: unknown): T {
  const problem = firstProblem(validator, body)
  if (problem !== null) throw new SnapshotError(`${where(call)}: the answer is not the documented shape: ${problem[0] === '' ? 'the body' : problem[0]}: ${problem[1]}`)
  return body as T
}

/** Every page of a list: the first tells how many there are, the rest are asked for together. */
async function allPages<T> (first: Call & { page: 1 }, page: (n: number) => Promise<{ results: T[], pagination: Pagination } | typeof FORBIDDEN>, onPage: (results: T[], total: number, page: number) => void, enough?: (seen: number) => boolean): Promise<T[] | typeof FORBIDDEN> {
  const head = await page(1)
  if (head === FORBIDDEN) return FORBIDDEN
  onPage(head.results, head.pagination.totalResults, 1)
  const pages = [head.results]
  const rest: number[] = []
  let seen = head.results.length
  for (let n = 2; n <= head.pagination.totalPages; n++) {
    if (enough?.(seen) === true) break
    rest.push(n)
    seen += head.pagination.perPage
  }
  const tail = await Promise.all(rest.map(async (n) => {
    const answer = await page(n)
    if (answer === FORBIDDEN) throw new SnapshotError(`${where({ ...first, page: n })}: refused (403) after page 1 was served`)
    onPage(answer.results, answer.pagination.totalResults, n)
    return answer.results
  }))
  return pages.concat(tail).flat()
}

interface Fetched {
  audience: Audience
  members: Member[] | null
  managers: Manager[] | null
}

/** Pages through the tenant and returns it as a fixture document (with the given API secret). */
export async function takeSnapshot (options: SnapshotOptions & { newApiSecret: string }): Promise<SnapshotResult> {
  const perPage = options.perPage ?? MAX_PER_PAGE
  const client = new Client({
    baseUrl: options.baseUrl,
    tenantId: options.tenantId,
    timeoutMs: options.timeoutMs ?? 30_000,
    attempts: options.attempts ?? 6,
    sleep: options.sleep ?? delay,
    random: options.random ?? Math.random
  }, options.apiSecret)
  const progress: SnapshotProgress = { audiences: { done: 0, total: null }, members: { done: 0, total: 0 } }
  const report = () => options.onProgress?.(progress)
  const notes: string[] = []

  const listCall = (page: number): Call => ({ operation: 'listAudiences', path: `/audiences?perPage=${perPage}&page=${page}`, page })
  const max = options.maxAudiences
  let listTotal = 0
  const listed = await allPages<Audience>(listCall(1) as Call & { page: 1 }, async (n) => {
    const call = listCall(n)
    const body = await client.get(call)
    if (body === FORBIDDEN) throw new SnapshotError(`${where(call)}: refused (403): the API secret's tenant cannot read audiences`)
    return checked<AudiencePage>(call, checkAudiencePage, body)
  }, (_, total) => { listTotal = total; progress.audiences.total = max === undefined ? total : Math.min(max, total); report() }, max === undefined ? undefined : (seen) => seen >= max)
  // A write upstream during the snapshot can shift an audience onto the next page: it is kept once.
  const seen = new Set<string>()
  let audiences = (listed as Audience[]).filter((a) => !seen.has(a.id) && seen.add(a.id) !== undefined)
  if (max !== undefined && audiences.length > max) {
    audiences = audiences.slice(0, max)
  }
  if (max !== undefined && listTotal > audiences.length) notes.push(`only the first ${audiences.length} of the ${listTotal} audiences were read (--max-audiences)`)
  progress.audiences.total = audiences.length
  report()

  let forbiddenMembers = 0
  let forbiddenManagers = 0
  const fetched = await Promise.all(audiences.map(async (audience): Promise<Fetched> => {
    const id = encodeURIComponent(audience.id)
    const memberCall = (page: number): Call => ({ operation: 'listMembers', path: `/audiences/${id}/members?perPage=${perPage}&page=${page}`, page, audienceId: audience.id })
    const managerCall: Call = { operation: 'listManagers', path: `/audiences/${id}/managers`, audienceId: audience.id }
    const [members, managers] = await Promise.all([
      allPages<Member>(memberCall(1) as Call & { page: 1 }, async (n) => {
        const call = memberCall(n)
        const body = await client.get(call)
        return body === FORBIDDEN ? FORBIDDEN : checked<MemberPage>(call, checkMemberPage, body)
      }, (results, total, page) => {
        if (page === 1) progress.members.total += total
        progress.members.done += results.length
        report()
      }),
      client.get(managerCall).then((body) => body === FORBIDDEN ? FORBIDDEN : checked<Manager[]>(managerCall, checkManagers, body))
    ])
    if (members === FORBIDDEN) forbiddenMembers++
    if (managers === FORBIDDEN) forbiddenManagers++
    progress.audiences.done++
    report()
    return { audience, members: members === FORBIDDEN ? null : members, managers: managers === FORBIDDEN ? null : managers }
  }))
  if (forbiddenMembers > 0) notes.push(`members were refused (403) for ${forbiddenMembers} audiences: they are written without members`)
  if (forbiddenManagers > 0) notes.push(`managers were refused (403) for ${forbiddenManagers} audiences: they are written without managers`)

  const assembled = await assemble(options.tenantId, options.newApiSecret, fetched, options.keepPersonalData === true, notes)
  return { ...assembled, notes, requests: client.requests }
}

function audienceFixture (f: Fetched, userIds: Map<string, Member>): AudienceFixture {
  const { audience: a } = f
  const fixture: AudienceFixture = { id: a.id, name: a.name, reference: a.reference, apiControlled: a.apiControlled, type: a.type, createdAt: a.createdAt, updatedAt: a.updatedAt }
  if (f.members !== null && f.members.length > 0) {
    fixture.members = f.members.map((m) => { if (!userIds.has(m.userId)) userIds.set(m.userId, m); return m.userId })
  }
  if (f.managers !== null && f.managers.length > 0) {
    fixture.managers = f.managers.map((m): ManagerFixture => {
      if (!userIds.has(m.userId)) userIds.set(m.userId, m)
      return { user: m.userId, permissions: m.permissions }
    })
  }
  return fixture
}

async function assemble (tenantId: string, apiSecret: string, fetched: Fetched[], keep: boolean, notes: string[]): Promise<Omit<SnapshotResult, 'notes' | 'requests'>> {
  const userIds = new Map<string, Member>()
  const children = new Map<string, AudienceFixture[]>()
  const structureIds = new Set(fetched.filter((f) => f.audience.parent === null).map((f) => f.audience.id))
  let orphans = 0
  let members = 0
  let managers = 0
  // Users are collected in list order, whatever order the answers came in, so the same tenant gives the same file.
  for (const f of fetched) {
    const parent = f.audience.parent
    if (parent === null) continue
    if (!structureIds.has(parent.id)) { orphans++; continue }
    const list = children.get(parent.id) ?? []
    list.push(audienceFixture(f, userIds))
    children.set(parent.id, list)
  }
  const structures: StructureFixture[] = fetched.filter((f) => f.audience.parent === null).map((f) => {
    const list = children.get(f.audience.id)
    const own = audienceFixture(f, userIds)
    return list === undefined ? own : { ...own, audiences: list }
  })
  for (const f of fetched) {
    members += f.members?.length ?? 0
    managers += f.managers?.length ?? 0
  }
  if (orphans > 0) notes.push(`${orphans} child audiences were left out because their structure is not in the snapshot (--max-audiences)`)
  const users = keep
    ? [...userIds.values()].map((m): UserFixture => ({ id: m.userId, reference: m.reference, email: m.email }))
    : await fakeUsers(tenantId, [...userIds.keys()])
  return {
    fixture: { tenants: [{ tenantId, apiSecret, users, structures }] },
    audiences: fetched.length - orphans,
    users: users.length,
    members,
    managers
  }
}

/** Letters only: a name's accents and apostrophes have no place in the local part of a made-up address. */
function slug (name: string): string {
  return name.normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase()
}

/**
 * A fake person per user, from faker seeded by the tenant and the user id: the same user gets the same fake in every
 * snapshot of the tenant, whatever else changed. Addresses are under example.com (RFC 2606), so none can reach anyone.
 * Two users drawing the same fake (rare) are told apart by the user id, in id order so the outcome does not depend
 * on the order the users were met.
 */
export async function fakeUsers (tenantId: string, ids: readonly string[]): Promise<UserFixture[]> {
  const { Faker, en } = await import('@faker-js/faker')
  const faker = new Faker({ locale: [en] })
  const fakes = new Map<string, UserFixture>()
  for (const id of ids) {
    const digest = createHash('sha256').update(`${tenantId}\u0000${id}`).digest()
    faker.seed([digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12)])
    const firstName = faker.person.firstName()
    const lastName = faker.person.lastName()
    const number = faker.number.int({ min: 1, max: 999 })
    fakes.set(id, {
      id,
      reference: `${slug(firstName).slice(0, 1)}${slug(lastName)}${number}`,
      email: `${slug(firstName)}.${slug(lastName)}${number}@example.com`,
      firstName,
      lastName
    })
  }
  const references = new Set<string>()
  const emails = new Set<string>()
  for (const id of [...ids].sort()) {
    const fake = fakes.get(id) as UserFixture
    if (references.has(fake.reference)) fake.reference = `${fake.reference}-${id}`
    if (emails.has(fake.email)) fake.email = fake.email.replace('@', `.${id}@`)
    references.add(fake.reference)
    emails.add(fake.email)
  }
  return ids.map((id) => fakes.get(id) as UserFixture)
}
