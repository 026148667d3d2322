// GET /__mock/ca.pem: the certificate of the mock's own CA, for clients to trust. Public, like the certificate itself.
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { sendError } from '../../plugins/errors.js'
import { ErrorRef } from '../../schemas/common.js'

export const CA_MEDIA_TYPE = 'application/x-pem-file'

export const NO_CA_MESSAGE = 'This mock has no CA of its own to serve: it runs without HTTPS, or with a certificate you brought (--tls-cert), whose CA you already have'

export default async function caRoute (fastify: FastifyInstance) {
  fastify.get('/ca.pem', {
    config: { journal: false },
    schema: {
      operationId: 'caCertificate',
      summary: 'The certificate of the CA that signed this mock\'s HTTPS certificate (PEM)',
      description: 'Trust it in a client (NODE_EXTRA_CA_CERTS, curl --cacert) to call the HTTPS port. Only when the mock made its own certificate: 404 when it runs without HTTPS or with --tls-cert.',
      tags: ['Mock control'],
      response: {
        200: { description: 'A PEM certificate', content: { [CA_MEDIA_TYPE]: { schema: Type.String() } } },
        404: ErrorRef
      }
    }
  }, async function caCertificate (_request, reply) {
    const caCert = fastify.https?.tls.caCert ?? null
    if (caCert === null) return sendError(reply, 404, NO_CA_MESSAGE)
    return reply.type(CA_MEDIA_TYPE).header('cache-control', 'no-cache').send(caCert)
  })
}
