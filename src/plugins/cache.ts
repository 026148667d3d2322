// One bounded cache per app for work that repeats on every request of a client (credential and token checks),
// invalidated by the store's version of the tenant an entry belongs to.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import type { Store } from '../store/store.js'

/** Cache keys are whole Authorization values, so entries are bounded by bytes as well as by count. */
export const CACHE_LIMITS = { entries: 10_000, bytes: 16 * 1024 * 1024 }
/** Counted for each entry beyond its key: the value object and the LRU's own bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256

interface Entry {
  tenantId: string
  version: number
  value: unknown
}

export class AppCache {
  readonly #store: Store
  readonly #lru = new LRUCache<string, Entry>({
    max: CACHE_LIMITS.entries,
    maxSize: CACHE_LIMITS.bytes,
    sizeCalculation: (_entry, key) => key.length * 2 + ENTRY_OVERHEAD_BYTES
  })

  constructor (store: Store) {
    this.#store = store
  }

  /** The value kept under `key`, unless its tenant has changed since (a write or a reset): then it is dropped. */
  get<T> (key: string): T | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    if (entry.version !== this.#store.version(entry.tenantId)) {
      this.#lru.delete(key)
      return undefined
    }
    return entry.value as T
  }

  /** Keeps `value` under `key` for as long as the tenant's data stays at its current version. */
  set (key: string, tenantId: string, value: unknown): void {
    this.#lru.set(key, { tenantId, version: this.#store.version(tenantId), value })
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    cache: AppCache
  }
}

async function cachePlugin (fastify: FastifyInstance) {
  fastify.decorate('cache', new AppCache(fastify.store))
}

export default fp(cachePlugin, { name: 'cache', dependencies: ['store'] })
