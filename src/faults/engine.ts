// The fault rule set: armed rules indexed by tenant, matched on every API and token request.
import { randomBytes } from 'node:crypto'
import { Compile } from 'typebox/compile'
import { CLOCK_RANGE, type MockClock } from '../clock.js'
import { firstProblem, toJsonPath } from '../data-file.js'
import { UnknownTenantError } from '../errors.js'
import { FaultRuleInput, RULE_LIMITS, type FaultEffect, type FaultRule } from '../schemas/faults.js'
import { prng } from './prng.js'

/** What a request looks like to a rule. */
export interface FaultContext {
  tenantId: string
  clientId: string | null
  method: string
  operation: string | undefined
  /** The request path without its query, as it came (percent-encoded). */
  path: string
  /**
   * The names under which the request's audience would be found by Thrive's lookup, as the tenant is now: its id,
   * and its reference unless another audience has that reference as id. Just the path value as sent when no
   * audience has it; null when the operation is about no audience.
   */
  audienceKeys: readonly string[] | null
}

export interface FiredFault {
  id: string
  effect: FaultEffect
  /** The delay to apply, jitter included. */
  delayMs: number
}

/** A rule that breaks the schema or a rule the schema cannot express; the route answers 400 with it. */
export class FaultRuleError extends Error {
  override name = 'FaultRuleError'
  /** The field, e.g. `effect.status`, or `rule` for the rule as a whole. */
  readonly field: string
  /** The same place as a JSONPath suffix, to append to where the rule sits (`.effect.status`, `["odd-key"]`, or ''). */
  readonly at: string
  readonly problem: string
  constructor (at: string, problem: string) {
    const field = at === '' ? 'rule' : at.startsWith('.') ? at.slice(1) : at
    super(`${field}: ${problem}`)
    this.field = field
    this.at = at
    this.problem = problem
  }
}

/** Arming one more rule would pass a cap on how many may be armed; the route answers 409 with it. */
export class FaultLimitError extends Error {
  override name = 'FaultLimitError'
}

const checkSchema = Compile(FaultRuleInput)

/**
 * A path as rules compare it: percent-decoded (so `sales%2Femea` and `%62ackend` read as what they name) and
 * without one trailing slash, which the router ignores too. A path that does not decode is compared as sent.
 */
export function normalisePath (path: string): string {
  const decoded = decodePath(path)
  return decoded.length > 1 && decoded.endsWith('/') ? decoded.slice(0, -1) : decoded
}

