// One clock for the whole app: token expiry and fault-rule TTLs read it, and tests can move it.
import { ClockOutOfRangeError } from './errors.js'

/** The instants every date the mock prints (JWT NumericDate, ISO 8601 with a 4-digit year) can represent. */
export const CLOCK_RANGE = { minMs: 0, maxMs: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }

function checkInRange (epochMs: number, asked: string): void {
  // A clock outside this range (or NaN, from an unparseable date) would make every later timestamp throw.
  if (!(epochMs >= CLOCK_RANGE.minMs && epochMs <= CLOCK_RANGE.maxMs)) throw new ClockOutOfRangeError(asked)
}

export class MockClock {
  #offsetMs = 0

  /** Stops at the last instant of the range: time keeps running, but a printed date must keep its 4-digit year. */
  now (): number {
    return Math.min(Date.now() + this.#offsetMs, CLOCK_RANGE.maxMs)
  }

  /** Moves time forward (or back, with a negative value); it keeps running from there. */
  advance (ms: number): void {
    checkInRange(this.now() + ms, `advancing by ${ms} ms would leave it`)
    this.#offsetMs += ms
  }

  /** Jumps to an instant; time keeps running from there. */
  set (epochMs: number): void {
    checkInRange(epochMs, Number.isNaN(epochMs) ? 'that date cannot be represented' : `${epochMs} ms after the epoch is outside it`)
    this.#offsetMs = epochMs - Date.now()
  }

  /** Back to real time. */
  reset (): void {
    this.#offsetMs = 0
  }

  get offsetMs (): number {
    return this.#offsetMs
  }
}
