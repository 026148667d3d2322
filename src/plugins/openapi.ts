// The OpenAPI 3 document, generated from the route schemas, at /openapi.json; and a docs page at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { API_PREFIX } from '../operations.js'

export const OPENAPI_PATH = '/openapi.json'
export const DOCS_PATH = '/docs'

async function openapiPlugin (fastify: FastifyInstance, opts: { version: string }) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Thrive audience API (mock)',
        version: opts.version,
        description: `A stand-in for the Thrive Learning audience API. Thrive documents paths without the ${API_PREFIX} prefix; ` +
          `this server answers both \`${API_PREFIX}/audiences/{audienceId}\` and \`/audiences/{audienceId}\`, and lists the first. ` +
          `The token endpoint, as in Thrive, is \`/oauth2/token/{tenantId}\`, outside ${API_PREFIX}. ` +
          'The "Mock control" operations under /__mock are this server\'s own, not Thrive\'s.'
      },
      tags: [
        { name: 'Audiences', description: 'Thrive: read audiences by id or reference' },
        { name: 'OAuth', description: 'Thrive: OAuth 2.0 client credentials (RFC 6749 §4.4)' },
        { name: 'Mock control', description: 'This mock only: faults, journal, reset, clock, health. Every POST here must send Content-Type: application/json (a guard against cross-site request forgery)' }
      ],
      components: {
        securitySchemes: {
          basicAuth: { type: 'http', scheme: 'basic', description: 'Username: Tenant ID; password: the tenant\'s API secret' },
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /oauth2/token/{tenantId}' },
          clientBasic: { type: 'http', scheme: 'basic', description: 'OAuth client_secret_basic: client id and secret, form-urlencoded, then Basic' },
          adminToken: { type: 'apiKey', in: 'header', name: 'X-Mock-Admin-Token', description: 'Only when the server runs with an admin token' }
        }
      }
    },
    // Shared schemas keep their own names ($id) in components, instead of def-0, def-1...
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}` }
  })
  await fastify.register(async function docs (scope) {
    // The docs page is not a Thrive route: keep it out of the request journal.
    scope.addHook('onRoute', (route) => { route.config = { ...route.config, journal: false } })
    await scope.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { docExpansion: 'list', deepLinking: true } })
    scope.get(OPENAPI_PATH, { schema: { hide: true } }, async function openapi () {
      return fastify.swagger()
    })
  })
}

export default fp(openapiPlugin, { name: 'openapi' })
