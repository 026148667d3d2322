// Reads fixture files, validates them against the fixture schema and resolves defaults and user references into a seed.
import { createHash } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Compile } from 'typebox/compile'
import { DataFileError, readJsonFile, validateDocument } from '../data-file.js'
import { FixtureFile, type AudienceFixture, type ManagerFixture, type StructureFixture, type TenantFixture } from '../schemas/fixtures.js'
import type { Audience } from '../schemas/audience.js'
import type { ManagerPermissions, User } from '../schemas/members.js'
import type { Scope } from '../schemas/oauth.js'

/** A fixture given as a file path, or inline (from the library API) with a name for messages. */
export type FixtureSource = { path: string } | { name: string, data: unknown }

export interface ClientSeed {
  clientId: string
  clientSecret: string
  scopes: Scope[]
}

/** A manager as stored: the user and the output permissions (UI-only flags false unless a fixture set them). */
export interface ManagerSeed {
  userId: string
  permissions: ManagerPermissions
}

/**
 * An audience as stored: the parent by id only (its name and reference are read from the parent when served),
 * members as user ids in the order added. Both lists are absent when empty, which most generated audiences are.
 */
export interface AudienceSeed extends Omit<Audience, 'parent'> {
  parentId: string | null
  members?: string[]
  managers?: ManagerSeed[]
}

export interface TenantSeed {
  tenantId: string
  apiSecret: string
  clients: ClientSeed[]
  users: User[]
  audiences: AudienceSeed[]
  source: string
}

/** A directory entry that was not loaded, and why: start-up logs these so nothing is left out silently. */
export interface SkippedFile {
  file: string
  reason: string
}

export interface Seed {
  tenants: TenantSeed[]
  sources: string[]
  skipped: SkippedFile[]
}

const checkFixtureFile = Compile(FixtureFile)

/** A stable 24-hex id from the tenant and the reference path, so the same fixtures give the same ids on every start. */
export function deriveId (tenantId: string, ...references: string[]): string {
  return createHash('sha256').update([tenantId, ...references].join('\u0000')).digest('hex').slice(0, 24)
}

// Missing timestamps are spread over 2024 from the same hash, so they are stable yet not all identical.
const TIMESTAMP_BASE = Date.UTC(2024, 0, 1)
const YEAR_MS = 365 * 24 * 3600 * 1000

function deriveTimestamp (id: string): string {
  return new Date(TIMESTAMP_BASE + (Number.parseInt(id.slice(0, 12), 16) % YEAR_MS)).toISOString()
}

interface ResolveContext {
  source: string
  tenantId: string
  path: string
  ids: Map<string, string>
  references: Map<string, string>
  /** The tenant's user named by an id, a reference or an email, in that order, as the API resolves a user ref. */
  findUser: (userRef: string) => User | undefined
}

/**
 * The tenant's users with ids derived where absent, and a lookup by id, reference or email (case-insensitively).
 * Each id, reference and email is unique in the tenant, so a member or manager names one user only.
 */
function resolveUsers (source: string, tenantPath: string, tenant: TenantFixture): { users: User[], find: (userRef: string) => User | undefined } {
  const byId = new Map<string, { user: User, at: string }>()
  const byReference = new Map<string, { user: User, at: string }>()
  const byEmail = new Map<string, { user: User, at: string }>()
  const users = (tenant.users ?? []).map((fixture, u) => {
    const at = `${tenantPath}.users[${u}]`
    const user: User = {
      id: fixture.id ?? deriveId(tenant.tenantId, 'user', fixture.reference),
      reference: fixture.reference,
      email: fixture.email,
      firstName: fixture.firstName ?? null,
      lastName: fixture.lastName ?? null
    }
    const email = fixture.email.toLowerCase()
    const seenId = byId.get(user.id)
    if (seenId !== undefined) throw new DataFileError('fixture', source, `${at}.id`, `duplicate user id "${user.id}" in tenant ${tenant.tenantId} (also at ${seenId.at})`)
    const seenRef = byReference.get(user.reference)
    if (seenRef !== undefined) throw new DataFileError('fixture', source, `${at}.reference`, `duplicate user reference "${user.reference}" in tenant ${tenant.tenantId} (also at ${seenRef.at})`)
    const seenEmail = byEmail.get(email)
    if (seenEmail !== undefined) throw new DataFileError('fixture', source, `${at}.email`, `duplicate email "${user.email}" in tenant ${tenant.tenantId}, compared case-insensitively (also at ${seenEmail.at})`)
    byId.set(user.id, { user, at })
    byReference.set(user.reference, { user, at })
    byEmail.set(email, { user, at })
    return user
  })
  const find = (userRef: string): User | undefined =>
    (byId.get(userRef) ?? byReference.get(userRef) ?? byEmail.get(userRef.toLowerCase()))?.user
  return { users, find }
}

function findUser (ctx: ResolveContext, path: string, userRef: string): User {
  const user = ctx.findUser(userRef)
  if (user === undefined) throw new DataFileError('fixture', ctx.source, path, `no user "${userRef}" in tenant ${ctx.tenantId}: name one of the users listed in this tenant entry by id, reference or email`)
  return user
}

