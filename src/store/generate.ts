// Generates a large, realistic and reproducible set of audiences for one tenant (structures, each followed by its
// children), its users, and who of them are members and managers of which audience.
import { createHash } from 'node:crypto'
import type { Faker } from '@faker-js/faker'
// The English entry point loads several times faster than the package root, which pulls in every locale.
import { faker as englishFaker } from '@faker-js/faker/locale/en'
import { prng } from '../faults/prng.js'
import type { ManagerPermissions, User } from '../schemas/members.js'
import type { AudienceSeed, ManagerSeed } from './load-fixtures.js'

export interface GenerateOptions {
  tenantId: string
  /** Total number of audiences, structures and children together. */
  count: number
  seed: number
  /** Ids already used in the tenant; generated ids avoid them. */
  takenIds?: ReadonlySet<string>
  /** References already used in the tenant; generated references avoid them. */
  takenReferences?: ReadonlySet<string>
}

interface Department { name: string, teams: readonly string[] }

const DEPARTMENTS: readonly Department[] = [
  { name: 'Engineering', teams: ['Backend', 'Frontend', 'Platform', 'Mobile', 'Quality Assurance', 'DevOps', 'Data Engineering', 'Site Reliability', 'Architecture'] },
  { name: 'Sales', teams: ['Inside Sales', 'Account Management', 'Business Development', 'Sales Operations', 'Enterprise Sales', 'SMB Sales', 'Partnerships'] },
  { name: 'Marketing', teams: ['Brand', 'Content', 'Digital Marketing', 'Events', 'Product Marketing', 'Communications', 'Demand Generation'] },
  { name: 'Finance', teams: ['Accounts Payable', 'Accounts Receivable', 'Payroll', 'Financial Planning', 'Tax', 'Internal Audit', 'Treasury'] },
  { name: 'Human Resources', teams: ['Recruitment', 'Learning & Development', 'Reward', 'HR Operations', 'Employee Relations', 'Talent Management'] },
  { name: 'Customer Success', teams: ['Onboarding', 'Support Tier 1', 'Support Tier 2', 'Renewals', 'Customer Education', 'Implementation'] },
  { name: 'Operations', teams: ['Facilities', 'Procurement', 'Logistics', 'Health & Safety', 'Supply Chain', 'Business Continuity'] },
  { name: 'Legal', teams: ['Contracts', 'Compliance', 'Data Protection', 'Intellectual Property', 'Company Secretariat'] },
  { name: 'Product', teams: ['Product Management', 'UX Research', 'Design', 'Product Analytics', 'Technical Writing'] },
  { name: 'IT', teams: ['Service Desk', 'Infrastructure', 'End User Computing', 'Networks', 'Information Security', 'Business Systems'] }
]
const DEPARTMENT_NAMES = DEPARTMENTS.map((d) => d.name)
const REGIONS = ['EMEA', 'APAC', 'North America', 'LATAM', 'UK & Ireland', 'DACH', 'Nordics', 'Benelux', 'ANZ', 'Middle East']
const INDUSTRIES = ['Retail', 'Logistics', 'Healthcare', 'Manufacturing', 'Financial Services', 'Hospitality', 'Energy', 'Media']

// Pools drawn from faker once per call: per-item faker calls would dominate the cost of large tenants.
const POOL_SIZE = 40
const START = Date.UTC(2022, 0, 1)
const END = Date.UTC(2026, 0, 1) - 1
const DAY_MS = 24 * 3600 * 1000
const CHILD_WINDOW_MS = 90 * DAY_MS
// A 24-bit counter keeps ids unique within one call without holding them all in a set (as MongoDB does).
const MAX_COUNT = 0x1000000
const REFERENCE_SLUG_MAX = 40

// Ids and timestamps are written as ASCII into a small buffer and read back as one flat string: Date#toISOString
// and chains of concatenation cost several times more, and dominated the time taken by large tenants.
// An ObjectId and an ISO timestamp are both 24 characters.
const TEXT_LENGTH = 24
let dayDigits: Buffer | undefined

function writeDecimal (buffer: Buffer, offset: number, value: number, width: number): void {
  for (let i = offset + width - 1; i >= offset; i--) {
    buffer[i] = 48 + (value % 10)
    value = Math.floor(value / 10)
  }
}

function writeHex (buffer: Buffer, offset: number, value: number, width: number): void {
  for (let i = offset + width - 1; i >= offset; i--) {
    const digit = value % 16
    buffer[i] = digit < 10 ? 48 + digit : 87 + digit
    value = Math.floor(value / 16)
  }
}

