// GET /__mock/coverage and /__mock/coverage.html: the contract coverage report, as JSON and as a page.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { COVERAGE_PAGE_CSP, renderCoveragePage } from '../../coverage-page.js'
import { ErrorRef } from '../../schemas/common.js'
import { CoverageReport } from '../../schemas/coverage.js'

const CoverageQuery = Type.Object({
  tenantId: Type.Optional(Type.String({ minLength: 1, description: 'Only this tenant\'s requests; omit it for the whole server (every tenant, and requests that authenticated as none)' }))
}, { additionalProperties: false })

const DESCRIPTION = 'Per operation, every status it documents with how many requests got it (0: never seen), then any other status it answered (`documented: false`), and `null` for a transport fault that left no response; then the contract violations the requests carried, by code. A request counts for the tenant it authenticated as: one whose credentials failed counts only in the whole-server report (send `Prefer: code=401` with valid credentials to cover a 401 for a tenant). Reset clears it with the tenant.'

export default async function coverageRoutes (fastify: FastifyInstance, opts: { tags: string[] }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { coverage } = fastify
  const config = { journal: false }
  const errors = { 400: ErrorRef, 401: ErrorRef, 404: ErrorRef }

  app.get('/coverage', {
    config,
    schema: { operationId: 'getCoverage', summary: 'Which documented statuses the traffic produced, per operation, and the violations it carried', description: DESCRIPTION, tags: opts.tags, querystring: CoverageQuery, response: { 200: CoverageReport, ...errors } }
  }, async function getCoverage (request) {
    return coverage.report(request.query.tenantId)
  })

  app.get('/coverage.html', {
    config,
    schema: {
      operationId: 'getCoveragePage',
      summary: 'The coverage report as a page: operations x statuses, seen and never seen, then the violations',
      description: 'A self-contained page (no scripts, no external assets) for a person to read at a glance; the JSON at /__mock/coverage holds the same numbers.',
      tags: opts.tags,
      querystring: CoverageQuery,
      response: { 200: { description: 'The page', content: { 'text/html': { schema: Type.String() } } }, ...errors }
    }
  }, async function getCoveragePage (request, reply) {
    // The control plane's requireKnownTenant has answered for a tenant the server does not know.
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', COVERAGE_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(renderCoveragePage(coverage.report(request.query.tenantId)))
  })
}
