// The docs page in a real browser: headless Chromium loads /docs, lists the operations, and "Try it out" works
// with the credentials given in its Authorize dialog.
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { OPERATIONS } from '../src/operations.js'
import type { Browser, Page } from 'playwright-core'
import { startMockServer } from '../src/index.js'
import { FIXTURE } from './helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
const SHOTS = new URL('../.tap/', import.meta.url)
export const SCREENSHOT = new URL('docs-page.png', SHOTS).pathname
const ADMIN_TOKEN = 'docs-admin-token-1'

type Teardown = Parameters<typeof t.teardown>[0]

async function openBrowser (teardown: (fn: Teardown) => void): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  teardown(() => browser.close())
  return browser
}

async function screenshot (page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true })
  const path = new URL(name, SHOTS).pathname
  await page.screenshot({ path, fullPage: true })
  return path
}

/** Fills one scheme's block of the Authorize dialog, applies it and closes the dialog. */
async function authorize (page: Page, scheme: string, values: string[]): Promise<void> {
  await page.click('.auth-wrapper button.authorize')
  const block = page.locator('.modal-ux .auth-container', { has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) })
  const inputs = block.locator('input')
  for (const [i, value] of values.entries()) await inputs.nth(i).fill(value)
  await block.locator('button.authorize').click()
  await block.getByRole('button', { name: 'Remove authorization' }).waitFor()
  await page.click('.modal-ux button.close-modal')
}

/** Opens an operation, presses "Try it out", lets `fill` set its inputs, executes, and returns the live response. */
async function tryItOut (page: Page, operation: string, fill: (op: string) => Promise<void> = async () => {}): Promise<{ status: string, body: unknown }> {
  const op = `#${operation}`
  if (await page.locator(`${op} .try-out__btn`).count() === 0) await page.click(`${op} .opblock-summary`)
  await page.click(`${op} .try-out__btn`)
  await fill(op)
  await page.click(`${op} .execute`)
  const status = page.locator(`${op} .live-responses-table .response .response-col_status`)
  await status.waitFor({ timeout: 20_000 })
  const body = await page.locator(`${op} .live-responses-table .response-col_description .highlight-code code`).first().textContent()
  return { status: (await status.textContent())?.trim() ?? '', body: JSON.parse(body ?? 'null') as unknown }
}

t.test('the /docs page loads in Chromium and lists the audience and token operations', { skip: SKIP }, async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  const page = await (await openBrowser(t.teardown.bind(t))).newPage()
  const response = await page.goto(`${server.url}/docs`)
  t.equal(response?.status(), 200)
  await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
  const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.textContent?.replace(/\u200b/g, '').trim()))
  t.ok(paths.includes('/rest/v1/audiences/{audienceId}'), 'lists GET audience')
  t.ok(paths.includes('/oauth2/token/{tenantId}'), 'lists the token endpoint')
  const audienceOps = Object.values(OPERATIONS).filter((op) => op.tags.includes('Audiences')).map((op) => op.operationId)
  t.equal(audienceOps.length, 13, 'the 13 audience operations of thrive-api.md part C')
  const shown = await page.$$eval('.opblock', (nodes) => nodes.map((n) => n.id))
  t.same(audienceOps.filter((id) => !shown.includes(`operations-Audiences-${id}`)), [], 'the page shows every audience operation')
  t.match(await page.textContent('.info .title'), /Thrive audience API \(mock\)/)
  t.equal(await screenshot(page, 'docs-page.png'), SCREENSHOT)
  t.ok(existsSync(SCREENSHOT), `screenshot at ${SCREENSHOT}`)
})

t.test('with an admin token, the Authorize dialog\'s adminToken makes "Try it out" reach the control plane, writes included', { skip: SKIP }, async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE, adminToken: ADMIN_TOKEN })
  t.teardown(server.close)
  const page = await (await openBrowser(t.teardown.bind(t))).newPage()
  const sent: Array<string | undefined> = []
  page.on('request', (request) => { if (request.url().includes('/__mock/clock')) sent.push(request.headers()['x-mock-admin-token']) })
  await page.goto(`${server.url}/docs`)
  await page.waitForSelector('#operations-Mock_control-getClock', { timeout: 20_000 })

  await authorize(page, 'adminToken', [ADMIN_TOKEN])
  const read = await tryItOut(page, 'operations-Mock_control-getClock')
  t.equal(read.status, '200')
  t.match(read.body, { offsetMs: 0, real: true })
  t.same(Object.keys(read.body as object).sort(), ['epochMs', 'now', 'offsetMs', 'real'])

  // The docs page sends JSON with Content-Type: application/json, so the cross-site request forgery guard lets it through.
  const write = await tryItOut(page, 'operations-Mock_control-setClock', async (op) => {
    await page.fill(`${op} textarea.body-param__text`, '{"advanceMs": 60000}')
  })
  t.equal(write.status, '200')
  t.match(write.body, { offsetMs: 60_000, real: false })
  t.same(sent, [ADMIN_TOKEN, ADMIN_TOKEN], 'both requests carried X-Mock-Admin-Token')
  t.equal(await page.locator('#operations-Mock_control-getClock button.authorization__btn[aria-label="authorization button locked"]').count(), 1, 'the operation shows as authorized')
  t.ok(existsSync(await screenshot(page, 'docs-admin-try-it-out.png')))
})

