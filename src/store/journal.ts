// The request journal: a bounded ring per tenant and a small one for unauthenticated traffic, all under one byte
// budget; it never holds a secret, an Authorization value or a raw query string.
import { unescape } from 'node:querystring'
import type { JournalEntry, JournalQuery, JournalQueryParams } from '../schemas/journal.js'
import { NO_VIOLATIONS, type Violation } from '../schemas/violations.js'

/**
 * The path of a request URL. Logs keep only this: a query string can carry a token or a secret
 * (RFC 6750 §2.3 warns that URLs end up in logs), even though this server never reads one there.
 */
export function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** Most bytes the journal's entries may hold, whatever the journal size and however many tenants. */
export const JOURNAL_BYTE_BUDGET = 64 * 1024 * 1024
/** Entries kept for requests with no known tenant, so that traffic can never push a tenant's entries out. */
export const ANONYMOUS_RING_SIZE = 100
/** How much of a request each entry keeps; anything longer is cut, ends with TRUNCATION_MARKER and sets `truncated`. */
export const JOURNAL_LIMITS = Object.freeze({ pathChars: 2048, idChars: 256, queryParams: 32, queryNameChars: 64, queryValueChars: 256 })
export const TRUNCATION_MARKER = '…'
/** Stands for the value of a query parameter whose name says it is a credential. */
export const REDACTED = '[redacted]'

// What an entry costs beyond its strings: the entry object, its boxed numbers and its ring slot; a query's
// dictionary object; each parameter's property. Strings count 2 bytes a character, the most a JavaScript string
// takes. Checked against V8's heap: the accounted bytes are at least the heap an entry holds.
const ENTRY_BYTES = 200
const QUERY_BYTES = 256
const PARAM_BYTES = 64
const RING_BYTES = 4096
// A violation's object and its slot in the entry's array; its strings count as the others do.
const VIOLATION_BYTES = 96
// A parameter is a credential when its name says so (access_token is RFC 6750 §2.3's, client_secret RFC 6749's).
const CREDENTIAL_NAME = /token|secret|passw|pwd|api[-_]?key|auth|credential|signature|session|assertion|^code$|^key$/i
const CHUNK_BITS = 8
const CHUNK = 1 << CHUNK_BITS

/** What the server knows of a request when it ends; the journal derives its entry from this. */
export type JournalRecord = Omit<JournalEntry, 'seq' | 'time' | 'path' | 'query' | 'truncated' | 'violations' | 'violationsNotListed'> & {
  /** When the request arrived, epoch ms by the mock clock as it read then. */
  time: number
  /** The raw URL; the journal keeps its path and a bounded, parsed copy of its query, never the URL itself. */
  url: string
  /** The request's contract violations (already bounded and cut by the checker); none when absent. */
  violations?: readonly Violation[]
  violationsNotListed?: number
}

export interface JournalOptions {
  /** Defaults to JOURNAL_BYTE_BUDGET. */
  budgetBytes?: number
  /**
   * The stored spelling of a known tenant's id, or undefined for an unknown one, whose requests (a token request
   * naming any tenant in its path) go to the anonymous ring. Without it, every tenant id is taken as known.
   */
  tenantKey?: (tenantId: string) => string | undefined
}

export interface JournalUsage {
  entries: number
  /** The accounted bytes: entries' strings and fixed costs, and each open ring. */
  bytes: number
  budgetBytes: number
  rings: number
}

/** An entry as held: its time still a number, its query not yet copied out (null for none), and what it costs. */
type Slot = Omit<JournalEntry, 'time' | 'query' | 'violations'> & { time: number, query: JournalQueryParams | null, violations: readonly Violation[], bytes: number }

/**
 * A copy that shares no memory with its source. V8 makes a slice of 13 characters or more a view that keeps the whole
 * parent alive, so a slice of a URL would keep its query string: flattening a concatenation copies the characters.
 */
function detach (s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1)
}

/** At most max characters, never splitting a surrogate pair. */
function cut (s: string, max: number): string {
  const end = (s.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max
  return s.slice(0, end) + TRUNCATION_MARKER
}

function decode (raw: string): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw
  // querystring.unescape falls back to a lenient decoder, so a malformed escape is kept rather than thrown.
  return unescape(raw.replaceAll('+', ' '))
}

