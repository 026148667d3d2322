// Members and managers of an audience (thrive-api.md part C): list, add, replace and remove.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { OPERATIONS, routeOptions } from '../operations.js'
import { acceptEmptyJson } from '../plugins/errors.js'
import type { AudienceParams } from '../schemas/audience.js'
import type { BulkResult, ManagerInput } from '../schemas/members.js'
import type { ManagerParams, MemberParams, PageQuery } from '../schemas/requests.js'
import { pageOf, tenantOf } from './audiences.js'

/** Part C, decided point 8: 200 when every item succeeded, 207 when any failed. */
function sendBulk (reply: FastifyReply, result: BulkResult): FastifyReply {
  return reply.code(result.failure === undefined ? 200 : 207).send(result)
}

export default async function memberRoutes (fastify: FastifyInstance, opts: { hide?: boolean }) {
  acceptEmptyJson(fastify)
  const op = OPERATIONS

  fastify.route<{ Params: AudienceParams, Querystring: PageQuery }>({
    ...routeOptions(op.listMembers, opts),
    handler: async function listMembers (request) {
      return await tenantOf(fastify, request).members.list(request.params.audienceId, pageOf(request.query))
    }
  })

  fastify.route<{ Params: AudienceParams, Body: string[] }>({
    ...routeOptions(op.addMembers, opts),
    handler: async function addMembers (request, reply) {
      return sendBulk(reply, await tenantOf(fastify, request).members.add(request.params.audienceId, request.body))
    }
  })

  fastify.route<{ Params: AudienceParams, Body: string[] }>({
    ...routeOptions(op.replaceMembers, opts),
    handler: async function replaceMembers (request, reply) {
      return sendBulk(reply, await tenantOf(fastify, request).members.replace(request.params.audienceId, request.body))
    }
  })

  fastify.route<{ Params: MemberParams }>({
    ...routeOptions(op.removeMember, opts),
    handler: async function removeMember (request) {
      await tenantOf(fastify, request).members.remove(request.params.audienceId, request.params.userRef)
      return { success: true as const }
    }
  })

  fastify.route<{ Params: AudienceParams }>({
    ...routeOptions(op.listManagers, opts),
    handler: async function listManagers (request) {
      return await tenantOf(fastify, request).managers.list(request.params.audienceId)
    }
  })

  fastify.route<{ Params: AudienceParams, Body: ManagerInput[] }>({
    ...routeOptions(op.addManagers, opts),
    handler: async function addManagers (request, reply) {
      return sendBulk(reply, await tenantOf(fastify, request).managers.add(request.params.audienceId, request.body))
    }
  })

  fastify.route<{ Params: AudienceParams, Body: ManagerInput[] }>({
    ...routeOptions(op.replaceManagers, opts),
    handler: async function replaceManagers (request, reply) {
      return sendBulk(reply, await tenantOf(fastify, request).managers.replace(request.params.audienceId, request.body))
    }
  })

  fastify.route<{ Params: ManagerParams }>({
    ...routeOptions(op.removeManager, opts),
    handler: async function removeManager (request) {
      await tenantOf(fastify, request).managers.remove(request.params.audienceId, request.params.userId)
      return { success: true as const }
    }
  })
}