/** `YYYY-MM-DDTHH:mm:ss.SSSZ` for an instant between START and END, exactly as Date#toISOString writes it. */
function writeTimestamp (buffer: Buffer, at: number): string {
  // 'YYYY-MM-DD' of every day in the range, back to back: few enough to format once.
  dayDigits ??= Buffer.from(Array.from({ length: Math.ceil((END - START) / DAY_MS) }, (_, d) => new Date(START + d * DAY_MS).toISOString().slice(0, 10)).join(''), 'latin1')
  const day = Math.floor((at - START) / DAY_MS)
  const ms = at - START - day * DAY_MS
  // A plain loop: Buffer#copy's argument handling costs more than ten byte stores.
  for (let i = 0; i < 10; i++) buffer[i] = dayDigits[day * 10 + i] as number
  writeDecimal(buffer, 11, Math.floor(ms / 3600000), 2)
  writeDecimal(buffer, 14, Math.floor(ms / 60000) % 60, 2)
  writeDecimal(buffer, 17, Math.floor(ms / 1000) % 60, 2)
  writeDecimal(buffer, 20, ms % 1000, 3)
  return buffer.toString('latin1', 0, TEXT_LENGTH)
}

function digestOf (tenantId: string, seed: number, purpose: string | undefined): Buffer {
  return createHash('sha256').update(`${tenantId}\u0000${seed}${purpose === undefined ? '' : `\u0000${purpose}`}`).digest()
}

/**
 * The shared English instance is never seeded; its class gives each call a private, separately seeded instance.
 * A purpose gives users their own sequence, so adding them left every generated audience as it was.
 */
function seededFaker (tenantId: string, seed: number, purpose?: string): Faker {
  const digest = digestOf(tenantId, seed, purpose)
  const faker = new (englishFaker.constructor as typeof Faker)({ locale: englishFaker.rawDefinitions })
  faker.seed([digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12)])
  return faker
}

function slugify (name: string): string {
  return name.toLowerCase().replaceAll('&', 'and').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, REFERENCE_SLUG_MAX).replace(/-$/, '')
}

/**
 * `count` audiences for one tenant: structures named like organisational units, each directly followed by
 * 2–12 children named like teams, offices or roles (the last structure may have fewer). The same tenant
 * and seed always give identical output; another tenant or seed gives different data.
 */
