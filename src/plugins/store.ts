// Decorates the app with its own store, seeded once per app instance and closed with it.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Seed } from '../store/load-fixtures.js'
import { MemoryStore, type MemoryStoreOptions } from '../store/memory-store.js'
import type { Store } from '../store/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

/** Makes the app's store from its seed; the in-memory store unless another implementation is given. */
export type StoreFactory = (seed: Seed, options: MemoryStoreOptions) => Store

async function storePlugin (fastify: FastifyInstance, opts: { seed: Seed, createStore?: StoreFactory }) {
  const options = { now: () => fastify.clock.now() }
  const store = opts.createStore === undefined ? new MemoryStore(opts.seed, options) : opts.createStore(opts.seed, options)
  fastify.decorate('store', store)
  fastify.addHook('onClose', async () => { await store.close() })
  // A fixture directory may hold files that are not read (YAML, subfolders, notes): say which, so none is missed silently.
  fastify.log.info({ loaded: opts.seed.sources, skipped: opts.seed.skipped }, 'fixtures loaded')
}

export default fp(storePlugin, { name: 'store', dependencies: ['clock'] })
