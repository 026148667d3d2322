// Property tests for how clients present credentials: the Authorization header on API routes (RFC 7617 Basic,
// RFC 6750 Bearer, thrive-api.md B.4) and token requests (RFC 6749 §4.4.2 bodies, §2.3.1 client authentication, §5 responses).
import fc from 'fast-check'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { SCOPES } from '../../src/schemas/oauth.js'
import { basic, BASIC_A, build, FIXTURE, TENANT_A, TENANT_B, testConfig } from '../helpers.js'
import { expectNoSecrets, expectOAuthError, expectThriveError, fcOptions, hasControl, headerText, jwtShaped } from './contract.js'

// ---- The Authorization header on API routes ----

const MESSAGES = [
  /^Missing Authorization header: /,
  /^Malformed Authorization header: /,
  /^Invalid credentials: the Tenant ID and API secret do not match a known tenant$/,
  /^Invalid access token: (the token is not a well-formed JWT|the token is signed with an algorithm this server does not accept|the token signature does not verify|the token claims are not valid \(wrong issuer or claim value\)|the token claims are not valid \(a claim has the wrong type\)|the token lacks a required claim|the token cannot be verified)$/
]
const SECRETS = [TENANT_A.apiSecret, TENANT_B.apiSecret, ...FIXTURE.tenants.flatMap((x) => x.clients.map((c) => c.clientSecret))]

const b64 = (text: string) => Buffer.from(text).toString('base64')

/** Every shape of Authorization value a client, a proxy or an attacker might send; `valid` marks the one real credential. */
const authorization: fc.Arbitrary<{ header: string, valid: boolean }> = fc.oneof(
  headerText(300).map((header) => ({ header, valid: false })),
  fc.tuple(fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'bearer', 'Digest', 'Negotiate', 'NTLM', 'Token', 'Basic\t', 'Basic ', 'Bearer\t', ''), headerText(120))
    .map(([scheme, rest]) => ({ header: `${scheme} ${rest}`, valid: false })),
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(':', '', '::'), fc.string({ unit: 'grapheme', maxLength: 40 }))
    .map(([user, colon, pass]) => ({ header: `Basic ${b64(`${user}${colon}pw!${pass}`)}`, valid: false })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ header: `Basic ${Buffer.from(bytes).toString('base64')}`, valid: false })),
  fc.string({ maxLength: 30 }).filter((s) => s !== TENANT_A.apiSecret)
    .map((secret) => ({ header: basic(TENANT_A.tenantId, secret), valid: false })),
  fc.constantFrom(TENANT_A.tenantId.toLowerCase(), TENANT_A.tenantId.toUpperCase(), ` ${TENANT_A.tenantId}`, `${TENANT_A.tenantId} `)
    .map((user) => ({ header: basic(user, TENANT_A.apiSecret), valid: false })),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER'), jwtShaped).map(([scheme, jwt]) => ({ header: `${scheme} ${jwt}`, valid: false })),
  fc.integer({ min: 1000, max: 12_000 }).map((n) => ({ header: `Basic ${'QUFB'.repeat(n >> 2)}`, valid: false })),
  fc.integer({ min: 1000, max: 12_000 }).map((n) => ({ header: `Bearer ${'e'.repeat(n)}.${'e'.repeat(n)}.x`, valid: false })),
  fc.constantFrom('Basic', 'basic', 'BASIC', 'bAsIc').map((scheme) => ({ header: BASIC_A.replace('Basic', scheme), valid: true }))
)

t.test('any Authorization value is a 200 only for real credentials, otherwise a documented 401 that echoes nothing', async (t) => {
  const app = await build(t)
  let unauthorized = 0
  await fc.assert(fc.asyncProperty(authorization, fc.constantFrom('/rest/v1/audiences/backend', '/audiences/backend', '/audiences/does-not-exist'), async ({ header, valid }, url) => {
    const res = await app.inject({ url, headers: { authorization: header, accept: 'application/json' } })
    if (valid) {
      if (res.statusCode !== (url.endsWith('does-not-exist') ? 404 : 200)) throw new Error(`real credentials refused: ${res.statusCode} ${res.body}`)
      return
    }
    const body = expectThriveError(res, [401])
    if (!MESSAGES.some((m) => m.test(body.message))) throw new Error(`unexpected 401 message: ${body.message}`)
    // The messages come from a fixed set, so nothing of the header can be echoed; the fixture secrets never are.
    expectNoSecrets(res, SECRETS)
    unauthorized++
  }), fcOptions(300))
  t.ok(unauthorized > 200, `${unauthorized} hostile headers refused`)
})

/** A tenant as a fixture could hold it: any secret without control characters (RFC 7617 §2). */
const tenants = fc.uniqueArray(
  fc.record({
    tenantId: fc.stringMatching(/^[a-z]{2}(-[a-z]{1,6}){1,2}-[0-9]{1,2}_[A-Za-z0-9]{1,10}$/),
    apiSecret: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }).filter((s) => !hasControl(s) && s.length <= 512)
  }),
  { minLength: 1, maxLength: 6, selector: (x) => x.tenantId }
)

