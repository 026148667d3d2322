// Decorates the app with its access-token signer and verifier.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { TokenService } from '../tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
  }
}

async function tokensPlugin (fastify: FastifyInstance, opts: { token: Config['token'] }) {
  const tokens = new TokenService({ ...opts.token, clock: fastify.clock })
  if (tokens.generatedKey) {
    fastify.log.warn('no token signing key configured: a random key was generated, so access tokens will not survive a restart or be accepted by other instances')
  }
  fastify.decorate('tokens', tokens)
}

export default fp(tokensPlugin, { name: 'tokens', dependencies: ['clock'] })
