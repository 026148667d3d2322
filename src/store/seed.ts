// The data an app starts from: fixtures, plus faker-generated audiences, users and memberships when asked for.
import type { Config } from '../config.js'
import { loadFixtures, type Seed } from './load-fixtures.js'

/** The tenant that holds generated data when no fixtures are loaded. */
export const GENERATED_TENANT = {
  tenantId: 'eu-west-2_Generated1',
  apiSecret: 'generated-api-secret',
  clients: [{ clientId: 'generated-reader', clientSecret: 'generated-reader-secret', scopes: ['api/read' as const] }]
}

/** Users generated per tenant beside N generated audiences: N/2, within these bounds (the --generate help says so). */
export const GENERATED_USERS = { min: 50, max: 20_000 } as const

export function generatedUserCount (audiences: number): number {
  return audiences === 0 ? 0 : Math.min(GENERATED_USERS.max, Math.max(GENERATED_USERS.min, Math.ceil(audiences / 2)))
}

export async function buildSeed (config: Pick<Config, 'fixtures' | 'generate' | 'seed'>): Promise<Seed> {
  const seed = loadFixtures(config.fixtures)
  if (config.generate === 0) return seed
  // Faker is loaded only when generating, so a plain start does not pay for it.
  const { assignMemberships, generateAudiences, generateUsers } = await import('./generate.js')
  if (seed.tenants.length === 0) {
    seed.tenants.push({ ...GENERATED_TENANT, clients: GENERATED_TENANT.clients.map((c) => ({ ...c, scopes: [...c.scopes] })), users: [], audiences: [], source: 'generated' })
  }
  for (const tenant of seed.tenants) {
    const generated = generateAudiences({
      tenantId: tenant.tenantId,
      count: config.generate,
      seed: config.seed,
      takenIds: new Set(tenant.audiences.map((a) => a.id)),
      takenReferences: new Set(tenant.audiences.map((a) => a.reference))
    })
    const users = generateUsers({
      tenantId: tenant.tenantId,
      count: generatedUserCount(config.generate),
      seed: config.seed,
      taken: new Set(tenant.users.flatMap((u) => [u.id, u.reference.toLowerCase(), u.email.toLowerCase()]))
    })
    // Generated audiences get generated members only: the fixture's users keep the memberships the fixture gave them.
    assignMemberships({ tenantId: tenant.tenantId, seed: config.seed, audiences: generated, users })
    // A loop, not push(...generated): a million arguments would overflow the stack.
    for (const audience of generated) tenant.audiences.push(audience)
    for (const user of users) tenant.users.push(user)
  }
  return seed
}