interface ParsedQuery { params: JournalQueryParams, truncated: boolean, bytes: number }

/** The query that starts at url[start], parsed and bounded without ever copying the whole of it. */
function parseQuery (url: string, start: number): ParsedQuery {
  // No prototype: a parameter named __proto__ is just a name.
  const params: JournalQueryParams = Object.create(null)
  let truncated = false
  let bytes = QUERY_BYTES
  let kept = 0
  let from = start
  while (from < url.length) {
    let end = url.indexOf('&', from)
    if (end === -1) end = url.length
    if (end > from) {
      if (kept === JOURNAL_LIMITS.queryParams) {
        truncated = true
        break
      }
      let eq = url.indexOf('=', from)
      if (eq === -1 || eq > end) eq = end
      let name = decode(url.slice(from, eq))
      if (name.length > JOURNAL_LIMITS.queryNameChars) {
        name = cut(name, JOURNAL_LIMITS.queryNameChars)
        truncated = true
      }
      name = detach(name)
      let value = eq === end ? '' : decode(url.slice(eq + 1, end))
      if (CREDENTIAL_NAME.test(name)) {
        value = REDACTED
      } else if (value.length > JOURNAL_LIMITS.queryValueChars) {
        value = cut(value, JOURNAL_LIMITS.queryValueChars)
        truncated = true
      }
      value = detach(value)
      const existing = params[name]
      if (existing === undefined) params[name] = value
      else if (typeof existing === 'string') params[name] = [existing, value]
      else existing.push(value)
      bytes += PARAM_BYTES + 2 * (name.length + value.length)
      kept++
    }
    from = end + 1
  }
  return { params, truncated, bytes }
}

function copyQuery (params: JournalQueryParams | null): JournalQueryParams {
  const out: JournalQueryParams = Object.create(null)
  if (params === null) return out
  for (const name in params) {
    const value = params[name] as string | string[]
    out[name] = typeof value === 'string' ? value : [...value]
  }
  return out
}

/**
 * Oldest-first queue of up to `capacity` slots in chunks of CHUNK, so a ring holds memory only for the entries
 * it has (a large journal size costs nothing until used) and gives it back as the budget drops its oldest.
 */
class Ring {
  readonly capacity: number
  readonly key: string | null
  count = 0
  bytes = 0
  #chunks: Array<Array<Slot | undefined>> = []
  #head = 0

  constructor (capacity: number, key: string | null) {
    this.capacity = capacity
    this.key = key
  }

  push (slot: Slot): void {
    const pos = this.#head + this.count
    const chunk = this.#chunks[pos >>> CHUNK_BITS] ?? this.#grow()
    chunk[pos & (CHUNK - 1)] = slot
    this.count++
    this.bytes += slot.bytes
  }

