// Configuration: flags and environment, validated once; bad values are one clear error.
import { generateKeyPairSync, verify } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { ConfigError, DEFAULT_FIXTURES, defaultConfig, helpText, parseCli, type Config } from '../src/config.js'

function run (argv: string[], env: Record<string, string> = {}): Config {
  const result = parseCli(argv, env)
  if (result.kind !== 'run') throw new Error(`expected a run, got ${result.kind}`)
  return result.config
}

t.test('defaults: port 8080 on 0.0.0.0, the bundled fixtures, info logs, 3600 s tokens with no clock tolerance, admin on, journal 1000', async (t) => {
  const c = run([])
  t.equal(c.port, 8080)
  t.equal(c.host, '0.0.0.0')
  t.same(c.fixtures, [{ path: DEFAULT_FIXTURES }])
  t.equal(c.logLevel, 'info')
  t.same(c.token, { ttlSeconds: 3600, signingKey: null, issuer: 'thrive-audience-mock', clockToleranceSeconds: 0 })
  t.same(c.admin, { enabled: true, token: null })
  t.equal(c.journalSize, 1000)
  t.equal(c.generate, 0)
  t.equal(c.faultsFile, null)
})

t.test('every setting comes from its environment variable', async (t) => {
  const c = run([], {
    PORT: '9000',
    HOST: '127.0.0.1',
    FIXTURES: 'a.json, b',
    LOG_LEVEL: 'debug',
    TOKEN_TTL_SECONDS: '60',
    TOKEN_CLOCK_TOLERANCE_SECONDS: '7',
    TOKEN_SIGNING_KEY: 'k'.repeat(32),
    TOKEN_ISSUER: 'iss',
    FAULTS: 'f.json',
    MOCK_ADMIN_TOKEN: 'admin-token-1',
    MOCK_NO_ADMIN: 'true',
    JOURNAL_SIZE: '5',
    GENERATE: '10',
    SEED: '42'
  })
  t.same(c, {
    host: '127.0.0.1',
    port: 9000,
    logLevel: 'debug',
    fixtures: [{ path: 'a.json' }, { path: 'b' }],
    generate: 10,
    seed: 42,
    token: { ttlSeconds: 60, signingKey: 'k'.repeat(32), issuer: 'iss', clockToleranceSeconds: 7 },
    faultsFile: 'f.json',
    admin: { enabled: false, token: 'admin-token-1' },
    journalSize: 5
  })
})

t.test('a flag wins over the environment; --fixtures repeats', async (t) => {
  const c = run(['--port', '7000', '--fixtures', 'x.json', '--fixtures=y.json', '--no-admin'], { PORT: '9000', MOCK_NO_ADMIN: 'false' })
  t.equal(c.port, 7000)
  t.same(c.fixtures, [{ path: 'x.json' }, { path: 'y.json' }])
  t.equal(c.admin.enabled, false)
})

t.test('MOCK_NO_ADMIN=false keeps the control plane', async (t) => {
  t.equal(run([], { MOCK_NO_ADMIN: 'false' }).admin.enabled, true)
})

t.test('--fixtures none with --generate loads no files', async (t) => {
  const c = run(['--fixtures', 'none', '--generate', '5'])
  t.same(c.fixtures, [])
  t.equal(c.generate, 5)
})

