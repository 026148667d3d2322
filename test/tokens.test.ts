// The token service's cache of verified tokens: a speed-up that never changes an answer.
import t from 'tap'
import { MockClock } from '../src/clock.js'
import { TokenService, VERIFIED_CACHE_SIZE } from '../src/tokens.js'

function service (clock = new MockClock()): TokenService {
  return new TokenService({ signingKey: 'a-signing-key-of-at-least-32-characters', issuer: 'test-issuer', ttlSeconds: 60, clock })
}

t.test('a cached token is still checked against the clock on every use, so it expires on time', async (t) => {
  const clock = new MockClock()
  const tokens = service(clock)
  const { token } = tokens.issue({ tenantId: 'eu-west-2_T1', clientId: 'c', scopes: ['api/read'] })
  t.equal(tokens.verify(token).tenant_id, 'eu-west-2_T1')
  t.equal(tokens.verify(token).tenant_id, 'eu-west-2_T1')
  clock.advance(120_000)
  t.throws(() => tokens.verify(token), { message: 'the token has expired; request a new one' })
})

t.test('the cache forgets everything when full, and every token still verifies afterwards', async (t) => {
  const tokens = service()
  const first = tokens.issue({ tenantId: 'eu-west-2_T1', clientId: 'c', scopes: ['api/read'] }).token
  for (let i = 0; i <= VERIFIED_CACHE_SIZE; i++) {
    tokens.verify(tokens.issue({ tenantId: 'eu-west-2_T1', clientId: `c${i}`, scopes: ['api/read'] }).token)
  }
  t.equal(tokens.verify(first).client_id, 'c')
  // A tampered token is never served from the cache of its genuine sibling.
  const [header, payload, signature] = first.split('.') as [string, string, string]
  const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
  t.throws(() => tokens.verify(tampered), { message: 'the token signature does not verify' })
})
