// Decorates the app with its own audience store, seeded once per app instance.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Seed } from '../store/load-fixtures.js'
import { AudienceStore } from '../store/audience-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: AudienceStore
  }
}

async function storePlugin (fastify: FastifyInstance, opts: { seed: Seed }) {
  fastify.decorate('store', new AudienceStore(opts.seed))
  // A fixture directory may hold files that are not read (YAML, subfolders, notes): say which, so none is missed silently.
  fastify.log.info({ loaded: opts.seed.sources, skipped: opts.seed.skipped }, 'fixtures loaded')
}

export default fp(storePlugin, { name: 'store' })
