// POST /oauth2/token/{tenantId}: RFC 6749 §4.4 (client credentials), §2.3.1 (client auth), §5.1/§5.2 (responses);
// thrive-api.md part A "Authentication" and B.5.
import * as oauth from 'oauth4webapi'
import t, { type Test } from 'tap'
import { basic, BASIC_A, build, CLIENT_HEADERS, FIXTURE, json, TENANT_A, TENANT_B } from '../helpers.js'

const TOKEN_URL = `/oauth2/token/${TENANT_A.tenantId}`
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

async function listen (t: Test, overrides = {}) {
  const app = await build(t, overrides)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const as: oauth.AuthorizationServer = { issuer: base, token_endpoint: `${base}${TOKEN_URL}` }
  return { app, base, as }
}

for (const [method, auth] of [['client_secret_basic', oauth.ClientSecretBasic], ['client_secret_post', oauth.ClientSecretPost]] as const) {
  t.test(`a standard OAuth client (oauth4webapi, ${method}) gets a token and reads the same body as with Basic`, async (t) => {
    const { base, as } = await listen(t)
    const client: oauth.Client = { client_id: 'a-reader' }
    const response = await oauth.clientCredentialsGrantRequest(as, client, auth('a-reader-secret'), new URLSearchParams(), { [oauth.allowInsecureRequests]: true })
    t.equal(response.headers.get('cache-control'), 'no-store')
    t.equal(response.headers.get('pragma'), 'no-cache')
    const result = await oauth.processClientCredentialsResponse(as, client, response)
    t.equal(result.token_type, 'bearer')
    t.equal(result.expires_in, 3600)
    t.equal(result.scope, 'api/read')
    const bearer = await fetch(`${base}/rest/v1/audiences/backend`, { headers: { authorization: `Bearer ${result.access_token}`, ...CLIENT_HEADERS } })
    const withBasic = await fetch(`${base}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, ...CLIENT_HEADERS } })
    t.equal(bearer.status, 200)
    t.equal(await bearer.text(), await withBasic.text())
  })
}

t.test('the 200 body is exactly {access_token, token_type: "Bearer", expires_in, scope}, JSON, not cacheable (RFC 6749 §5.1)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: TOKEN_URL, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = json(res)
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 3600)
  t.equal(body.scope, 'api/read')
  t.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
})

t.test('the access token is a Cognito-shaped JWT: tenant, client, scope, iat, exp, iss, unique jti (B.6)', async (t) => {
  const app = await build(t)
  const now = Math.floor(Date.now() / 1000)
  const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
  const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>
  const one = await (await import('../helpers.js')).getToken(app, 'a-reader', 'a-reader-secret')
  const two = await (await import('../helpers.js')).getToken(app, 'a-reader', 'a-reader-secret')
  const claims = decode(one)
  t.match(claims, { sub: 'a-reader', client_id: 'a-reader', tenant_id: TENANT_A.tenantId, token_use: 'access', scope: 'api/read', iss: 'thrive-audience-mock' })
  t.ok(Math.abs((claims.iat as number) - now) <= 2)
  t.equal(claims.exp, (claims.iat as number) + 3600)
  t.match(claims.jti, /^[0-9a-f-]{36}$/)
  t.not(claims.jti, decode(two).jti)
  t.match(header(one), { alg: 'HS256', typ: 'JWT' })
})

t.test('the tenant itself is a client: client_id = Tenant ID, secret = API secret, every scope (thrive-api.md A)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: TOKEN_URL, payload: { grant_type: 'client_credentials', client_id: TENANT_A.tenantId, client_secret: TENANT_A.apiSecret } })
  t.equal(res.statusCode, 200)
  t.equal(json(res).scope, 'api/read api/write api/all api/webhooks')
})

t.test('a requested scope subset is granted as asked, de-duplicated; absent scope means all allowed (RFC 6749 §3.3)', async (t) => {
  const app = await build(t)
  const ask = async (scope?: string) => json(await app.inject({ method: 'POST', url: TOKEN_URL, headers: { authorization: basic('a-mixed', 'a-mixed-secret'), ...FORM }, payload: `grant_type=client_credentials${scope === undefined ? '' : `&scope=${encodeURIComponent(scope)}`}` }))
  t.equal((await ask('api/write')).scope, 'api/write')
  t.equal((await ask('api/read  api/read')).scope, 'api/read')
  t.equal((await ask()).scope, 'api/read api/write')
  t.equal((await ask('')).scope, 'api/read api/write')
})

t.test('HTTP Basic client credentials are form-urlencoded before base64 and decoded by the server (RFC 6749 §2.3.1)', async (t) => {
  const fixture = structuredClone(FIXTURE)
  fixture.tenants[0]?.clients.push({ clientId: 'odd:id%', clientSecret: 'p@ss word+/=', scopes: ['api/read'] })
  const app = await build(t, { fixtures: [{ name: 'odd', data: fixture }] })
  const encoded = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  const res = await app.inject({ method: 'POST', url: TOKEN_URL, headers: { authorization: basic(encoded('odd:id%'), encoded('p@ss word+/=')), ...FORM }, payload: 'grant_type=client_credentials' })
  t.equal(res.statusCode, 200)
  const bad = await app.inject({ method: 'POST', url: TOKEN_URL, headers: { authorization: basic('%E0%A4%A', 'x'), ...FORM }, payload: 'grant_type=client_credentials' })
  t.equal(bad.statusCode, 401)
  t.same(json(bad), { error: 'invalid_client', error_description: 'the HTTP Basic credentials are not valid form-urlencoded text (RFC 6749 §2.3.1)' })
})

t.test('client_id in the body may accompany Basic when it matches the username', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: TOKEN_URL, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials&client_id=a-reader' })
  t.equal(res.statusCode, 200)
})

interface ErrorCase {
  name: string
  status: number
  error: string
  description: RegExp
  challenge?: boolean
  url?: string
  headers?: Record<string, string>
  payload?: string | Record<string, unknown> | unknown[]
}

const errorCases: ErrorCase[] = [
  { name: 'no grant_type (§4.4.2)', status: 400, error: 'invalid_request', description: /grant_type parameter is required/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'scope=api/read' },
  { name: 'an unsupported grant type (§5.2)', status: 400, error: 'unsupported_grant_type', description: /only grant_type=client_credentials/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=password' },
  { name: 'a repeated parameter (§3.2)', status: 400, error: 'invalid_request', description: /grant_type parameter is included more than once/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials&grant_type=client_credentials' },
  { name: 'both client authentication methods at once (§2.3)', status: 400, error: 'invalid_request', description: /use one client authentication method/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials&client_id=a-reader&client_secret=a-reader-secret' },
  { name: 'a body client_id that differs from the Basic username', status: 400, error: 'invalid_request', description: /does not match the HTTP Basic username/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials&client_id=a-all' },
  { name: 'no client authentication at all (§5.2)', status: 401, error: 'invalid_client', description: /client authentication is required/, challenge: true, headers: FORM, payload: 'grant_type=client_credentials' },
  { name: 'client_id without client_secret', status: 401, error: 'invalid_client', description: /client_secret is required with client_id/, challenge: true, headers: FORM, payload: 'grant_type=client_credentials&client_id=a-reader' },
  { name: 'a wrong secret over Basic', status: 401, error: 'invalid_client', description: /client authentication failed/, challenge: true, headers: { authorization: basic('a-reader', 'nope'), ...FORM }, payload: 'grant_type=client_credentials' },
  { name: 'a wrong secret in the body', status: 401, error: 'invalid_client', description: /client authentication failed/, challenge: true, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'nope' } },
  { name: 'an unknown client', status: 401, error: 'invalid_client', description: /client authentication failed/, challenge: true, payload: { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' } },
  { name: 'another tenant\'s client on this tenant\'s path (B.5)', status: 401, error: 'invalid_client', description: /does not belong to tenant eu-west-2_TestTenA1/, challenge: true, payload: { grant_type: 'client_credentials', client_id: 'b-reader', client_secret: 'b-reader-secret' } },
  { name: 'another tenant\'s own credentials on this tenant\'s path', status: 401, error: 'invalid_client', description: /client authentication failed/, challenge: true, payload: { grant_type: 'client_credentials', client_id: TENANT_B.tenantId, client_secret: TENANT_B.apiSecret } },
  { name: 'an unknown tenant in the path', status: 401, error: 'invalid_client', description: /client authentication failed/, challenge: true, url: '/oauth2/token/eu-west-2_Nobody00', payload: { grant_type: 'client_credentials', client_id: 'eu-west-2_Nobody00', client_secret: 'x' } },
  { name: 'a malformed Basic header', status: 401, error: 'invalid_client', description: /malformed Authorization header/, challenge: true, headers: { authorization: 'Basic ???', ...FORM }, payload: 'grant_type=client_credentials' },
  { name: 'a Bearer header instead of client credentials', status: 401, error: 'invalid_client', description: /malformed Authorization header/, challenge: true, headers: { authorization: 'Bearer abc', ...FORM }, payload: 'grant_type=client_credentials' },
  { name: 'a scope the client is not allowed (§5.2)', status: 400, error: 'invalid_scope', description: /scope not allowed for this client: api\/write \(allowed: api\/read\)/, headers: { authorization: basic('a-reader', 'a-reader-secret'), ...FORM }, payload: 'grant_type=client_credentials&scope=api%2Fread+api%2Fwrite' },
  { name: 'an unknown scope', status: 400, error: 'invalid_scope', description: /scope not allowed for this client: api\/everything/, payload: { grant_type: 'client_credentials', client_id: TENANT_A.tenantId, client_secret: TENANT_A.apiSecret, scope: 'api/everything' } },
  { name: 'malformed JSON', status: 400, error: 'invalid_request', description: /JSON/, headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' },
  { name: 'a body that is not an object', status: 400, error: 'invalid_request', description: /must be an object of parameters/, payload: ['grant_type'] },
  { name: 'a JSON parameter that is not a string', status: 400, error: 'invalid_request', description: /malformed token request: body\/grant_type must be string/, payload: { grant_type: { x: 1 }, client_id: 'a-reader', client_secret: 'a-reader-secret' } },
  { name: 'no body', status: 400, error: 'invalid_request', description: /needs a body/, headers: { authorization: basic('a-reader', 'a-reader-secret') } },
  { name: 'an unsupported content type', status: 400, error: 'invalid_request', description: /must be application\/x-www-form-urlencoded/, headers: { 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials' },
  { name: 'an oversized body', status: 413, error: 'invalid_request', description: /too large/i, headers: FORM, payload: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}` }
]

for (const c of errorCases) {
  t.test(`${c.name} is ${c.status} ${c.error} in the RFC 6749 §5.2 shape`, async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: c.url ?? TOKEN_URL, headers: c.headers ?? {}, ...(c.payload === undefined ? {} : { payload: c.payload as string }) })
    t.equal(res.statusCode, c.status)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['cache-control'], 'no-store')
    const body = json(res)
    t.same(Object.keys(body).sort(), ['error', 'error_description'])
    t.equal(body.error, c.error)
    t.match(body.error_description, c.description)
    if (c.challenge === true) t.equal(res.headers['www-authenticate'], 'Basic realm="Thrive OAuth", charset="UTF-8"')
    else t.equal(res.headers['www-authenticate'], undefined)
    t.notMatch(res.body, /[a-z]-secret\b|secret-value|nope/, 'never echoes a secret value')
  })
}

t.test('an unexpected failure is a 500 server_error that leaks nothing', async (t) => {
  const app = await build(t)
  app.tokens.issue = () => { throw new Error('disk on fire: key=abc') }
  const res = await app.inject({ method: 'POST', url: TOKEN_URL, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(res.statusCode, 500)
  t.same(json(res), { error: 'server_error', error_description: 'the mock server hit an unexpected error; the details are in its log' })
})
