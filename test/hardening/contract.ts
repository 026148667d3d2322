// Shared by the hardening tests: fast-check settings, input generators, and the documented error shapes (oracle.js)
// as assertions.
import fc from 'fast-check'
import { reasonPhrase } from '../../src/errors.js'
import { OAUTH_ERRORS } from '../../src/schemas/oauth.js'
import { contractOracle, secretProblems, type Res } from './oracle.js'

/** Fixed so every run explores the same inputs; FC_SEED=<n> explores others, and a failure prints the seed and path to replay. */
export const FC_SEED = Number(process.env.FC_SEED ?? 0x7a11)

export function fcOptions (numRuns: number): fc.Parameters<unknown> {
  return { seed: FC_SEED, numRuns, endOnFailure: true }
}

export type { Res } from './oracle.js'

export class ContractError extends Error {}

const oracle = contractOracle({ reasonPhrase, oauthErrors: OAUTH_ERRORS })

function check (problems: string[], res: Res): void {
  if (problems.length > 0) throw new ContractError(`${problems.join('; ')}; got ${res.statusCode} ${JSON.stringify(res.headers['content-type'])} ${res.body.slice(0, 300)}`)
}

/** Thrive's documented error: exactly {status, error, message}, status repeated, the docs' reason phrase, JSON. */
export function expectThriveError (res: Res, statuses?: readonly number[]): { status: number, error: string, message: string } {
  check(oracle.thriveErrorProblems(res, statuses), res)
  return JSON.parse(res.body) as { status: number, error: string, message: string }
}

/** RFC 6749 §5.2: exactly {error, error_description}, a registered code, JSON, not cacheable. */
export function expectOAuthError (res: Res, statuses?: readonly number[]): { error: string, error_description: string } {
  check(oracle.oauthErrorProblems(res, statuses), res)
  return JSON.parse(res.body) as { error: string, error_description: string }
}

/** Throws unless the response is free of every given secret. */
export function expectNoSecrets (res: Res, secrets: readonly string[]): void {
  check(secretProblems(res, secrets), res)
}

/** RFC 5234 CTL: what RFC 7617 §2 forbids in Basic credentials. */
export const hasControl = (s: string): boolean => [...s].some((ch) => (ch.codePointAt(0) as number) < 0x20 || ch === '\u007f')

/** What an HTTP/1.1 header value can carry: visible Latin-1, space and tab (RFC 9110 §5.5), no CR/LF. */
export const headerText = (maxLength = 200): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c)), maxLength })

/** Segments that look like JWTs to a parser: base64url JSON, with the header tricks of RFC 8725. */
export const jwtShaped: fc.Arbitrary<string> = fc.tuple(
  fc.record({
    alg: fc.constantFrom('none', 'None', 'NONE', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', '', 'hs256'),
    typ: fc.constantFrom('JWT', 'at+jwt', 'JOSE'),
    kid: fc.oneof(fc.string(), fc.constant('../../../../dev/null'), fc.constant("' OR 1=1 --")),
    jku: fc.constant('http://127.0.0.1:1/jwks.json'),
    x5u: fc.constant('http://127.0.0.1:1/cert.pem'),
    crit: fc.array(fc.string(), { maxLength: 2 }),
    b64: fc.boolean()
  }, { requiredKeys: ['alg'] }),
  fc.oneof(fc.jsonValue(), fc.record({ tenant_id: fc.string(), scope: fc.string(), iss: fc.string(), exp: fc.integer(), token_use: fc.constant('access') })),
  fc.oneof(fc.constant(''), fc.base64String({ maxLength: 120 }).map((s) => s.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_'))),
  fc.constantFrom('.', '..', '')
).map(([h, p, s, extra]) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.${s}${extra === '' ? '' : extra + s}`)
