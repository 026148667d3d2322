// Constant-time secret comparison that does not short-circuit on length.
import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Hashing both sides first gives equal-length buffers, so timingSafeEqual never throws and the time
 * taken does not depend on where, or whether, the lengths differ.
 */
export function secretsEqual (given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}
