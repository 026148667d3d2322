// The only place that touches the process: builds the app, listens, and drains on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildApp, loggerOptions } from './app.js'
import type { Config } from './config.js'

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000

export async function startServer (config: Config): Promise<FastifyInstance> {
  // JSON for machines; readable lines when a person is watching the terminal.
  const pretty = { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
  const app = await buildApp(config, { logger: loggerOptions(config, process.stdout.isTTY ? pretty : {}) })
  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async function ({ signal, err }) {
    app.log.info({ signal, err }, 'shutting down: draining in-flight requests')
    await app.close()
  })
  await app.listen({ host: config.host, port: config.port })
  const { tenants, audiences } = await app.store.stats()
  app.log.info({ tenants, audiences, sources: app.store.sources }, 'Thrive audience mock ready')
  return app
}
