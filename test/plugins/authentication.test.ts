// HTTP Basic on API routes: thrive-api.md part A "Authentication" and B.4; RFC 7617 (Basic), RFC 9110 §11.6.1.
import t from 'tap'
import { CACHE_LIMITS } from '../../src/plugins/cache.js'
import { secretsEqual } from '../../src/secrets.js'
import { MemoryStore } from '../../src/store/memory-store.js'
import type { Store } from '../../src/store/store.js'
import { basic, BASIC_A, build, json, TENANT_A, TENANT_B } from '../helpers.js'

const CHALLENGE = 'Basic realm="Thrive API", charset="UTF-8", Bearer realm="Thrive API"'

const cases: Array<[string, string | undefined, RegExp]> = [
  ['no Authorization header', undefined, /^Missing Authorization header/],
  ['an empty Authorization header', '', /^Missing Authorization header/],
  ['another scheme (Digest)', 'Digest username="x"', /^Malformed Authorization header/],
  ['Basic with no credentials', 'Basic', /^Malformed Authorization header/],
  ['Basic with characters outside base64', 'Basic !!!not-base64!!!', /^Malformed Authorization header/],
  ['Basic credentials without a colon', `Basic ${Buffer.from('no-colon-here').toString('base64')}`, /^Malformed Authorization header/],
  ['Basic credentials with a control character', `Basic ${Buffer.from('a\u0001b:c').toString('base64')}`, /^Malformed Authorization header/],
  ['an unknown tenant', basic('eu-west-2_Unknown99', TENANT_A.apiSecret), /^Invalid credentials/],
  ['a wrong secret', basic(TENANT_A.tenantId, 'wrong-secret'), /^Invalid credentials/],
  ['another tenant\'s secret', basic(TENANT_A.tenantId, TENANT_B.apiSecret), /^Invalid credentials/],
  ['an empty secret', basic(TENANT_A.tenantId, ''), /^Invalid credentials/]
]

for (const [name, header, message] of cases) {
  t.test(`${name} is a 401 in the documented shape with a WWW-Authenticate challenge`, async (t) => {
    const app = await build(t)
    const res = await app.inject({ url: '/rest/v1/audiences/backend', headers: header === undefined ? {} : { authorization: header } })
    t.equal(res.statusCode, 401)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['www-authenticate'], CHALLENGE)
    const body = json(res)
    t.same(Object.keys(body).sort(), ['error', 'message', 'status'])
    t.equal(body.status, 401)
    t.equal(body.error, 'Unauthorized')
    t.match(body.message, message)
    t.notMatch(res.body, TENANT_A.apiSecret, 'never echoes a secret')
    t.notMatch(res.body, TENANT_B.apiSecret, 'never echoes a secret')
  })
}

t.test('the scheme name is case-insensitive (RFC 9110 §11.1)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A.replace('Basic', 'bAsIc') } })
  t.equal(res.statusCode, 200)
})

t.test('a password may contain colons: only the first colon splits (RFC 7617 §2)', async (t) => {
  const app = await build(t, {
    fixtures: [{ name: 'colon', data: { tenants: [{ tenantId: 'eu-west-2_Colon1', apiSecret: 'a:b:c', structures: [{ name: 'S', reference: 's' }] }] } }]
  })
  const res = await app.inject({ url: '/audiences/s', headers: { authorization: basic('eu-west-2_Colon1', 'a:b:c') } })
  t.equal(res.statusCode, 200)
})

t.test('authentication runs before lookup: an unknown audience with bad credentials is 401, not 404', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/audiences/does-not-exist', headers: { authorization: basic(TENANT_A.tenantId, 'nope') } })
  t.equal(res.statusCode, 401)
})

t.test('secretsEqual compares by digest, so a length difference cannot short-circuit the comparison', async (t) => {
  t.equal(secretsEqual('same', 'same'), true)
  t.equal(secretsEqual('same', 'same-but-longer'), false)
  t.equal(secretsEqual('', 'x'.repeat(10_000)), false)
  t.equal(secretsEqual('sbme', 'same'), false)
})

t.test('a Basic header seen before still authenticates after a full reset, and a wrong secret never does', async (t) => {
  const app = await build(t)
  const read = (authorization: string) => app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization } })
  t.equal((await read(BASIC_A)).statusCode, 200)
  t.equal((await read(BASIC_A)).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/__mock/reset', headers: { 'content-type': 'application/json' } })).statusCode, 200)
  t.equal((await read(BASIC_A)).statusCode, 200)
  t.equal((await read(basic(TENANT_A.tenantId, `${TENANT_A.apiSecret}x`))).statusCode, 401)
})

t.test('more distinct valid Basic headers than the server remembers all keep authenticating', async (t) => {
  const app = await build(t)
  // Extra base64 padding gives distinct headers for the same credentials (token68 allows trailing "=").
  const headers = Array.from({ length: CACHE_LIMITS.entries + 1 }, (_, i) => `${BASIC_A}${'='.repeat(i)}`)
  for (const authorization of headers) {
    const res = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization } })
    if (res.statusCode !== 200) t.fail(`${authorization}: ${res.statusCode}`)
  }
  t.equal((await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: headers[0] as string } })).statusCode, 200)
})

/**
 * A store whose tenant secret can change while the app runs, as it can in a store shared by several servers: the
 * in-memory store's own secrets never change, so only another implementation can show that a cached Basic
 * credential is dropped when its tenant's version moves.
 */
class RotatingStore extends MemoryStore {
  secret = TENANT_A.apiSecret
  bumps = 0
  override async verifyTenantSecret (tenantId: string, secret: string): Promise<boolean> {
    return tenantId === TENANT_A.tenantId ? secret === this.secret : await super.verifyTenantSecret(tenantId, secret)
  }

  override version (tenantId: string): number {
    return super.version(tenantId) + (tenantId === TENANT_A.tenantId ? this.bumps : 0)
  }
}

t.test('a cached Basic credential is checked again once its tenant changes, so a rotated secret stops working at once', async (t) => {
  let store: RotatingStore | undefined
  const app = await build(t, {}, { createStore: (seed, options): Store => { store = new RotatingStore(seed, options); return store } })
  const read = (authorization: string) => app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization } })
  t.equal((await read(BASIC_A)).statusCode, 200, 'the first use is checked and cached')
  t.equal((await read(BASIC_A)).statusCode, 200, 'a repeat is served from the cache')
  const rotating = store as RotatingStore
  rotating.secret = 'the-rotated-secret'
  rotating.bumps += 1
  const old = await read(BASIC_A)
  t.equal(old.statusCode, 401, 'the old secret is refused once the tenant version moved')
  t.match(json(old).message, /^Invalid credentials/)
  t.equal((await read(basic(TENANT_A.tenantId, 'the-rotated-secret'))).statusCode, 200)
})
