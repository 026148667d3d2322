// The request journal: a fixed-size ring of recent requests, never holding a secret or an Authorization value.
export interface JournalRecord {
  /** Request time, epoch ms by the mock clock. */
  time: number
  method: string
  /** The raw URL; the query is cut off only when read, to keep the hot path cheap. */
  url: string
  tenantId: string | null
  clientId: string | null
  /** null when a transport fault left no status (reset, hang, empty). */
  status: number | null
  fault: string | null
  transport: string | null
  durationMs: number
}

export interface JournalEntry extends Omit<JournalRecord, 'time' | 'url'> {
  seq: number
  time: string
  path: string
}

export interface JournalQuery {
  tenantId?: string
  limit?: number
  /** Only entries after this instant (ISO date-time). */
  since?: string
}

export class Journal {
  readonly size: number
  #ring: Array<(JournalRecord & { seq: number }) | undefined>
  #next = 0
  #seq = 0

  constructor (size: number) {
    this.size = size
    this.#ring = new Array(size)
  }

  record (entry: JournalRecord): void {
    if (this.size === 0) return
    this.#seq += 1
    this.#ring[this.#next] = { ...entry, seq: this.#seq }
    this.#next = (this.#next + 1) % this.size
  }

  /** Newest first. */
  list (query: JournalQuery = {}): JournalEntry[] {
    const since = query.since === undefined ? -Infinity : Date.parse(query.since)
    const limit = query.limit ?? this.size
    const out: JournalEntry[] = []
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const r = this.#ring[(this.#next - i + this.size) % this.size]
      if (r === undefined) break
      if (query.tenantId !== undefined && r.tenantId !== query.tenantId) continue
      if (Math.floor(r.time) <= since) continue
      const q = r.url.indexOf('?')
      out.push({
        seq: r.seq,
        time: new Date(Math.floor(r.time)).toISOString(),
        method: r.method,
        path: q === -1 ? r.url : r.url.slice(0, q),
        tenantId: r.tenantId,
        clientId: r.clientId,
        status: r.status,
        fault: r.fault,
        transport: r.transport,
        durationMs: r.durationMs
      })
    }
    return out
  }

  /** Forgets every entry, or one tenant's; returns how many went. */
  clear (tenantId?: string): number {
    const kept = tenantId === undefined ? [] : this.#inOrder().filter((r) => r.tenantId !== tenantId)
    const removed = this.#inOrder().length - kept.length
    this.#ring = new Array(this.size)
    this.#next = 0
    for (const r of kept) {
      this.#ring[this.#next] = r
      this.#next = (this.#next + 1) % this.size
    }
    return removed
  }

  #inOrder (): Array<JournalRecord & { seq: number }> {
    const out = []
    for (let i = this.size; i >= 1; i--) {
      const r = this.#ring[(this.#next - i + this.size) % this.size]
      if (r !== undefined) out.push(r)
    }
    return out
  }
}
