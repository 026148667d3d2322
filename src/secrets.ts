// Constant-time secret comparison that does not short-circuit on length.
import { hash, timingSafeEqual } from 'node:crypto'

// One-shot hashing: no Hash object per call (Node >= 20.12).
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

/**
 * Digests of the expected side: the secrets this server holds (and the decoy), a handful per server, so each
 * request hashes only what it was given. Keyed by the stored secret, never by client input; capped anyway.
 */
const expectedDigests = new Map<string, Buffer>()
const MAX_CACHED = 10_000

function expectedDigest (expected: string): Buffer {
  let d = expectedDigests.get(expected)
  if (d === undefined) {
    if (expectedDigests.size >= MAX_CACHED) expectedDigests.clear()
    d = digest(expected)
    expectedDigests.set(expected, d)
  }
  return d
}

/**
 * Hashing both sides first gives equal-length buffers, so timingSafeEqual never throws and the time
 * taken does not depend on where, or whether, the lengths differ.
 */
export function secretsEqual (given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), expectedDigest(expected))
}
