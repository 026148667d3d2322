// Test helpers: an app per test built from inline config and small inline fixtures.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp, type BuildOptions } from '../src/app.js'
import { defaultConfig, type Config, type ConfigOverrides } from '../src/config.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export const TENANT_A = { tenantId: 'eu-west-2_TestTenA1', apiSecret: 'tenant-a-secret-value' }
export const TENANT_B = { tenantId: 'us-east-1_TestTenB2', apiSecret: 'tenant-b-secret-value' }

export const IDS = {
  aStructure: 'aaaaaaaaaaaaaaaaaaaaaaa1',
  aChild: 'aaaaaaaaaaaaaaaaaaaaaaa2',
  bStructure: 'bbbbbbbbbbbbbbbbbbbbbbb1'
}

/** The child audience `backend` of TENANT_A as GET /audiences/{audienceId} serves it (thrive-api.md, A). */
export const BACKEND_SERVED = {
  id: IDS.aChild,
  name: 'Backend',
  reference: 'backend',
  apiControlled: true,
  category: 'audience',
  type: 'manual',
  parent: { name: 'Tech', reference: 'shared', id: IDS.aStructure },
  createdAt: '2024-01-16T00:00:00.000Z',
  updatedAt: '2024-01-17T00:00:00.000Z'
}

/** Tenant A's users; tenant B has its own "ada", another user with the same reference and email. */
export const USERS = {
  ada: { id: 'a0a0a0a0a0a0a0a0a0a0a0a1', reference: 'ada', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' },
  grace: { id: 'a0a0a0a0a0a0a0a0a0a0a0a2', reference: 'grace', email: 'Grace.Hopper@example.com' },
  linus: { id: 'a0a0a0a0a0a0a0a0a0a0a0a3', reference: 'linus', email: 'linus@example.com' }
}

/** Two tenants sharing the reference "shared", with the awkward references clients must encode. */
export const FIXTURE = {
  tenants: [
    {
      ...TENANT_A,
      clients: [
        { clientId: 'a-reader', clientSecret: 'a-reader-secret', scopes: ['api/read'] },
        { clientId: 'a-all', clientSecret: 'a-all-secret', scopes: ['api/all'] },
        { clientId: 'a-writer', clientSecret: 'a-writer-secret', scopes: ['api/write'] },
        { clientId: 'a-hooks', clientSecret: 'a-hooks-secret', scopes: ['api/webhooks'] },
        { clientId: 'a-mixed', clientSecret: 'a-mixed-secret', scopes: ['api/read', 'api/write'] }
      ],
      users: [USERS.ada, USERS.grace, USERS.linus],
      structures: [
        {
          id: IDS.aStructure,
          name: 'Tech',
          reference: 'shared',
          createdAt: '2024-01-15T10:20:30.123Z',
          updatedAt: '2024-02-01T00:00:00.000Z',
          managers: [{ user: 'ada', permissions: { audienceManager: { manageContent: true }, administrator: { canAddAudienceManagers: true } } }],
          audiences: [
            { id: IDS.aChild, name: 'Backend', reference: 'backend', createdAt: '2024-01-16T00:00:00.000Z', updatedAt: '2024-01-17T00:00:00.000Z', members: ['ada', 'grace.hopper@example.com'] },
            { name: 'With Space', reference: 'with space' },
            { name: 'Accented', reference: 'équipe' },
            { name: 'Slashed', reference: 'sales/emea' },
            { name: 'Looks like an id', reference: IDS.bStructure },
            { name: 'Shadowed by an id', reference: IDS.aChild }
          ]
        },
        {
          name: 'UI made',
          reference: 'ui-made',
          apiControlled: false,
          managers: [{ user: 'grace', permissions: { administrator: { canManageAudiences: true } } }],
          audiences: [{ name: 'Smart one', reference: 'smart-one', apiControlled: false, type: 'smart', members: ['linus'], managers: [{ user: 'linus', permissions: { audienceManager: { manageMembers: true } } }] }]
        }
      ]
    },
    {
      ...TENANT_B,
      clients: [{ clientId: 'b-reader', clientSecret: 'b-reader-secret', scopes: ['api/read'] }],
      users: [{ reference: 'ada', email: 'ada@example.com' }],
      structures: [
        { id: IDS.bStructure, name: 'B Tech', reference: 'shared', createdAt: '2024-03-01T00:00:00.000Z', updatedAt: '2024-03-01T00:00:00.000Z' }
      ]
    }
  ]
}

export function testConfig (overrides: ConfigOverrides = {}): Config {
  return defaultConfig({ fixtures: [{ name: 'inline-fixture', data: FIXTURE }], ...overrides })
}

/**
 * Schemas compiled eagerly unless `options` says otherwise: a schema that cannot compile fails the build. An eager
 * app is ready, so a test that adds its own route builds a lazy one.
 */
export async function build (t: Teardown, overrides: ConfigOverrides = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(overrides), { compileSchemas: 'eager', ...options })
  t.teardown(() => app.close())
  return app
}

export function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

export const BASIC_A = basic(TENANT_A.tenantId, TENANT_A.apiSecret)
export const BASIC_B = basic(TENANT_B.tenantId, TENANT_B.apiSecret)

/** Real Thrive clients send these on every request, GET included. */
export const CLIENT_HEADERS = { 'content-type': 'application/json', accept: 'application/json' }

export async function getToken (app: FastifyInstance, clientId: string, clientSecret: string, tenantId = TENANT_A.tenantId, scope?: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/oauth2/token/${tenantId}`,
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...(scope === undefined ? {} : { scope }) }
  })
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { access_token: string }).access_token
}

export function json (res: LightMyRequestResponse): Record<string, unknown> {
  return res.json() as Record<string, unknown>
}
