// The fixture file format: tenants, their OAuth clients and users, structures and child audiences with members and managers.
import { Type, type Static } from 'typebox'
import { AUDIENCE_TYPES } from './audience.js'
import { ObjectId, StringEnum } from './common.js'
import { SCOPES } from './oauth.js'

const Name = Type.String({ minLength: 1, maxLength: 100, description: 'Display name, 1–100 characters' })
const Reference = Type.String({ minLength: 1, maxLength: 100, description: 'External reference, unique within the tenant, 1–100 characters' })
const FixtureTimestamp = Type.String({ format: 'date-time', description: 'RFC 3339 date-time; stored in UTC with milliseconds' })

/** A user named the way the API's member and manager bodies name one. */
const UserRef = Type.String({ minLength: 1, maxLength: 254, description: "A user of the same tenant: the user's id, reference or email (email compared case-insensitively)" })
const Flag = Type.Optional(Type.Boolean({ description: 'Default false' }))

/**
 * The API's manager input permissions, plus the two Thrive UI powers (manageMembers, canManageAudiences) that only a
 * UI-created audience (apiControlled: false) can grant; `administrator` only with a true flag on a structure.
 */
export const ManagerPermissionsFixture = Type.Object({
  audienceManager: Type.Optional(Type.Object({ manageMembers: Flag, manageContent: Flag, assignments: Flag }, { additionalProperties: false })),
  peopleManager: Type.Optional(Type.Object({ canViewLearnPage: Flag, insights: Flag, manage: Flag }, { additionalProperties: false })),
  administrator: Type.Optional(Type.Object({ canManageAudiences: Flag, canAddAudienceManagers: Flag }, { additionalProperties: false }))
}, { additionalProperties: false })
export type ManagerPermissionsFixture = Static<typeof ManagerPermissionsFixture>

export const ManagerFixture = Type.Object({
  user: UserRef,
  permissions: Type.Optional(ManagerPermissionsFixture)
}, { additionalProperties: false })
export type ManagerFixture = Static<typeof ManagerFixture>

const PersonName = Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], { description: '1–100 characters, or null; default null' })

export const UserFixture = Type.Object({
  id: Type.Optional(ObjectId),
  reference: Type.String({ minLength: 1, maxLength: 100, description: "The user's external reference, unique within the tenant, 1–100 characters" }),
  email: Type.String({ format: 'email', maxLength: 254, description: 'An email address, unique within the tenant (case-insensitively), at most 254 characters' }),
  firstName: Type.Optional(PersonName),
  lastName: Type.Optional(PersonName)
}, { additionalProperties: false })
export type UserFixture = Static<typeof UserFixture>

const audienceFields = {
  id: Type.Optional(ObjectId),
  name: Name,
  reference: Reference,
  apiControlled: Type.Optional(Type.Boolean({ default: true })),
  type: Type.Optional(StringEnum(AUDIENCE_TYPES)),
  createdAt: Type.Optional(FixtureTimestamp),
  updatedAt: Type.Optional(FixtureTimestamp),
  members: Type.Optional(Type.Array(UserRef, { description: 'Members in the order added' })),
  managers: Type.Optional(Type.Array(ManagerFixture))
}

export const AudienceFixture = Type.Object(audienceFields, { additionalProperties: false })
export type AudienceFixture = Static<typeof AudienceFixture>

export const StructureFixture = Type.Object({
  ...audienceFields,
  audiences: Type.Optional(Type.Array(AudienceFixture))
}, { additionalProperties: false })
export type StructureFixture = Static<typeof StructureFixture>

// RFC 7617 §2: Basic credentials cannot carry control characters, so a secret holding one could never be used.
const Secret = Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\x00-\\x1f\\x7f]+$', description: 'Secret, 1–512 characters, no control characters' })

export const ClientFixture = Type.Object({
  clientId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'OAuth client id (visible ASCII)' }),
  clientSecret: Secret,
  scopes: Type.Array(StringEnum(SCOPES), { minItems: 1, uniqueItems: true })
}, { additionalProperties: false })
export type ClientFixture = Static<typeof ClientFixture>

export const TenantFixture = Type.Object({
  tenantId: Type.String({
    pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+_[A-Za-z0-9]+$',
    maxLength: 128,
    description: 'Tenant ID in the Cognito user pool form, e.g. eu-west-2_AbcdEfghI'
  }),
  apiSecret: Secret,
  clients: Type.Optional(Type.Array(ClientFixture)),
  users: Type.Optional(Type.Array(UserFixture, { description: "The tenant's users; audiences of this tenant entry name them as members and managers" })),
  structures: Type.Array(StructureFixture)
}, { additionalProperties: false })
export type TenantFixture = Static<typeof TenantFixture>

export const FixtureFile = Type.Object({
  $schema: Type.Optional(Type.String()),
  tenants: Type.Array(TenantFixture)
}, { additionalProperties: false })
export type FixtureFile = Static<typeof FixtureFile>
