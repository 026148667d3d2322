// The 13 audience operations of thrive-api.md part C (the table, the shapes and decided points 1, 4–8), called over a
// real socket exactly as the open-source Thrive client in simstudioai/sim (apps/sim/tools/thrive) calls them: Basic
// auth, `Content-Type: application/json` and `Accept: application/json` on every call (GET and bodiless DELETE
// included), every path segment through encodeURIComponent, bare JSON arrays for members, `[{reference, permissions}]`
// for managers with the all-false `administrator` block, and a DELETE answer read as `success ?? true`.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { build, TENANT_A, USERS } from '../helpers.js'

interface Answer {
  status: number
  violations: string | null
  contentType: string | null
  location: string | null
  data: any
}

const HEX24 = /^[0-9a-f]{24}$/
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const NONE = { manageMembers: false, manageContent: false, assignments: false }
const NO_PEOPLE = { canViewLearnPage: false, insights: false, manage: false }

/** The headers the client builds for every request, whatever the method. */
function clientHeaders (tenantId: string, apiKey: string): Record<string, string> {
  return {
    Authorization: `Basic ${btoa(`${tenantId}:${apiKey}`)}`,
    'Content-Type': 'application/json',
    Accept: 'application/json'
  }
}

/** The client's manager item: it always sends every block, administrator included, false unless asked. */
function managerItem (reference: string, flags: { manageContent?: boolean, canViewLearnPage?: boolean, canAddAudienceManagers?: boolean } = {}) {
  return {
    reference,
    permissions: {
      audienceManager: { manageContent: flags.manageContent ?? false, assignments: false },
      peopleManager: { canViewLearnPage: flags.canViewLearnPage ?? false, insights: false, manage: false },
      administrator: { canAddAudienceManagers: flags.canAddAudienceManagers ?? false }
    }
  }
}

