// What clients send to the audience operations (thrive-api.md part C): path parameters, queries and bodies.
import { Type, type Static } from 'typebox'
import { Audience, CATEGORIES } from './audience.js'
import { Nullable, ObjectId, StringEnum } from './common.js'
import { ManagerPermissionsInput } from './members.js'

/** Part C, decided point 1: a string over 100 characters is a 400. */
const MAX_STRING = 100

const Text = (description: string) => Type.String({ minLength: 1, maxLength: MAX_STRING, description })

const UserRef = Text('A user: their id, reference or email (email compared case-insensitively)')

export const MemberParams = Type.Object({
  audienceId: Type.String({ description: 'The audience id, or its reference (URL-encoded)' }),
  userRef: Type.String({ description: 'The user: id, reference or email (URL-encoded)' })
})
export type MemberParams = Static<typeof MemberParams>

export const ManagerParams = Type.Object({
  audienceId: Type.String({ description: 'The audience id, or its reference (URL-encoded)' }),
  userId: Type.String({ description: 'The user: id, reference or email (URL-encoded)' })
})
export type ManagerParams = Static<typeof ManagerParams>

const paging = {
  page: Type.Optional(Type.Integer({ minimum: 1, description: 'Page number, from 1 (default 1)' })),
  perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size, 1–1000 (default 100)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Page size, 1–100; used only when perPage is absent' }))
}

export const PageQuery = Type.Object(paging)
export type PageQuery = Static<typeof PageQuery>

export const ListAudiencesQuery = Type.Object({
  apiControlled: Type.Optional(Type.Boolean({ description: 'Only API-controlled (true) or UI-created (false) audiences' })),
  updatedSince: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 date-time: only audiences with updatedAt at or after it' })),
  ...paging
})
export type ListAudiencesQuery = Static<typeof ListAudiencesQuery>

// Unknown fields are ignored, as Thrive does (part C, decided point 1), so the bodies allow them.
export const CreateAudienceBody = Type.Object({
  name: Text('Display name, 1–100 characters'),
  reference: Text('External reference, unique within the tenant, 1–100 characters'),
  category: StringEnum(CATEGORIES, { description: 'structure (top level) or audience (a child of a structure)' }),
  parentId: Type.Optional(Text('The parent structure, by id or reference: required for an audience, absent for a structure'))
})
export type CreateAudienceBody = Static<typeof CreateAudienceBody>

export const UpdateAudienceBody = Type.Object({
  name: Type.Optional(Text('New display name')),
  reference: Type.Optional(Text('New reference, unique within the tenant')),
  parentId: Type.Optional(Text('Move a child audience to this API-controlled structure (id or reference)'))
})
export type UpdateAudienceBody = Static<typeof UpdateAudienceBody>

export const UserRefs = Type.Array(UserRef, { minItems: 1, maxItems: 100, description: '1–100 users, by id, reference or email' })

export const ManagerInputs = Type.Array(Type.Object({
  reference: UserRef,
  permissions: Type.Optional(ManagerPermissionsInput)
}), { minItems: 1, maxItems: 100, description: '1–100 managers' })

export const ParentInformation = Type.Object({ id: ObjectId, name: Type.String(), reference: Type.String() }, { additionalProperties: false })

/** The updated audience, and where it moved from and to (null unless it moved; Thrive does not publish this shape). */
export const UpdatedAudience = Type.Object({
  ...Audience.properties,
  memberOperations: Nullable(Type.Object({ from: ParentInformation, to: ParentInformation }, { additionalProperties: false }))
}, { additionalProperties: false })

export const Success = Type.Object({ success: Type.Literal(true) }, { additionalProperties: false })
