// The /__mock control plane's own bodies: reset results, counts removed and the mock clock.
import { Type, type Static } from 'typebox'

export const ResetResult = Type.Object({ faultsRemoved: Type.Integer(), requestsRemoved: Type.Integer(), clockReset: Type.Boolean() })
export type ResetResult = Static<typeof ResetResult>

export const StrictSetting = Type.Object({
  tenantId: Type.String(),
  strict: Type.Boolean({ description: 'Whether the tenant\'s requests with contract violations are refused (400) instead of served; "Prefer: strict" or "Prefer: handling=lenient" still decides a single request' })
}, { additionalProperties: false })
export type StrictSetting = Static<typeof StrictSetting>

export const StrictChange = Type.Object({
  strict: Type.Boolean({ description: 'true: strict mode for this tenant; false: lenient, whatever the server\'s --strict says' })
}, { additionalProperties: false })
export type StrictChange = Static<typeof StrictChange>

export const Removed = Type.Object({ removed: Type.Integer() })
export type Removed = Static<typeof Removed>

export const Clock = Type.Object({
  now: Type.String({ format: 'date-time', description: 'The mock\'s current time' }),
  epochMs: Type.Integer(),
  offsetMs: Type.Integer({ description: 'How far the mock clock is from real time' }),
  real: Type.Boolean({ description: 'True when the clock follows real time' })
}, { additionalProperties: false })
export type Clock = Static<typeof Clock>

export const ClockChange = Type.Object({
  advanceMs: Type.Optional(Type.Integer({ description: 'Move time forward (negative: back) by this much' })),
  setTo: Type.Optional(Type.String({ format: 'date-time', description: 'Jump to this instant; time keeps running from there' })),
  real: Type.Optional(Type.Literal(true, { description: 'Go back to real time' }))
}, { additionalProperties: false, minProperties: 1, maxProperties: 1 })
export type ClockChange = Static<typeof ClockChange>
