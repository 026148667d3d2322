// The docs page in a real browser: headless Chromium loads /docs and lists the audience and token operations.
import { existsSync, mkdirSync } from 'node:fs'
import t from 'tap'
import { startMockServer } from '../src/index.js'
import { FIXTURE } from './helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOT = new URL('../.tap/docs-page.png', import.meta.url).pathname

t.test('the /docs page loads in Chromium and lists the audience and token operations', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` }, async (t) => {
  const { chromium } = await import('playwright-core')
  const server = await startMockServer({ fixtures: FIXTURE })
  t.teardown(server.close)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const response = await page.goto(`${server.url}/docs`)
  t.equal(response?.status(), 200)
  await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
  const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.textContent?.replace(/\u200b/g, '').trim()))
  t.ok(paths.includes('/rest/v1/audiences/{audienceId}'), 'lists GET audience')
  t.ok(paths.includes('/oauth2/token/{tenantId}'), 'lists the token endpoint')
  t.match(await page.textContent('.info .title'), /Thrive audience API \(mock\)/)
  mkdirSync(new URL('../.tap/', import.meta.url), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  t.ok(existsSync(SCREENSHOT), `screenshot at ${SCREENSHOT}`)
})
