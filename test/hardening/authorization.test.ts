// Property tests for the Authorization header on API routes: RFC 7617 (Basic), RFC 6750 (Bearer), thrive-api.md B.4.
import fc from 'fast-check'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { basic, BASIC_A, build, FIXTURE, TENANT_A, TENANT_B, testConfig } from '../helpers.js'
import { expectNoSecrets, expectThriveError, fcOptions, hasControl, headerText, jwtShaped } from './contract.js'

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
