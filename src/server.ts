// The only place that touches the process: builds the app, listens, and drains on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { homedir } from 'node:os'
import pino from 'pino'
import { buildApp, loggerOptions } from './app.js'
import type { Config } from './config.js'
import { userCaDir } from './tls.js'

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000

/** Log lines are gathered until there are this many bytes, then written with one system call. */
export const LOG_BUFFER_BYTES = 4096

/** How long a log line may wait in that buffer when traffic is too light to fill it. */
export const LOG_FLUSH_INTERVAL_MS = 100

export async function startServer (given: Config): Promise<FastifyInstance> {
  // The CLI keeps its CA in the per-user cache unless told otherwise, so a client trusts it once.
  const config = given.https.port === null || given.https.caDir !== null ? given : { ...given, https: { ...given.https, caDir: userCaDir(process.env, process.platform, homedir()) } }
  // JSON for machines; readable lines when a person is watching the terminal. pino-pretty runs in pino's worker
  // thread, which flushes on exit on its own.
  const pretty = { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
  // A write to stdout per line, made synchronously, cost a third of the throughput at info. Lines are buffered and
  // written asynchronously instead; pino writes what is left synchronously when the process exits, even after a
  // crash (process.exit, or close-with-grace's exit on an uncaught exception).
  const destination = process.stdout.isTTY ? null : pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS })
  const app = await buildApp(config, { logger: loggerOptions(config, destination === null ? pretty : { stream: destination }) })
  if (destination !== null) {
    // app.close() returns once every line logged before it is written, so a caller that exits next loses none.
    app.addHook('onClose', function (_, done) {
      // fsync fails on a pipe or a terminal: the lines were written all the same.
      destination.flush(() => { done() })
    })
  }
  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async function ({ signal, err }) {
    app.log.info({ signal, err }, 'shutting down: draining in-flight requests')
    await app.close()
  })
  await app.listen({ host: config.host, port: config.port })
  const https = app.https === null ? {} : { httpsUrl: (await app.https.listen(config.host, config.https.port as number)).url, caCert: app.https.tls.caCertPath ?? 'none: the certificate was brought (--tls-cert)' }
  const { tenants, audiences } = await app.store.stats()
  app.log.info({ tenants, audiences, sources: app.store.sources, ...https }, 'Thrive audience mock ready')
  return app
}
