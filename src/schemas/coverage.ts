// The contract coverage report: which documented statuses a tenant's traffic produced, and the violations it sent.
import { Type, type Static } from 'typebox'
import { Violation } from './violations.js'

export const StatusCount = Type.Object({
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'The status answered; null for a transport fault that left no response (reset, empty, hang)' }),
  documented: Type.Boolean({ description: 'True when the operation documents this status; false flags an answer outside the contract' }),
  count: Type.Integer({ minimum: 0, description: 'How many requests got it; 0 for a documented status never produced' })
}, { additionalProperties: false })
export type StatusCount = Static<typeof StatusCount>

export const OperationCoverage = Type.Object({
  operationId: Type.String(),
  method: Type.String(),
  path: Type.String({ description: 'The documented path, as in /openapi.json' }),
  statuses: Type.Array(StatusCount, { description: 'Every documented status and any other status produced, in ascending order, null last' }),
  neverSeen: Type.Array(Type.Integer(), { description: 'The documented statuses no request produced' })
}, { additionalProperties: false })
export type OperationCoverage = Static<typeof OperationCoverage>

export const ViolationCount = Type.Object({
  code: Type.String(),
  count: Type.Integer({ minimum: 1 }),
  example: Type.Object({ ...Violation.properties }, { additionalProperties: false, description: 'The first violation seen with this code' })
}, { additionalProperties: false })
export type ViolationCount = Static<typeof ViolationCount>

export const CoverageReport = Type.Object({
  tenantId: Type.Union([Type.String(), Type.Null()], { description: 'The tenant; null for the whole server: every tenant and the requests that authenticated as none' }),
  requests: Type.Integer({ minimum: 0, description: 'How many operation requests the report counts' }),
  operations: Type.Array(OperationCoverage, { description: 'Every operation this server serves, audience operations first, then the token endpoint' }),
  violations: Type.Array(ViolationCount, { description: 'The contract violations the requests carried, by code, most frequent first' })
}, { additionalProperties: false })
export type CoverageReport = Static<typeof CoverageReport>
