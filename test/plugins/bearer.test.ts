// Bearer access on API routes: thrive-api.md B.6–B.8; RFC 6750 §3 (challenges), RFC 7519 (JWT), RFC 8725 (JWT BCP).
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { BASIC_A, build, getToken, IDS, json, TENANT_A, TENANT_B, testConfig } from '../helpers.js'

const KEY = 'k'.repeat(40)
const ISSUER = 'thrive-audience-mock'
const withKey = (signingKey: string, extra: Record<string, unknown> = {}) => ({ token: { ttlSeconds: 3600, signingKey, issuer: ISSUER, ...extra } })

function claims (extra: Record<string, unknown> = {}) {
  const iat = Math.floor(Date.now() / 1000)
  return { sub: 'a-reader', client_id: 'a-reader', tenant_id: TENANT_A.tenantId, token_use: 'access', scope: 'api/read', iss: ISSUER, iat, exp: iat + 3600, jti: randomUUID(), ...extra }
}

const forge = (payload: Record<string, unknown>, key = KEY, algorithm: 'HS256' | 'HS512' = 'HS256') => createSigner({ key, algorithm })(payload)

async function read (app: Awaited<ReturnType<typeof build>>, token: string, audience = 'backend') {
  return await app.inject({ url: `/rest/v1/audiences/${audience}`, headers: { authorization: `Bearer ${token}` } })
}

function assertInvalidToken (t: Test, res: Awaited<ReturnType<typeof read>>, reason: RegExp) {
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /^Bearer realm="Thrive API", error="invalid_token", error_description="/)
  t.same(Object.keys(json(res)).sort(), ['error', 'message', 'status'])
  t.equal(json(res).error, 'Unauthorized')
  t.match(json(res).message, /^Invalid access token: /)
  t.match(json(res).message, reason)
}

t.test('a token from the token endpoint reads an audience; the Bearer body equals the Basic body', async (t) => {
  const app = await build(t)
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  const bearer = await read(app, token)
  const basicRes = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(bearer.statusCode, 200)
  t.equal(bearer.body, basicRes.body)
})

t.test('the token\'s tenant decides what is visible: another tenant\'s audience is 404 (B.2)', async (t) => {
  const app = await build(t)
  const token = await getToken(app, 'b-reader', 'b-reader-secret', TENANT_B.tenantId)
  t.equal((await read(app, token, IDS.aChild)).statusCode, 404)
  t.equal(json(await read(app, token, 'shared')).id, IDS.bStructure)
})

for (const [client, scope] of <Array<[string, string]>>[['a-all', 'api/all'], ['a-mixed', 'api/read api/write']]) {
  t.test(`a token with ${scope} may read (B.7)`, async (t) => {
    const app = await build(t)
    t.equal((await read(app, await getToken(app, client, `${client}-secret`))).statusCode, 200)
  })
}

for (const [client, scope] of <Array<[string, string]>>[['a-writer', 'api/write'], ['a-hooks', 'api/webhooks']]) {
  t.test(`a token with only ${scope} is a 403 naming the scope it lacks (B.7, RFC 6750 §3.1)`, async (t) => {
    const app = await build(t)
    const res = await read(app, await getToken(app, client, `${client}-secret`))
    t.equal(res.statusCode, 403)
    t.same(json(res), { status: 403, error: 'Forbidden', message: 'The access token lacks the scope this operation needs: api/read or api/all' })
    t.equal(res.headers['www-authenticate'], 'Bearer realm="Thrive API", error="insufficient_scope", scope="api/read api/all"')
  })
}

t.test('a token narrowed to api/write by the scope parameter cannot read', async (t) => {
  const app = await build(t)
  const token = await getToken(app, TENANT_A.tenantId, TENANT_A.apiSecret, TENANT_A.tenantId, 'api/write')
  t.equal((await read(app, token)).statusCode, 403)
})

t.test('a token expires after its lifetime, judged by the mock clock (B.8)', async (t) => {
  const app = await build(t, { token: { ttlSeconds: 60, signingKey: null, issuer: ISSUER } })
  const res = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(json(res).expires_in, 60)
  const token = json(res).access_token as string
  app.clock.advance(59_000)
  t.equal((await read(app, token)).statusCode, 200, 'still valid a second before expiry')
  app.clock.advance(1000)
  assertInvalidToken(t, await read(app, token), /expired/)
})

/** Stops real time for one test, so the mock clock moves only when the test moves it and an edge can be hit to the millisecond. */
function freezeTime (t: Test): void {
  const realNow = Date.now
  const frozen = realNow()
  Date.now = () => frozen
  t.teardown(() => { Date.now = realNow })
}

async function issue (app: Awaited<ReturnType<typeof build>>): Promise<{ token: string, exp: number }> {
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }
  return { token, exp }
}

