// The token service: signature and lifetime checks, and its clock tolerance as library users and the README meet it.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'
import { MockClock } from '../src/clock.js'
import { startMockServer } from '../src/index.js'
import { TokenService } from '../src/tokens.js'

function service (clock = new MockClock()): TokenService {
  return new TokenService({ signingKey: 'a-signing-key-of-at-least-32-characters', issuer: 'test-issuer', ttlSeconds: 60, clockToleranceSeconds: 0, clock })
}

t.test('a verified signature is kept by callers, and the lifetime check still fails it once the clock passes exp', async (t) => {
  const clock = new MockClock()
  const tokens = service(clock)
  const { token } = tokens.issue({ tenantId: 'eu-west-2_T1', clientId: 'c', scopes: ['api/read'] })
  const claims = tokens.verifySignature(token)
  t.equal(claims.tenant_id, 'eu-west-2_T1')
  t.doesNotThrow(() => tokens.checkLifetime(claims))
  clock.advance(120_000)
  t.throws(() => tokens.checkLifetime(claims), { message: 'the token has expired; request a new one' })
  t.throws(() => tokens.verify(token), { message: 'the token has expired; request a new one' })
})

const ROOT = fileURLToPath(new URL('..', import.meta.url))

async function runNode (args: string[]): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, output }
}

t.test('the README\'s node:test example runs as written: a 60 s token is refused after advanceClock(61_000) (README "Using it from tests")', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const example = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((code) => code.includes("from 'node:test'"))
  if (example === undefined) throw new Error('the README has no node:test example')
  t.match(example, /startMockServer\(\{ token: \{ ttlSeconds: 60 \} \}\)[\s\S]*advanceClock\(61_000\)[\s\S]*assert\.equal\(res\.status, 401\)/)
  // Only the type annotations are stripped; inside this package Node resolves the example's own
  // import of 'thrive-audience-mock' to the built dist/index.js, as it would for a user.
  const js = ts.transpileModule(example, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
  mkdirSync(join(ROOT, '.tap'), { recursive: true })
  const dir = mkdtempSync(join(ROOT, '.tap', 'readme-example-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'example.test.mjs')
  writeFileSync(file, js)
  const { code, output } = await runNode(['--test', '--test-reporter=tap', file])
  t.equal(code, 0, output)
  t.match(output, /^# pass 1$/m)
  t.match(output, /^# fail 0$/m)
})

t.test('the library option token.clockToleranceSeconds is honoured over a real socket, and checked', async (t) => {
  const server = await startMockServer({ token: { ttlSeconds: 60, clockToleranceSeconds: 5 } })
  t.teardown(server.close)
  const token = await server.getToken({ clientId: 'acme-reader', clientSecret: 'acme-reader-secret', tenantId: 'eu-west-2_AcmeCorp1' })
  const read = async () => await fetch(`${server.url}/rest/v1/audiences/engineering`, { headers: { authorization: `Bearer ${token}` } })
  server.advanceClock(61_000)
  const within = await read()
  t.equal(within.status, 200, 'one second past exp is inside a 5 s tolerance')
  t.match(await within.json(), { reference: 'engineering' })
  server.advanceClock(5000)
  const beyond = await read()
  t.equal(beyond.status, 401)
  t.match(beyond.headers.get('www-authenticate'), /error="invalid_token"/)
  t.same(await beyond.json(), { status: 401, error: 'Unauthorized', message: 'Invalid access token: the token has expired; request a new one' })
  for (const bad of [-1, 301, 2.5]) {
    await t.rejects(startMockServer({ token: { clockToleranceSeconds: bad } }), { name: 'ConfigError', message: `token.clockToleranceSeconds must be a whole number from 0 to 300, got ${bad}` }, String(bad))
  }
})
