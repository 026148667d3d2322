// The JWK Set at /.well-known/jwks.json (RFC 7517): the public key that verifies access tokens.
import { Type, type Static } from 'typebox'

// Open to more members: each key type adds its own (RFC 7518 §6: n and e for RSA, crv, x and y for EC and OKP).
export const Jwk = Type.Object({
  kty: Type.String({ description: 'Key type, e.g. "RSA", "EC" or "OKP" (RFC 7517 §4.1)' }),
  kid: Type.String({ description: 'Key id, the `kid` header of every token this key signs (RFC 7517 §4.5)' }),
  alg: Type.String({ description: 'The algorithm tokens are signed with, e.g. "RS256" (RFC 7517 §4.4)' }),
  use: Type.Literal('sig', { description: 'The key verifies signatures (RFC 7517 §4.2)' })
}, { additionalProperties: true })
export type Jwk = Static<typeof Jwk>

export const Jwks = Type.Object({
  keys: Type.Array(Jwk, { description: 'Empty when tokens are HMAC-signed: a shared secret is never published' })
}, { additionalProperties: false })
export type Jwks = Static<typeof Jwks>