t.test('with no clock tolerance configured, a 1 s token reads until its exp and is refused from exp on (RFC 7519 §4.1.4, B.8)', async (t) => {
  freezeTime(t)
  const app = await build(t, { token: { ttlSeconds: 1, signingKey: null, issuer: ISSUER } })
  const { token, exp } = await issue(app)
  app.clock.set(exp * 1000 - 1)
  const before = await read(app, token)
  t.equal(before.statusCode, 200, 'a millisecond before exp')
  t.equal(json(before).id, IDS.aChild)
  app.clock.set(exp * 1000)
  assertInvalidToken(t, await read(app, token), /^Invalid access token: the token has expired; request a new one$/)
  app.clock.set(exp * 1000 + 1500)
  assertInvalidToken(t, await read(app, token), /expired/)
})

t.test('a configured clock tolerance of 5 s still accepts a token 4 s after exp and refuses it at 5 s; without one it is refused at once (RFC 7519 §4.1.4)', async (t) => {
  freezeTime(t)
  const lenient = await build(t, withKey(KEY, { ttlSeconds: 1, clockToleranceSeconds: 5 }))
  const strict = await build(t, withKey(KEY, { ttlSeconds: 1 }))
  const { token, exp } = await issue(lenient)
  for (const app of [lenient, strict]) app.clock.set((exp + 4) * 1000)
  t.equal((await read(lenient, token)).statusCode, 200, '4 s after exp, within the tolerance')
  assertInvalidToken(t, await read(strict, token), /the token has expired/)
  lenient.clock.set((exp + 5) * 1000)
  assertInvalidToken(t, await read(lenient, token), /the token has expired/)
})

t.test('the clock tolerance also applies to iat and nbf: a token from up to that many seconds ahead is accepted (RFC 7519 §4.1.5, §4.1.6)', async (t) => {
  freezeTime(t)
  const nowS = Math.floor(Date.now() / 1000)
  const strict = await build(t, withKey(KEY))
  const lenient = await build(t, withKey(KEY, { clockToleranceSeconds: 5 }))
  for (const [name, extra] of [['iat', { iat: nowS + 5 }], ['nbf', { nbf: nowS + 5 }]] as const) {
    const ahead = forge(claims(extra))
    assertInvalidToken(t, await read(strict, ahead), name === 'iat' ? /issued in the future/ : /not valid yet/)
    t.equal((await read(lenient, ahead)).statusCode, 200, `${name} 5 s ahead, within a 5 s tolerance`)
    assertInvalidToken(t, await read(lenient, forge(claims({ [name]: nowS + 6 }))), name === 'iat' ? /issued in the future/ : /not valid yet/)
  }
})

