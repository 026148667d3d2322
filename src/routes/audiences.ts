// GET /audiences/{audienceId}: one audience of the caller's tenant, by id or by reference.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFoundMessage } from '../errors.js'
import { OPERATIONS, routeOptions } from '../operations.js'
import { sendError } from '../plugins/errors.js'
import type { AudienceParams } from '../schemas/audience.js'
import type { TenantRepository } from '../store/store.js'

/** Long ids are cut in messages so an error body stays small. */
const MAX_ECHO = 100

export default async function audienceRoutes (fastify: FastifyInstance, opts: { hide?: boolean }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { store } = fastify
  const tenantOf = (tenantId: string) => store.tenant(tenantId) as TenantRepository

  app.get<{ Params: AudienceParams }>(OPERATIONS.getAudience.path, routeOptions(OPERATIONS.getAudience, opts), async function getAudience (request, reply) {
    const id = request.params.audienceId
    const audience = await tenantOf(request.ctx.tenantId as string).audiences.get(id)
    if (audience === undefined) {
      // Answered here, not thrown: a 404 is an ordinary answer, and throwing from the handler made it cost
      // more than the 200 (the profile put most of the difference on the throw).
      return sendError(reply, 404, notFoundMessage(id.length > MAX_ECHO ? `${id.slice(0, MAX_ECHO)}…` : id))
    }
    return audience
  })
}
