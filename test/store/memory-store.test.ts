// The in-memory store's reads: each is a fresh copy with exactly the fields of the Audience schema, no more and no less.
import t from 'tap'
import { Audience, AudienceParent } from '../../src/schemas/audience.js'
import type { TenantRepository } from '../../src/store/store.js'
import { build, IDS, TENANT_A } from '../helpers.js'

// The library and the route both get what audiences.get returns; the route's serialiser would hide an extra field and
// fail on a missing one, so the copy itself is what must match the schema ("Gets an audience", thrive-api.md).
t.test('a read returns every field of the Audience schema and no other, the parent block included', async (t) => {
  const app = await build(t)
  const audiences = (app.store.tenant(TENANT_A.tenantId) as TenantRepository).audiences
  const structure = await audiences.get(IDS.aStructure)
  const child = await audiences.get(IDS.aChild)
  t.strictSame(Object.keys(structure ?? {}), Object.keys(Audience.properties), 'a structure')
  t.equal(structure?.parent, null, 'a structure has no parent')
  t.strictSame(Object.keys(child ?? {}), Object.keys(Audience.properties), 'a child audience')
  t.strictSame(Object.keys(child?.parent ?? {}), Object.keys(AudienceParent.properties), 'the parent block')
  t.strictSame(child?.parent, { name: 'Tech', reference: 'shared', id: IDS.aStructure })
})

t.test('a read is a copy: changing what it returns, parent block included, changes no later read', async (t) => {
  const app = await build(t)
  const audiences = (app.store.tenant(TENANT_A.tenantId) as TenantRepository).audiences
  const first = await audiences.get('backend') as Audience
  const before = structuredClone(first)
  first.name = 'Changed'
  ;(first.parent as AudienceParent).name = 'Changed too'
  t.strictSame(await audiences.get('backend'), before)
})