t.test('a realistic flow through all 13 operations, sent the way the sim Thrive client sends them', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/rest/v1`

  /** Reads a body as the client does: an empty one is `{}`. */
  async function call (method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await fetch(`${base}${path}`, { method, headers: clientHeaders(TENANT_A.tenantId, TENANT_A.apiSecret), ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    return { status: res.status, violations: res.headers.get('x-mock-violations'), contentType: res.headers.get('content-type'), location: res.headers.get('location'), data: text === '' ? {} : JSON.parse(text) }
  }
  const audience = (id: string) => `/audiences/${encodeURIComponent(id)}`
  const ok = (answer: Answer, status: number, what: string) => {
    t.equal(answer.status, status, `${what}: ${JSON.stringify(answer.data)}`)
    t.match(answer.contentType, /^application\/json/)
    // The client sends what Thrive documents, so the mock finds nothing to flag.
    t.equal(answer.violations, null, `${what}: no contract violation`)
  }
  /** The client treats a DELETE as done when the body says so, or says nothing. */
  const deleted = (answer: Answer) => answer.status === 200 && (answer.data?.success ?? true) === true

  // listAudiences: the seed, a page at a time.
  const seed = await call('GET', '/audiences?page=1&perPage=100')
  ok(seed, 200, 'listAudiences')
  t.same(seed.data.pagination, { totalResults: 9, totalPages: 1, page: 1, perPage: 100 })

  // createAudience: a structure, then a child under it named by reference; references with a space, a slash and an @.
  const structure = await call('POST', '/audiences', { name: 'Field Sales', reference: 'field sales/emea', category: 'structure' })
  ok(structure, 201, 'createAudience (structure)')
  const s = structure.data
  t.match(s.id, HEX24)
  t.match(s.createdAt, ISO)
  t.equal(structure.location, `/rest/v1/audiences/${s.id as string}`)
  t.same(s, { id: s.id, name: 'Field Sales', reference: 'field sales/emea', apiControlled: true, category: 'structure', type: 'manual', parent: null, createdAt: s.createdAt, updatedAt: s.createdAt })

  const child = await call('POST', '/audiences', { name: 'London @ Field', reference: 'london @ field/sales', category: 'audience', parentId: 'field sales/emea' })
  ok(child, 201, 'createAudience (child)')
  const c = child.data
  t.match(c.id, HEX24)
  t.equal(child.location, `/rest/v1/audiences/${c.id as string}`)
  t.same(c, { id: c.id, name: 'London @ Field', reference: 'london @ field/sales', apiControlled: true, category: 'audience', type: 'manual', parent: { name: 'Field Sales', reference: 'field sales/emea', id: s.id }, createdAt: c.createdAt, updatedAt: c.createdAt })

  // getAudience: by the encoded reference and by id, the same audience.
  const byReference = await call('GET', audience('london @ field/sales'))
  ok(byReference, 200, 'getAudience by reference')
  t.same(byReference.data, c)
  t.same((await call('GET', audience(c.id))).data, c)

  // addMembers: a bare array of emails, references and ids; the unknown user makes it a 207.
  const added = await call('POST', `${audience('london @ field/sales')}/members`, ['ada@example.com', 'grace', USERS.linus.id, 'new.starter@example.com'])
  ok(added, 207, 'addMembers')
  t.same(added.data, {
    success: { count: 3, entities: [{ reference: 'ada@example.com' }, { reference: 'grace' }, { reference: USERS.linus.id }] },
    failure: { count: 1, entities: [{ reference: 'new.starter@example.com', reason: 'user not found' }] }
  })

  // listMembers: two pages of two.
  const member = (u: { id: string, reference: string, email: string }) => ({ userId: u.id, reference: u.reference, email: u.email })
  const first = await call('GET', `${audience('london @ field/sales')}/members?page=1&perPage=2`)
  ok(first, 200, 'listMembers page 1')
  t.same(first.data, { results: [member(USERS.ada), member(USERS.grace)], pagination: { totalResults: 3, totalPages: 2, page: 1, perPage: 2 } })
  const second = await call('GET', `${audience('london @ field/sales')}/members?page=2&perPage=2`)
  t.same(second.data, { results: [member(USERS.linus)], pagination: { totalResults: 3, totalPages: 2, page: 2, perPage: 2 } })

  // replaceMembers: the list becomes exactly these, in this order.
  const replaced = await call('PATCH', `${audience('london @ field/sales')}/members`, ['linus@example.com', 'ada'])
  ok(replaced, 200, 'replaceMembers')
  t.same(replaced.data, { success: { count: 2, entities: [{ reference: 'linus@example.com' }, { reference: 'ada' }] } })

  // removeMember: an email in the path, @ encoded; a bodiless DELETE that still says Content-Type: application/json.
  const removed = await call('DELETE', `${audience('london @ field/sales')}/members/${encodeURIComponent('ada@example.com')}`)
  ok(removed, 200, 'removeMember')
  t.same(removed.data, { success: true })
  t.ok(deleted(removed))
  t.same((await call('GET', `${audience(c.id)}/members`)).data.results, [member(USERS.linus)])

  // addManagers: the all-false administrator block on a child audience is ignored; on the structure it applies.
  const childManagers = await call('POST', `${audience('london @ field/sales')}/managers`, [managerItem('Grace.Hopper@example.com', { manageContent: true, canViewLearnPage: true })])
  ok(childManagers, 200, 'addManagers (child)')
  t.same(childManagers.data, { success: { count: 1, entities: [{ reference: 'Grace.Hopper@example.com' }] } })
  const structureManagers = await call('POST', `${audience('field sales/emea')}/managers`, [managerItem('ada', { canAddAudienceManagers: true }), managerItem('linus@example.com')])
  ok(structureManagers, 200, 'addManagers (structure)')
  t.same(structureManagers.data, { success: { count: 2, entities: [{ reference: 'ada' }, { reference: 'linus@example.com' }] } })

  // listManagers: a bare array; administrator only on the structure, UI powers always false on API audiences.
  const onChild = await call('GET', `${audience('london @ field/sales')}/managers`)
  ok(onChild, 200, 'listManagers (child)')
  t.same(onChild.data, [{ ...member(USERS.grace), permissions: { audienceManager: { ...NONE, manageContent: true }, peopleManager: { ...NO_PEOPLE, canViewLearnPage: true } } }])
  const onStructure = await call('GET', `${audience('field sales/emea')}/managers`)
  t.same(onStructure.data, [
    { ...member(USERS.ada), permissions: { audienceManager: NONE, peopleManager: NO_PEOPLE, administrator: { canManageAudiences: false, canAddAudienceManagers: true } } },
    { ...member(USERS.linus), permissions: { audienceManager: NONE, peopleManager: NO_PEOPLE, administrator: { canManageAudiences: false, canAddAudienceManagers: false } } }
  ])

  // replaceManagers, then removeManager by the encoded email.
  const replacedManagers = await call('PATCH', `${audience('field sales/emea')}/managers`, [managerItem('linus')])
  ok(replacedManagers, 200, 'replaceManagers')
  t.same(replacedManagers.data, { success: { count: 1, entities: [{ reference: 'linus' }] } })
  const removedManager = await call('DELETE', `${audience('field sales/emea')}/managers/${encodeURIComponent('linus@example.com')}`)
  ok(removedManager, 200, 'removeManager')
  t.ok(deleted(removedManager))
  t.same((await call('GET', `${audience('field sales/emea')}/managers`)).data, [])

  // updateAudience: move the child to another structure (and rename it); memberOperations says from where to where.
  const other = await call('POST', '/audiences', { name: 'Inside Sales', reference: 'inside sales/uk', category: 'structure' })
  ok(other, 201, 'createAudience (second structure)')
  const moved = await call('PATCH', audience('london @ field/sales'), { name: 'London @ Inside', parentId: 'inside sales/uk' })
  ok(moved, 200, 'updateAudience (move)')
  t.match(moved.data.updatedAt, ISO)
  t.same(moved.data, {
    ...c,
    name: 'London @ Inside',
    parent: { name: 'Inside Sales', reference: 'inside sales/uk', id: other.data.id },
    updatedAt: moved.data.updatedAt,
    memberOperations: { from: { id: s.id, name: 'Field Sales', reference: 'field sales/emea' }, to: { id: other.data.id, name: 'Inside Sales', reference: 'inside sales/uk' } }
  })
  t.same((await call('GET', `${audience(c.id)}/members`)).data.results, [member(USERS.linus)], 'members move with the audience')

  // deleteAudience: a structure with a child is a 409 the client reads from `message`; then the child and both structures.
  const refused = await call('DELETE', audience('inside sales/uk'))
  ok(refused, 409, 'deleteAudience (has a child)')
  t.same(Object.keys(refused.data).sort(), ['error', 'message', 'status'])
  t.same([refused.data.status, refused.data.error], [409, 'Conflict'])
  t.match(refused.data.message, /child/)
  t.notOk(deleted(refused))
  for (const id of ['london @ field/sales', 'inside sales/uk', 'field sales/emea']) {
    const answer = await call('DELETE', audience(id))
    ok(answer, 200, `deleteAudience ${id}`)
    t.same(answer.data, { success: true })
    t.ok(deleted(answer))
  }
  const gone = await call('GET', audience('london @ field/sales'))
  ok(gone, 404, 'getAudience after delete')
  t.same([gone.data.status, gone.data.error], [404, 'Not Found'])
  t.same((await call('GET', '/audiences?page=1&perPage=100')).data, seed.data, 'the tenant is back to its seed list')
  // Every call of the flow, journaled, with no violation; and the 13 operations were all called.
  const entries = app.journal.list({ tenantId: TENANT_A.tenantId })
  t.same(entries.filter((e) => e.violations.length > 0), [])
  const operations = new Set(entries.map((e) => `${e.method} ${e.path.replace(/\/audiences\/[^/]+/, '/audiences/{id}').replace(/(members|managers)\/[^/]+$/, '$1/{user}')}`))
  t.equal(operations.size, 13, [...operations].join(', '))
})

t.test('a token request as OAuth client libraries send it (RFC 6749 §4.4.2, §2.3.1) has no violation, strict or not', async (t) => {
  const app = await build(t, { strict: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/oauth2/token/${TENANT_A.tenantId}`
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }
  const basic = await fetch(url, { method: 'POST', headers: { ...form, Authorization: `Basic ${btoa(`${TENANT_A.tenantId}:${TENANT_A.apiSecret}`)}` }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api/read' }) })
  const post = await fetch(url, { method: 'POST', headers: form, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: TENANT_A.tenantId, client_secret: TENANT_A.apiSecret }) })
  for (const res of [basic, post]) {
    t.equal(res.status, 200)
    t.equal(res.headers.get('x-mock-violations'), null)
    t.same(Object.keys(await res.json() as object).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  }
})
