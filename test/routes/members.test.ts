// Members and managers of an audience: thrive-api.md part C, the table, the Member and Manager shapes, and decided
// points 1, 6, 7 and 8.
import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { BASIC_A, BASIC_B, build, CLIENT_HEADERS, json, USERS } from '../helpers.js'

const AUTH = { authorization: BASIC_A, ...CLIENT_HEADERS }
const NONE = { manageMembers: false, manageContent: false, assignments: false }
const NO_PEOPLE = { canViewLearnPage: false, insights: false, manage: false }

async function call (app: FastifyInstance, method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = AUTH) {
  return await app.inject({ method, url: `/rest/v1${url}`, headers, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
}

function assertError (t: Test, res: Awaited<ReturnType<typeof call>>, status: number, message: RegExp) {
  t.equal(res.statusCode, status, `status ${status}: ${res.body}`)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(Object.keys(json(res)).sort(), ['error', 'message', 'status'])
  t.equal(json(res).status, status)
  t.match(json(res).message, message)
}

const member = (u: { id: string, reference: string, email: string }) => ({ userId: u.id, reference: u.reference, email: u.email })

t.test('members are listed in the order added, as {userId, reference, email}, with pagination', async (t) => {
  const app = await build(t)
  const res = await call(app, 'GET', '/audiences/backend/members')
  t.equal(res.statusCode, 200)
  t.same(json(res), { results: [member(USERS.ada), member(USERS.grace)], pagination: { totalResults: 2, totalPages: 1, page: 1, perPage: 100 } })
  t.same(json(await call(app, 'GET', '/audiences/backend/members?perPage=1&page=2')), { results: [member(USERS.grace)], pagination: { totalResults: 2, totalPages: 2, page: 2, perPage: 1 } })
  t.same(json(await call(app, 'GET', '/audiences/backend/members?page=3&limit=1')), { results: [], pagination: { totalResults: 2, totalPages: 2, page: 3, perPage: 1 } })
  assertError(t, await call(app, 'GET', '/audiences/ghost/members'), 404, /ghost/)
  assertError(t, await call(app, 'GET', '/audiences/backend/members?perPage=1001'), 400, /perPage/)
})

t.test('adding members: 200 when all succeed; 207 with each failure and its reason, echoing what was sent (decided 8)', async (t) => {
  const app = await build(t)
  const all = await call(app, 'POST', '/audiences/with%20space/members', [USERS.linus.id, 'ada'])
  t.equal(all.statusCode, 200)
  t.same(json(all), { success: { count: 2, entities: [{ reference: USERS.linus.id }, { reference: 'ada' }] } })

  const some = await call(app, 'POST', '/audiences/backend/members', ['linus', 'ADA@example.com', 'nobody@example.com', 'LINUS@example.com'])
  t.equal(some.statusCode, 207)
  t.same(json(some), {
    success: { count: 1, entities: [{ reference: 'linus' }] },
    failure: {
      count: 3,
      entities: [
        { reference: 'ADA@example.com', reason: 'already a member' },
        { reference: 'nobody@example.com', reason: 'user not found' },
        { reference: 'LINUS@example.com', reason: 'duplicate in request' }
      ]
    }
  })
  t.same((json(await call(app, 'GET', '/audiences/backend/members')) as { results: unknown[] }).results, [member(USERS.ada), member(USERS.grace), member(USERS.linus)])

  const none = await call(app, 'POST', '/audiences/backend/members', ['nobody'])
  t.equal(none.statusCode, 207)
  t.same(json(none), { success: { count: 0, entities: [] }, failure: { count: 1, entities: [{ reference: 'nobody', reason: 'user not found' }] } })
})

t.test('replacing members sets exactly the users that were found, in request order; [] is not supported (decided 8)', async (t) => {
  const app = await build(t)
  const res = await call(app, 'PATCH', '/audiences/backend/members', ['linus', 'ghost', 'grace'])
  t.equal(res.statusCode, 207)
  t.same(json(res), { success: { count: 2, entities: [{ reference: 'linus' }, { reference: 'grace' }] }, failure: { count: 1, entities: [{ reference: 'ghost', reason: 'user not found' }] } })
  t.same((json(await call(app, 'GET', '/audiences/backend/members')) as { results: unknown[] }).results, [member(USERS.linus), member(USERS.grace)])
  assertError(t, await call(app, 'PATCH', '/audiences/backend/members', []), 400, /body/)
})

t.test('member bodies that break the schema are a 400, and nothing changes (decided 1)', async (t) => {
  const app = await build(t)
  for (const body of [[42], ['x'.repeat(101)], Array.from({ length: 101 }, (_, i) => `u${i}`), { users: ['ada'] }, [''], 'ada']) {
    assertError(t, await call(app, 'POST', '/audiences/backend/members', body), 400, /body/)
  }
  t.same((json(await call(app, 'GET', '/audiences/backend/members')) as { results: unknown[] }).results, [member(USERS.ada), member(USERS.grace)])
})

t.test('removing a member by id, reference or URL-encoded email answers {"success": true}; a non-member is a 404 (decided 6, 7)', async (t) => {
  const app = await build(t)
  const removed = await call(app, 'DELETE', `/audiences/backend/members/${encodeURIComponent('GRACE.HOPPER@example.com')}`)
  t.same([removed.statusCode, json(removed)], [200, { success: true }])
  assertError(t, await call(app, 'DELETE', '/audiences/backend/members/grace'), 404, /grace/)
  assertError(t, await call(app, 'DELETE', '/audiences/backend/members/nobody'), 404, /nobody/)
  t.equal((await call(app, 'DELETE', `/audiences/backend/members/${USERS.ada.id}`)).statusCode, 200)
  t.same((json(await call(app, 'GET', '/audiences/backend/members')) as { results: unknown[] }).results, [])
})

t.test('managers: a structure shows administrator, a child does not, and API audiences never show UI powers (decided 8)', async (t) => {
  const app = await build(t)
  const structure = await call(app, 'GET', '/audiences/shared/managers')
  t.equal(structure.statusCode, 200)
  t.same(json(structure), [{
    ...member(USERS.ada),
    permissions: { audienceManager: { ...NONE, manageContent: true }, peopleManager: NO_PEOPLE, administrator: { canManageAudiences: false, canAddAudienceManagers: true } }
  }] as unknown as Record<string, unknown>)
  t.same(json(await call(app, 'GET', '/audiences/backend/managers')), [] as unknown as Record<string, unknown>)
  const ui = json(await call(app, 'GET', '/audiences/ui-made/managers')) as unknown as Array<{ permissions: { administrator: unknown } }>
  t.same(ui[0]?.permissions.administrator, { canManageAudiences: true, canAddAudienceManagers: false }, 'a UI structure may carry UI powers')
  assertError(t, await call(app, 'GET', '/audiences/ghost/managers'), 404, /ghost/)
})

t.test('adding managers: flags default to false, an all-false administrator block on a child is ignored, a true one is a 422 (decided 1, 8)', async (t) => {
  const app = await build(t)
  const added = await call(app, 'POST', '/audiences/backend/managers', [
    { reference: 'grace', permissions: { peopleManager: { insights: true } } },
    { reference: 'linus@example.com', permissions: { administrator: { canAddAudienceManagers: false } } }
  ])
  t.equal(added.statusCode, 200)
  t.same(json(added), { success: { count: 2, entities: [{ reference: 'grace' }, { reference: 'linus@example.com' }] } })
  t.same(json(await call(app, 'GET', '/audiences/backend/managers')), [
    { ...member(USERS.grace), permissions: { audienceManager: NONE, peopleManager: { ...NO_PEOPLE, insights: true } } },
    { ...member(USERS.linus), permissions: { audienceManager: NONE, peopleManager: NO_PEOPLE } }
  ] as unknown as Record<string, unknown>)

  assertError(t, await call(app, 'POST', '/audiences/backend/managers', [{ reference: 'ada', permissions: { administrator: { canAddAudienceManagers: true } } }]), 422, /administrator/)
  const again = await call(app, 'POST', '/audiences/backend/managers', [{ reference: 'grace' }, { reference: 'nobody' }, { reference: 'ada' }, { reference: 'ADA@example.com' }])
  t.equal(again.statusCode, 207)
  t.same(json(again), {
    success: { count: 1, entities: [{ reference: 'ada' }] },
    failure: { count: 3, entities: [{ reference: 'grace', reason: 'already a manager' }, { reference: 'nobody', reason: 'user not found' }, { reference: 'ADA@example.com', reason: 'duplicate in request' }] }
  })
  assertError(t, await call(app, 'POST', '/audiences/backend/managers', [{ reference: 'ada', permissions: { audienceManager: { manageContent: 'yes' } } }]), 400, /manageContent/)
})

t.test('replacing and removing managers (decided 6, 8)', async (t) => {
  const app = await build(t)
  const replaced = await call(app, 'PATCH', '/audiences/shared/managers', [{ reference: 'linus', permissions: { administrator: { canAddAudienceManagers: true } } }])
  t.same([replaced.statusCode, json(replaced)], [200, { success: { count: 1, entities: [{ reference: 'linus' }] } }])
  t.same((json(await call(app, 'GET', '/audiences/shared/managers')) as unknown as Array<{ userId: string }>).map((m) => m.userId), [USERS.linus.id])
  assertError(t, await call(app, 'PATCH', '/audiences/shared/managers', []), 400, /body/)
  const removed = await call(app, 'DELETE', `/audiences/shared/managers/${USERS.linus.id}`)
  t.same([removed.statusCode, json(removed)], [200, { success: true }])
  assertError(t, await call(app, 'DELETE', `/audiences/shared/managers/${USERS.linus.id}`), 404, /manager/)
})

t.test('any write to a UI-created audience\'s members or managers is a 403; reading them is not (decided 1)', async (t) => {
  const app = await build(t)
  for (const [method, url, body] of [
    ['POST', '/audiences/smart-one/members', ['ada']],
    ['PATCH', '/audiences/smart-one/members', ['ada']],
    ['DELETE', '/audiences/smart-one/members/linus', undefined],
    ['POST', '/audiences/ui-made/managers', [{ reference: 'ada' }]],
    ['PATCH', '/audiences/ui-made/managers', [{ reference: 'ada' }]],
    ['DELETE', '/audiences/ui-made/managers/grace', undefined]
  ] as const) {
    assertError(t, await call(app, method, url, body), 403, /Thrive UI/)
  }
  t.equal((await call(app, 'GET', '/audiences/smart-one/members')).statusCode, 200)
})

t.test('deleting an audience takes its members and managers with it (decided 6)', async (t) => {
  const app = await build(t)
  await call(app, 'POST', '/audiences', { name: 'Temp', reference: 'temp', category: 'audience', parentId: 'shared' })
  await call(app, 'POST', '/audiences/temp/members', ['ada'])
  await call(app, 'POST', '/audiences/temp/managers', [{ reference: 'ada' }])
  t.equal((await call(app, 'DELETE', '/audiences/temp')).statusCode, 200)
  await call(app, 'POST', '/audiences', { name: 'Temp', reference: 'temp', category: 'audience', parentId: 'shared' })
  t.same((json(await call(app, 'GET', '/audiences/temp/members')) as { results: unknown[] }).results, [])
  t.same(json(await call(app, 'GET', '/audiences/temp/managers')), [] as unknown as Record<string, unknown>)
})

t.test('users are per tenant: tenant B\'s "ada" is another user, and A\'s users do not exist in B (decided 7, 9)', async (t) => {
  const app = await build(t)
  const b = { authorization: BASIC_B, ...CLIENT_HEADERS }
  const res = await call(app, 'POST', '/audiences/shared/members', ['ada', 'grace'], b)
  t.equal(res.statusCode, 207)
  t.same(json(res).failure, { count: 1, entities: [{ reference: 'grace', reason: 'user not found' }] })
  const listed = (json(await call(app, 'GET', '/audiences/shared/members', undefined, b)) as { results: Array<{ userId: string }> }).results
  t.equal(listed.length, 1)
  t.not(listed[0]?.userId, USERS.ada.id)
})
