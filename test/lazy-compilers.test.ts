// Route validators and serializers are compiled on first use, and the schemas they come from are checked here
// against the JSON Schema meta-schema, since the server skips that check when it compiles them (src/app.ts).
// Tests compile them eagerly instead, so that a schema that cannot compile fails the build, not a request.
import { Ajv } from 'ajv'
import type { FastifyInstance, RouteOptions } from 'fastify'
import t, { type Test } from 'tap'
import type * as AppModule from '../src/app.js'
import type * as IndexModule from '../src/index.js'
import { lazySerializers, lazyValidators } from '../src/lazy-compilers.js'
import { BASIC_A, build, testConfig } from './helpers.js'

/** A route that refers to a shared schema nobody added, as when a new route forgets its addSchema. */
const MISSING_REPLY: RouteOptions = { method: 'GET', url: '/unresolved', schema: { response: { 200: { $ref: 'NoSuchReply#' } } }, handler: async () => ({}) }
const MISSING_BODY: RouteOptions = { method: 'POST', url: '/unresolved', schema: { body: { $ref: 'NoSuchBody#' } }, handler: async () => ({}) }

/** src/app.js loaded afresh, with the JWKS route module swapped for one that registers `route`. */
async function appWith (t: Test, route: RouteOptions): Promise<typeof AppModule> {
  return await t.mockImport<typeof AppModule>('../src/app.js', {
    '../src/routes/jwks.js': { default: async (app: FastifyInstance) => { app.route(route) } }
  })
}

const INTERNAL_ERROR = { status: 500, error: 'Internal Server Error', message: 'The mock server hit an unexpected error; the details are in its log' }

/** Every `schema` object under the document's paths, and every component schema, with where it was found. */
function schemasIn (doc: { paths: object, components: { schemas: Record<string, object> } }): Array<[string, object]> {
  const found: Array<[string, object]> = Object.entries(doc.components.schemas).map(([name, schema]) => [`#/components/schemas/${name}`, schema])
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' && value !== null && typeof value === 'object') found.push([`${at}/schema`, value])
      else walk(value, `${at}/${key}`)
    }
  }
  walk(doc.paths, '#/paths')
  return found
}

t.test('every schema a route declares is valid against the JSON Schema draft-07 meta-schema', async (t) => {
  const app = await build(t, { admin: { enabled: true, token: 'admin-token-1' } })
  const doc = (await app.inject({ url: '/openapi.json' })).json()
  const schemas = schemasIn(doc)
  // Parameters, bodies and responses of the audience, token, JWKS, health and control routes.
  t.ok(schemas.length >= 50, `${schemas.length} schemas found`)
  const ajv = new Ajv({ strict: false })
  // The check can fail: a misspelt type is refused.
  t.notOk(ajv.validateSchema({ type: 'strng' }), 'a misspelt type fails the meta-schema')
  for (const [at, schema] of schemas) {
    t.ok(ajv.validateSchema(schema), `${at}: ${ajv.errorsText(ajv.errors)}`)
  }
})

t.test('a lazy validator compiles its schema on first use, once, and behaves as the compiled one', async (t) => {
  const compiled: unknown[] = []
  let builders = 0
  const buildValidator = lazyValidators((externalSchemas, options) => {
    builders++
    t.same(options, { customOptions: { removeAdditional: false } })
    t.same(Object.keys(externalSchemas as object), ['Shared'])
    return ({ schema }) => {
      compiled.push(schema)
      return new Ajv().compile(schema)
    }
  })
  const compiler = buildValidator({ Shared: { $id: 'Shared', type: 'string' } }, { customOptions: { removeAdditional: false } })
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }
  const validate = compiler({ schema, method: 'POST', url: '/x', httpPart: 'body' }) as unknown as ((data: unknown) => boolean) & { errors?: Array<{ message: string }>, schemaEnv?: unknown }
  t.equal(builders, 0, 'no Ajv instance at route registration')
  t.equal(compiled.length, 0, 'nothing compiled at route registration')

  t.equal(validate({ n: 1 }), true)
  t.equal(validate.errors, null, 'no errors after a valid value')
  t.equal(validate({}), false)
  t.equal(validate.errors?.[0]?.message, "must have required property 'n'", 'the errors of the compiled validator')
  t.ok(validate.schemaEnv, 'schemaEnv is the compiled validator\'s, so Fastify passes the parent for coercion')
  t.equal(builders, 1)
  t.same(compiled, [schema], 'compiled exactly once')
})

