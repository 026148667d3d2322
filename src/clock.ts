// One clock for the whole app: token expiry and fault-rule TTLs read it, and tests can move it.
export class MockClock {
  #offsetMs = 0

  now (): number {
    return Date.now() + this.#offsetMs
  }

  /** Moves time forward (or back, with a negative value); it keeps running from there. */
  advance (ms: number): void {
    this.#offsetMs += ms
  }

  /** Jumps to an instant; time keeps running from there. */
  set (epochMs: number): void {
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
