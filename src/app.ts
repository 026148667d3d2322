// Builds the mock: every plugin and route registered explicitly, in the order they apply.
import { readFileSync } from 'node:fs'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { validateConfig, type Config } from './config.js'
import { API_PREFIX } from './operations.js'
import { buildSeed } from './store/seed.js'
import { loadTlsMaterial } from './tls.js'
import authentication from './plugins/authentication.js'
import cache from './plugins/cache.js'
import context from './plugins/context.js'
import contract from './plugins/contract.js'
import coverage from './plugins/coverage.js'
import clock from './plugins/clock.js'
import errors, { clientErrorHandler, frameworkErrors } from './plugins/errors.js'
import faults from './plugins/faults.js'
import https from './plugins/https.js'
import journal from './plugins/journal.js'
import openapi from './plugins/openapi.js'
import store, { type StoreFactory } from './plugins/store.js'
import tokens from './plugins/tokens.js'
import audienceRoutes from './routes/audiences.js'
import memberRoutes from './routes/members.js'
import jwksRoute from './routes/jwks.js'
import controlRoutes from './routes/mock/control.js'
import healthRoute from './routes/mock/health.js'
import caRoute from './routes/mock/ca.js'
import oauthTokenRoute from './routes/oauth-token.js'
import { ErrorBody } from './schemas/common.js'
import { lazySerializers, lazyValidators, uncoercedBodies } from './lazy-compilers.js'
import { Audience } from './schemas/audience.js'
import { FaultRule, FaultRuleInput } from './schemas/faults.js'
import { OAuthError, TokenResponse } from './schemas/oauth.js'

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Never logged, whatever a log line carries. */
export const REDACT = ['req.headers.authorization', 'req.headers["x-mock-admin-token"]', 'req.body.client_secret', 'headers.authorization']

/** The pino configuration for a config's log level, secrets redacted; `extra` adds to it (e.g. a transport). */
export function loggerOptions (config: Pick<Config, 'logLevel'>, extra: Record<string, unknown> = {}) {
  return { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, ...extra }
}

export interface BuildOptions {
  /** A pino logger configuration or destination; by default the level from config, to stdout. */
  logger?: FastifyServerOptions['logger']
  /**
   * When route validators and serializers are compiled. 'lazy' (default): on a route's first request, for a fast
   * start-up. 'eager': Fastify's own compilers, every route's before buildApp returns, so a schema that cannot be
   * compiled (a $ref to a shared schema nobody added) rejects the build instead of failing a request with a 500.
   */
  compileSchemas?: 'lazy' | 'eager'
  /** Another implementation of the state interface; by default the in-memory store. */
  createStore?: StoreFactory
  /**
   * Check every API and token request against the contract (X-Mock-Violations, strict mode). Default true; false
   * skips the checks entirely, which only the benchmark uses, to measure what they cost.
   */
  contractChecks?: boolean
}

/** Header and body limits chosen so oversized input is a clean 4xx, never memory pressure. */
export const LIMITS = {
  bodyLimit: 64 * 1024,
  maxParamLength: 1024,
  // Node's defaults, stated so the docs and tests read them from here: the request line and headers together, and
  // how many headers are read (the rest are ignored).
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 2_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  // Slow-loris: a client must finish its headers within 10 s; Node checks every 2 s.
  headersTimeoutMs: 10_000,
  connectionsCheckingIntervalMs: 2_000
}

export async function buildApp (given: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // Exported too, so it checks its Config as every other entry point does.
  const config = validateConfig(given)
  // Fixtures are loaded before the server exists: a bad file stops start-up with nothing half-loaded.
  const seed = await buildSeed(config)
  // So is the TLS material: an unreadable or mismatched certificate stops start-up before anything listens.
  const tls = config.https.port === null ? null : await loadTlsMaterial(config.https)

  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: LIMITS.maxParamLength },
    bodyLimit: LIMITS.bodyLimit,
    requestTimeout: LIMITS.requestTimeoutMs,
    keepAliveTimeout: LIMITS.keepAliveTimeoutMs,
    http: { headersTimeout: LIMITS.headersTimeoutMs, connectionsCheckingInterval: LIMITS.connectionsCheckingIntervalMs, maxHeaderSize: LIMITS.maxHeaderSize },
    // While draining, requests on open connections are answered normally: Fastify's closing 503 is not
    // in Thrive's error shape, and new connections are refused anyway.
    return503OnClosing: false,
    // Ajv does not check each schema against the JSON Schema meta-schema when it compiles it: compiling that
    // meta-schema took longer than compiling the first route. The route schemas are fixed, and a test checks them
    // all against it (test/lazy-compilers.test.ts).
    ajv: { customOptions: { removeAdditional: false, validateSchema: false } },
    // Validators and serializers are compiled on a route's first request, not at start-up (see lazy-compilers.ts),
    // unless asked for eagerly: then Fastify's own compilers do it in ready().
    schemaController: { compilersFactory: options.compileSchemas === 'eager' ? { buildValidator: uncoercedBodies() } : { buildValidator: lazyValidators(), buildSerializer: lazySerializers() } },
    // The journal plugin logs one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
    clientErrorHandler
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.server.maxHeadersCount = LIMITS.maxHeadersCount

  app.addSchema(ErrorBody)
  app.addSchema(Audience)
  app.addSchema(TokenResponse)
  app.addSchema(OAuthError)
  app.addSchema(FaultRuleInput)
  app.addSchema(FaultRule)

  // The request context first: every later hook reads or fills it.
  await app.register(clock)
  await app.register(context)
  await app.register(errors)
  await app.register(store, { seed, createStore: options.createStore })
  await app.register(cache)
  await app.register(tokens, { token: config.token })
  await app.register(journal, { size: config.journalSize })
  await app.register(coverage)
  await app.register(faults, { faultsFile: config.faultsFile })
  await app.register(contract, { strict: config.strict, enabled: options.contractChecks !== false })
  await app.register(openapi, { version: VERSION })
  await app.register(https, { tls, limits: LIMITS })

  // API routes: authenticate first, so faults are scoped to the caller's tenant and a bad credential always gets the real 401.
  // Contract checks come next (a 401 or 403 stays one), the path, query and headers before the body is read (so a
  // body the parser refuses still carries them), the body before faults: strict mode refuses a request before a
  // fault can answer it.
  await app.register(async function api (api) {
    await api.register(authentication)
    api.addHook('onRequest', api.authenticate)
    if (api.contract.enabled) {
      api.addHook('onRequest', api.contract.checkRequest)
      api.addHook('preValidation', api.contract.checkBody)
    }
    api.addHook('preValidation', api.applyFaults)
    // Thrive's docs write paths without the prefix; real clients use it. Serve both, document one.
    for (const at of [{ prefix: API_PREFIX }, { prefix: '', hide: true }]) {
      await api.register(audienceRoutes, at)
      await api.register(memberRoutes, at)
    }
  })
  await app.register(oauthTokenRoute)
  await app.register(jwksRoute)
  await app.register(healthRoute, { prefix: '/__mock', generated: config.generate })
  await app.register(caRoute, { prefix: '/__mock' })
  if (config.admin.enabled) await app.register(controlRoutes, { prefix: '/__mock', adminToken: config.admin.token })

  // Fastify compiles route schemas in ready(), so an eager build returns a ready app, to which no route can be added.
  // On failure it is closed here: the caller never gets it.
  if (options.compileSchemas === 'eager') {
    try {
      await app.ready()
    } catch (err) {
      await app.close()
      throw err
    }
  }
  return app
}