t.test('a lazy serializer compiles its schema on its first reply, once', async (t) => {
  let compiles = 0
  const buildSerializer = lazySerializers(() => () => {
    compiles++
    return (data: unknown) => `serialized:${JSON.stringify(data)}`
  })
  const serialize = buildSerializer({}, undefined)({ schema: { type: 'object' }, method: 'GET', url: '/x', httpStatus: '200' }) as (data: unknown) => string
  t.equal(compiles, 0, 'nothing compiled at route registration')
  t.equal(serialize({ a: 1 }), 'serialized:{"a":1}')
  t.equal(serialize({ a: 2 }), 'serialized:{"a":2}')
  t.equal(compiles, 1, 'compiled exactly once')
})

t.test('over HTTP, lazy validation and serialization work from the first request (RFC 9110 §15.5.1 400 on a bad body)', async (t) => {
  const app = await build(t, { admin: { enabled: true, token: 'admin-token-1' } }, { compileSchemas: 'lazy' })
  const bad = await app.inject({ method: 'POST', url: '/__mock/faults', headers: { 'x-mock-admin-token': 'admin-token-1' }, payload: { match: { tenantId: 7 }, effect: {} } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { status: 400, error: 'Bad Request', message: /tenantId/ })
  const read = await app.inject({ url: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } })
  t.equal(read.statusCode, 200)
  t.equal(read.headers['content-type'], 'application/json; charset=utf-8')
})

// Fastify compiles route schemas in ready() (Fastify docs, Validation-and-Serialization).
t.test('compiled eagerly, a reply schema that $refs a shared schema nobody added makes buildApp reject naming the route and the schema', async (t) => {
  const { buildApp } = await appWith(t, MISSING_REPLY)
  await t.rejects(buildApp(testConfig(), { compileSchemas: 'eager' }), {
    code: 'FST_ERR_SCH_SERIALIZATION_BUILD',
    message: 'Failed building the serialization schema for GET: /unresolved, due to error Cannot resolve ref "NoSuchReply#". Schema with id "NoSuchReply" is not found.'
  })
})

t.test('compiled eagerly, a body schema that $refs a shared schema nobody added makes buildApp reject naming the route and the schema', async (t) => {
  const { buildApp } = await appWith(t, MISSING_BODY)
  await t.rejects(buildApp(testConfig(), { compileSchemas: 'eager' }), {
    code: 'FST_ERR_SCH_VALIDATION_BUILD',
    message: /^Failed building the validation schema for POST: \/unresolved, due to error can't resolve reference NoSuchBody# /
  })
})

t.test('buildApp compiles lazily by default: the same routes build and only their first request fails, a 500 in the documented shape (thrive-api.md B.4)', async (t) => {
  for (const route of [MISSING_REPLY, MISSING_BODY]) {
    const { buildApp } = await appWith(t, route)
    const app = await buildApp(testConfig({ logLevel: 'silent' }))
    t.teardown(() => app.close())
    await app.ready()
    const res = await app.inject({ method: route.method as 'GET' | 'POST', url: '/unresolved', payload: route.method === 'POST' ? {} : undefined })
    t.equal(res.statusCode, 500, `${String(route.method)}: first request`)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), INTERNAL_ERROR)
  }
})

t.test('startMockServer compiles lazily: it starts with such a route, which fails only when first called over HTTP', async (t) => {
  const { startMockServer } = await t.mockImport<typeof IndexModule>('../src/index.js', { '../src/app.js': await appWith(t, MISSING_REPLY) })
  const server = await startMockServer()
  t.teardown(() => server.close())
  const res = await fetch(`${server.url}/unresolved`)
  t.equal(res.status, 500)
  t.match(res.headers.get('content-type'), /^application\/json/)
  t.same(await res.json(), INTERNAL_ERROR)
})
