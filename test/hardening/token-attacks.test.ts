// Token attacks not covered in test/plugins/bearer.test.ts: RFC 8725 (JWT BCP) §2 and §3, RFC 6750 §2, against an RSA-keyed server.
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { DEFAULT_CLOCK_TOLERANCE_S } from '../../src/config.js'
import { BASIC_A, build, getToken, json, TENANT_A, TENANT_B } from '../helpers.js'
import { expectThriveError } from './contract.js'

type App = Awaited<ReturnType<typeof build>>

const ISSUER = 'thrive-audience-mock'
const server = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const rsa = (issuer = ISSUER) => ({ token: { ttlSeconds: 3600, signingKey: server.privateKey, issuer } })

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const segments = (token: string) => token.split('.') as [string, string, string]
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>

function claims (extra: Record<string, unknown> = {}) {
  const iat = Math.floor(Date.now() / 1000)
  return { sub: 'a-reader', client_id: 'a-reader', tenant_id: TENANT_A.tenantId, token_use: 'access', scope: 'api/read', iss: ISSUER, iat, exp: iat + 3600, jti: randomUUID(), ...extra }
}

/** Signs by hand, so the header can say anything. */
function sign (header: Record<string, unknown>, payload: Record<string, unknown>, how: { hmac?: string | Buffer, rsa?: string }): string {
  const input = `${b64(header)}.${b64(payload)}`
  if (how.hmac !== undefined) return `${input}.${createHmac('sha256', how.hmac).update(input).digest('base64url')}`
  return `${input}.${createSign('RSA-SHA256').update(input).sign(how.rsa as string, 'base64url')}`
}

async function read (app: App, authorization: string | undefined, url = '/rest/v1/audiences/backend') {
  return await app.inject({ url, headers: authorization === undefined ? {} : { authorization } })
}

// One RSA-keyed server for every attack: tokens are stateless, so the attacks cannot affect one another.
const app = await build(t, rsa())

function refused (t: Test, res: Awaited<ReturnType<typeof read>>, reason: RegExp, name: string) {
  const body = expectThriveError(res, [401])
  t.match(body.message, reason, name)
  if (/^Invalid access token/.test(body.message)) t.match(res.headers['www-authenticate'], /^Bearer realm="Thrive API", error="invalid_token"/, `${name}: RFC 6750 §3 challenge`)
}

t.test('the RSA-keyed server issues RS256 tokens that read, so every refusal below is the attack\'s doing', async (t) => {
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  t.equal(decode(segments(token)[0]).alg, 'RS256')
  t.equal((await read(app, `Bearer ${token}`)).statusCode, 200)
  t.equal((await read(app, `Bearer ${sign({ alg: 'RS256', typ: 'JWT' }, claims(), { rsa: server.privateKey })}`)).statusCode, 200, 'the hand signer makes valid tokens')
})

t.test('alg "none" in any spelling, with or without a signature, is refused by an RSA-keyed server (RFC 8725 §2.1)', async (t) => {
  const valid = segments(await getToken(app, 'a-reader', 'a-reader-secret'))
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    for (const signature of ['', valid[2]]) {
      refused(t, await read(app, `Bearer ${b64({ alg, typ: 'JWT' })}.${valid[1]}.${signature}`), /not accept|not a well-formed|does not verify/, `alg ${alg}, signature ${signature === '' ? 'empty' : 'kept'}`)
    }
  }
  refused(t, await read(app, `Bearer ${b64({ typ: 'JWT' })}.${valid[1]}.${valid[2]}`), /Invalid access token/, 'no alg at all')
})

t.test('algorithm confusion: HMAC keyed with any encoding of the published public key is refused (RFC 8725 §2.1, §3.1)', async (t) => {
  const jwks = json(await app.inject({ url: '/.well-known/jwks.json' })) as { keys: Array<Record<string, unknown>> }
  const jwk = jwks.keys[0] as Record<string, unknown>
  const keys: Array<[string, string | Buffer]> = [
    ['PEM', server.publicKey],
    ['PEM without the final newline', server.publicKey.trimEnd()],
    ['DER', Buffer.from(server.publicKey.replace(/-----[^-]+-----|\s/g, ''), 'base64')],
    ['JWK JSON', JSON.stringify(jwk)],
    ['modulus n', String(jwk.n)]
  ]
  for (const [name, key] of keys) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const token = typeof key === 'string' && alg !== 'HS256'
        ? createSigner({ key, algorithm: alg as 'HS384' })(claims())
        : sign({ alg, typ: 'JWT', kid: jwk.kid }, claims(), { hmac: key })
      refused(t, await read(app, `Bearer ${token}`), /algorithm this server does not accept|does not verify/, `${alg} keyed with the ${name}`)
    }
  }
})