export function generateAudiences (options: GenerateOptions): AudienceSeed[] {
  const { tenantId, count, seed } = options
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_COUNT) throw new RangeError(`count must be an integer from 0 to ${MAX_COUNT}, got ${count}`)
  const audiences: AudienceSeed[] = []
  if (count === 0) return audiences
  const takenIds = options.takenIds ?? new Set<string>()
  const takenReferences = options.takenReferences ?? new Set<string>()

  const faker = seededFaker(tenantId, seed)
  const random = () => faker.number.float()
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const offices = faker.helpers.uniqueArray(faker.definitions.location.city_name, POOL_SIZE).map((city) => `${city} Office`)
  const surnames = faker.helpers.uniqueArray(() => faker.person.lastName(), POOL_SIZE)
  const roles = faker.helpers.uniqueArray(() => `${faker.person.jobDescriptor()} ${faker.person.jobType()}s`, POOL_SIZE)

  // MongoDB's ObjectId layout: creation time in seconds, 5 random bytes for this run, a 3-byte counter.
  const idText = Buffer.alloc(TEXT_LENGTH)
  const drawMachine = () => writeHex(idText, 8, Math.floor(random() * 2 ** 40), 10)
  drawMachine()
  let counter = Math.floor(random() * MAX_COUNT)
  const nextId = (createdAt: number): string => {
    writeHex(idText, 0, Math.floor(createdAt / 1000), 8)
    for (;;) {
      writeHex(idText, 18, counter, 6)
      counter = (counter + 1) % MAX_COUNT
      const id = idText.toString('latin1', 0, TEXT_LENGTH)
      if (!takenIds.has(id)) return id
      // Someone holds ids from this very sequence (e.g. an earlier run with the same seed): leave it for a fresh one.
      drawMachine()
    }
  }

  const usedReferences = new Set<string>()
  // Next suffix to try per base, kept only for bases already used: structure names repeat, children's rarely do.
  const nextSuffix = new Map<string, number>()
  const slugs = new Map<string, string>()
  const nextReference = (base: string): string => {
    let n = nextSuffix.get(base) ?? 1
    let reference = n === 1 ? base : `${base}-${n}`
    while (usedReferences.has(reference) || takenReferences.has(reference)) {
      n += 1
      reference = `${base}-${n}`
    }
    if (n > 1) nextSuffix.set(base, n + 1)
    usedReferences.add(reference)
    return reference
  }
  const slugOf = (name: string): string => {
    let slug = slugs.get(name)
    if (slug === undefined) {
      slug = slugify(name)
      slugs.set(name, slug)
    }
    return slug
  }

  // About half were never edited; the rest were edited some time within a year, never past the range.
  const updatedAfter = (createdAt: number): number =>
    random() < 0.5 ? createdAt : createdAt + Math.floor(random() * Math.min(365 * DAY_MS, END - createdAt))
  // The separators never change; only the digits are rewritten.
  const timestampText = Buffer.from('0000-00-00T00:00:00.000Z', 'latin1')
  const iso = (at: number, same: number, sameIso: string): string => at === same ? sameIso : writeTimestamp(timestampText, at)

  while (audiences.length < count) {
    const department = pick(DEPARTMENTS)
    // Children of a structure are drawn mostly from one list, sometimes from another, so structures look alike but not identical.
    const kind = random()
    const [name, primary, secondary]: [string, readonly string[], readonly string[]] =
      kind < 0.2
        ? [department.name, department.teams, roles]
        : kind < 0.5
          ? [`${pick(REGIONS)} ${department.name}`, department.teams, offices]
          : kind < 0.7
            ? [pick(offices), DEPARTMENT_NAMES, roles]
            : [`${pick(surnames)} ${pick(INDUSTRIES)}${random() < 0.5 ? ' Division' : ''}`, DEPARTMENT_NAMES, offices]

    // Thrive: UI-created structures (a minority) hold only UI-created children, some of them rule-driven (smart).
    const apiControlled = random() >= 0.12
    const structureCreated = START + Math.floor(random() * (END - START - CHILD_WINDOW_MS))
    const structureCreatedAt = writeTimestamp(timestampText, structureCreated)
    const structure: AudienceSeed = {
      id: nextId(structureCreated),
      name,
      reference: nextReference(slugOf(name)),
      apiControlled,
      category: 'structure',
      type: 'manual',
      parentId: null,
      createdAt: structureCreatedAt,
      updatedAt: iso(updatedAfter(structureCreated), structureCreated, structureCreatedAt)
    }
    audiences.push(structure)

    // 2 to 12 children, most often around 7.
    const children = Math.min(2 + Math.floor((random() + random()) * 5.5), count - audiences.length)
    const names = new Set<string>()
    while (names.size < children) names.add(pick(random() < 0.7 ? primary : secondary))
    for (const childName of names) {
      const childCreated = structureCreated + 1 + Math.floor(random() * CHILD_WINDOW_MS)
      const childCreatedAt = writeTimestamp(timestampText, childCreated)
      audiences.push({
        id: nextId(childCreated),
        name: childName,
        reference: nextReference(`${structure.reference}-${slugOf(childName)}`),
        apiControlled,
        category: 'audience',
        type: !apiControlled && random() < 0.4 ? 'smart' : 'manual',
        parentId: structure.id,
        createdAt: childCreatedAt,
        updatedAt: iso(updatedAfter(childCreated), childCreated, childCreatedAt)
      })
    }
  }
  return audiences
}

export interface GenerateUsersOptions {
  tenantId: string
  count: number
  seed: number
  /**
   * Ids, references and emails of the tenant's other users, lowercased: a generated user's id, reference and email
   * each avoid all of them, so a user ref never names a generated user and another one at once.
   */
  taken?: ReadonlySet<string>
}

const NAME_POOL_SIZE = 250
// A few accounts (service or shared ones) carry no person's name, as firstName and lastName may be null.
const NAMELESS_RATE = 0.02
const ID_HALF = 12

/**
 * `count` users for one tenant: names drawn from faker, references like employee numbers, emails at one company
 * domain under the reserved .example top-level domain (RFC 2606), so none can reach a real mailbox. The same
 * tenant and seed give identical users; another tenant or seed gives others.
 */