const bad: Array<[string, string[], Record<string, string>, RegExp]> = [
  ['an unknown flag', ['--prot', '1'], {}, /Unknown option '--prot'.*--help/],
  ['a positional argument', ['serve'], {}, /Unexpected argument 'serve'/],
  ['a non-numeric port', [], { PORT: 'eighty' }, /^PORT must be a whole number from 0 to 65535, got "eighty"$/],
  ['a port out of range', ['--port', '70000'], {}, /^--port must be a whole number from 0 to 65535, got "70000"$/],
  ['an unknown log level', ['--log-level', 'loud'], {}, /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/],
  ['an unknown log level from the environment', [], { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
  ['a zero token lifetime', [], { TOKEN_TTL_SECONDS: '0' }, /^TOKEN_TTL_SECONDS must be a whole number from 1/],
  ['a non-boolean MOCK_NO_ADMIN', [], { MOCK_NO_ADMIN: 'maybe' }, /^MOCK_NO_ADMIN must be true or false, got "maybe"$/],
  ['no data at all', ['--fixtures', 'none'], {}, /^no data: give fixtures/],
  ['an empty host', ['--host', ' '], {}, /^host must not be empty$/],
  ['a short admin token', ['--admin-token', 'short'], {}, /^the admin token must be at least 8 characters$/],
  ['a clock tolerance over 300 s', ['--token-clock-tolerance', '301'], {}, /^--token-clock-tolerance must be a whole number from 0 to 300, got "301"$/],
  ['a negative clock tolerance', ['--token-clock-tolerance', '-1'], {}, /^--token-clock-tolerance must be a whole number from 0 to 300, got "-1"$/],
  ['a non-numeric clock tolerance from the environment', [], { TOKEN_CLOCK_TOLERANCE_SECONDS: '5s' }, /^TOKEN_CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to 300, got "5s"$/],
  ['a value-taking flag followed by another flag', ['--token-signing-key', '--port', '1'], {}, /^--token-signing-key needs a value, but the next argument is --port\. Run with --help for the list of options\.$/],
  ['a value-taking flag followed by another flag in = form', ['--token-signing-key', '--port=1'], {}, /^--token-signing-key needs a value, but the next argument is --port=1\./],
  ['a value-taking flag followed by the end of options', ['--token-signing-key', '--'], {}, /^--token-signing-key needs a value, but the next argument is --\./],
  ['a value-taking flag with nothing after it', ['--token-signing-key'], {}, /^Option '--token-signing-key <value>' argument missing/]
]

for (const [name, argv, env, message] of bad) {
  t.test(`${name} is a ConfigError with a clear message`, async (t) => {
    t.throws(() => parseCli(argv, env), { name: 'ConfigError', message })
    t.throws(() => parseCli(argv, env), ConfigError)
  })
}

const pemPair = () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })

t.test('--token-signing-key "$(cat key.pem)" takes the PEM as its value, and the server signs tokens that verify with its public key (RFC 7515 §5.2)', async (t) => {
  const { privateKey, publicKey } = pemPair()
  t.match(privateKey, /^-----BEGIN PRIVATE KEY-----\n/, 'the value starts with dashes, which parseArgs alone refuses')
  const config = run(['--token-signing-key', privateKey, '--log-level', 'silent'])
  t.equal(config.token.signingKey, privateKey)
  const app = await buildApp(config)
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/oauth2/token/eu-west-2_AcmeCorp1', payload: { grant_type: 'client_credentials', client_id: 'acme-reader', client_secret: 'acme-reader-secret' } })
  t.equal(res.statusCode, 200)
  const [header, payload, signature] = (res.json() as { access_token: string }).access_token.split('.') as [string, string, string]
  t.match(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'RS256' })
  t.ok(verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url')), 'the signature verifies with the public key')
})

t.test('any value-taking flag accepts a value that starts with a dash; boolean flags and the = form are untouched', async (t) => {
  const c = run(['--no-admin', '--token-issuer', '-dash-issuer', '--admin-token=-dash-admin-token', '--port', '0'])
  t.equal(c.token.issuer, '-dash-issuer')
  t.equal(c.admin.token, '-dash-admin-token')
  t.equal(c.admin.enabled, false)
  t.equal(c.port, 0)
})

function keyFile (content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'signing-key-')), 'key')
  writeFileSync(file, content)
  return file
}

t.test('--token-signing-key-file and TOKEN_SIGNING_KEY_FILE read the key from a file, without its trailing newline', async (t) => {
  const secret = 's'.repeat(40)
  t.equal(run(['--token-signing-key-file', keyFile(`${secret}\n`)]).token.signingKey, secret)
  t.equal(run([], { TOKEN_SIGNING_KEY_FILE: keyFile(`${secret}\r\n`) }).token.signingKey, secret)
  const { privateKey } = pemPair()
  t.equal(run(['--token-signing-key-file', keyFile(privateKey)]).token.signingKey, privateKey.trimEnd(), 'a PEM file as written by openssl')
  t.equal(run(['--token-signing-key-file', keyFile(`${secret}\n`)], { TOKEN_SIGNING_KEY_FILE: '/nonexistent' }).token.signingKey, secret, 'the flag wins over the environment')
})