t.test('valid Basic credentials round-trip for any tenant and any secret a fixture accepts, colons and Unicode included', async (t) => {
  await fc.assert(fc.asyncProperty(tenants, async (list) => {
    const app = await buildApp(testConfig({ fixtures: [{ name: 'generated', data: { tenants: list.map((x) => ({ ...x, structures: [{ name: 'Only', reference: 'only' }] })) } }] }))
    try {
      for (const [i, tenant] of list.entries()) {
        const ok = await app.inject({ url: '/audiences/only', headers: { authorization: basic(tenant.tenantId, tenant.apiSecret) } })
        if (ok.statusCode !== 200) throw new Error(`tenant ${tenant.tenantId} refused: ${ok.body}`)
        const other = list[(i + 1) % list.length]
        if (other !== undefined && other.apiSecret !== tenant.apiSecret) {
          expectThriveError(await app.inject({ url: '/audiences/only', headers: { authorization: basic(tenant.tenantId, other.apiSecret) } }), [401])
        }
        expectThriveError(await app.inject({ url: '/audiences/only', headers: { authorization: basic(tenant.tenantId, `${tenant.apiSecret}x`) } }), [401])
      }
    } finally {
      await app.close()
    }
  }), fcOptions(15))
  t.pass('every generated tenant authenticated with its own secret and no other')
})

// ---- Token requests ----

type App = Awaited<ReturnType<typeof build>>

const NAMES = ['grant_type', 'scope', 'client_id', 'client_secret'] as const
const CLIENTS = [
  { clientId: TENANT_A.tenantId, clientSecret: TENANT_A.apiSecret, scopes: [...SCOPES] as string[] },
  ...(FIXTURE.tenants[0]?.clients ?? [])
]

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'grant_type[]', 'scope[0]', 'GRANT_TYPE', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }
)
const knownValue = fc.constantFrom('client_credentials', 'password', 'a-reader', 'a-reader-secret', TENANT_A.tenantId, TENANT_A.apiSecret, 'b-reader-secret', 'api/read', 'api/read api/write', 'api/all', '')
const value = fc.oneof({ weight: 3, arbitrary: knownValue }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) })

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
const formBody = fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 8 })
  .map((pairs) => pairs.map(([k, v, raw]) => raw ? `${k}=${v}` : `${formEncode(k)}=${formEncode(v)}`).join('&'))
const jsonBody = fc.oneof(
  fc.dictionary(name, fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }), { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.tuple(fc.dictionary(name, value, { minKeys: 1, maxKeys: 4 }), fc.nat()).map(([o, cut]) => { const s = JSON.stringify(o); return s.slice(0, cut % s.length) }),
  fc.constantFrom('{"grant_type":"client_credentials","grant_type":"client_credentials"}', '{"__proto__":{"admin":true},"grant_type":"client_credentials"}', '{"constructor":{"prototype":{"x":1}}}', '')
)
const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/x-www-form-urlencoded', 'application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/x-www-form-urlencoded; charset=ISO-8859-1', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/jwt', '', undefined) }
)
const clientAuthorization = fc.option(fc.oneof(
  fc.constantFrom(...CLIENTS).map((c) => basic(formEncode(c.clientId), formEncode(c.clientSecret))),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => basic(u, p)),
  fc.constantFrom('Basic ', 'Basic !!!', 'Bearer abc', 'Digest x', `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`),
  headerText(60)
), { nil: undefined })
const pathTenant = fc.constantFrom(TENANT_A.tenantId, TENANT_B.tenantId, 'eu-west-2_Nobody00', '__proto__', 'constructor', encodeURIComponent('ä/../x'))

const request = fc.record({
  tenant: pathTenant,
  authorization: clientAuthorization,
  contentType,
  form: formBody,
  json: jsonBody,
  mismatch: fc.boolean()
}).map(({ form, json, mismatch, ...rest }) => ({ ...rest, payload: (rest.contentType ?? '').toLowerCase().includes('json') !== mismatch ? json : form }))

async function checkToken (app: App, access: string, tenant: string, scope: string): Promise<void> {
  const claims = app.tokens.verify(access)
  if (claims.tenant_id !== tenant) throw new Error(`token for ${claims.tenant_id} issued on the path of ${tenant}`)
  if (claims.scope !== scope) throw new Error(`token scope ${claims.scope} differs from the response scope ${scope}`)
}

