// The audience operations of the Thrive API (thrive-api.md parts A and C): list, get, create, update and delete
// audiences of the caller's tenant. Each route is its operation's definition plus a handler.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { notFoundMessage } from '../errors.js'
import { API_PREFIX, OPERATIONS, routeOptions } from '../operations.js'
import { acceptEmptyJson, sendError } from '../plugins/errors.js'
import type { AudienceParams } from '../schemas/audience.js'
import type { CreateAudienceBody, ListAudiencesQuery, UpdateAudienceBody } from '../schemas/requests.js'
import type { TenantRepository } from '../store/store.js'

/** Long ids are cut in messages so an error body stays small. */
export const MAX_ECHO = 100

/** Thrive's page size when neither perPage nor limit is given. */
export const DEFAULT_PER_PAGE = 100

export function echo (value: string): string {
  return value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value
}

/** `perPage` wins; `limit` is the page size only without it (part C, decided point 3). */
export function pageOf (query: { page?: number, perPage?: number, limit?: number }) {
  return { page: query.page ?? 1, perPage: query.perPage ?? query.limit ?? DEFAULT_PER_PAGE }
}

/** The authenticated caller's tenant: authentication has checked it exists before any handler runs. */
export function tenantOf (fastify: FastifyInstance, request: FastifyRequest): TenantRepository {
  return fastify.store.tenant(request.ctx.tenantId as string) as TenantRepository
}

export default async function audienceRoutes (fastify: FastifyInstance, opts: { hide?: boolean }) {
  acceptEmptyJson(fastify)
  const op = OPERATIONS

  fastify.route<{ Querystring: ListAudiencesQuery }>({
    ...routeOptions(op.listAudiences, opts),
    handler: async function listAudiences (request) {
      const { apiControlled, updatedSince } = request.query
      return await tenantOf(fastify, request).audiences.list({
        ...pageOf(request.query),
        ...(apiControlled === undefined ? {} : { apiControlled }),
        ...(updatedSince === undefined ? {} : { updatedSince: Date.parse(updatedSince) })
      })
    }
  })

  fastify.route<{ Params: AudienceParams }>({
    ...routeOptions(op.getAudience, opts),
    handler: async function getAudience (request, reply) {
      const id = request.params.audienceId
      const audience = await tenantOf(fastify, request).audiences.get(id)
      // Answered here, not thrown: a 404 is an ordinary answer, and throwing from the handler made it cost
      // more than the 200 (the profile put most of the difference on the throw).
      if (audience === undefined) return sendError(reply, 404, notFoundMessage(echo(id)))
      return audience
    }
  })

  fastify.route<{ Body: CreateAudienceBody }>({
    ...routeOptions(op.createAudience, opts),
    handler: async function createAudience (request, reply) {
      const { name, reference, category, parentId } = request.body
      const audience = await tenantOf(fastify, request).audiences.create({ name, reference, category, ...(parentId === undefined ? {} : { parentId }) })
      // Part C, decided point 4: 201 with where the new audience lives.
      return reply.code(201).header('location', `${API_PREFIX}/audiences/${audience.id}`).send(audience)
    }
  })

  fastify.route<{ Params: AudienceParams, Body: UpdateAudienceBody }>({
    ...routeOptions(op.updateAudience, opts),
    handler: async function updateAudience (request, reply) {
      const { name, reference, parentId } = request.body
      if (name === undefined && reference === undefined && parentId === undefined) {
        return sendError(reply, 400, 'The body must set at least one of name, reference and parentId')
      }
      const input = { ...(name === undefined ? {} : { name }), ...(reference === undefined ? {} : { reference }), ...(parentId === undefined ? {} : { parentId }) }
      const { audience, memberOperations } = await tenantOf(fastify, request).audiences.update(request.params.audienceId, input)
      return { ...audience, memberOperations }
    }
  })

  fastify.route<{ Params: AudienceParams }>({
    ...routeOptions(op.deleteAudience, opts),
    handler: async function deleteAudience (request) {
      await tenantOf(fastify, request).audiences.delete(request.params.audienceId)
      return { success: true as const }
    }
  })
}
