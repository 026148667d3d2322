// The Audience resource exactly as Thrive documents it ("Gets an audience").
import { Type, type Static } from 'typebox'
import { Nullable, ObjectId, StringEnum, Timestamp } from './common.js'

export const CATEGORIES = ['structure', 'audience'] as const
export const AUDIENCE_TYPES = ['manual', 'smart'] as const

export const AudienceParent = Type.Object({
  name: Type.String({ description: 'Name of the parent structure' }),
  reference: Type.String({ description: 'Reference of the parent structure' }),
  id: ObjectId
}, { additionalProperties: false })
export type AudienceParent = Static<typeof AudienceParent>

export const Audience = Type.Object({
  id: ObjectId,
  name: Type.String({ description: 'Display name, e.g. "Tech Team"' }),
  reference: Type.String({ description: 'External reference, unique within a tenant, e.g. "audience123"' }),
  apiControlled: Type.Boolean({ description: 'True when the audience was created by, and is only editable through, the API' }),
  category: StringEnum(CATEGORIES, { description: 'A structure is top level; an audience is the child of exactly one structure' }),
  type: StringEnum(AUDIENCE_TYPES, { description: 'smart audiences have rule-driven membership and are created in the Thrive UI' }),
  parent: Nullable(AudienceParent),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { $id: 'Audience', title: 'Audience', additionalProperties: false })
export type Audience = Static<typeof Audience>

export const AudienceParams = Type.Object({
  audienceId: Type.String({ description: 'The audience id, or its reference (URL-encoded)' })
})
export type AudienceParams = Static<typeof AudienceParams>