t.test('any token request body, content type and Authorization is a token or an RFC 6749 §5.2 error; never a 5xx', async (t) => {
  const app = await build(t)
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(request, async ({ tenant, authorization, contentType, payload }) => {
    const headers: Record<string, string> = {}
    if (authorization !== undefined) headers.authorization = authorization
    if (contentType !== undefined) headers['content-type'] = contentType
    const res = await app.inject({ method: 'POST', url: `/oauth2/token/${tenant}`, headers, payload })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    expectNoSecrets(res, SECRETS)
    if (res.statusCode === 200) {
      const body = JSON.parse(res.body) as Record<string, unknown>
      if (Object.keys(body).sort().join() !== 'access_token,expires_in,scope,token_type' || body.token_type !== 'Bearer' || body.expires_in !== 3600) throw new Error(`bad 200 ${res.body}`)
      if (res.headers['cache-control'] !== 'no-store') throw new Error('a token response is not cacheable')
      await checkToken(app, body.access_token as string, tenant, body.scope as string)
      return
    }
    const error = expectOAuthError(res, [400, 401, 413])
    const expectedStatus = error.error === 'invalid_client' ? 401 : error.error === 'invalid_request' ? [400, 413] : [400]
    if (!([] as number[]).concat(expectedStatus).includes(res.statusCode)) throw new Error(`${error.error} with status ${res.statusCode}`)
  }), fcOptions(400))
  t.ok((statuses.get(400) ?? 0) > 50 && (statuses.get(401) ?? 0) > 50, `statuses seen: ${JSON.stringify([...statuses])}`)
})

/** A request every RFC 6749 client could send: either client authentication method, either encoding, any allowed scope set. */
const validRequest = fc.record({
  client: fc.constantFrom(...CLIENTS),
  method: fc.constantFrom('basic', 'post'),
  encoding: fc.constantFrom('form', 'json'),
  extra: fc.dictionary(fc.stringMatching(/^[a-z][a-z_]{0,10}$/).filter((k) => !(NAMES as readonly string[]).includes(k) && k !== 'constructor' && k !== 'prototype'), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
  scopePick: fc.option(fc.tuple(fc.array(fc.nat(), { maxLength: 5 }), fc.constantFrom(' ', '  ')), { nil: undefined }),
  order: fc.nat()
})

t.test('valid token requests round-trip: the granted scope is what was asked (de-duplicated) or all allowed, and the token reads as it should', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(validRequest, async ({ client, method, encoding, extra, scopePick, order }) => {
    const asked = scopePick === undefined ? undefined : scopePick[0].map((i) => client.scopes[i % client.scopes.length] as string)
    const params: Array<[string, string]> = [['grant_type', 'client_credentials'], ...Object.entries(extra)]
    if (asked !== undefined && scopePick !== undefined) params.push(['scope', asked.join(scopePick[1])])
    if (method === 'post') params.push(['client_id', client.clientId], ['client_secret', client.clientSecret])
    const rotated = [...params.slice(order % params.length), ...params.slice(0, order % params.length)]
    const headers: Record<string, string> = method === 'basic' ? { authorization: basic(formEncode(client.clientId), formEncode(client.clientSecret)) } : {}
    const payload = encoding === 'json' ? JSON.stringify(Object.fromEntries(rotated)) : rotated.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&')
    headers['content-type'] = encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'
    const res = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers, payload })
    if (res.statusCode !== 200) throw new Error(`refused: ${res.statusCode} ${res.body}`)
    const body = JSON.parse(res.body) as { access_token: string, scope: string }
    const expected = asked === undefined || asked.length === 0 ? client.scopes : [...new Set(asked)]
    if (body.scope !== expected.join(' ')) throw new Error(`granted "${body.scope}", expected "${expected.join(' ')}"`)
    await checkToken(app, body.access_token, TENANT_A.tenantId, body.scope)
    const read = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: `Bearer ${body.access_token}` } })
    const canRead = expected.includes('api/read') || expected.includes('api/all')
    if (read.statusCode !== (canRead ? 200 : 403)) throw new Error(`scope "${body.scope}" read with ${read.statusCode}`)
  }), fcOptions(200))
  t.pass('every valid request got the token it asked for')
})

t.test('a parameter given twice, in either encoding, is invalid_request naming it (RFC 6749 §3.2)', async (t) => {
  const app = await build(t)
  await fc.assert(fc.asyncProperty(fc.constantFrom(...NAMES), fc.array(value, { minLength: 2, maxLength: 4 }), async (param, values) => {
    const form = values.map((v) => `${param}=${formEncode(v)}`).join('&')
    const res = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form })
    const body = expectOAuthError(res, [400])
    if (body.error !== 'invalid_request' || !body.error_description.includes(`the ${param} parameter is included more than once`)) throw new Error(res.body)
    const json = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { [param]: values } })
    const jsonBody = expectOAuthError(json, [400])
    if (!jsonBody.error_description.includes(`the ${param} parameter is included more than once`)) throw new Error(json.body)
  }), fcOptions(100))
  t.pass('every repeated parameter refused by name')
})
