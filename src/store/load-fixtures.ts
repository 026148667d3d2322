// Reads fixture files, validates them against the fixture schema and resolves defaults into a seed.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Compile } from 'typebox/compile'
import { FixtureFile, type AudienceFixture, type StructureFixture } from '../schemas/fixtures.js'
import type { Audience } from '../schemas/audience.js'
import type { Scope } from '../schemas/oauth.js'

/** A fixture given as a file path, or inline (from the library API) with a name for messages. */
export type FixtureSource = { path: string } | { name: string, data: unknown }

export interface ClientSeed {
  clientId: string
  clientSecret: string
  scopes: Scope[]
}

export interface TenantSeed {
  tenantId: string
  apiSecret: string
  clients: ClientSeed[]
  audiences: Audience[]
  source: string
}

export interface Seed {
  tenants: TenantSeed[]
  sources: string[]
}

/** A fixture problem: names the source, the JSON path and what is wrong, so start-up can stop with one clear line. */
export class FixtureError extends Error {
  readonly source: string
  readonly path: string

  constructor (source: string, path: string, problem: string) {
    super(`${source}: ${path}: ${problem}`)
    this.name = 'FixtureError'
    this.source = source
    this.path = path
  }
}

const checkFixtureFile = Compile(FixtureFile)

/** JSON pointer (/tenants/0/name) to the JSONPath form people read ($.tenants[0].name). */
function toJsonPath (pointer: string): string {
  let out = '$'
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    out += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`
  }
  return out
}

function describeValue (value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function valueAt (data: unknown, pointer: string): unknown {
  let current = data
  for (const raw of pointer.split('/').slice(1)) {
    current = (current as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')]
  }
  return current
}

function validateShape (source: string, data: unknown): FixtureFile {
  if (checkFixtureFile.Check(data)) return data
  // Typebox reports an unknown field twice (as a false sub-schema and as additionalProperties); keep the readable one.
  const errors = [...checkFixtureFile.Errors(data)].filter((e) => e.keyword !== 'boolean')
  const first = errors[0]
  /* c8 ignore next - Check() failed, so there is always at least one reportable error */
  if (first === undefined) throw new FixtureError(source, '$', 'does not match the fixture schema')
  if (first.keyword === 'additionalProperties') {
    const extra = (first.params as { additionalProperties: string[] }).additionalProperties[0] ?? ''
    throw new FixtureError(source, toJsonPath(`${first.instancePath}/${extra}`), `unknown field "${extra}"`)
  }
  if (first.keyword === 'required') {
    const missing = (first.params as { requiredProperties: string[] }).requiredProperties[0] ?? ''
    throw new FixtureError(source, toJsonPath(`${first.instancePath}/${missing}`), 'required field is missing')
  }
  const params = first.params as { allowedValues?: unknown[] }
  const allowed = params.allowedValues === undefined ? '' : ` (one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`
  throw new FixtureError(source, toJsonPath(first.instancePath), `${first.message}${allowed}, got ${describeValue(valueAt(data, first.instancePath))}`)
}

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
}

function resolveAudience (
  ctx: ResolveContext,
  fixture: AudienceFixture | StructureFixture,
  parent: Audience | null
): Audience {
  const id = fixture.id ?? deriveId(ctx.tenantId, ...(parent === null ? [] : [parent.reference]), fixture.reference)
  const createdAt = fixture.createdAt === undefined ? deriveTimestamp(id) : new Date(fixture.createdAt).toISOString()
  const updatedAt = fixture.updatedAt === undefined ? createdAt : new Date(fixture.updatedAt).toISOString()
  const apiControlled = fixture.apiControlled ?? true
  const type = fixture.type ?? 'manual'

  const seenId = ctx.ids.get(id)
  if (seenId !== undefined) throw new FixtureError(ctx.source, `${ctx.path}.id`, `duplicate id "${id}" in tenant ${ctx.tenantId} (also at ${seenId})`)
  const seenRef = ctx.references.get(fixture.reference)
  if (seenRef !== undefined) throw new FixtureError(ctx.source, `${ctx.path}.reference`, `duplicate reference "${fixture.reference}" in tenant ${ctx.tenantId} (also at ${seenRef})`)
  if (updatedAt < createdAt) throw new FixtureError(ctx.source, `${ctx.path}.updatedAt`, `updatedAt ${updatedAt} is before createdAt ${createdAt}`)
  // Thrive: API-controlled audiences are always manual and live only inside API-created structures.
  if (apiControlled && type === 'smart') throw new FixtureError(ctx.source, `${ctx.path}.type`, 'an API-controlled audience is always "manual"; smart audiences are created in the Thrive UI (set apiControlled: false)')
  if (apiControlled && parent !== null && !parent.apiControlled) throw new FixtureError(ctx.source, `${ctx.path}.apiControlled`, 'an API-controlled audience can only live inside an API-controlled structure')
  ctx.ids.set(id, ctx.path)
  ctx.references.set(fixture.reference, ctx.path)

  return {
    id,
    name: fixture.name,
    reference: fixture.reference,
    apiControlled,
    category: parent === null ? 'structure' : 'audience',
    type,
    parent: parent === null ? null : { name: parent.name, reference: parent.reference, id: parent.id },
    createdAt,
    updatedAt
  }
}

function listSource (source: FixtureSource): Array<{ name: string, read: () => unknown }> {
  if ('data' in source) return [{ name: source.name, read: () => source.data }]
  const parse = (file: string) => () => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new FixtureError(file, '$', `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new FixtureError(file, '$', `invalid JSON: ${(err as Error).message}`)
    }
  }
  let stats
  try {
    stats = statSync(source.path)
  } catch {
    throw new FixtureError(source.path, '$', 'no such file or directory')
  }
  if (!stats.isDirectory()) return [{ name: source.path, read: parse(source.path) }]
  const files = readdirSync(source.path).filter((f) => f.endsWith('.json')).sort()
  if (files.length === 0) throw new FixtureError(source.path, '$', 'directory holds no .json fixture files')
  return files.map((f) => {
    const file = join(source.path, f)
    return { name: relative(process.cwd(), file) || file, read: parse(file) }
  })
}

