// The API prefix, stated once in src/operations.ts: the routes, the Location header, the published document, coverage
// and the contract checker all read it (thrive-api.md part A: clients call the API under /rest/v1).
import t from 'tap'
import { API_PREFIX, OPERATIONS } from '../src/operations.js'
import { VIOLATION_CODES } from '../src/violations.js'
import { BASIC_A, build, CLIENT_HEADERS, json, TENANT_A } from './helpers.js'

t.test('the audience API is served under API_PREFIX, which the docs name as the path real clients call', async (t) => {
  t.equal(API_PREFIX, '/rest/v1', 'thrive-api.md part A')
  const app = await build(t)
  const read = await app.inject({ url: `${API_PREFIX}/audiences/backend`, headers: { authorization: BASIC_A, ...CLIENT_HEADERS } })
  t.equal(read.statusCode, 200)
  t.equal(json(read).reference, 'backend')
  t.equal(read.headers['x-mock-violations'], undefined, 'the prefixed path carries no short-path violation')

  const short = await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A, ...CLIENT_HEADERS } })
  t.equal(short.statusCode, 200)
  t.match(short.headers['x-mock-violations'], new RegExp(`^path short-path: .* under ${API_PREFIX}$`))
  t.match(VIOLATION_CODES['short-path'], `real clients call ${API_PREFIX}/audiences`)

  const created = await app.inject({ method: 'POST', url: `${API_PREFIX}/audiences`, headers: { authorization: BASIC_A, ...CLIENT_HEADERS }, payload: { name: 'Prefixed', reference: 'prefixed', category: 'structure' } })
  t.equal(created.statusCode, 201)
  t.equal(created.headers.location, `${API_PREFIX}/audiences/${json(created).id as string}`, 'Location names the prefixed path')
})

t.test('the published document, its descriptions and the coverage report name every audience path under API_PREFIX', async (t) => {
  const app = await build(t)
  const doc = json(await app.inject({ url: '/openapi.json' })) as { info: { description: string }, paths: Record<string, Record<string, { operationId: string, description: string }>> }
  t.match(doc.info.description, `answers both \`${API_PREFIX}/audiences/{audienceId}\``)
  const audienceOps = Object.values(OPERATIONS).filter((op) => op.access !== 'client')
  const coverage = json(await app.inject({ url: `/__mock/coverage?tenantId=${TENANT_A.tenantId}` })) as { operations: Array<{ operationId: string, path: string }> }
  for (const op of audienceOps) {
    const path = `${API_PREFIX}${op.path.replace(/:(\w+)/g, '{$1}')}`
    const documented = doc.paths[path]?.[op.method.toLowerCase()]
    t.equal(documented?.operationId, op.operationId, `${op.operationId} at ${path}`)
    t.match(documented?.description, `Served at \`${path}\``)
    t.equal(coverage.operations.find((o) => o.operationId === op.operationId)?.path, path, `coverage names ${op.operationId} at ${path}`)
  }
  t.equal(audienceOps.length, 13, 'the 13 audience operations of thrive-api.md part C')
})
