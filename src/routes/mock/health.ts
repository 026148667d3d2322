// GET /__mock/health: liveness plus what is loaded. Never needs credentials.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const Health = Type.Object({
  status: Type.Literal('ok'),
  tenants: Type.Integer({ description: 'Tenants loaded' }),
  audiences: Type.Integer({ description: 'Structures and child audiences loaded, over all tenants' }),
  sources: Type.Array(Type.String(), { description: 'Fixture sources, in load order' }),
  generated: Type.Integer({ description: 'Faker-generated audiences per tenant' }),
  uptimeSeconds: Type.Number()
}, { additionalProperties: false })

export default async function healthRoute (fastify: FastifyInstance, opts: { generated: number }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const started = Date.now()
  app.get('/health', {
    config: { journal: false },
    schema: { operationId: 'health', summary: 'Liveness and what is loaded', tags: ['Mock control'], response: { 200: Health } }
  }, async function health () {
    const { tenants, audiences } = await fastify.store.stats()
    return {
      status: 'ok' as const,
      tenants,
      audiences,
      sources: [...fastify.store.sources],
      generated: opts.generated,
      uptimeSeconds: (Date.now() - started) / 1000
    }
  })
}
