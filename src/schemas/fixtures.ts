// The fixture file format: tenants, their OAuth clients, structures and child audiences.
import { Type, type Static } from 'typebox'
import { AUDIENCE_TYPES } from './audience.js'
import { ObjectId, StringEnum } from './common.js'
import { SCOPES } from './oauth.js'

const Name = Type.String({ minLength: 1, maxLength: 100, description: 'Display name, 1–100 characters' })
const Reference = Type.String({ minLength: 1, maxLength: 100, description: 'External reference, unique within the tenant, 1–100 characters' })
const FixtureTimestamp = Type.String({ format: 'date-time', description: 'RFC 3339 date-time; stored in UTC with milliseconds' })

const audienceFields = {
  id: Type.Optional(ObjectId),
  name: Name,
  reference: Reference,
  apiControlled: Type.Optional(Type.Boolean({ default: true })),
  type: Type.Optional(StringEnum(AUDIENCE_TYPES)),
  createdAt: Type.Optional(FixtureTimestamp),
  updatedAt: Type.Optional(FixtureTimestamp)
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
  structures: Type.Array(StructureFixture)
}, { additionalProperties: false })
export type TenantFixture = Static<typeof TenantFixture>

export const FixtureFile = Type.Object({
  $schema: Type.Optional(Type.String()),
  tenants: Type.Array(TenantFixture)
}, { additionalProperties: false })
export type FixtureFile = Static<typeof FixtureFile>
