// Schema pieces shared by every route: ids, timestamps and the documented error body.
import { Type, type Static, type TSchema } from 'typebox'

/** A string enum that serialises as a plain `enum` (cheap for fast-json-stringify, clear in OpenAPI). */
export function StringEnum<const T extends readonly string[]> (values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/** `T | null`, written as OpenAPI 3.0 `nullable` so fast-json-stringify needs no anyOf. */
export function Nullable<T extends TSchema> (schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true })
}

export const ObjectId = Type.String({
  pattern: '^[0-9a-f]{24}$',
  description: '24 lowercase hex characters (MongoDB ObjectId style), e.g. 63f8c5361b9c80d3274be7ca'
})

export const Timestamp = Type.String({
  format: 'date-time',
  description: 'ISO 8601 date-time in UTC with milliseconds, e.g. 2024-01-15T10:20:30.123Z'
})

export const ErrorBody = Type.Object({
  status: Type.Integer({ description: 'The HTTP status code, repeated so clients can branch on it' }),
  error: Type.String({ description: 'The reason phrase of the status, e.g. "Not Found"' }),
  message: Type.String({ description: 'What went wrong, in words a client developer can act on' })
}, { $id: 'ErrorBody', title: 'Error', additionalProperties: false })
export type ErrorBody = Static<typeof ErrorBody>

/** A `$ref` to the shared error body, for response schemas. */
export const ErrorRef = Type.Unsafe<ErrorBody>(Type.Ref('ErrorBody'))