t.test('"Try it out" on the token route with HTTP Basic from the Authorize dialog gets a token, sending no placeholder values', { skip: SKIP }, async (t) => {
  const server = await startMockServer()
  t.teardown(server.close)
  const page = await (await openBrowser(t.teardown.bind(t))).newPage()
  const bodies: Array<string | null> = []
  page.on('request', (request) => { if (request.url().includes('/oauth2/token/')) bodies.push(request.postData()) })
  await page.goto(`${server.url}/docs`)
  await page.waitForSelector('#operations-OAuth-getAccessToken', { timeout: 20_000 })

  await authorize(page, 'clientBasic', ['acme-reader', 'acme-reader-secret'])
  const op = '#operations-OAuth-getAccessToken'
  const result = await tryItOut(page, 'operations-OAuth-getAccessToken', async () => {
    await page.fill(`${op} tr[data-param-name="tenantId"] input`, 'eu-west-2_AcmeCorp1')
    await page.fill(`${op} tr[data-property-name="grant_type"] input`, 'client_credentials')
  })
  t.equal(result.status, '200')
  t.same(Object.keys(result.body as object).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  t.match(result.body, { access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/, token_type: 'Bearer', expires_in: 3600, scope: 'api/read' })

  t.equal(bodies.length, 1)
  const sent = new URLSearchParams(bodies[0] ?? '')
  t.equal(sent.get('grant_type'), 'client_credentials')
  for (const name of ['scope', 'client_id', 'client_secret']) t.notOk(sent.get(name), `${name} was not filled in for the user`)
  t.notMatch(bodies[0], /=string/, 'no "string" placeholder was sent')
  t.match(server.requests({ limit: 1 }), [{ method: 'POST', path: '/oauth2/token/eu-west-2_AcmeCorp1', clientId: 'acme-reader', status: 200 }], 'the server issued the token to the Basic client')
  t.ok(existsSync(await screenshot(page, 'docs-token-try-it-out.png')))
})

/** Every way a page can POST cross-origin without a CORS preflight, then one JSON request that needs one. */
function attackPage (mock: string): string {
  return `<!doctype html><title>elsewhere</title>
<iframe name="sink"></iframe>
<form method="POST" enctype="text/plain" action="${mock}/__mock/clock" target="sink"><input name='{"real":true,"x":"' value='"}'></form>
<script>
  const attempt = (url, init) => fetch(url, init).then((r) => r.type, (e) => e.name)
  const posted = new Promise((resolve) => { document.querySelector('iframe').onload = () => resolve('loaded') })
  document.querySelector('form').submit()
  ;(async () => {
    window.outcomes = [
      await attempt('${mock}/__mock/reset', { method: 'POST', mode: 'no-cors' }),
      await attempt('${mock}/__mock/reset', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await attempt('${mock}/__mock/faults', { method: 'POST', mode: 'no-cors', body: '{"match":{"allTenants":true},"effect":{"status":500}}' }),
      await attempt('${mock}/__mock/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await posted
    ]
  })()
</script>`
}

t.test('a page on another origin cannot reset or rig the control plane from a visitor\'s browser (cross-site request forgery)', { skip: SKIP }, async (t) => {
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  server.armFault({ match: { tenantId: 'eu-west-2_TestTenA1' }, effect: { delayMs: 1 } })
  server.advanceClock(5000)
  const state = async () => {
    const faults = await (await fetch(`${server.url}/__mock/faults`)).json() as unknown[]
    const clock = await (await fetch(`${server.url}/__mock/clock`)).json() as { offsetMs: number }
    return { faults: faults.length, offsetMs: clock.offsetMs }
  }
  t.same(await state(), { faults: 1, offsetMs: 5000 })

  // The other origin (the same host on another port) serves what a hostile page would run.
  const evil = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end(attackPage(server.url)) })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => evil.close(resolve)))
  const page = await (await openBrowser(t.teardown.bind(t))).newPage()
  await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`)
  await page.waitForFunction('Array.isArray(window.outcomes)', undefined, { timeout: 20_000 })
  const outcomes = await page.evaluate('window.outcomes')
  t.same(outcomes, ['opaque', 'opaque', 'opaque', 'TypeError', 'loaded'], 'no-cors requests went out opaque; the JSON one died at its preflight')
  t.same(await state(), { faults: 1, offsetMs: 5000 }, 'the rule and the clock are untouched')
})
