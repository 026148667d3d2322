// Members, managers, pages and bulk results of the audience API (reference pages of part C), as TypeBox schemas.
import { Type, type Static } from 'typebox'
import { Audience } from './audience.js'
import { ObjectId } from './common.js'

/** Every list the API pages: `{totalResults, totalPages, page, perPage}`. */
export const Pagination = Type.Object({
  totalResults: Type.Integer({ minimum: 0, description: 'Items over all pages' }),
  totalPages: Type.Integer({ minimum: 0, description: 'ceil(totalResults / perPage)' }),
  page: Type.Integer({ minimum: 1, description: 'This page, from 1' }),
  perPage: Type.Integer({ minimum: 1, description: 'Page size' })
}, { additionalProperties: false })
export type Pagination = Static<typeof Pagination>

/** What a page of a list asks for, after the query has been validated. */
export interface PageRequest {
  page: number
  perPage: number
}

export interface Page<T> {
  results: T[]
  pagination: Pagination
}

export const User = Type.Object({
  id: ObjectId,
  reference: Type.String(),
  email: Type.String(),
  firstName: Type.Union([Type.String(), Type.Null()]),
  lastName: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: false })
export type User = Static<typeof User>

export const Member = Type.Object({
  userId: ObjectId,
  reference: Type.String({ description: "The user's reference" }),
  email: Type.String({ description: "The user's email" })
}, { additionalProperties: false })
export type Member = Static<typeof Member>

export const AudienceManagerPermissions = Type.Object({
  manageMembers: Type.Boolean({ description: 'A Thrive UI power: always false on API-controlled audiences' }),
  manageContent: Type.Boolean(),
  assignments: Type.Boolean()
}, { additionalProperties: false })

export const PeopleManagerPermissions = Type.Object({
  canViewLearnPage: Type.Boolean(),
  insights: Type.Boolean(),
  manage: Type.Boolean()
}, { additionalProperties: false })

export const AdministratorPermissions = Type.Object({
  canManageAudiences: Type.Boolean({ description: 'A Thrive UI power: always false on API-controlled structures' }),
  canAddAudienceManagers: Type.Boolean()
}, { additionalProperties: false })

/** Output permissions; `administrator` only on a structure. */
export const ManagerPermissions = Type.Object({
  audienceManager: AudienceManagerPermissions,
  peopleManager: PeopleManagerPermissions,
  administrator: Type.Optional(AdministratorPermissions)
}, { additionalProperties: false })
export type ManagerPermissions = Static<typeof ManagerPermissions>

export const Manager = Type.Object({
  userId: ObjectId,
  reference: Type.String(),
  email: Type.String(),
  permissions: ManagerPermissions
}, { additionalProperties: false })
export type Manager = Static<typeof Manager>

const Flag = Type.Optional(Type.Boolean({ default: false }))

/** Input permissions: no manageMembers, no canManageAudiences (UI powers); every flag defaults to false. */
export const ManagerPermissionsInput = Type.Object({
  audienceManager: Type.Optional(Type.Object({ manageContent: Flag, assignments: Flag })),
  peopleManager: Type.Optional(Type.Object({ canViewLearnPage: Flag, insights: Flag, manage: Flag })),
  administrator: Type.Optional(Type.Object({ canAddAudienceManagers: Flag }))
})
export type ManagerPermissionsInput = Static<typeof ManagerPermissionsInput>

export const ManagerInput = Type.Object({
  reference: Type.String({ minLength: 1, maxLength: 254, description: "The user's email, reference or id" }),
  permissions: Type.Optional(ManagerPermissionsInput)
})
export type ManagerInput = Static<typeof ManagerInput>

export const BULK_FAILURE_REASONS = ['user not found', 'already a member', 'already a manager', 'duplicate in request'] as const
export type BulkFailureReason = typeof BULK_FAILURE_REASONS[number]

/** 200 has `success` only; 207 adds `failure`. `reference` echoes what was sent. */
export const BulkResult = Type.Object({
  success: Type.Object({
    count: Type.Integer({ minimum: 0 }),
    entities: Type.Array(Type.Object({ reference: Type.String() }, { additionalProperties: false }))
  }, { additionalProperties: false }),
  failure: Type.Optional(Type.Object({
    count: Type.Integer({ minimum: 0 }),
    entities: Type.Array(Type.Object({ reference: Type.String(), reason: Type.String() }, { additionalProperties: false }))
  }, { additionalProperties: false }))
}, { additionalProperties: false })
export type BulkResult = Static<typeof BulkResult>

export const AudiencePage = Type.Object({ results: Type.Array(Type.Unsafe<Audience>(Type.Ref('Audience'))), pagination: Pagination }, { additionalProperties: false })
export const MemberPage = Type.Object({ results: Type.Array(Member), pagination: Pagination }, { additionalProperties: false })
