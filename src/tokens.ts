// Access tokens: Cognito-shaped JWTs signed and verified with fast-jwt, against the app's clock.
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { createSigner, createVerifier, TokenError, type Algorithm } from 'fast-jwt'
import type { MockClock } from './clock.js'
import { ConfigError } from './config.js'
import type { Jwk, Jwks } from './schemas/jwks.js'
import type { Scope } from './schemas/oauth.js'

const STRING_CLAIMS = ['client_id', 'tenant_id', 'scope', 'jti'] as const

export interface AccessClaims {
  sub: string
  client_id: string
  tenant_id: string
  token_use: 'access'
  scope: string
  iss: string
  iat: number
  exp: number
  jti: string
}

interface KeyMaterial {
  algorithm: Algorithm
  signKey: string
  verifyKey: string
  kid: string
  jwk: Jwk | null
  generated: boolean
}

const EC_ALGORITHMS: Record<string, Algorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

function resolveKey (signingKey: string | null): KeyMaterial {
  if (signingKey === null) {
    const secret = randomBytes(32).toString('base64url')
    return { algorithm: 'HS256', signKey: secret, verifyKey: secret, kid: 'generated', jwk: null, generated: true }
  }
  if (signingKey.includes('-----BEGIN')) {
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey(signingKey)
    } catch (err) {
      throw new ConfigError(`the token signing key looks like PEM but cannot be read: ${(err as Error).message}`)
    }
    const publicKey = createPublicKey(privateKey)
    const type = privateKey.asymmetricKeyType
    const curve = (privateKey.asymmetricKeyDetails as { namedCurve?: string }).namedCurve ?? ''
    const algorithm: Algorithm | undefined = type === 'rsa' ? 'RS256' : type === 'ed25519' ? 'EdDSA' : type === 'ec' ? EC_ALGORITHMS[curve] : undefined
    if (algorithm === undefined) throw new ConfigError(`the token signing key type "${String(type)}${curve === '' ? '' : ' ' + curve}" is not supported: use RSA, EC (P-256/384/521) or Ed25519`)
    const der = publicKey.export({ format: 'der', type: 'spki' })
    const kid = createHash('sha256').update(der).digest('base64url').slice(0, 16)
    return { algorithm, signKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, verifyKey: publicKey.export({ format: 'pem', type: 'spki' }) as string, kid, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: algorithm, use: 'sig' } as Jwk, generated: false }
  }
  if (signingKey.length < 32) throw new ConfigError('the token signing key must be an HMAC secret of at least 32 characters or a PEM private key')
  // The kid names the key without revealing it, so instances can tell whether they share one.
  const kid = createHash('sha256').update(signingKey).digest('base64url').slice(0, 16)
  return { algorithm: 'HS256', signKey: signingKey, verifyKey: signingKey, kid, jwk: null, generated: false }
}

export interface TokenServiceOptions {
  signingKey: string | null
  issuer: string
  ttlSeconds: number
  /** Skew tolerated when checking exp, nbf and iat. */
  clockToleranceSeconds: number
  clock: MockClock
}

export class TokenService {
  readonly algorithm: Algorithm
  readonly generatedKey: boolean
  readonly ttlSeconds: number
  readonly #issuer: string
  readonly #toleranceS: number
  readonly #clock: MockClock
  readonly #jwk: Jwk | null
  readonly #sign: (payload: Record<string, unknown>) => string
  readonly #verify: (token: string) => Record<string, unknown>