function resolveMembers (ctx: ResolveContext, refs: readonly string[]): string[] {
  const seen = new Map<string, number>()
  return refs.map((ref, m) => {
    const { id } = findUser(ctx, `${ctx.path}.members[${m}]`, ref)
    const first = seen.get(id)
    if (first !== undefined) throw new DataFileError('fixture', ctx.source, `${ctx.path}.members[${m}]`, `user "${ref}" is already a member of this audience (${ctx.path}.members[${first}])`)
    seen.set(id, m)
    return id
  })
}

/** Output permissions: every flag present, false unless given; `administrator` on a structure only. */
function resolveManagers (ctx: ResolveContext, managers: readonly ManagerFixture[], structure: boolean, apiControlled: boolean): ManagerSeed[] {
  const seen = new Map<string, number>()
  return managers.map((manager, k) => {
    const at = `${ctx.path}.managers[${k}]`
    const { id } = findUser(ctx, `${at}.user`, manager.user)
    const first = seen.get(id)
    if (first !== undefined) throw new DataFileError('fixture', ctx.source, `${at}.user`, `user "${manager.user}" is already a manager of this audience (${ctx.path}.managers[${first}])`)
    seen.set(id, k)
    const { audienceManager = {}, peopleManager = {}, administrator = {} } = manager.permissions ?? {}
    // As the API decides: an all-false administrator block on a child audience is ignored, a true flag is refused.
    if (!structure && Object.values(administrator).includes(true)) throw new DataFileError('fixture', ctx.source, `${at}.permissions.administrator`, 'an administrator block applies to a structure only: on a child audience every flag must be false or absent')
    // Thrive: these are powers granted in its UI, so an API-controlled audience never shows them.
    if (apiControlled && audienceManager.manageMembers === true) throw new DataFileError('fixture', ctx.source, `${at}.permissions.audienceManager.manageMembers`, 'manageMembers is a Thrive UI power: only a UI-created audience (apiControlled: false) can grant it')
    if (apiControlled && administrator.canManageAudiences === true) throw new DataFileError('fixture', ctx.source, `${at}.permissions.administrator.canManageAudiences`, 'canManageAudiences is a Thrive UI power: only a UI-created structure (apiControlled: false) can grant it')
    const permissions: ManagerPermissions = {
      audienceManager: {
        manageMembers: audienceManager.manageMembers ?? false,
        manageContent: audienceManager.manageContent ?? false,
        assignments: audienceManager.assignments ?? false
      },
      peopleManager: {
        canViewLearnPage: peopleManager.canViewLearnPage ?? false,
        insights: peopleManager.insights ?? false,
        manage: peopleManager.manage ?? false
      }
    }
    if (structure) {
      permissions.administrator = {
        canManageAudiences: administrator.canManageAudiences ?? false,
        canAddAudienceManagers: administrator.canAddAudienceManagers ?? false
      }
    }
    return { userId: id, permissions }
  })
}

/** RFC 3339 allows a leap second (23:59:60) that JavaScript dates cannot hold; say so instead of crashing. */
function toIso (ctx: ResolveContext, field: string, value: string): string {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new DataFileError('fixture', ctx.source, `${ctx.path}.${field}`, `"${value}" is a valid RFC 3339 date-time but not one this server can represent (leap seconds are not supported)`)
  return new Date(ms).toISOString()
}

function resolveAudience (
  ctx: ResolveContext,
  fixture: AudienceFixture | StructureFixture,
  parent: AudienceSeed | null
): AudienceSeed {
  const id = fixture.id ?? deriveId(ctx.tenantId, ...(parent === null ? [] : [parent.reference]), fixture.reference)
  const createdAt = fixture.createdAt === undefined ? deriveTimestamp(id) : toIso(ctx, 'createdAt', fixture.createdAt)
  const updatedAt = fixture.updatedAt === undefined ? createdAt : toIso(ctx, 'updatedAt', fixture.updatedAt)
  const apiControlled = fixture.apiControlled ?? true
  const type = fixture.type ?? 'manual'

  const seenId = ctx.ids.get(id)
  if (seenId !== undefined) throw new DataFileError('fixture', ctx.source, `${ctx.path}.id`, `duplicate id "${id}" in tenant ${ctx.tenantId} (also at ${seenId})`)
  const seenRef = ctx.references.get(fixture.reference)
  if (seenRef !== undefined) throw new DataFileError('fixture', ctx.source, `${ctx.path}.reference`, `duplicate reference "${fixture.reference}" in tenant ${ctx.tenantId} (also at ${seenRef})`)
  if (updatedAt < createdAt) throw new DataFileError('fixture', ctx.source, `${ctx.path}.updatedAt`, `updatedAt ${updatedAt} is before createdAt ${createdAt}`)
  // Thrive: API-controlled audiences are always manual and live only inside API-created structures.
  if (apiControlled && type === 'smart') throw new DataFileError('fixture', ctx.source, `${ctx.path}.type`, 'an API-controlled audience is always "manual"; smart audiences are created in the Thrive UI (set apiControlled: false)')
  if (apiControlled && parent !== null && !parent.apiControlled) throw new DataFileError('fixture', ctx.source, `${ctx.path}.apiControlled`, 'an API-controlled audience can only live inside an API-controlled structure')
  ctx.ids.set(id, ctx.path)
  ctx.references.set(fixture.reference, ctx.path)

  const seed: AudienceSeed = {
    id,
    name: fixture.name,
    reference: fixture.reference,
    apiControlled,
    category: parent === null ? 'structure' : 'audience',
    type,
    parentId: parent === null ? null : parent.id,
    createdAt,
    updatedAt
  }
  // Absent rather than empty, as on most generated audiences.
  const members = resolveMembers(ctx, fixture.members ?? [])
  if (members.length > 0) seed.members = members
  const managers = resolveManagers(ctx, fixture.managers ?? [], parent === null, apiControlled)
  if (managers.length > 0) seed.managers = managers
  return seed
}

