// The built CLI as a real process: start-up, a read over a socket, errors, help, SIGTERM.
import { generateKeyPairSync, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FIXTURE, IDS, BASIC_A, TENANT_A, basic } from './helpers.js'
import { runCli, startCli } from './cli-helpers.js'
import { servedAudience } from './served.js'

function fixtureFile (content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'tenants.json')
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

t.test('the CLI loads a fixture file, serves an audience over a socket, and exits 0 on SIGTERM', async (t) => {
  const cli = await startCli(['--fixtures', fixtureFile(FIXTURE), '--log-level', 'info'])
  const res = await fetch(`${cli.url}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, accept: 'application/json', 'content-type': 'application/json' } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/json/)
  t.match(await res.json(), { id: IDS.aChild, reference: 'backend', category: 'audience' })
  t.match(cli.output(), /"msg":"Thrive audience mock ready"/)
  t.equal(await cli.stop(), 0)
})

t.test('with no flags the CLI serves the bundled fixtures (what npm start runs)', async (t) => {
  const cli = await startCli([])
  const res = await fetch(`${cli.url}/__mock/health`)
  t.match(await res.json(), { status: 'ok', tenants: 2 })
  t.equal(await cli.stop(), 0)
})

t.test('a bad fixture file stops start-up with exit 1 and one line naming the file and JSON path', async (t) => {
  const file = fixtureFile({ tenants: [{ tenantId: 'eu-west-2_X1', apiSecret: 's', structures: [{ name: 'A', reference: 'a', colour: 'red' }] }] })
  const { code, stderr } = await runCli(['--fixtures', file, '--port', '0'])
  t.equal(code, 1)
  t.equal(stderr.trim(), `thrive-audience-mock: fixture error: ${file}: $.tenants[0].structures[0].colour: unknown field "colour"`)
})

t.test('an unknown flag exits 1 with a configuration error', async (t) => {
  const { code, stderr } = await runCli(['--bogus'])
  t.equal(code, 1)
  t.match(stderr, /^thrive-audience-mock: configuration error: Unknown option '--bogus'/)
})

t.test('a bad value in the environment exits 1 naming the variable', async (t) => {
  const { code, stderr } = await runCli([], { PORT: 'abc' })
  t.equal(code, 1)
  t.match(stderr, /PORT must be a whole number/)
})

t.test('a port already in use exits 1 with a clear message', async (t) => {
  const cli = await startCli([])
  const port = new URL(cli.url).port
  const { code, stderr } = await runCli(['--port', port, '--host', '127.0.0.1'])
  t.equal(code, 1)
  t.match(stderr, /cannot start: listen EADDRINUSE/)
  await cli.stop()
})

t.test('--help lists the options and exits 0; --version prints the version', async (t) => {
  const help = await runCli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: thrive-audience-mock \[options\]/)
  t.match(help.stdout, /--fixtures <value>/)
  const version = await runCli(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/)
})

t.test('--generate N --seed S gives byte-identical data on every start, beside or without fixture files', async (t) => {
  const { buildSeed, GENERATED_TENANT } = await import('../src/store/seed.js')
  const seed = await buildSeed({ fixtures: [], generate: 50, seed: 7 })
  const sample = seed.tenants[0]?.audiences.filter((_, i) => i % 10 === 3) ?? []
  t.equal(sample.length, 5)
  const auth = { authorization: `Basic ${Buffer.from(`${GENERATED_TENANT.tenantId}:${GENERATED_TENANT.apiSecret}`).toString('base64')}` }
  const bodies: string[][] = []
  for (let run = 0; run < 2; run++) {
    const cli = await startCli(['--fixtures', 'none', '--generate', '50', '--seed', '7'])
    bodies.push(await Promise.all(sample.map(async (a) => await (await fetch(`${cli.url}/audiences/${encodeURIComponent(a.reference)}`, { headers: auth })).text())))
    await cli.stop()
  }
  t.same(bodies[0], bodies[1])
  // The seed stores a child's parentId and its members and managers; the served Audience has the parent block only (B.3).
  const audiences = seed.tenants[0]?.audiences ?? []
  t.same(bodies[0]?.map((b) => JSON.parse(b)), sample.map((a) => servedAudience(a, audiences)), 'what the server serves is what the generator made')

  const beside = await startCli(['--fixtures', fixtureFile(FIXTURE), '--generate', '30'])
  t.match(await (await fetch(`${beside.url}/__mock/health`)).json(), { tenants: 2, audiences: 10 + 2 * 30, generated: 30 })
  await beside.stop()
})

const KEY_PAIR = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })

/** Gets a token from the running CLI and checks it against the public key alone, as a verifying client would (RFC 7515 §5.2). */
async function tokenVerifiesWithPublicKey (t: Test, url: string): Promise<void> {
  const res = await fetch(`${url}/oauth2/token/${TENANT_A.tenantId}`, { method: 'POST', headers: { authorization: basic('a-reader', 'a-reader-secret'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  t.equal(res.status, 200)
  const token = (await res.json() as { access_token: string }).access_token
  const [header, payload, signature] = token.split('.') as [string, string, string]
  t.match(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'RS256' })
  t.ok(verify('sha256', Buffer.from(`${header}.${payload}`), KEY_PAIR.publicKey, Buffer.from(signature, 'base64url')), 'the signature verifies with the public key')
  const read = await fetch(`${url}/rest/v1/audiences/backend`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(read.status, 200)
  t.match(await read.json(), { id: IDS.aChild, reference: 'backend' })
}

t.test('--token-signing-key "$(cat key.pem)": a PEM value, which starts with dashes, is taken as the key', async (t) => {
  const cli = await startCli(['--fixtures', fixtureFile(FIXTURE), '--token-signing-key', KEY_PAIR.privateKey])
  t.teardown(() => cli.stop())
  await tokenVerifiesWithPublicKey(t, cli.url)
})

t.test('--token-signing-key-file reads the PEM key from a file, so it never shows in ps', async (t) => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'cli-key-')), 'key.pem')
  writeFileSync(keyFile, KEY_PAIR.privateKey, { mode: 0o600 })
  const cli = await startCli(['--fixtures', fixtureFile(FIXTURE), '--token-signing-key-file', keyFile])
  t.teardown(() => cli.stop())
  t.notMatch((cli.child.spawnargs).join(' '), /BEGIN/, 'the command line holds a path, not the key')
  await tokenVerifiesWithPublicKey(t, cli.url)
})

t.test('an unreadable key file exits 1 with a configuration error naming the file', async (t) => {
  const missing = join(mkdtempSync(join(tmpdir(), 'cli-key-')), 'missing.pem')
  const { code, stderr } = await runCli([], { TOKEN_SIGNING_KEY_FILE: missing })
  t.equal(code, 1)
  t.equal(stderr.trim(), `thrive-audience-mock: configuration error: TOKEN_SIGNING_KEY_FILE: cannot read the token signing key file "${missing}": ENOENT: no such file or directory, open '${missing}'`)
})

t.test('--help states the admin token minimum, the clock tolerance range, and recommends a key file or the environment over the key flag', async (t) => {
  const { code, stdout } = await runCli(['--help'])
  t.equal(code, 0)
  t.match(stdout, /--admin-token <value>\s+Require "X-Mock-Admin-Token: <token>" on every \/__mock route except health; at least 8 characters \[MOCK_ADMIN_TOKEN\]/)
  t.match(stdout, /--token-clock-tolerance <value>\s+Clock skew in seconds \(0 to 300\).*\(default: 0\) \[TOKEN_CLOCK_TOLERANCE_SECONDS\]/)
  t.match(stdout, /--token-signing-key <value>\s+.*Prefer --token-signing-key-file or the environment: a flag's value is visible to every user in `ps`/)
  t.match(stdout, /--token-signing-key-file <value>\s+File holding the token signing key.*\[TOKEN_SIGNING_KEY_FILE\]/)
})

t.test('a setting out of its range exits 1 naming the flag, the range and the value, before listening', async (t) => {
  const { code, stdout, stderr } = await runCli(['--journal-size', '-1'])
  t.equal(code, 1)
  t.equal(stderr.trim(), 'thrive-audience-mock: configuration error: --journal-size must be a whole number from 0 to 1000000, got "-1"')
  t.equal(stdout, '', 'it never got as far as logging')
})

t.test('the README configuration table lists every flag of --help with the same variable and default, and no other', async (t) => {
  const { stdout } = await runCli(['--help'])
  // Each line of --help: "  --flag <value>   description (default: D) [ENV]".
  const help = stdout.split('\n').flatMap((line) => {
    const m = /^ {2}--([a-z-]+)(?: <value>)?\s+.*?(?: \(default: (.+)\))?(?: \[([A-Z_]+)\])?$/.exec(line)
    return m === null ? [] : [{ flag: m[1] as string, shownDefault: m[2], env: m[3] }]
  }).filter((h) => h.env !== undefined)
  t.ok(help.length >= 15, `${help.length} flags with a variable in --help`)
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n**Passing the signing key.**'))
  const rows = new Map([...table.matchAll(/^\| `--([a-z-]+)` \| `([A-Z_]+)(?:=true)?` \| ([^|]+) \|/gm)].map((m) => [m[1] as string, { env: m[2], shownDefault: (m[3] as string).trim().replace(/`/g, '') }]))
  t.same([...rows.keys()], help.map((h) => h.flag), 'the same flags, in the same order')
  for (const h of help) {
    const row = rows.get(h.flag)
    t.equal(row?.env, h.env, `--${h.flag}: ${h.env}`)
    // --help shows no default for a setting that is off or unset by default; the table says which.
    t.equal(row?.shownDefault, h.shownDefault ?? (h.flag.startsWith('no-') ? 'off' : 'none'), `--${h.flag}: default`)
  }
})

