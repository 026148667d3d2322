// Schema compilers that build each route's validator and serializer on first use, not at start-up.
import AjvCompiler from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type ValidatorBuilder = NonNullable<CompilersFactory['buildValidator']>
type SerializerBuilder = NonNullable<CompilersFactory['buildSerializer']>

type Validate = ((data: unknown, cxt?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }

/**
 * Fastify's own Ajv compiler, with type coercion for the URL's parts only. A query string or a path holds nothing but
 * strings, so `?page=2` must become a number; a JSON body states its types, and Thrive does not coerce them
 * (`"name": 42` is a 400, thrive-api.md part C), so neither does this server.
 */
export function uncoercedBodies (build: ValidatorBuilder = AjvCompiler()): ValidatorBuilder {
  return function buildValidatorCompiler (externalSchemas, options) {
    const custom = (options as { customOptions?: Record<string, unknown> } | undefined)?.customOptions
    // Each Ajv instance is made when a schema first needs it: most routes have no body.
    let url: ReturnType<ValidatorBuilder> | undefined
    let body: ReturnType<ValidatorBuilder> | undefined
    return function validatorCompiler (route) {
      if (route.httpPart === 'body') {
        body ??= build(externalSchemas, { ...options, customOptions: { ...custom, coerceTypes: false } } as typeof options)
        return body(route)
      }
      url ??= build(externalSchemas, options)
      return url(route)
    } as ReturnType<ValidatorBuilder>
  }
}

/**
 * Fastify's own Ajv compiler, deferred: the Ajv instance is created, and a route's schema compiled, when a request
 * first needs it. A mock starts far more often than most of its routes are called.
 */
export function lazyValidators (build: ValidatorBuilder = uncoercedBodies()): ValidatorBuilder {
  return function buildLazyValidatorCompiler (externalSchemas, options) {
    let compiler: ReturnType<ValidatorBuilder> | undefined
    return function lazyValidatorCompiler (routeSchema) {
      let compiled: Validate | undefined
      const get = (): Validate => {
        compiler ??= build(externalSchemas, options)
        compiled ??= compiler(routeSchema) as Validate
        return compiled
      }
      const validate: Validate = function (data, cxt) {
        const real = get()
        const result = real(data, cxt)
        validate.errors = real.errors
        return result
      }
      // Fastify reads schemaEnv to decide whether Ajv may coerce the request part in place.
      Object.defineProperty(validate, 'schemaEnv', { get: () => get().schemaEnv })
      return validate
    } as ReturnType<ValidatorBuilder>
  }
}

/** Fastify's own fast-json-stringify compiler, deferred the same way: each response schema on its first reply. */
export function lazySerializers (build: SerializerBuilder = SerializerSelector()): SerializerBuilder {
  return function buildLazySerializerCompiler (externalSchemas, options) {
    let compiler: ReturnType<SerializerBuilder> | undefined
    return function lazySerializerCompiler (routeSchema) {
      let serialize: ((data: unknown) => string) | undefined
      return function (data: unknown): string {
        compiler ??= build(externalSchemas, options)
        serialize ??= compiler(routeSchema)
        return serialize(data)
      }
    } as ReturnType<SerializerBuilder>
  }
}
