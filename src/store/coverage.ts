// Contract coverage: per tenant, per operation, how many requests got each status, and the violations they carried.
import { API_PREFIX, OPERATION_IDS, OPERATIONS, type Operation } from '../operations.js'
import type { CoverageReport, OperationCoverage, StatusCount, ViolationCount } from '../schemas/coverage.js'
import type { Violation } from '../schemas/violations.js'

/** Most distinct violation codes one tenant's tally keeps; the codes are a fixed set, so this only guards a bug. */
export const MAX_VIOLATION_CODES = 100

/** The path an operation is documented at in /openapi.json: audience operations under API_PREFIX. */
export function documentedPath (operation: Operation): string {
  const path = operation.access === 'client' ? operation.path : `${API_PREFIX}${operation.path}`
  return path.replace(/:(\w+)/g, '{$1}')
}

/** The statuses an operation documents: its successes and every error status of its response schema. */
export function documentedStatuses (operation: Operation): number[] {
  return Object.keys(operation.schema.response as Record<string, unknown>).map(Number).sort((a, b) => a - b)
}

const DOCUMENTED = new Map<string, ReadonlySet<number>>(OPERATION_IDS.map((id) => [id, new Set(documentedStatuses(OPERATIONS[id]))]))

/** Status (null: no response) -> count, per operationId. */
type StatusTally = Map<number | null, number>

interface Tally {
  requests: number
  operations: Map<string, StatusTally>
  violations: Map<string, { count: number, example: Violation }>
}

function newTally (): Tally {
  return { requests: 0, operations: new Map(OPERATION_IDS.map((id) => [id, new Map()])), violations: new Map() }
}

/** Where a status sorts: null (no response) after every number. */
function rank (status: number | null): number {
  return status === null ? Infinity : status
}

/** Ascending, null (no response) last. Keys are distinct, so at most one side is null. */
export function byStatus (a: number | null, b: number | null): number {
  return rank(a) - rank(b)
}

export class Coverage {
  /** One tally per known tenant, and one (key null) for requests that authenticated as no tenant. */
  #tallies = new Map<string | null, Tally>()

  /**
   * Counts one answered request. Called for every operation request, so it costs three Map lookups and an
   * increment; a request with violations also counts each.
   */
  record (tenantId: string | null, operationId: string, status: number | null, violations: readonly Violation[]): void {
    let tally = this.#tallies.get(tenantId)
    if (tally === undefined) {
      tally = newTally()
      this.#tallies.set(tenantId, tally)
    }
    tally.requests++
    const statuses = tally.operations.get(operationId) as StatusTally
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    for (const violation of violations) {
      const seen = tally.violations.get(violation.code)
      if (seen !== undefined) seen.count++
      else if (tally.violations.size < MAX_VIOLATION_CODES) tally.violations.set(violation.code, { count: 1, example: { ...violation } })
    }
  }

  /** Forgets one tenant's tally, or (no tenant) every tally, the unauthenticated one included. */
  clear (tenantId?: string): void {
    if (tenantId === undefined) this.#tallies.clear()
    else this.#tallies.delete(tenantId)
  }

  /** One tenant's report; with no tenant, the whole server's: every tally merged. */
  report (tenantId?: string): CoverageReport {
    const tallies = tenantId === undefined ? [...this.#tallies.values()] : [this.#tallies.get(tenantId) ?? newTally()]
    const operations: OperationCoverage[] = OPERATION_IDS.map((id) => {
      const operation = OPERATIONS[id]
      const documented = DOCUMENTED.get(id) as ReadonlySet<number>
      const counts = new Map<number | null, number>([...documented].map((status) => [status, 0]))
      for (const tally of tallies) {
        for (const [status, count] of tally.operations.get(id) as StatusTally) counts.set(status, (counts.get(status) ?? 0) + count)
      }
      const statuses: StatusCount[] = [...counts.keys()].sort(byStatus).map((status) => ({
        status,
        documented: status !== null && documented.has(status),
        count: counts.get(status) as number
      }))
      return {
        operationId: id,
        method: operation.method,
        path: documentedPath(operation),
        statuses,
        neverSeen: statuses.filter((s) => s.documented && s.count === 0).map((s) => s.status as number)
      }
    })
    const violations = new Map<string, ViolationCount>()
    for (const tally of tallies) {
      for (const [code, seen] of tally.violations) {
        const merged = violations.get(code)
        if (merged === undefined) violations.set(code, { code, count: seen.count, example: { ...seen.example } })
        else merged.count += seen.count
      }
    }
    return {
      tenantId: tenantId ?? null,
      requests: tallies.reduce((sum, tally) => sum + tally.requests, 0),
      operations,
      violations: [...violations.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
    }
  }
}
