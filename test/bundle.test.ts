// The single-file CLI that scripts/build-bundle.mjs makes (npm test builds it first): it must behave like dist/cli.js,
// assets and all.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const BUNDLE = fileURLToPath(new URL('../dist/cli.bundle.js', import.meta.url))
const BASIC = `Basic ${Buffer.from('eu-west-2_AcmeCorp1:acme-api-secret-0001').toString('base64')}`

// The bundle holds its dependencies' code too, which has no business in this project's coverage report:
// tap's process tracker still sees the child, but records no coverage for it.
function cleanEnv (): NodeJS.ProcessEnv {
  return { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
}

async function run (args: string[]): Promise<{ code: number | null, stdout: string }> {
  const child = spawn(process.execPath, [BUNDLE, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const [code] = await new Promise<[number | null]>((resolve) => child.on('exit', (c) => resolve([c])))
  return { code, stdout }
}

/** Starts the bundle on a free port; resolves with its URL once it listens, and a stop that sends SIGTERM. */
async function start (t: { teardown: (fn: () => unknown) => void }, args: string[]): Promise<{ url: string, stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BUNDLE, '--host', '127.0.0.1', '--port', '0', '--log-level', 'info', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bundle did not start:\n${out}`)), 20_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    exited.then((code) => { clearTimeout(timer); reject(new Error(`the bundle exited with ${code}:\n${out}`)) })
  })
  return { url, stop: async () => { child.kill('SIGTERM'); return await exited } }
}

t.test('the bundled CLI serves the API, the OpenAPI document and the docs page, then exits 0 on SIGTERM', async (t) => {
  const { url, stop } = await start(t, [])

  const audience = await fetch(`${url}/rest/v1/audiences/backend`, { headers: { authorization: BASIC } })
  t.equal(audience.status, 200)
  t.match(await audience.json(), { reference: 'backend', category: 'audience', parent: { reference: 'engineering' } })

  const spec = await fetch(`${url}/openapi.json`)
  t.equal(spec.status, 200)
  t.match(await spec.json(), { openapi: '3.0.3' })

  // The docs page's assets come from the installed @fastify/swagger-ui, found at run time.
  const docs = await fetch(`${url}/docs/static/swagger-ui.css`)
  t.equal(docs.status, 200)
  t.ok((await docs.text()).length > 1000)
  // YAML is loaded only when asked for.
  const yaml = await fetch(`${url}/docs/yaml`)
  t.equal(yaml.status, 200)
  t.match(await yaml.text(), /^openapi: 3\.0\.3/m)

  t.equal(await stop(), 0)
})

t.test('the bundled CLI generates audiences with faker, which it loads from node_modules', async (t) => {
  const { url, stop } = await start(t, ['--fixtures', 'none', '--generate', '50', '--seed', '7'])
  const health = await fetch(`${url}/__mock/health`)
  t.match(await health.json(), { status: 'ok', tenants: 1, audiences: 50 })
  t.equal(await stop(), 0)
})

t.test('the bundled CLI prints its version and help', async (t) => {
  const version = await run(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout.trim(), /^\d+\.\d+\.\d+/)
  const help = await run(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: thrive-audience-mock/)
})