/**
 * Loads every source, validates it and merges the tenants. Any problem throws a FixtureError before
 * anything is returned, so the server never starts half-loaded.
 */
export function loadFixtures (sources: FixtureSource[]): Seed {
  const tenants = new Map<string, TenantSeed>()
  const names: string[] = []
  for (const source of sources) {
    for (const { name, read } of listSource(source)) {
      names.push(name)
      const file = validateShape(name, read())
      file.tenants.forEach((tenant, t) => {
        const tenantPath = `$.tenants[${t}]`
        const previous = tenants.get(tenant.tenantId)
        if (previous !== undefined) throw new FixtureError(name, `${tenantPath}.tenantId`, `duplicate tenant "${tenant.tenantId}" (already defined in ${previous.source})`)
        const clientIds = new Set<string>([tenant.tenantId])
        const clients = (tenant.clients ?? []).map((client, c) => {
          if (clientIds.has(client.clientId)) throw new FixtureError(name, `${tenantPath}.clients[${c}].clientId`, `duplicate client id "${client.clientId}" (a client id must differ from the Tenant ID and from the tenant's other clients)`)
          clientIds.add(client.clientId)
          return { clientId: client.clientId, clientSecret: client.clientSecret, scopes: [...client.scopes] }
        })
        const ctx: ResolveContext = { source: name, tenantId: tenant.tenantId, path: '', ids: new Map(), references: new Map() }
        const audiences: Audience[] = []
        tenant.structures.forEach((structure, s) => {
          ctx.path = `${tenantPath}.structures[${s}]`
          const resolved = resolveAudience(ctx, structure, null)
          audiences.push(resolved)
          structure.audiences?.forEach((child, a) => {
            ctx.path = `${tenantPath}.structures[${s}].audiences[${a}]`
            audiences.push(resolveAudience(ctx, child, resolved))
          })
        })
        tenants.set(tenant.tenantId, { tenantId: tenant.tenantId, apiSecret: tenant.apiSecret, clients, audiences, source: name })
      })
    }
  }
  return { tenants: [...tenants.values()], sources: names }
}
