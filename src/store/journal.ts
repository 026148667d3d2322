// The request journal: a fixed-size ring of recent requests, never holding a secret or an Authorization value.
/**
 * The path of a request URL. Logs and the journal keep only this: a query string can carry a token or a
 * secret (RFC 6750 §2.3 warns that URLs end up in logs), even though this server never reads one there.
 */
export function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

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
    const slot = this.#ring[this.#next]
    if (slot === undefined) {
      this.#ring[this.#next] = { time: entry.time, method: entry.method, url: entry.url, tenantId: entry.tenantId, clientId: entry.clientId, status: entry.status, fault: entry.fault, transport: entry.transport, durationMs: entry.durationMs, seq: this.#seq }
    } else {
      // Once the ring is full, the oldest slot is overwritten in place: the journal stops allocating.
      // Slots never leave this class (list() copies), so reuse is invisible outside.
      slot.time = entry.time
      slot.method = entry.method
      slot.url = entry.url
      slot.tenantId = entry.tenantId
      slot.clientId = entry.clientId
      slot.status = entry.status
      slot.fault = entry.fault
      slot.transport = entry.transport
      slot.durationMs = entry.durationMs
      slot.seq = this.#seq
    }
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
