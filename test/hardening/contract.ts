// Shared by the hardening tests: fast-check settings, input generators, and checks of the documented error shapes.
import fc from 'fast-check'
import { reasonPhrase } from '../../src/errors.js'
import { OAUTH_ERRORS } from '../../src/schemas/oauth.js'

/** Fixed so every run explores the same inputs; FC_SEED=<n> explores others, and a failure prints the seed and path to replay. */
export const FC_SEED = Number(process.env.FC_SEED ?? 0x7a11)

export function fcOptions (numRuns: number): fc.Parameters<unknown> {
  return { seed: FC_SEED, numRuns, endOnFailure: true }
}

export interface Res {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

export class ContractError extends Error {}

function fail (what: string, res: Res): never {
  throw new ContractError(`${what}; got ${res.statusCode} ${JSON.stringify(res.headers['content-type'])} ${res.body.slice(0, 300)}`)
}

function parse (res: Res): Record<string, unknown> {
  if (!/^application\/json/.test(String(res.headers['content-type']))) fail('an error must be application/json', res)
  let body: unknown
  try {
    body = JSON.parse(res.body)
  } catch {
    fail('an error body must be JSON', res)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('an error body must be an object', res)
  return body as Record<string, unknown>
}

/** Thrive's documented error: exactly {status, error, message}, status repeated, the docs' reason phrase, JSON. */
export function expectThriveError (res: Res, statuses?: readonly number[]): { status: number, error: string, message: string } {
  if (res.statusCode < 400 || res.statusCode > 599) fail('expected an error status', res)
  if (statuses !== undefined && !statuses.includes(res.statusCode)) fail(`expected one of ${statuses.join(', ')}`, res)
  const body = parse(res)
  if (Object.keys(body).sort().join() !== 'error,message,status') fail('an error body has exactly status, error and message', res)
  if (body.status !== res.statusCode) fail('body.status must repeat the status', res)
  if (body.error !== reasonPhrase(res.statusCode)) fail('body.error must be the reason phrase', res)
  if (typeof body.message !== 'string' || body.message === '') fail('body.message must be a non-empty string', res)
  if (res.statusCode === 401 && res.headers['www-authenticate'] === undefined) fail('a 401 carries WWW-Authenticate', res)
  return body as { status: number, error: string, message: string }
}

/** RFC 6749 §5.2: exactly {error, error_description}, a registered code, JSON, not cacheable. */
export function expectOAuthError (res: Res, statuses?: readonly number[]): { error: string, error_description: string } {
  if (res.statusCode < 400 || res.statusCode > 599) fail('expected an error status', res)
  if (statuses !== undefined && !statuses.includes(res.statusCode)) fail(`expected one of ${statuses.join(', ')}`, res)
  const body = parse(res)
  if (Object.keys(body).sort().join() !== 'error,error_description') fail('an OAuth error body has exactly error and error_description', res)
  if (!(OAUTH_ERRORS as readonly unknown[]).includes(body.error)) fail('error must be an RFC 6749 §5.2 code', res)
  if (typeof body.error_description !== 'string' || body.error_description === '') fail('error_description must be a non-empty string', res)
  if (res.headers['cache-control'] !== 'no-store') fail('an OAuth error is not cacheable', res)
  if (res.statusCode === 401 && !/^Basic /.test(String(res.headers['www-authenticate']))) fail('a 401 invalid_client carries a Basic challenge', res)
  return body as { error: string, error_description: string }
}

/** Throws unless the response is free of every given secret (raw, and as Basic would carry it). */
export function expectNoSecrets (res: Res, secrets: readonly string[]): void {
  const text = `${res.body}\n${JSON.stringify(res.headers)}`
  for (const secret of secrets) {
    if (secret.length >= 6 && text.includes(secret)) fail(`the response echoes the secret ${JSON.stringify(secret.slice(0, 20))}`, res)
  }
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
