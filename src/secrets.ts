// Constant-time secret comparison that does not short-circuit on length.
import { hash, timingSafeEqual } from 'node:crypto'

/** The digest a secret is compared by; computed once for each secret this server holds. */
export const secretDigest = (value: string): Buffer => hash('sha256', value, 'buffer')

/** Compared against when there is nothing to compare with, so a miss costs the same as a wrong secret. */
export const DECOY_DIGEST = secretDigest('decoy-secret-never-matches\u0000')

/**
 * Hashing the given side first gives equal-length buffers, so timingSafeEqual never throws and the time
 * taken does not depend on where, or whether, the lengths differ.
 */
export function matchesDigest (given: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(given), expected)
}

export function secretsEqual (given: string, expected: string): boolean {
  return matchesDigest(given, secretDigest(expected))
}
