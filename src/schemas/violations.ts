// A contract violation: something in a request that real Thrive would ignore, misread or refuse.
import { Type, type Static } from 'typebox'

/** At most this many violations are listed per request; the rest are only counted. */
export const MAX_LISTED = 20

export const Violation = Type.Object({
  location: Type.String({ description: 'Where in the request: "query.<name>", "body.<path>", "header.<name>" or "path"' }),
  code: Type.String({ description: 'Stable code, e.g. "unknown-query-param"; the README lists them all' }),
  message: Type.String({ description: 'What real Thrive would do with it; long values are cut' })
}, { additionalProperties: false })
export type Violation = Static<typeof Violation>

/** Shared by every request that has none, so a clean request allocates nothing. */
export const NO_VIOLATIONS: readonly Violation[] = Object.freeze([])