/** Why a directory entry is not a fixture file, or null when it is one. */
function skipReason (path: string, name: string): string | null {
  let stats
  try {
    stats = statSync(path)
  } catch (err) {
    // A dangling symbolic link: there is nothing to read.
    return `cannot read (${(err as NodeJS.ErrnoException).code as string})`
  }
  if (stats.isDirectory()) return 'a subdirectory: only the files directly in a fixture directory are read'
  if (/\.json$/i.test(name)) return stats.isFile() ? null : 'not a regular file'
  if (/\.ya?ml$/i.test(name)) return 'YAML is not read: write fixtures as JSON'
  return 'not a .json file'
}

function listSource (source: FixtureSource, skipped: SkippedFile[]): Array<{ name: string, read: () => unknown }> {
  if ('data' in source) return [{ name: source.name, read: () => source.data }]
  const parse = (file: string) => () => readJsonFile('fixture', file)
  let stats
  try {
    stats = statSync(source.path)
  } catch {
    throw new DataFileError('fixture', source.path, '$', 'no such file or directory')
  }
  if (!stats.isDirectory()) return [{ name: source.path, read: parse(source.path) }]
  const files: Array<{ name: string, read: () => unknown }> = []
  const here: SkippedFile[] = []
  // Code-unit order, not locale order, so every machine loads the same files in the same order.
  for (const entry of readdirSync(source.path).sort()) {
    const file = join(source.path, entry)
    const name = relative(process.cwd(), file)
    const reason = skipReason(file, entry)
    if (reason === null) files.push({ name, read: parse(file) })
    else here.push({ file: name, reason })
  }
  if (files.length === 0) {
    const seen = here.map((s) => `${s.file}: ${s.reason}`).join('; ')
    throw new DataFileError('fixture', source.path, '$', `directory holds no .json fixture files${seen === '' ? '' : ` (skipped ${seen})`}`)
  }
  skipped.push(...here)
  return files
}

/**
 * Loads every source, validates it and merges the tenants. Any problem throws a DataFileError before
 * anything is returned, so the server never starts half-loaded.
 */
export function loadFixtures (sources: FixtureSource[]): Seed {
  const tenants = new Map<string, TenantSeed>()
  const names: string[] = []
  const skipped: SkippedFile[] = []
  for (const source of sources) {
    for (const { name, read } of listSource(source, skipped)) {
      names.push(name)
      const file = validateDocument<FixtureFile>('fixture', checkFixtureFile, name, read())
      file.tenants.forEach((tenant, t) => {
        const tenantPath = `$.tenants[${t}]`
        const previous = tenants.get(tenant.tenantId)
        if (previous !== undefined) throw new DataFileError('fixture', name, `${tenantPath}.tenantId`, `duplicate tenant "${tenant.tenantId}" (already defined in ${previous.source})`)
        const clientIds = new Set<string>([tenant.tenantId])
        const clients = (tenant.clients ?? []).map((client, c) => {
          if (clientIds.has(client.clientId)) throw new DataFileError('fixture', name, `${tenantPath}.clients[${c}].clientId`, `duplicate client id "${client.clientId}" (a client id must differ from the Tenant ID and from the tenant's other clients)`)
          clientIds.add(client.clientId)
          return { clientId: client.clientId, clientSecret: client.clientSecret, scopes: [...client.scopes] }
        })
        const { users, find } = resolveUsers(name, tenantPath, tenant)
        const ctx: ResolveContext = { source: name, tenantId: tenant.tenantId, path: '', ids: new Map(), references: new Map(), findUser: find }
        const audiences: AudienceSeed[] = []
        tenant.structures.forEach((structure, s) => {
          ctx.path = `${tenantPath}.structures[${s}]`
          const resolved = resolveAudience(ctx, structure, null)
          audiences.push(resolved)
          structure.audiences?.forEach((child, a) => {
            ctx.path = `${tenantPath}.structures[${s}].audiences[${a}]`
            audiences.push(resolveAudience(ctx, child, resolved))
          })
        })
        tenants.set(tenant.tenantId, { tenantId: tenant.tenantId, apiSecret: tenant.apiSecret, clients, users, audiences, source: name })
      })
    }
  }
  return { tenants: [...tenants.values()], sources: names, skipped }
}