  #grow (): Array<Slot | undefined> {
    const chunk = new Array<Slot | undefined>(CHUNK)
    this.#chunks.push(chunk)
    return chunk
  }

  /** Removes and returns the oldest slot; only called when count > 0. */
  shift (): Slot {
    const chunk = this.#chunks[0] as Array<Slot | undefined>
    const slot = chunk[this.#head] as Slot
    chunk[this.#head] = undefined
    this.count--
    this.bytes -= slot.bytes
    this.#head++
    if (this.#head === CHUNK || this.count === 0) {
      if (this.#head === CHUNK) this.#chunks.shift()
      this.#head = 0
    }
    return slot
  }

  /** The i-th newest slot, 0 being the newest. */
  newest (i: number): Slot {
    const pos = this.#head + this.count - 1 - i
    return (this.#chunks[pos >>> CHUNK_BITS] as Array<Slot | undefined>)[pos & (CHUNK - 1)] as Slot
  }

  oldestSeq (): number {
    return this.count === 0 ? Infinity : this.newest(this.count - 1).seq
  }

  /** Drops every slot the predicate picks, keeping the others in order; returns how many went. */
  removeWhere (drop: (slot: Slot) => boolean): number {
    const kept: Slot[] = []
    const before = this.count
    while (this.count > 0) {
      const slot = this.shift()
      if (!drop(slot)) kept.push(slot)
    }
    for (const slot of kept) this.push(slot)
    return before - kept.length
  }
}

export class Journal {
  readonly size: number
  readonly budgetBytes: number
  readonly #tenantKey: (tenantId: string) => string | undefined
  #rings = new Map<string, Ring>()
  #anonymous: Ring
  #bytes = 0
  #seq = 0

  constructor (size: number, options: JournalOptions = {}) {
    this.size = size
    this.budgetBytes = options.budgetBytes ?? JOURNAL_BYTE_BUDGET
    this.#tenantKey = options.tenantKey ?? ((tenantId) => tenantId)
    this.#anonymous = new Ring(Math.min(size, ANONYMOUS_RING_SIZE), null)
  }

  record (entry: JournalRecord): void {
    if (this.size === 0) return
    const key = entry.tenantId === null ? undefined : this.#tenantKey(entry.tenantId)
    const ring = key === undefined ? this.#anonymous : this.#rings.get(key) ?? this.#open(key)
    this.#seq += 1
    let slot: Slot
    if (ring.count === ring.capacity) {
      // Once a ring is full, its oldest slot is refilled in place: a full journal stops allocating entries.
      // Slots never leave this class (list() copies), so reuse is invisible outside.
      slot = ring.shift()
      this.#bytes -= slot.bytes
    } else {
      slot = { seq: 0, time: 0, method: '', path: '', query: null, truncated: false, tenantId: null, clientId: null, status: null, fault: null, transport: null, durationMs: 0, violations: NO_VIOLATIONS, violationsNotListed: 0, bytes: 0 }
    }
    this.#fill(slot, entry, ring.key)
    ring.push(slot)
    this.#bytes += slot.bytes
    while (this.#bytes > this.budgetBytes && this.#dropOldest());
  }

  #fill (slot: Slot, entry: JournalRecord, tenantKey: string | null): void {
    const url = entry.url
    const q = url.indexOf('?')
    let truncated = false
    let path = q === -1 ? url : url.slice(0, q)
    if (path.length > JOURNAL_LIMITS.pathChars) {
      path = detach(cut(path, JOURNAL_LIMITS.pathChars))
      truncated = true
    } else if (q !== -1) {
      path = detach(path)
    }
    let bytes = ENTRY_BYTES + 2 * path.length
    slot.query = null
    if (q !== -1) {
      const parsed = parseQuery(url, q + 1)
      slot.query = parsed.params
      truncated ||= parsed.truncated
      bytes += parsed.bytes
    }
    let tenantId = tenantKey
    if (tenantId === null && entry.tenantId !== null) {
      // An unknown tenant named in a token request's path: as long and as kept-alive as that URL, unless cut and copied.
      tenantId = entry.tenantId.length > JOURNAL_LIMITS.idChars ? cut(entry.tenantId, JOURNAL_LIMITS.idChars) : entry.tenantId
      truncated ||= tenantId !== entry.tenantId
      tenantId = detach(tenantId)
    }
    let clientId = entry.clientId
    if (clientId !== null && clientId === tenantId) {
      clientId = tenantId
    } else if (clientId !== null) {
      // A token request's client_id comes from its body, and a slice of it would keep the whole body.
      if (clientId.length > JOURNAL_LIMITS.idChars) {
        clientId = cut(clientId, JOURNAL_LIMITS.idChars)
        truncated = true
      }
      clientId = detach(clientId)
    }
    bytes += 2 * ((tenantId?.length ?? 0) + (clientId?.length ?? 0))
    const violations = entry.violations ?? NO_VIOLATIONS
    slot.violations = NO_VIOLATIONS
    if (violations.length > 0) {
      // A location names a query or body field, and a slice of it would keep the whole URL or body alive.
      slot.violations = violations.map((v) => ({ location: detach(v.location), code: v.code, message: v.message }))
      for (const v of violations) bytes += VIOLATION_BYTES + 2 * (v.location.length + v.code.length + v.message.length)
    }
    slot.violationsNotListed = entry.violationsNotListed ?? 0
    slot.seq = this.#seq
    slot.time = entry.time
    slot.method = entry.method
    slot.path = path
    slot.truncated = truncated
    slot.tenantId = tenantId
    slot.clientId = clientId
    slot.status = entry.status
    slot.fault = entry.fault
    slot.transport = entry.transport
    slot.durationMs = entry.durationMs
    slot.bytes = bytes
  }

  #open (key: string): Ring {
    const ring = new Ring(this.size, detach(key))
    this.#rings.set(ring.key as string, ring)
    this.#bytes += RING_BYTES
    return ring
  }

  #close (ring: Ring): void {
    this.#rings.delete(ring.key as string)
    this.#bytes -= RING_BYTES + ring.bytes
  }

  /** Drops the oldest entry of the whole journal; false when there is none. */
  #dropOldest (): boolean {
    let oldest = this.#anonymous
    for (const ring of this.#rings.values()) if (ring.oldestSeq() < oldest.oldestSeq()) oldest = ring
    /* c8 ignore next - unreachable while the accounting is exact (no entries means 0 bytes); it stops a drift from looping forever */
    if (oldest.count === 0) return false
    this.#bytes -= oldest.shift().bytes
    // An emptied tenant ring goes, so the rings' own cost is held only by tenants that have entries.
    if (oldest.count === 0 && oldest !== this.#anonymous) this.#close(oldest)
    return true
  }

  /** Newest first: one tenant's ring, or every ring merged by sequence number. */
  list (query: JournalQuery = {}): JournalEntry[] {
    const since = query.since === undefined ? -Infinity : Date.parse(query.since)
    const limit = query.limit ?? Infinity
    const tenantId = query.tenantId
    let rings: Ring[]
    let keep = (slot: Slot) => Math.floor(slot.time) > since
    if (tenantId === undefined) {
      rings = [this.#anonymous, ...this.#rings.values()]
    } else {
      const key = this.#tenantKey(tenantId)
      if (key === undefined) {
        // An unknown tenant's requests sit in the anonymous ring, under the id they named.
        rings = [this.#anonymous]
        keep = (slot) => slot.tenantId === tenantId && Math.floor(slot.time) > since
      } else {
        const ring = this.#rings.get(key)
        rings = ring === undefined ? [] : [ring]
      }
    }
    const cursors = rings.map(() => 0)
    const out: JournalEntry[] = []
    while (out.length < limit) {
      let best = -1
      let bestSeq = -Infinity
      for (let r = 0; r < rings.length; r++) {
        const ring = rings[r] as Ring
        let c = cursors[r] as number
        while (c < ring.count && !keep(ring.newest(c))) c++
        cursors[r] = c
        if (c < ring.count && ring.newest(c).seq > bestSeq) {
          best = r
          bestSeq = ring.newest(c).seq
        }
      }
      if (best === -1) break
      const s = (rings[best] as Ring).newest(cursors[best] as number)
      cursors[best] = (cursors[best] as number) + 1
      out.push({
        seq: s.seq,
        time: new Date(Math.floor(s.time)).toISOString(),
        method: s.method,
        path: s.path,
        query: copyQuery(s.query),
        truncated: s.truncated,
        tenantId: s.tenantId,
        clientId: s.clientId,
        status: s.status,
        fault: s.fault,
        transport: s.transport,
        durationMs: s.durationMs,
        violations: s.violations.map((v) => ({ ...v })),
        violationsNotListed: s.violationsNotListed
      })
    }
    return out
  }

  /** Forgets every entry, or one tenant's; returns how many went. */
  clear (tenantId?: string): number {
    if (tenantId === undefined) {
      const removed = this.usage().entries
      this.#rings.clear()
      this.#anonymous = new Ring(this.#anonymous.capacity, null)
      this.#bytes = 0
      return removed
    }
    let removed = 0
    const key = this.#tenantKey(tenantId)
    const ring = key === undefined ? undefined : this.#rings.get(key)
    if (ring !== undefined) {
      removed += ring.count
      this.#close(ring)
    }
    const before = this.#anonymous.bytes
    removed += this.#anonymous.removeWhere((slot) => slot.tenantId === tenantId)
    this.#bytes -= before - this.#anonymous.bytes
    return removed
  }

  /** What the journal holds, against its budget. */
  usage (): JournalUsage {
    let entries = this.#anonymous.count
    for (const ring of this.#rings.values()) entries += ring.count
    return { entries, bytes: this.#bytes, budgetBytes: this.budgetBytes, rings: this.#rings.size }
  }
}