export function generateUsers (options: GenerateUsersOptions): User[] {
  const { tenantId, count, seed } = options
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_COUNT) throw new RangeError(`count must be an integer from 0 to ${MAX_COUNT}, got ${count}`)
  const users: User[] = []
  if (count === 0) return users
  const taken = options.taken ?? new Set<string>()
  const faker = seededFaker(tenantId, seed, 'users')
  const random = () => faker.number.float()
  const firstNames = faker.helpers.uniqueArray(() => faker.person.firstName(), NAME_POOL_SIZE)
  const lastNames = faker.helpers.uniqueArray(() => faker.person.lastName(), NAME_POOL_SIZE)
  const domain = `${slugify(faker.company.name())}.example`

  const used = new Set<string>()
  const free = (value: string) => !used.has(value) && !taken.has(value)
  const idText = Buffer.alloc(TEXT_LENGTH)
  const nextId = (): string => {
    for (;;) {
      writeHex(idText, 0, Math.floor(random() * 16 ** ID_HALF), ID_HALF)
      writeHex(idText, ID_HALF, Math.floor(random() * 16 ** ID_HALF), ID_HALF)
      const id = idText.toString('latin1', 0, TEXT_LENGTH)
      if (free(id)) return id
    }
  }
  let employee = 100000 + Math.floor(random() * 800000)
  const nextReference = (): string => {
    for (;;) {
      const reference = `emp-${employee++}`
      if (free(reference)) return reference
    }
  }
  // Next suffix per local part already used: common names repeat, so john.smith, john.smith2, john.smith3...
  const nextSuffix = new Map<string, number>()
  const nextEmail = (local: string): string => {
    let n = nextSuffix.get(local) ?? 1
    let email = `${local}@${domain}`
    while (!free(email)) email = `${local}${++n}@${domain}`
    nextSuffix.set(local, n + 1)
    return email
  }

  while (users.length < count) {
    const named = random() >= NAMELESS_RATE
    const firstName = named ? firstNames[Math.floor(random() * firstNames.length)] as string : null
    const lastName = named ? lastNames[Math.floor(random() * lastNames.length)] as string : null
    const id = nextId()
    const reference = nextReference()
    const local = firstName === null || lastName === null ? reference : `${firstName}.${lastName}`.toLowerCase().replace(/[^a-z0-9.]+/g, '')
    const email = nextEmail(local)
    used.add(id)
    used.add(reference)
    used.add(email)
    users.push({ id, reference, email, firstName, lastName })
  }
  return users
}

export interface MembershipOptions {
  tenantId: string
  seed: number
  /** Generated audiences, which nothing else holds yet: they are given members and managers in place. */
  audiences: AudienceSeed[]
  users: readonly User[]
}

// Most child audiences have a handful of members; one in MANY_RATE has hundreds, enough to page through.
const FEW_MAX = 8
const MANY_RATE = 1 / 500
const MANY_MIN = 150
const MANY_MAX = 1500
// Most audiences have no managers, so most carry no list at all.
const STRUCTURE_MANAGER_RATE = 0.25
const CHILD_MANAGER_RATE = 0.05

function gcd (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/**
 * Members for every child audience and managers for some structures and audiences, drawn from `users`. The same
 * tenant, seed, audiences and users always give the same lists. Each list is the audience's own; only the
 * (immutable) id strings are shared.
 */
export function assignMemberships (options: MembershipOptions): void {
  const { audiences, users } = options
  const n = users.length
  if (n === 0) return
  // Faker's generator costs several times more per draw than this one, and a million audiences need millions of draws.
  const random = prng(digestOf(options.tenantId, options.seed, 'memberships').readUInt32BE(0))
  const flag = () => random() < 0.5
  // Walking the users with a stride coprime to their number visits k distinct users without a set or a shuffle.
  const pickUsers = (k: number): string[] => {
    const start = Math.floor(random() * n)
    let step = 1 + Math.floor(random() * (n - 1))
    while (gcd(step, n) !== 1) step = step % (n - 1) + 1
    const ids = new Array<string>(k)
    for (let i = 0; i < k; i++) ids[i] = (users[(start + i * step) % n] as User).id
    return ids
  }
  const managersOf = (audience: AudienceSeed, k: number): ManagerSeed[] => pickUsers(Math.min(k, n)).map((userId) => {
    // Thrive UI powers appear only on UI-created audiences; the administrator block only on structures.
    const permissions: ManagerPermissions = {
      audienceManager: { manageMembers: !audience.apiControlled && flag(), manageContent: flag(), assignments: flag() },
      peopleManager: { canViewLearnPage: flag(), insights: flag(), manage: flag() }
    }
    if (audience.category === 'structure') permissions.administrator = { canManageAudiences: !audience.apiControlled && flag(), canAddAudienceManagers: flag() }
    return { userId, permissions }
  })

  for (const audience of audiences) {
    if (audience.category === 'structure') {
      if (random() < STRUCTURE_MANAGER_RATE) audience.managers = managersOf(audience, 1 + Math.floor(random() * 3))
      continue
    }
    const size = random() < MANY_RATE ? MANY_MIN + Math.floor(random() * (MANY_MAX - MANY_MIN + 1)) : 1 + Math.floor(random() * random() * FEW_MAX)
    audience.members = pickUsers(Math.min(size, n))
    if (random() < CHILD_MANAGER_RATE) audience.managers = managersOf(audience, 1 + Math.floor(random() * 2))
  }
}
