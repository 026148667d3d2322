// The request journal's entry and query, as GET /__mock/requests and the library's requests() return them.
import { Type, type Static } from 'typebox'
import { JOURNAL_LIMITS, REDACTED, TRUNCATION_MARKER } from '../store/journal.js'
import { MAX_LISTED, Violation } from './violations.js'

export const JournalQueryParams = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), {
  description: `The query string, parsed and decoded: name -> value, or every value of a repeated name. At most ${JOURNAL_LIMITS.queryParams} values, names of ${JOURNAL_LIMITS.queryNameChars} and values of ${JOURNAL_LIMITS.queryValueChars} characters (a cut one ends with "${TRUNCATION_MARKER}"); the value of a name that looks like a credential (token, secret, password, key, auth...) is "${REDACTED}". The raw query string is never kept.`
})
/** A query string, parsed: a repeated parameter has every value, in order. */
export type JournalQueryParams = Static<typeof JournalQueryParams>

export const JournalEntry = Type.Object({
  seq: Type.Integer({ description: 'Increasing sequence number' }),
  time: Type.String({ format: 'date-time', description: 'When the request arrived, by the mock clock as it read then; `since` compares this' }),
  method: Type.String(),
  path: Type.String({ description: `Request path without the query, as sent (still percent-encoded); a path over ${JOURNAL_LIMITS.pathChars} characters is cut and ends with "${TRUNCATION_MARKER}"` }),
  query: JournalQueryParams,
  truncated: Type.Boolean({ description: 'True when the path, the query or an id was cut to fit the limits above' }),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  clientId: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'null when a transport fault left no response' }),
  fault: Type.Union([Type.String(), Type.Null()], { description: 'The rule id that fired, "prefer" for a Prefer header, or null' }),
  transport: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Number(),
  violations: Type.Array(Violation, { description: `What in the request real Thrive would ignore, misread or refuse (the X-Mock-Violations header, with messages); at most ${MAX_LISTED}, empty for a clean request` }),
  violationsNotListed: Type.Integer({ minimum: 0, description: `Violations found beyond the ${MAX_LISTED} listed` })
}, { additionalProperties: false })
export type JournalEntry = Static<typeof JournalEntry>

export const JournalQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only requests after this instant' }))
}, { additionalProperties: false })
export type JournalQuery = Static<typeof JournalQuery>