t.test('kid, jwk, jku and x5u header tricks are ignored with an RSA key: nothing is fetched, only the configured key verifies (RFC 8725 §3.10)', async (t) => {
  const fetched: string[] = []
  const trap = createServer((req, res) => { fetched.push(req.url ?? ''); res.end('{"keys":[]}') })
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
  t.teardown(() => trap.close())
  const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`
  const kid = ((json(await app.inject({ url: '/.well-known/jwks.json' })) as { keys: Array<{ kid: string }> }).keys[0] as { kid: string }).kid
  const { createPublicKey } = await import('node:crypto')
  const attackerJwk = createPublicKey(attacker.publicKey).export({ format: 'jwk' })
  const headers: Array<[string, Record<string, unknown>]> = [
    ['the server\'s own kid', { kid }],
    ['an embedded jwk (CVE-2018-0114)', { jwk: attackerJwk }],
    ['a jku to a key set the attacker serves', { jku: `${trapUrl}/jwks.json`, kid: 'attacker' }],
    ['an x5u to a certificate the attacker serves', { x5u: `${trapUrl}/cert.pem` }],
    ['a kid that is a path', { kid: '../../../../../../dev/null' }],
    ['a kid that is SQL', { kid: "' UNION SELECT 'key' --" }],
    ['all of them at once', { kid, jwk: attackerJwk, jku: `${trapUrl}/jwks.json`, x5u: `${trapUrl}/cert.pem`, x5c: ['MIIB'] }]
  ]
  for (const [name, extra] of headers) {
    refused(t, await read(app, `Bearer ${sign({ alg: 'RS256', typ: 'JWT', ...extra }, claims(), { rsa: attacker.privateKey })}`), /signature does not verify/, name)
  }
  t.same(fetched, [], 'the server fetched no URL from a token header')
  const honest = sign({ alg: 'RS256', typ: 'JWT', jku: `${trapUrl}/jwks.json`, x5u: `${trapUrl}/cert.pem`, kid: 'whatever' }, claims(), { rsa: server.privateKey })
  t.equal((await read(app, `Bearer ${honest}`)).statusCode, 200, 'the headers are ignored, not a reason to refuse a well-signed token')
  t.same(fetched, [], 'still nothing fetched')
})

t.test('tampering: a swapped header, a borrowed or stripped signature, or an edited payload is refused (RFC 7515 §5.2)', async (t) => {
  const reader = segments(await getToken(app, 'a-reader', 'a-reader-secret'))
  const writer = segments(await getToken(app, 'a-writer', 'a-writer-secret'))
  const cases: Array<[string, string]> = [
    ['the write token\'s payload under the read token\'s signature', `${writer[0]}.${reader[1]}.${writer[2]}`],
    ['a payload edited to another tenant', `${reader[0]}.${b64({ ...decode(reader[1]), tenant_id: TENANT_B.tenantId })}.${reader[2]}`],
    ['a payload edited to a wider scope', `${reader[0]}.${b64({ ...decode(reader[1]), scope: 'api/all' })}.${reader[2]}`],
    ['a payload edited to live longer', `${reader[0]}.${b64({ ...decode(reader[1]), exp: 4_102_444_800 })}.${reader[2]}`],
    ['the header switched to HS256', `${b64({ ...decode(reader[0]), alg: 'HS256' })}.${reader[1]}.${reader[2]}`],
    ['the signature stripped', `${reader[0]}.${reader[1]}.`],
    ['two segments only', `${reader[0]}.${reader[1]}`],
    ['a flipped signature byte', `${reader[0]}.${reader[1]}.${reader[2].slice(0, 10)}${reader[2][10] === 'A' ? 'B' : 'A'}${reader[2].slice(11)}`],
    ['a JWE-shaped five-part token', `${reader.join('.')}.x.y`],
    ['trailing garbage', `${reader.join('.')}garbage`]
  ]
  for (const [name, token] of cases) refused(t, await read(app, `Bearer ${token}`), /Invalid access token/, name)
  t.equal((await read(app, `Bearer ${reader.join('.')}`)).statusCode, 200, 'the untouched token still reads')
})

t.test('lifetime: a token is refused once exp (plus the skew tolerance) has passed and before nbf; at the edge it still reads', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const at = (extra: Record<string, unknown>) => `Bearer ${sign({ alg: 'RS256', typ: 'JWT' }, claims(extra), { rsa: server.privateKey })}`
  refused(t, await read(app, at({ iat: now - 7200, exp: now - DEFAULT_CLOCK_TOLERANCE_S - 2 })), /expired/, 'expired beyond the tolerance')
  t.equal((await read(app, at({ iat: now - 7200, exp: now + 2 }))).statusCode, 200, 'about to expire')
  refused(t, await read(app, at({ nbf: now + DEFAULT_CLOCK_TOLERANCE_S + 60 })), /not valid yet/, 'not yet valid')
  t.equal((await read(app, at({ nbf: now - 1 }))).statusCode, 200, 'nbf just passed')
  refused(t, await read(app, at({ exp: String(now + 60) })), /exp and iat must be numbers|claim has the wrong type/, 'exp as a string')
})

t.test('a token is only good at the issuer that made it: another issuer name, even with the same key, is refused (B.6)', async (t) => {
  const one = app
  const other = await build(t, rsa('https://someone-else.example'))
  const token = await getToken(one, 'a-reader', 'a-reader-secret')
  t.equal((await read(one, `Bearer ${token}`)).statusCode, 200)
  refused(t, await read(other, `Bearer ${token}`), /wrong issuer/, 'same key, other issuer')
})

t.test('another tenant\'s token sees only its own tenant, on every route form; its audience ids are 404, never 200 (B.2)', async (t) => {
  const tokenB = await getToken(app, 'b-reader', 'b-reader-secret', TENANT_B.tenantId)
  for (const url of ['/rest/v1/audiences/backend', '/audiences/backend', '/rest/v1/audiences/aaaaaaaaaaaaaaaaaaaaaaa2', '/audiences/aaaaaaaaaaaaaaaaaaaaaaa1/']) {
    const res = await read(app, `Bearer ${tokenB}`, url)
    expectThriveError(res, [404])
    t.match(json(res).message, /^No audience with id or reference/, url)
  }
  const forged = sign({ alg: 'RS256', typ: 'JWT' }, claims({ tenant_id: TENANT_B.tenantId, client_id: 'a-reader' }), { rsa: attacker.privateKey })
  refused(t, await read(app, `Bearer ${forged}`), /signature does not verify/, 'a self-made token for another tenant')
})

t.test('a token for the webhooks audience (api/webhooks only) cannot read the API, however it was obtained (thrive-api.md A, B.7)', async (t) => {
  for (const [client, secret] of [[TENANT_A.tenantId, TENANT_A.apiSecret], ['a-hooks', 'a-hooks-secret']] as const) {
    const token = await getToken(app, client, secret, TENANT_A.tenantId, 'api/webhooks')
    const res = await read(app, `Bearer ${token}`)
    const body = expectThriveError(res, [403])
    t.equal(body.message, 'The access token lacks the scope this operation needs: api/read or api/all', client)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="Thrive API", error="insufficient_scope", scope="api/read api/all"')
  }
})

t.test('a token goes only in the Authorization header as Bearer: not in the query, not as Basic, not twice (RFC 6750 §2)', async (t) => {
  const token = await getToken(app, 'a-reader', 'a-reader-secret')
  refused(t, await read(app, undefined, `/rest/v1/audiences/backend?access_token=${token}`), /^Missing Authorization header/, 'in the query')
  refused(t, await read(app, `Basic ${token}`), /^Malformed Authorization header/, 'as Basic')
  refused(t, await read(app, `Bearer Bearer ${token}`), /Invalid access token/, 'the scheme twice')
  refused(t, await read(app, `Bearer ${token} ${token}`), /Invalid access token/, 'two tokens')
  refused(t, await read(app, `Token ${token}`), /^Malformed Authorization header/, 'another scheme')
  t.equal((await read(app, BASIC_A)).statusCode, 200, 'Basic with real credentials still reads')
})

t.test('junk Bearer tokens are not remembered: 4,000 distinct ones leave the heap where it was', async (t) => {
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const settle = async () => { for (let i = 0; i < 3; i++) { await new Promise((resolve) => setTimeout(resolve, 20)); gc() } }
  const header = b64({ alg: 'RS256', typ: 'JWT' })
  await settle()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 4000; i++) {
    // Well-formed, decodable, wrongly signed: the kind a verifier gets furthest with before refusing.
    await read(app, `Bearer ${header}.${b64(claims({ jti: `junk-${i}`, pad: 'p'.repeat(2400) }))}.${'s'.repeat(342)}`)
  }
  await settle()
  const grownMB = (process.memoryUsage().heapUsed - before) / 1e6
  // Remembering them (as fast-jwt's own cache did, errors and all) grew the heap by about 60 MB here.
  t.ok(grownMB < 25, `heap grew ${grownMB.toFixed(1)} MB`)
})