t.test('the CLI serves HTTPS beside HTTP: the ready line gives the HTTPS URL and the CA file, which a client trusts', async (t) => {
  const caDir = join(mkdtempSync(join(tmpdir(), 'cli-ca-')), 'ca')
  const cli = await startCli(['--fixtures', fixtureFile(FIXTURE), '--https-port', '0', '--tls-ca-dir', caDir, '--tls-hostnames', 'thrive-mock', '--log-level', 'info'])
  const ready = await new Promise<{ httpsUrl: string, caCert: string }>((resolve) => {
    const check = () => {
      const line = cli.output().split('\n').find((l) => l.includes('"msg":"Thrive audience mock ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as { httpsUrl: string, caCert: string })
      else setTimeout(check, 20)
    }
    check()
  })
  t.match(ready.httpsUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.equal(ready.caCert, join(caDir, 'ca.pem'))
  t.match(cli.output(), new RegExp(`"msg":"HTTPS listening at ${ready.httpsUrl.replace(/[.]/g, '\\.')}"`))
  const { Agent } = await import('undici')
  const dispatcher = new Agent({ connect: { ca: readFileSync(ready.caCert, 'utf8'), servername: 'thrive-mock' } })
  const res = await fetch(`${ready.httpsUrl}/rest/v1/audiences/backend`, { headers: { authorization: BASIC_A, accept: 'application/json' }, dispatcher } as RequestInit)
  t.equal(res.status, 200)
  t.match(await res.json(), { id: IDS.aChild, reference: 'backend' })
  await dispatcher.close()
  t.equal(await cli.stop(), 0, 'SIGTERM drains both listeners, exit 0')
})

t.test('without --tls-ca-dir the CLI keeps its CA in the per-user cache directory', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'cli-cache-'))
  const cli = await startCli(['--https-port', '0'], { XDG_CACHE_HOME: cache })
  await new Promise<void>((resolve) => {
    const check = () => { if (cli.output().includes('Thrive audience mock ready')) resolve(); else setTimeout(check, 20) }
    check()
  })
  t.match(cli.output(), `"caCert":${JSON.stringify(join(cache, 'thrive-audience-mock', 'ca', 'ca.pem'))}`)
  t.equal(await cli.stop(), 0)
})

