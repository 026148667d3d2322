// Configuration: flags and environment, validated once; bad values are one clear error.
import t from 'tap'
import { ConfigError, DEFAULT_FIXTURES, defaultConfig, helpText, parseCli, type Config } from '../src/config.js'

function run (argv: string[], env: Record<string, string> = {}): Config {
  const result = parseCli(argv, env)
  if (result.kind !== 'run') throw new Error(`expected a run, got ${result.kind}`)
  return result.config
}

t.test('defaults: port 8080 on 0.0.0.0, the bundled fixtures, info logs, 3600 s tokens, admin on, journal 1000', async (t) => {
  const c = run([])
  t.equal(c.port, 8080)
  t.equal(c.host, '0.0.0.0')
  t.same(c.fixtures, [{ path: DEFAULT_FIXTURES }])
  t.equal(c.logLevel, 'info')
  t.same(c.token, { ttlSeconds: 3600, signingKey: null, issuer: 'thrive-audience-mock' })
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
    token: { ttlSeconds: 60, signingKey: 'k'.repeat(32), issuer: 'iss' },
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
  ['a short admin token', ['--admin-token', 'short'], {}, /^the admin token must be at least 8 characters$/]
]

for (const [name, argv, env, message] of bad) {
  t.test(`${name} is a ConfigError with a clear message`, async (t) => {
    t.throws(() => parseCli(argv, env), { name: 'ConfigError', message })
    t.throws(() => parseCli(argv, env), ConfigError)
  })
}

t.test('--help and --version are recognised', async (t) => {
  t.same(parseCli(['--help'], {}), { kind: 'help' })
  t.same(parseCli(['--version'], {}), { kind: 'version' })
})

t.test('help lists every flag with its environment variable and default', async (t) => {
  const help = helpText()
  for (const [flag, env] of <Array<[string, string]>>[['--port', 'PORT'], ['--host', 'HOST'], ['--fixtures', 'FIXTURES'], ['--log-level', 'LOG_LEVEL'], ['--token-ttl', 'TOKEN_TTL_SECONDS'], ['--token-signing-key', 'TOKEN_SIGNING_KEY'], ['--faults', 'FAULTS'], ['--admin-token', 'MOCK_ADMIN_TOKEN'], ['--journal-size', 'JOURNAL_SIZE'], ['--generate', 'GENERATE'], ['--seed', 'SEED']]) {
    t.match(help, new RegExp(`${flag}.*\\[${env}\\]`), flag)
  }
  t.match(help, /--port <value>\s+TCP port.*\(default: 8080\)/)
})

t.test('defaultConfig is for in-process use: port 0 on loopback, silent, overrides merged', async (t) => {
  const c = defaultConfig({ token: { ttlSeconds: 5, signingKey: null, issuer: 'x' } })
  t.equal(c.port, 0)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.logLevel, 'silent')
  t.equal(c.token.ttlSeconds, 5)
  t.same(c.admin, { enabled: true, token: null })
})
