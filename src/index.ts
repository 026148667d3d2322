// The library API: start a mock in-process from a test runner, on port 0 by default.
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from './app.js'
import { libraryConfig, type LogLevel } from './config.js'
import { authenticateClient, grantScopes, tokenResponse } from './client-credentials.js'
import type { OAuthError } from './oauth-errors.js'
import { resetState } from './reset.js'
import { assertKnownTenant } from './errors.js'
import type { ResetResult } from './schemas/control.js'
import type { CoverageReport } from './schemas/coverage.js'
import type { FixtureFile } from './schemas/fixtures.js'
import type { FixtureSource } from './store/load-fixtures.js'
import type { TenantRepository } from './store/store.js'
import type { FaultRule, FaultRuleInput } from './schemas/faults.js'
import type { JournalEntry, JournalQuery } from './schemas/journal.js'

export { buildApp, VERSION } from './app.js'
export { defaultConfig, parseCli, ConfigError, type Config } from './config.js'
export { DataFileError } from './data-file.js'
export { UnknownTenantError } from './errors.js'
export { FaultLimitError, FaultRuleError } from './faults/engine.js'
export { NoConnectionError } from './plugins/faults.js'
export { GENERATED_TENANT } from './store/seed.js'
export type { Audience } from './schemas/audience.js'
export type { FixtureFile, TenantFixture } from './schemas/fixtures.js'
export type { BulkResult, Manager, Member, Pagination } from './schemas/members.js'
export type { FaultRule, FaultRuleInput, FaultEffect, FaultMatch } from './schemas/faults.js'
export type { JournalEntry, JournalQuery } from './schemas/journal.js'
export type { CoverageReport, OperationCoverage, StatusCount, ViolationCount } from './schemas/coverage.js'
export type { Violation } from './schemas/violations.js'
export { VIOLATION_CODES, type ViolationCode } from './violations.js'
export type { TokenResponse, Scope } from './schemas/oauth.js'

export interface MockServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Fixture paths (files or directories) and/or inline fixture documents; default: the bundled fixtures. */
  fixtures?: string | object | Array<string | object>
  /** Faker-generated audiences per tenant, and their seed. */
  generate?: number
  seed?: number
  /** clockToleranceSeconds: skew tolerated on exp, iat and nbf, 0 (default) to 300. */
  token?: { ttlSeconds?: number, signingKey?: string, issuer?: string, clockToleranceSeconds?: number }
  /** Fault rules to arm at start. */
  faults?: FaultRuleInput[]
  adminToken?: string
  journalSize?: number
  /** Strict mode for every tenant: a request with contract violations gets a 400 listing them. Default false. */
  strict?: boolean
  /**
   * Also serve HTTPS: true for a free port and a certificate from the mock's own CA (kept in a temporary directory
   * per process unless `caDir` names one), or the details. `cert` and `key` are files of a certificate you bring.
   */
  https?: boolean | { port?: number, hostnames?: string[], caDir?: string, cert?: string, key?: string }
  /** Default silent. */
  logLevel?: LogLevel
  logger?: BuildOptions['logger']
}

export interface TokenOptions {
  clientId: string
  clientSecret: string
  /** The tenant in the token URL: the client's own. */
  tenantId: string
  scope?: string
  /**
   * Send a real token request to the server, so that armed fault rules and the journal see it
   * (a transport fault then rejects with the network error). Default false: the grant runs in-process, outside
   * the fault rules and the journal, so a test's setup never uses up or trips the faults it armed for its client.
   */
  overHttp?: boolean
}

/**
 * A running mock. Every method that takes a tenant id throws (or rejects with) an UnknownTenantError, code
 * THRIVE_MOCK_UNKNOWN_TENANT, for a tenant the server does not know, as the control routes answer 404: a typo in a
 * test's setup is an error, never an empty answer.
 */
export interface MockServer {
  /** Base URL, e.g. http://127.0.0.1:54321; append /rest/v1 for the API. */
  url: string
  port: number
  /** The HTTPS base URL, e.g. https://127.0.0.1:54322; null without the `https` option. */
  httpsUrl: string | null
  httpsPort: number | null
  /** The PEM certificate of the CA that signed the HTTPS certificate, for a client to trust; null without HTTPS or with a brought certificate. */
  caCert: string | null
  app: FastifyInstance
  /** An `Authorization: Basic …` value for a tenant. */
  basicAuth: (tenantId: string, apiSecret: string) => string
  /** Runs the client-credentials grant and returns the access token; rejects with the OAuth error when it fails. */
  getToken: (options: TokenOptions) => Promise<string>
  /** Arms a rule with the same checks as `POST /__mock/faults`; throws FaultRuleError, UnknownTenantError or FaultLimitError. */
  armFault: (rule: FaultRuleInput) => FaultRule
  clearFaults: (tenantId?: string) => number
  /** Strict mode on or off for one tenant, as `PUT /__mock/tenants/{tenantId}/strict` does; reset restores the start setting. */
  setStrict: (tenantId: string, strict: boolean) => void
  /** The journal, as `GET /__mock/requests` answers; requests that named no known tenant are in the list without `tenantId`. */
  requests: (query?: JournalQuery) => JournalEntry[]
  /**
   * What `GET /__mock/coverage[?tenantId=]` answers: per operation, each documented status with how many requests
   * got it (0: never seen) and any undocumented one, plus the violations by code. Throws for an unknown tenant.
   */
  coverage: (tenantId?: string) => CoverageReport
  advanceClock: (ms: number) => void
  /** One tenant's data, faults, journal and coverage back to the start; with no argument, every tenant's, and the clock. */
  reset: (tenantId?: string) => Promise<ResetResult>
  /** A tenant's current data as a fixture document that `fixtures` loads back to the same answers; rejects for an unknown tenant. */
  exportTenant: (tenantId: string) => Promise<FixtureFile>
  close: () => Promise<void>
}