  constructor (options: TokenServiceOptions) {
    const key = resolveKey(options.signingKey)
    this.algorithm = key.algorithm
    this.generatedKey = key.generated
    this.ttlSeconds = options.ttlSeconds
    this.#issuer = options.issuer
    this.#toleranceS = options.clockToleranceSeconds
    this.#clock = options.clock
    this.#jwk = key.jwk
    this.#sign = createSigner({ key: key.signKey, algorithm: key.algorithm, kid: key.kid, expiresIn: options.ttlSeconds * 1000 })
    // Expiry and not-before are checked below against the mock clock, so tests can move time.
    this.#verify = createVerifier({
      key: key.verifyKey,
      algorithms: [key.algorithm],
      allowedIss: options.issuer,
      ignoreExpiration: true,
      ignoreNotBefore: true,
      requiredClaims: ['iss', 'iat', 'exp', 'jti', 'token_use', 'client_id', 'tenant_id', 'scope'],
      // The app's cache keeps verified claims instead: fast-jwt's cache hashes every token (SHA-256) to make its key.
      cache: false
    })
  }

  issue (grant: { tenantId: string, clientId: string, scopes: readonly Scope[] }): { token: string, claims: AccessClaims } {
    const iat = Math.floor(this.#clock.now() / 1000)
    const payload = {
      sub: grant.clientId,
      client_id: grant.clientId,
      tenant_id: grant.tenantId,
      token_use: 'access' as const,
      scope: grant.scopes.join(' '),
      iss: this.#issuer,
      iat,
      auth_time: iat,
      jti: randomUUID(),
      version: 2
    }
    const token = this.#sign(payload)
    return { token, claims: { ...payload, exp: iat + this.ttlSeconds } }
  }

  /**
   * Verifies signature, algorithm, issuer, type and claim types; throws an Error whose message says why, never
   * echoing the token. The result never changes for a token (one key, one issuer), so callers may keep it, and
   * check its lifetime with `checkLifetime` on every use.
   */
  verifySignature (token: string): AccessClaims {
    let claims
    try {
      claims = this.#verify(token)
    } catch (err) {
      throw new Error(describeTokenError(err))
    }
    if (claims.token_use !== 'access') throw new Error('not an access token (token_use must be "access")')
    for (const name of STRING_CLAIMS) {
      if (typeof claims[name] !== 'string') throw new Error(`claim ${name} must be a string`)
    }
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new Error('claims exp and iat must be numbers')
    return claims as unknown as AccessClaims
  }

  /** Expiry, issue time and not-before against the mock clock, so tests can move time. */
  checkLifetime (claims: AccessClaims & { nbf?: unknown }): void {
    const nowS = this.#clock.now() / 1000
    if (claims.exp + this.#toleranceS <= nowS) throw new Error('the token has expired; request a new one')
    if (claims.iat - this.#toleranceS > nowS) throw new Error('the token was issued in the future')
    if (typeof claims.nbf === 'number' && claims.nbf - this.#toleranceS > nowS) throw new Error('the token is not valid yet (nbf)')
  }

  /** Both checks at once, for a token seen once. */
  verify (token: string): AccessClaims {
    const claims = this.verifySignature(token)
    this.checkLifetime(claims)
    return claims
  }

  /** Public keys for verifiers, as a JWKS; empty when tokens are HMAC-signed. */
  jwks (): Jwks {
    return { keys: this.#jwk === null ? [] : [this.#jwk] }
  }
}

const TOKEN_PROBLEMS: Record<string, string> = {
  [TokenError.codes.malformed]: 'the token is not a well-formed JWT',
  [TokenError.codes.invalidType]: 'the token is not a well-formed JWT',
  [TokenError.codes.invalidAlgorithm]: 'the token is signed with an algorithm this server does not accept',
  [TokenError.codes.missingSignature]: 'the token is signed with an algorithm this server does not accept',
  [TokenError.codes.invalidSignature]: 'the token signature does not verify',
  [TokenError.codes.invalidClaimValue]: 'the token claims are not valid (wrong issuer or claim value)',
  [TokenError.codes.invalidClaimType]: 'the token claims are not valid (a claim has the wrong type)',
  [TokenError.codes.missingRequiredClaim]: 'the token lacks a required claim'
}

function describeTokenError (err: unknown): string {
  return TOKEN_PROBLEMS[(err as { code: string }).code] ?? 'the token cannot be verified'
}
