// The coverage page in a real browser: headless Chromium renders /__mock/coverage.html under its own
// Content-Security-Policy, and every cell of the matrix shows the count the JSON report gives.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { CoverageReport } from '../src/schemas/coverage.js'
import type { Violation } from '../src/schemas/violations.js'
import { uncheckedResponses } from './response-check.js'
import { basic, BASIC_A, build, CLIENT_HEADERS, TENANT_A } from './helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
/** What the page's code uses of the browser's window (this project compiles without the DOM library). */
interface BrowserWindow { getComputedStyle: (element: unknown) => { backgroundColor: string } }

const HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'

t.test('the coverage page renders in Chromium, and its cells show the counts of the JSON report', { skip: SKIP }, async (t) => {
  uncheckedResponses(t, 'one answer is rewritten to a status no operation documents, so the page has a flagged cell to show')
  const app = await build(t, {}, { compileSchemas: 'lazy' })
  // Stand in for the request checks that fill ctx.violations, and for a route answering outside its contract.
  app.addHook('onRequest', async (request) => {
    const given = request.headers['x-test-violations']
    if (typeof given === 'string') request.ctx.violations = JSON.parse(given) as Violation[]
  })
  app.addHook('onSend', async (request, reply) => { if (request.headers['x-test-status'] !== undefined) reply.code(Number(request.headers['x-test-status'])) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const headers = { ...CLIENT_HEADERS, authorization: BASIC_A }
  const violation: Violation = { location: 'query.updated_since', code: 'unknown-query-param', message: `Thrive ignores ${HOSTILE}` }

  const statuses: number[] = []
  const send = async (path: string, init: RequestInit = {}) => statuses.push((await fetch(`${base}${path}`, { headers, ...init })).status)
  await send('/rest/v1/audiences/backend')
  await send('/rest/v1/audiences/backend')
  await send('/rest/v1/audiences/nope')
  await send('/rest/v1/audiences/backend', { headers: { ...headers, prefer: 'code=429' } })
  await send('/rest/v1/audiences?updated_since=2024', { headers: { ...headers, 'x-test-violations': JSON.stringify([violation]) } })
  await send('/rest/v1/audiences/backend/members', { headers: { ...headers, 'x-test-status': '418' } })
  await send('/rest/v1/audiences/backend', { headers: { ...CLIENT_HEADERS, authorization: basic(TENANT_A.tenantId, 'wrong') } })
  t.same(statuses, [200, 200, 404, 429, 200, 418, 401])
  await fetch(`${base}/__mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { tenantId: TENANT_A.tenantId, route: 'listManagers' }, effect: { transport: 'reset' }, times: 1 }) })
  await t.rejects(fetch(`${base}/rest/v1/audiences/shared/managers`, { headers }), 'the reset connection leaves no response')

  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
  const blocked: string[] = []
  page.on('console', (message) => { if (/Content.Security.Policy/i.test(message.text())) blocked.push(message.text()) })
  const dialogs: string[] = []
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}) })

  for (const tenantId of [TENANT_A.tenantId, null]) {
    const query = tenantId === null ? '' : `?tenantId=${tenantId}`
    const report = await (await fetch(`${base}/__mock/coverage${query}`)).json() as CoverageReport
    const response = await page.goto(`${base}/__mock/coverage.html${query}`)
    t.equal(response?.status(), 200)

    const rendered = await page.$$eval('#matrix tbody tr', (rows) => rows.map((row) => ({
      operationId: row.getAttribute('data-operation'),
      cells: [...row.querySelectorAll('td[data-status][data-count]')].map((td) => ({ status: td.getAttribute('data-status'), kind: td.className, text: td.textContent?.trim() }))
    })))
    const expected = report.operations.map((op) => ({
      operationId: op.operationId,
      cells: op.statuses.map((s) => ({
        status: s.status === null ? 'none' : String(s.status),
        kind: !s.documented ? 'undocumented' : s.count === 0 ? 'never' : 'seen',
        text: !s.documented ? `${s.count} !` : s.count === 0 ? '\u2013' : String(s.count)
      }))
    }))
    t.same(rendered, expected, `every cell of ${tenantId ?? 'the whole server'} shows the JSON's count`)
    t.equal(await page.textContent('#requests'), String(report.requests))
    const shownViolations = await page.$$eval('#violations tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent)))
    t.same(shownViolations, report.violations.map((v) => [v.code, String(v.count), v.example.location, v.example.message]), 'the violations table, markup in a message shown as text')
  }
  const report = await (await fetch(`${base}/__mock/coverage?tenantId=${TENANT_A.tenantId}`)).json() as CoverageReport
  const getAudience = report.operations.find((op) => op.operationId === 'getAudience')
  t.match(getAudience?.statuses, [{ status: 200, count: 2 }], 'the page was checked against a report with traffic in it')
  t.same(report.operations.find((op) => op.operationId === 'listManagers')?.statuses.at(-1), { status: null, documented: false, count: 1 })

  t.equal(await page.title(), 'Contract coverage', 'no script ran')
  t.same(dialogs, [])
  t.equal(await page.locator('script, img').count(), 0, 'the hostile message made no element')
  t.same(blocked, [], 'the page\'s own style passed its Content-Security-Policy')
  t.equal(await page.$eval('td.seen', (td) => (globalThis as unknown as BrowserWindow).getComputedStyle(td).backgroundColor), 'rgb(215, 242, 215)', 'the style applied')

  const dir = mkdtempSync(join(tmpdir(), 'coverage-page-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const shot = join(dir, 'coverage.png')
  await page.screenshot({ path: shot, fullPage: true })
  const png = readFileSync(shot)
  t.ok(png.length > 1000, `a ${png.length}-byte screenshot`)
  t.same(png.subarray(0, 8), PNG_SIGNATURE, 'it is a PNG')
})
