// The data an app starts from: fixtures, plus faker-generated audiences when asked for.
import type { Config } from '../config.js'
import { loadFixtures, type Seed } from './load-fixtures.js'

/** The tenant that holds generated data when no fixtures are loaded. */
export const GENERATED_TENANT = {
  tenantId: 'eu-west-2_Generated1',
  apiSecret: 'generated-api-secret',
  clients: [{ clientId: 'generated-reader', clientSecret: 'generated-reader-secret', scopes: ['api/read' as const] }]
}

export async function buildSeed (config: Pick<Config, 'fixtures' | 'generate' | 'seed'>): Promise<Seed> {
  const seed = loadFixtures(config.fixtures)
  if (config.generate === 0) return seed
  // Faker is loaded only when generating, so a plain start does not pay for it.
  const { generateAudiences } = await import('./generate.js')
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
    // A loop, not push(...generated): a million arguments would overflow the stack.
    for (const audience of generated) tenant.audiences.push(audience)
  }
  return seed
}