/** The `fixtures` option as config sources. Shared with the msw entry, not documented API. */
export function toSources (fixtures: MockServerOptions['fixtures']): FixtureSource[] | undefined {
  if (fixtures === undefined) return undefined
  const list = Array.isArray(fixtures) ? fixtures : [fixtures]
  return list.map((f, i) => typeof f === 'string' ? { path: f } : { name: `inline fixture #${i + 1}`, data: f })
}

/** The `https` option as config: true is a free port; an object is its fields, the port 0 unless given. */
function toHttps (https: unknown): unknown {
  if (https === true) return { port: 0 }
  if (typeof https === 'object' && https !== null && !Array.isArray(https)) return { port: 0, ...https }
  // false or absent is no HTTPS; anything else reaches the config check as given, which names it.
  return https === false ? undefined : https
}

export async function startMockServer (options: MockServerOptions = {}): Promise<MockServer> {
  // Checked before anything opens: a bad or misspelt option rejects with a ConfigError naming it as written here.
  const config = libraryConfig({ ...options, fixtures: toSources(options.fixtures), https: toHttps(options.https) }, ['faults', 'logger'])
  const app = await buildApp(config, options.logger === undefined ? {} : { logger: options.logger })
  let https: { url: string, port: number } | null = null
  try {
    for (const rule of options.faults ?? []) app.faults.add(rule)
    await app.listen({ port: config.port, host: config.host })
    if (app.https !== null) https = await app.https.listen(config.host, config.https.port as number)
  } catch (err) {
    await app.close()
    throw err
  }
  const port = (app.server.address() as { port: number }).port
  const url = app.listeningOrigin

  return {
    url,
    port,
    httpsUrl: https?.url ?? null,
    httpsPort: https?.port ?? null,
    caCert: app.https?.tls.caCert ?? null,
    ...mockControl(app, async (tenantId, form) => {
      const res = await fetch(`${url}/oauth2/token/${encodeURIComponent(tenantId)}`, { method: 'POST', body: form })
      return { status: res.status, body: await res.text() }
    })
  }
}

/** The control methods every mode has (startMockServer, thrive-audience-mock/msw), over one app. */
export type MockControl = Pick<MockServer, 'app' | 'basicAuth' | 'getToken' | 'armFault' | 'clearFaults' | 'setStrict' | 'requests' | 'coverage' | 'advanceClock' | 'reset' | 'exportTenant' | 'close'>

/**
 * One definition of the control methods, so both modes behave alike. `postToken` sends a token request the way the
 * mode's clients reach the mock (over the socket, or through the msw handlers), for getToken's `overHttp`; it
 * rejects as the client's call would when a transport fault breaks it. Shared with the msw entry, not documented API.
 */
export function mockControl (app: FastifyInstance, postToken: (tenantId: string, form: URLSearchParams) => Promise<{ status: number, body: string }>): MockControl {
  return {
    app,
    basicAuth: (tenantId, apiSecret) => `Basic ${Buffer.from(`${tenantId}:${apiSecret}`).toString('base64')}`,
    async getToken ({ clientId, clientSecret, tenantId, scope, overHttp = false }) {
      if (overHttp) {
        const res = await postToken(tenantId, new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...(scope === undefined ? {} : { scope }) }))
        if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.body}`)
        return (JSON.parse(res.body) as { access_token: string }).access_token
      }
      try {
        const allowed = await authenticateClient(app.store, tenantId, { clientId, clientSecret })
        return tokenResponse(app.tokens, tenantId, clientId, grantScopes(scope, allowed)).access_token
      } catch (err) {
        const { statusCode, code, message } = err as OAuthError
        throw new Error(`token request failed: ${statusCode} ${JSON.stringify({ error: code, error_description: message })}`)
      }
    },
    armFault: (rule) => app.faults.add(rule),
    clearFaults (tenantId) {
      assertKnownTenant(app.store, tenantId)
      return app.faults.clear(tenantId)
    },
    setStrict (tenantId, strict) {
      assertKnownTenant(app.store, tenantId)
      app.contract.setTenantStrict(tenantId, strict)
    },
    requests (query) {
      assertKnownTenant(app.store, query?.tenantId)
      return app.journal.list(query)
    },
    coverage (tenantId) {
      assertKnownTenant(app.store, tenantId)
      return app.coverage.report(tenantId)
    },
    advanceClock: (ms) => app.clock.advance(ms),
    reset: async (tenantId) => await resetState(app, tenantId),
    async exportTenant (tenantId) {
      assertKnownTenant(app.store, tenantId)
      return { tenants: [await (app.store.tenant(tenantId) as TenantRepository).snapshot()] }
    },
    close: async () => { await app.close() }
  }
}
