// Decorates the app with the one clock that token expiry and fault TTLs read.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { MockClock } from '../clock.js'

declare module 'fastify' {
  interface FastifyInstance {
    clock: MockClock
  }
}

async function clockPlugin (fastify: FastifyInstance) {
  fastify.decorate('clock', new MockClock())
}

export default fp(clockPlugin, { name: 'clock' })
