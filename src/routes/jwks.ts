// GET /.well-known/jwks.json: the public key that verifies access tokens (empty for HMAC keys).
import type { FastifyInstance } from 'fastify'
import { Jwks } from '../schemas/jwks.js'

export default async function jwksRoute (fastify: FastifyInstance) {
  fastify.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'jwks',
      summary: 'Public keys for verifying access tokens',
      description: 'Holds the signing key when TOKEN_SIGNING_KEY is an asymmetric PEM key; empty when tokens are HMAC-signed.',
      tags: ['OAuth'],
      response: { 200: Jwks }
    }
  }, async function jwks () {
    return fastify.tokens.jwks()
  })
}