function decodePath (path: string): string {
  if (!path.includes('%')) return path
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

interface ArmedRule {
  rule: FaultRule
  expiresAtMs: number | null
  random: () => number
  /** Resolves a rule's audienceId (id or reference) to an id, per request tenant. */
  audienceKey: string | null
  /** match.path normalised; for a prefix rule, the prefix without its `*`. */
  pathKey: string | null
  pathIsPrefix: boolean
  seq: number
}

export interface FaultEngineOptions {
  clock: MockClock
  tenantExists: (tenantId: string) => boolean
}

export class FaultEngine {
  readonly #clock: MockClock
  readonly #options: FaultEngineOptions
  /** Per-tenant rules, so a tenant without rules costs one Map lookup. */
  readonly #byTenant = new Map<string, ArmedRule[]>()
  #global: ArmedRule[] = []
  #sequence = 0

  constructor (options: FaultEngineOptions) {
    this.#clock = options.clock
    this.#options = options
  }

  /**
   * The first problem with a rule, or null when it is sound: the schema first, then what the schema cannot
   * express, then whether the server knows the tenant it names. Every way in (HTTP, the library, the faults file)
   * arms through here, so all get the same checks.
   */
  check (input: unknown): FaultRuleError | UnknownTenantError | null {
    const invalid = firstProblem(checkSchema, input)
    if (invalid !== null) return new FaultRuleError(toJsonPath(invalid[0], ''), invalid[1])
    const { match, effect } = input as FaultRuleInput
    const problems: Array<[boolean, string, string]> = [
      [match.allTenants === true && match.tenantId !== undefined, 'match', 'give either tenantId or allTenants: true, not both'],
      [match.allTenants !== true && match.tenantId === undefined, 'match.tenantId', 'is required, so that one suite\'s faults never touch another\'s; set match.allTenants: true to target every tenant'],
      [effect.status === undefined && effect.delayMs === undefined && effect.transport === undefined, 'effect', 'needs at least one of status, delayMs or transport'],
      [effect.status !== undefined && effect.transport !== undefined, 'effect', 'status and transport cannot be combined'],
      [effect.hangMs !== undefined && effect.transport !== 'hang', 'effect.hangMs', 'only applies to transport "hang"'],
      [effect.jitterMs !== undefined && effect.delayMs === undefined, 'effect.jitterMs', 'only applies with delayMs'],
      [effect.retryAfterSeconds !== undefined && effect.status !== 429 && effect.status !== 503, 'effect.retryAfterSeconds', 'only applies to status 429 or 503'],
      [effect.message !== undefined && effect.status === undefined, 'effect.message', 'only applies with status'],
      [(input as FaultRuleInput).ttlMs !== undefined && this.#clock.now() + ((input as FaultRuleInput).ttlMs as number) > CLOCK_RANGE.maxMs, 'ttlMs', 'would expire after 9999-12-31T23:59:59.999Z, the last instant the mock clock can show']
    ]
    const found = problems.find(([bad]) => bad)
    if (found !== undefined) return new FaultRuleError(`.${found[1]}`, found[2])
    // Last: a rule wrong in itself is wrong whichever tenant it names. A sound rule for a tenant the server does not
    // know gets the control plane's one answer for that (404 over HTTP).
    return match.tenantId !== undefined && !this.#options.tenantExists(match.tenantId) ? new UnknownTenantError(match.tenantId) : null
  }

  /** Arms a rule; throws FaultRuleError for a bad rule, UnknownTenantError for an unknown tenant and FaultLimitError when a cap is reached. */
  add (input: FaultRuleInput): FaultRule {
    const problem = this.check(input)
    if (problem !== null) throw problem
    const { match, effect } = input
    this.#prune()
    const tenantCount = match.tenantId === undefined ? 0 : this.#byTenant.get(match.tenantId)?.length ?? 0
    if (tenantCount >= RULE_LIMITS.perTenant) {
      throw new FaultLimitError(`tenant "${match.tenantId as string}" already has ${RULE_LIMITS.perTenant} armed fault rules, the most one tenant may have: remove some first (DELETE /__mock/faults?tenantId=…)`)
    }
    if (this.#count() >= RULE_LIMITS.total) {
      throw new FaultLimitError(`${RULE_LIMITS.total} fault rules are armed, the most this server holds: remove some first (DELETE /__mock/faults)`)
    }
    const now = this.#clock.now()
    const seed = input.seed ?? randomBytes(4).readUInt32BE(0)
    this.#sequence += 1
    const rule: FaultRule = {
      id: `fault-${this.#sequence}-${randomBytes(3).toString('hex')}`,
      ...(input.name === undefined ? {} : { name: input.name }),
      match: { ...match, ...(match.method === undefined ? {} : { method: match.method.toUpperCase() }) },
      effect: { ...effect },
      ...(input.times === undefined ? {} : { times: input.times }),
      ...(input.probability === undefined ? {} : { probability: input.probability }),
      seed,
      ...(input.ttlMs === undefined ? {} : { ttlMs: input.ttlMs }),
      createdAt: new Date(now).toISOString(),
      expiresAt: input.ttlMs === undefined ? null : new Date(now + input.ttlMs).toISOString(),
      fired: 0,
      remaining: input.times ?? null
    }
    // Kept as given: the request side says which names its audience answers to when it arrives, so a rule follows
    // an audience that is renamed, created or deleted after the rule was armed.
    const audienceKey = match.audienceId ?? null
    const pathIsPrefix = match.path?.endsWith('*') ?? false
    // A prefix keeps its trailing slash, so `/a/*` never matches `/ab`.
    const pathKey = match.path === undefined ? null : pathIsPrefix ? decodePath(match.path.slice(0, -1)) : normalisePath(match.path)
    const armed: ArmedRule = { rule, expiresAtMs: input.ttlMs === undefined ? null : now + input.ttlMs, random: prng(seed), audienceKey, pathKey, pathIsPrefix, seq: this.#sequence }
    if (match.tenantId === undefined) this.#global.push(armed)
    else this.#byTenant.set(match.tenantId, [...(this.#byTenant.get(match.tenantId) ?? []), armed])
    return structuredClone(rule)
  }

  /** Whether any rule could match a request of this tenant: the cheap check on the hot path. */
  armedFor (tenantId: string): boolean {
    return this.#global.length > 0 || this.#byTenant.has(tenantId)
  }

  /** The first armed rule that matches and fires, or null. Counts the fire and retires spent rules. */
  match (ctx: FaultContext): FiredFault | null {
    const tenantRules = this.#byTenant.get(ctx.tenantId) ?? []
    const global = this.#global
    const now = this.#clock.now()
    const path = normalisePath(ctx.path)
    // Both lists are in arming order; walking them as one merged list keeps "the first rule armed wins" true
    // whether a rule names the tenant or every tenant.
    let t = 0
    let g = 0
    while (t < tenantRules.length || g < global.length) {
      const nextTenant = tenantRules[t]
      const nextGlobal = global[g]
      let armed: ArmedRule
      if (nextGlobal === undefined || (nextTenant !== undefined && nextTenant.seq < nextGlobal.seq)) {
        armed = nextTenant as ArmedRule
        t += 1
      } else {
        armed = nextGlobal
        g += 1
      }
      if (armed.expiresAtMs !== null && armed.expiresAtMs <= now) continue
      if (!this.#matches(armed, ctx, path)) continue
      const { rule } = armed
      // Each matching request draws once, so a seed gives the same fire/skip sequence every run.
      if (rule.probability !== undefined && armed.random() >= rule.probability) continue
      rule.fired += 1
      if (rule.remaining !== null) rule.remaining -= 1
      if (rule.remaining === 0) this.#retire(armed)
      const jitter = rule.effect.jitterMs === undefined ? 0 : Math.floor(armed.random() * (rule.effect.jitterMs + 1))
      return { id: rule.id, effect: rule.effect, delayMs: (rule.effect.delayMs ?? 0) + jitter }
    }
    return null
  }

  #matches (armed: ArmedRule, ctx: FaultContext, path: string): boolean {
    const m = armed.rule.match
    if (m.clientId !== undefined && m.clientId !== ctx.clientId) return false
    if (m.method !== undefined && m.method !== ctx.method) return false
    if (m.route !== undefined && m.route !== ctx.operation) return false
    if (armed.pathKey !== null && !(armed.pathIsPrefix ? path.startsWith(armed.pathKey) : path === armed.pathKey)) return false
    if (armed.audienceKey !== null && ctx.audienceKeys?.includes(armed.audienceKey) !== true) return false
    return true
  }

  #retire (armed: ArmedRule): void {
    const tenantId = armed.rule.match.tenantId
    if (tenantId === undefined) {
      this.#global = this.#global.filter((a) => a !== armed)
      return
    }
    const left = (this.#byTenant.get(tenantId) as ArmedRule[]).filter((a) => a !== armed)
    if (left.length === 0) this.#byTenant.delete(tenantId)
    else this.#byTenant.set(tenantId, left)
  }

  #count (): number {
    let count = this.#global.length
    for (const list of this.#byTenant.values()) count += list.length
    return count
  }

  #prune (): void {
    const now = this.#clock.now()
    for (const armed of [...this.#global, ...[...this.#byTenant.values()].flat()]) {
      if (armed.expiresAtMs !== null && armed.expiresAtMs <= now) this.#retire(armed)
    }
  }

  /** Live rules, oldest first; `tenantId` keeps only that tenant's rules. */
  list (tenantId?: string): FaultRule[] {
    this.#prune()
    const all = tenantId === undefined ? [...[...this.#byTenant.values()].flat(), ...this.#global] : this.#byTenant.get(tenantId) ?? []
    return [...all].sort((a, b) => a.seq - b.seq).map((a) => structuredClone(a.rule))
  }

  get (id: string): FaultRule | undefined {
    return this.list().find((r) => r.id === id)
  }

  remove (id: string): boolean {
    const armed = [...this.#global, ...[...this.#byTenant.values()].flat()].find((a) => a.rule.id === id)
    if (armed === undefined) return false
    this.#retire(armed)
    return true
  }

  /** Removes every rule, or only one tenant's; returns how many went. */
  clear (tenantId?: string): number {
    if (tenantId === undefined) {
      const count = this.#count()
      this.#global = []
      this.#byTenant.clear()
      return count
    }
    const count = this.#byTenant.get(tenantId)?.length ?? 0
    this.#byTenant.delete(tenantId)
    return count
  }
}