t.test('an unreadable or mismatched TLS certificate or key stops start-up with exit 1 and one line naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'))
  const missing = join(dir, 'missing.pem')
  const key = join(dir, 'key.pem')
  writeFileSync(key, generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey)
  const unreadable = await runCli(['--https-port', '0', '--port', '0', '--tls-cert', missing, '--tls-key', key])
  t.equal(unreadable.code, 1)
  t.equal(unreadable.stderr, `thrive-audience-mock: configuration error: TLS certificate file "${missing}": cannot read it: ENOENT: no such file or directory, open '${missing}'\n`)
  // A certificate from the mock's own CA, with a key of another pair.
  const { loadTlsMaterial } = await import('../src/tls.js')
  const cert = join(dir, 'cert.pem')
  writeFileSync(cert, (await loadTlsMaterial({ port: 0, cert: null, key: null, caDir: join(dir, 'ca'), hostnames: [] })).cert)
  const mismatched = await runCli(['--https-port', '0', '--port', '0', '--tls-cert', cert, '--tls-key', key])
  t.equal(mismatched.code, 1)
  t.equal(mismatched.stderr, `thrive-audience-mock: configuration error: TLS key file "${key}" does not match the certificate in "${cert}"\n`)
})

t.test('with a brought certificate the ready line says there is no CA of the mock\'s to trust', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'))
  const { loadTlsMaterial } = await import('../src/tls.js')
  const material = await loadTlsMaterial({ port: 0, cert: null, key: null, caDir: join(dir, 'ca'), hostnames: [] })
  writeFileSync(join(dir, 'cert.pem'), material.cert)
  writeFileSync(join(dir, 'key.pem'), material.key)
  const cli = await startCli(['--https-port', '0', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')])
  await new Promise<void>((resolve) => {
    const check = () => { if (cli.output().includes('Thrive audience mock ready')) resolve(); else setTimeout(check, 20) }
    check()
  })
  t.match(cli.output(), '"caCert":"none: the certificate was brought (--tls-cert)"')
  t.equal(await cli.stop(), 0)
})
