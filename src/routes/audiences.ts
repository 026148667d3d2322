// GET /audiences/{audienceId}: one audience of the caller's tenant, by id or by reference.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFoundMessage } from '../errors.js'
import { sendError } from '../plugins/errors.js'
import { READ_SCOPES, type Principal } from '../plugins/authentication.js'
import { Audience, AudienceParams } from '../schemas/audience.js'
import { ErrorRef } from '../schemas/common.js'

/** Long ids are cut in messages so an error body stays small. */
const MAX_ECHO = 100

export default async function audienceRoutes (fastify: FastifyInstance, opts: { hide?: boolean }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/audiences/:audienceId', {
    config: { scopes: READ_SCOPES },
    schema: {
      operationId: 'getAudience',
      summary: 'Gets an audience',
      description: 'Takes in an audience id/reference and returns the audience. Served at `/rest/v1/audiences/{audienceId}`, ' +
        'the path real clients call, and at `/audiences/{audienceId}`, the form Thrive\'s reference pages write; both answer the same.',
      tags: ['Audiences'],
      hide: opts.hide === true,
      security: [{ basicAuth: [] }, { bearerAuth: ['api/read'] }, { bearerAuth: ['api/all'] }],
      params: AudienceParams,
      response: {
        200: Audience,
        400: ErrorRef,
        401: ErrorRef,
        403: ErrorRef,
        404: ErrorRef,
        409: ErrorRef,
        422: ErrorRef,
        429: ErrorRef,
        500: ErrorRef,
        502: ErrorRef,
        503: ErrorRef,
        504: ErrorRef
      }
    }
  }, async function getAudience (request, reply) {
    const { tenantId } = request.principal as Principal
    const id = request.params.audienceId
    const audience = fastify.store.findAudience(tenantId, id)
    if (audience === undefined) {
      // Answered here, not thrown: a 404 is an ordinary answer, and throwing from the handler made it cost
      // more than the 200 (the profile put most of the difference on the throw).
      return sendError(reply, 404, notFoundMessage(id.length > MAX_ECHO ? `${id.slice(0, MAX_ECHO)}…` : id))
    }
    return audience
  })
}