t.test('attacks and malformed tokens are 401 with an invalid_token challenge (RFC 8725 §2)', async (t) => {
  const app = await build(t, withKey(KEY))
  const good = forge(claims())
  t.equal((await read(app, good)).statusCode, 200, 'a token forged with the shared key is valid: the key is the trust')

  const [h, p] = good.split('.') as [string, string, string]
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`
  assertInvalidToken(t, await read(app, none), /algorithm this server does not accept/)

  const tamperedPayload = Buffer.from(JSON.stringify({ ...claims(), tenant_id: TENANT_B.tenantId })).toString('base64url')
  assertInvalidToken(t, await read(app, `${h}.${tamperedPayload}.${good.split('.')[2] ?? ''}`), /signature does not verify/)

  assertInvalidToken(t, await read(app, forge(claims(), 'x'.repeat(40))), /signature does not verify/)
  assertInvalidToken(t, await read(app, forge(claims(), KEY, 'HS512')), /algorithm this server does not accept/)
  assertInvalidToken(t, await read(app, forge(claims({ iss: 'https://evil.example' }))), /wrong issuer or claim value/)
  assertInvalidToken(t, await read(app, forge(claims({ token_use: 'id' }))), /not an access token/)
  const { jti: _jti, ...noJti } = claims()
  assertInvalidToken(t, await read(app, forge(noJti)), /lacks a required claim/)
  assertInvalidToken(t, await read(app, forge(claims({ scope: 42 }))), /claim scope must be a string/)
  assertInvalidToken(t, await read(app, forge(claims({ iat: 'yesterday' }))), /exp and iat must be numbers/)
  assertInvalidToken(t, await read(app, forge(claims({ exp: Math.floor(Date.now() / 1000) - 60 }))), /expired/)
  assertInvalidToken(t, await read(app, forge(claims({ iat: Math.floor(Date.now() / 1000) + 600 }))), /issued in the future/)
  assertInvalidToken(t, await read(app, forge(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))), /not valid yet/)
  assertInvalidToken(t, await read(app, 'not-a-jwt'), /not a well-formed JWT/)
  assertInvalidToken(t, await read(app, ''), /not a well-formed JWT/)
  const crit = createSigner({ key: KEY, algorithm: 'HS256', header: { crit: ['exp'] } } as never)(claims())
  assertInvalidToken(t, await read(app, crit), /cannot be verified/)
})

t.test('a well-signed token for a tenant this server does not know grants nothing', async (t) => {
  const app = await build(t, withKey(KEY))
  const res = await read(app, forge(claims({ tenant_id: 'eu-west-2_Gone0000' })))
  t.equal(res.statusCode, 401)
  t.match(json(res).message, /tenant this server does not know/)
})

t.test('kid, jku and x5u header tricks are ignored: only the configured key verifies (RFC 8725 §3.10)', async (t) => {
  const app = await build(t, withKey(KEY))
  const attackerKey = 'a'.repeat(40)
  const tricked = createSigner({ key: attackerKey, algorithm: 'HS256', header: { kid: '../../dev/null', jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/cert' } } as never)(claims())
  assertInvalidToken(t, await read(app, tricked), /signature does not verify/)
})

t.test('two instances given the same key accept each other\'s tokens; a third with another key does not (B.6)', async (t) => {
  const one = await build(t, withKey(KEY))
  const two = await build(t, withKey(KEY))
  const other = await build(t, withKey('z'.repeat(40)))
  const token = await getToken(one, 'a-reader', 'a-reader-secret')
  t.equal((await read(two, token)).statusCode, 200)
  t.equal((await read(other, token)).statusCode, 401)
})

for (const [name, options, alg] of [
  ['RSA', { type: 'rsa' as const, opts: { modulusLength: 2048 } }, 'RS256'],
  ['EC P-256', { type: 'ec' as const, opts: { namedCurve: 'P-256' } }, 'ES256'],
  ['Ed25519', { type: 'ed25519' as const, opts: {} }, 'EdDSA']
] as const) {
  t.test(`a PEM ${name} key signs ${alg}, the JWKS publishes its public key, and HS256 with that public key is refused`, async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync(options.type as 'rsa', { ...options.opts, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } } as never) as unknown as { privateKey: string, publicKey: string }
    const app = await build(t, withKey(privateKey))
    const token = await getToken(app, 'a-reader', 'a-reader-secret')
    t.equal(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).alg, alg)
    t.equal((await read(app, token)).statusCode, 200)
    const jwks = json(await app.inject({ url: '/.well-known/jwks.json' })) as { keys: Array<Record<string, unknown>> }
    t.equal(jwks.keys.length, 1)
    t.match(jwks.keys[0], { alg, use: 'sig', kid: /^[\w-]{16}$/ })
    t.notOk('d' in (jwks.keys[0] ?? {}), 'no private part')
    // Algorithm confusion: an HMAC token keyed with the public key must not verify.
    assertInvalidToken(t, await read(app, forge(claims(), publicKey)), /algorithm this server does not accept/)
  })
}

t.test('the JWKS is empty when tokens are HMAC-signed', async (t) => {
  const app = await build(t, withKey(KEY))
  t.same(json(await app.inject({ url: '/.well-known/jwks.json' })), { keys: [] })
})

t.test('bad signing keys stop start-up with a clear message', async (t) => {
  await t.rejects(buildApp(testConfig(withKey('too-short'))), { name: 'ConfigError', message: /at least 32 characters or a PEM private key/ })
  await t.rejects(buildApp(testConfig(withKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----'))), { name: 'ConfigError', message: /looks like PEM but cannot be read/ })
  const { privateKey } = generateKeyPairSync('x25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  await t.rejects(buildApp(testConfig(withKey(privateKey))), { name: 'ConfigError', message: /key type "x25519" is not supported/ })
  const { privateKey: k1 } = generateKeyPairSync('ec', { namedCurve: 'secp256k1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  await t.rejects(buildApp(testConfig(withKey(k1))), { name: 'ConfigError', message: /key type "ec secp256k1" is not supported/ })
})

t.test('without a key, a random one is generated and a warning says tokens will not survive a restart', async (t) => {
  const lines: string[] = []
  const app = await build(t, {}, { logger: { level: 'warn', stream: { write: (l: string) => { lines.push(l) } } } })
  t.equal(app.tokens.generatedKey, true)
  t.match(lines.join(''), /random key was generated, so access tokens will not survive a restart/)
})

t.test('the Bearer scheme name is case-insensitive and tolerates extra spaces', async (t) => {
  const app = await build(t)
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  const res = await app.inject({ url: '/audiences/backend', headers: { authorization: `bearer   ${token}` } })
  t.equal(res.statusCode, 200)
})
