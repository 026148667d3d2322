// GET /__mock/tenants/{tenantId}/fixture and mock.exportTenant(): a tenant's current state as a fixture document that
// loads back to the same answers (thrive-api.md part C, decided points 7 and 9), and that no failed write changes.
import t from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { startMockServer } from '../../../src/index.js'
import { BASIC_A, build, CLIENT_HEADERS, FIXTURE, json, TENANT_A, TENANT_B } from '../../helpers.js'

const AUTH = { authorization: BASIC_A, ...CLIENT_HEADERS }

async function call (app: FastifyInstance, method: InjectOptions['method'], url: string, payload?: unknown) {
  return await app.inject({ method, url: `/rest/v1${url}`, headers: AUTH, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
}

async function exported (app: FastifyInstance, tenantId = TENANT_A.tenantId): Promise<string> {
  const res = await app.inject({ url: `/__mock/tenants/${tenantId}/fixture` })
  if (res.statusCode !== 200) throw new Error(`export: ${res.statusCode} ${res.body}`)
  return res.body
}

/** Every answer a client can read about the tenant: each list page, each audience, its members and its managers. */
async function everything (app: FastifyInstance): Promise<string[]> {
  const answers: string[] = []
  const list = await call(app, 'GET', '/audiences?perPage=3')
  const pages = (json(list).pagination as { totalPages: number }).totalPages
  for (let page = 1; page <= pages; page++) {
    const res = await call(app, 'GET', `/audiences?perPage=3&page=${page}`)
    answers.push(res.body)
    for (const a of (json(res).results as Array<{ id: string }>)) {
      for (const path of ['', '/members', '/managers']) answers.push(`${a.id}${path} ${(await call(app, 'GET', `/audiences/${a.id}${path}`)).body}`)
    }
  }
  return answers
}

t.test('after creates, a rename, a move, a delete and member and manager writes, the export loads back to identical answers', async (t) => {
  const app = await build(t)
  const s = json(await call(app, 'POST', '/audiences', { name: 'Ops', reference: 'ops', category: 'structure' }))
  await call(app, 'POST', '/audiences', { name: 'On call', reference: 'on-call', category: 'audience', parentId: s.id })
  await call(app, 'PATCH', '/audiences/shared', { name: 'Technology' })
  await call(app, 'PATCH', '/audiences/backend', { parentId: 'ops' })
  await call(app, 'DELETE', '/audiences/with%20space')
  await call(app, 'POST', '/audiences/on-call/members', ['linus', 'ada'])
  await call(app, 'PATCH', '/audiences/backend/members', ['grace'])
  await call(app, 'POST', '/audiences/ops/managers', [{ reference: 'grace', permissions: { administrator: { canAddAudienceManagers: true }, peopleManager: { insights: true } } }])
  const before = await everything(app)

  const document = JSON.parse(await exported(app)) as { tenants: Array<Record<string, unknown>> }
  t.equal(document.tenants.length, 1)
  t.equal(document.tenants[0]?.tenantId, TENANT_A.tenantId)
  const again = await build(t, { fixtures: [{ name: 'export', data: document }] })
  t.same(await everything(again), before, 'every list page, audience, members page and managers list is byte-identical')
  t.equal(await exported(again), await exported(app), 'and it exports to the same document')
  t.equal((await again.inject({ url: '/rest/v1/audiences/backend', headers: AUTH })).statusCode, 200, 'the exported credentials authenticate')
})

t.test('the untouched seed exports to a document that loads back to the same answers, for every tenant', async (t) => {
  const app = await build(t)
  for (const tenant of [TENANT_A, TENANT_B]) {
    const document = JSON.parse(await exported(app, tenant.tenantId)) as unknown
    const again = await build(t, { fixtures: [{ name: 'export', data: document }] })
    t.equal(await exported(again, tenant.tenantId), await exported(app, tenant.tenantId))
  }
})

t.test('no failed write changes a byte of the export: bad bodies, UI audiences, unknown audiences, duplicates, domain rules', async (t) => {
  const app = await build(t)
  const before = await exported(app)
  const failures: Array<[InjectOptions['method'], string, unknown, number]> = [
    ['POST', '/audiences', { name: 42, reference: 'x', category: 'structure' }, 400],
    ['POST', '/audiences', { name: 'X', reference: 'backend', category: 'structure' }, 409],
    ['POST', '/audiences', { name: 'X', reference: 'x', category: 'audience', parentId: 'backend' }, 422],
    ['POST', '/audiences', { name: 'X', reference: 'x', category: 'audience', parentId: 'ui-made' }, 403],
    ['PATCH', '/audiences/backend', { reference: 'shared' }, 409],
    ['PATCH', '/audiences/backend', { name: 'Renamed', parentId: 'ghost' }, 422],
    ['PATCH', '/audiences/shared', { name: 'Renamed', parentId: 'shared' }, 422],
    ['PATCH', '/audiences/ghost', { name: 'X' }, 404],
    ['DELETE', '/audiences/shared', undefined, 409],
    ['DELETE', '/audiences/smart-one', undefined, 403],
    ['POST', '/audiences/backend/members', Array.from({ length: 101 }, () => 'ada'), 400],
    ['POST', '/audiences/backend/members', ['ada', 'grace'], 207],
    ['PATCH', '/audiences/smart-one/members', ['ada'], 403],
    ['DELETE', '/audiences/backend/members/linus', undefined, 404],
    ['POST', '/audiences/backend/managers', [{ reference: 'ada', permissions: { administrator: { canAddAudienceManagers: true } } }], 422],
    ['POST', '/audiences/shared/managers', [{ reference: 'ada' }], 207],
    ['DELETE', '/audiences/backend/managers/ada', undefined, 404]
  ]
  for (const [method, url, body, status] of failures) {
    const res = await call(app, method, url, body)
    t.equal(res.statusCode, status, `${method} ${url}: ${res.body}`)
    t.equal(await exported(app), before, `${method} ${url} left the export as it was`)
  }
})

t.test('an unknown tenant is a 404; with an admin token the export needs it like every control route', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/__mock/tenants/eu-west-2_Nobody00/fixture' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { status: 404, error: 'Not Found', message: 'Unknown tenant "eu-west-2_Nobody00"' })
  const guarded = await build(t, { admin: { enabled: true, token: 'admin-token-1' } })
  t.equal((await guarded.inject({ url: `/__mock/tenants/${TENANT_A.tenantId}/fixture` })).statusCode, 401)
  t.equal((await guarded.inject({ url: `/__mock/tenants/${TENANT_A.tenantId}/fixture`, headers: { 'x-mock-admin-token': 'admin-token-1' } })).statusCode, 200)
  const journal = (await app.inject({ url: '/__mock/requests' })).json() as unknown[]
  t.same(journal, [], 'exports are control traffic, kept out of the journal')
})

t.test('the library\'s exportTenant gives the same document, and rejects an unknown tenant', async (t) => {
  const mock = await startMockServer({ fixtures: FIXTURE })
  t.teardown(mock.close)
  const res = await fetch(`${mock.url}/rest/v1/audiences`, { method: 'POST', headers: { authorization: BASIC_A, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lib', reference: 'lib', category: 'structure' }) })
  t.equal(res.status, 201)
  const document = await mock.exportTenant(TENANT_A.tenantId)
  t.same(document, await (await fetch(`${mock.url}/__mock/tenants/${TENANT_A.tenantId}/fixture`)).json())
  t.ok(document.tenants[0]?.structures.some((s) => s.reference === 'lib'))
  await t.rejects(mock.exportTenant('eu-west-2_Nobody00'), { message: 'Unknown tenant "eu-west-2_Nobody00"' })
})