t.test('a signing key given both directly and as a file is a ConfigError naming both sources', async (t) => {
  const file = keyFile('s'.repeat(40))
  const key = 'k'.repeat(40)
  for (const [argv, env, message] of <Array<[string[], Record<string, string>, string]>>[
    [['--token-signing-key', key, '--token-signing-key-file', file], {}, 'give the token signing key once: --token-signing-key and --token-signing-key-file are both set'],
    [[], { TOKEN_SIGNING_KEY: key, TOKEN_SIGNING_KEY_FILE: file }, 'give the token signing key once: TOKEN_SIGNING_KEY and TOKEN_SIGNING_KEY_FILE are both set'],
    [['--token-signing-key-file', file], { TOKEN_SIGNING_KEY: key }, 'give the token signing key once: TOKEN_SIGNING_KEY and --token-signing-key-file are both set']
  ]) {
    t.throws(() => parseCli(argv, env), { name: 'ConfigError', message }, message)
  }
})

t.test('an unreadable or empty key file is a ConfigError naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'signing-key-'))
  const missing = join(dir, 'missing.pem')
  t.throws(() => parseCli(['--token-signing-key-file', missing], {}), { name: 'ConfigError', message: `--token-signing-key-file: cannot read the token signing key file "${missing}": ENOENT: no such file or directory, open '${missing}'` })
  t.throws(() => parseCli([], { TOKEN_SIGNING_KEY_FILE: dir }), { name: 'ConfigError', message: new RegExp(`^TOKEN_SIGNING_KEY_FILE: cannot read the token signing key file "${dir}": EISDIR`) })
  const empty = keyFile('\n')
  t.throws(() => parseCli(['--token-signing-key-file', empty], {}), { name: 'ConfigError', message: `--token-signing-key-file: the token signing key file "${empty}" is empty` })
})

t.test('--help and --version are recognised', async (t) => {
  t.same(parseCli(['--help'], {}), { kind: 'help' })
  t.same(parseCli(['--version'], {}), { kind: 'version' })
})

t.test('help lists every flag with its environment variable and default', async (t) => {
  const help = helpText()
  for (const [flag, env] of <Array<[string, string]>>[['--port', 'PORT'], ['--host', 'HOST'], ['--fixtures', 'FIXTURES'], ['--log-level', 'LOG_LEVEL'], ['--token-ttl', 'TOKEN_TTL_SECONDS'], ['--token-signing-key', 'TOKEN_SIGNING_KEY'], ['--token-signing-key-file', 'TOKEN_SIGNING_KEY_FILE'], ['--token-clock-tolerance', 'TOKEN_CLOCK_TOLERANCE_SECONDS'], ['--faults', 'FAULTS'], ['--admin-token', 'MOCK_ADMIN_TOKEN'], ['--journal-size', 'JOURNAL_SIZE'], ['--generate', 'GENERATE'], ['--seed', 'SEED']]) {
    t.match(help, new RegExp(`${flag}.*\\[${env}\\]`), flag)
  }
  t.match(help, /--port <value>\s+TCP port.*\(default: 8080\)/)
  t.match(help, /--token-clock-tolerance <value>\s+Clock skew in seconds \(0 to 300\) tolerated when checking a token's exp, iat and nbf.*\(default: 0\)/)
})

t.test('defaultConfig is for in-process use: port 0 on loopback, silent, overrides merged', async (t) => {
  const c = defaultConfig({ token: { ttlSeconds: 5, signingKey: null, issuer: 'x' } })
  t.equal(c.port, 0)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.logLevel, 'silent')
  t.equal(c.token.ttlSeconds, 5)
  t.same(c.admin, { enabled: true, token: null })
  t.same(defaultConfig({ token: { clockToleranceSeconds: 30 } }).token, { ttlSeconds: 3600, signingKey: null, issuer: 'thrive-audience-mock', clockToleranceSeconds: 30 }, 'a partial token block keeps the other defaults')
  t.throws(() => defaultConfig({ token: { clockToleranceSeconds: 301 } }), { name: 'ConfigError', message: 'the token clock tolerance must be a whole number of seconds from 0 to 300, got 301' })
})
