// Configuration: flags and environment, validated once; bad values are one clear error.
import { generateKeyPairSync, verify } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Compile } from 'typebox/compile'
import { buildApp } from '../src/app.js'
import { ConfigError, ConfigSchema, DEFAULT_FIXTURES, defaultConfig, helpText, libraryConfig, parseCli, type Config } from '../src/config.js'

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
    SEED: '42',
    HTTPS_PORT: '8443',
    TLS_CERT: 'cert.pem',
    TLS_KEY: 'key.pem',
    TLS_CA_DIR: '/tls',
    TLS_HOSTNAMES: 'thrive-mock, 10.0.0.5',
    STRICT: 'true'
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
    https: { port: 8443, cert: 'cert.pem', key: 'key.pem', caDir: '/tls', hostnames: ['thrive-mock', '10.0.0.5'] },
    strict: true,
    journalSize: 5
  })
})

t.test('a flag wins over the environment; --fixtures repeats', async (t) => {
  const c = run(['--port', '7000', '--fixtures', 'x.json', '--fixtures=y.json', '--no-admin'], { PORT: '9000', MOCK_NO_ADMIN: 'false' })
  t.equal(c.port, 7000)
  t.same(c.fixtures, [{ path: 'x.json' }, { path: 'y.json' }])
  t.equal(c.admin.enabled, false)
})

t.test('--strict turns strict mode on; it is off by default', async (t) => {
  t.equal(run(['--strict']).strict, true)
  t.equal(run([]).strict, false)
  t.equal(run([], { STRICT: 'false' }).strict, false)
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
  ['no data at all', ['--fixtures', 'none'], {}, /^no data: give fixtures \(--fixtures \/ FIXTURES\) or generated audiences \(--generate \/ GENERATE\)$/],
  ['an empty host', ['--host', ' '], {}, /^--host must be a host name or address, not blank, got " "$/],
  ['a short admin token', ['--admin-token', 'short'], {}, /^--admin-token must be a string of at least 8 characters, got 5 characters$/],
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
  t.throws(() => defaultConfig({ token: { clockToleranceSeconds: 301 } }), { name: 'ConfigError', message: 'token.clockToleranceSeconds must be a whole number from 0 to 300, got 301' })
  t.throws(() => defaultConfig({ admin: { enabled: 'yes' as never } }), { name: 'ConfigError', message: 'admin.enabled must be true or false, got "yes"' })
  t.throws(() => defaultConfig({ fixtures: [], generate: 0 }), { name: 'ConfigError', message: 'no data: give fixtures (fixtures) or generated audiences (generate)' })
  t.throws(() => defaultConfig({ journalsize: 5 } as never), { name: 'ConfigError', message: 'unknown option "journalsize"; the options are admin, faultsFile, fixtures, generate, host, https, journalSize, logLevel, port, seed, strict, token' })
  t.throws(() => defaultConfig({ admin: { tokn: 'admin-token-1' } } as never), { name: 'ConfigError', message: 'unknown option "admin.tokn"; the options are admin.token, admin.enabled' })
  t.same(defaultConfig({ port: undefined, token: undefined }).port, 0, 'an option set to undefined is not given')
})

// The tests below are generated from ConfigSchema itself, so a new setting is covered the day it is added.

interface Leaf {
  path: string[]
  schema: {
    flag: string
    env: string
    description: string
    default: unknown
    type?: string
    minimum?: number
    maximum?: number
    minLength?: number
    pattern?: string
    enum?: string[]
    anyOf?: Array<{ type?: string, minLength?: number, minimum?: number, maximum?: number }>
    expected?: string
    secret?: true
    negated?: true
    paths?: true
    list?: true
    shownDefault?: string
    inProcessDefault?: unknown
    library?: string | false
    file?: { flag: string, env: string, description: string }
  }
}

function leaves (properties: Record<string, unknown>, path: string[] = []): Leaf[] {
  return Object.entries(properties).flatMap(([key, schema]) => {
    const s = schema as Partial<Leaf['schema']> & { properties?: Record<string, unknown> }
    return s.flag !== undefined ? [{ path: [...path, key], schema: s as Leaf['schema'] }] : leaves(s.properties as Record<string, unknown>, [...path, key])
  })
}

const LEAVES = leaves(ConfigSchema.properties)
const at = (config: unknown, path: string[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config)
const nested = (path: string[], value: unknown): Record<string, unknown> => path.reduceRight<Record<string, unknown>>((inner, k) => ({ [k]: inner }), value as never)
const minLength = (s: Leaf['schema']): number | undefined => s.minLength ?? s.anyOf?.find((m) => m.minLength !== undefined)?.minLength

/** A nullable setting's non-null member, or the setting itself. */
const valueSchema = (s: Leaf['schema']): Leaf['schema'] => ({ ...s, ...s.anyOf?.find((m) => m.type === 'integer') })

/** Settings that only make sense beside others (a certificate needs its key and the HTTPS port): those others. */
const COMPANIONS: Record<string, { argv: string[], options: Record<string, Record<string, unknown>> }> = {
  'https.cert': { argv: ['--tls-key', 'key.pem', '--https-port', '8443'], options: { https: { key: 'key.pem', port: 8443 } } },
  'https.key': { argv: ['--tls-cert', 'cert.pem', '--https-port', '8443'], options: { https: { cert: 'cert.pem', port: 8443 } } },
  'https.hostnames': { argv: ['--https-port', '8443'], options: { https: { port: 8443 } } }
}
const companionArgs = (path: string[]): string[] => COMPANIONS[path.join('.')]?.argv ?? []
/** Library options for one setting, with its companions merged into the same block. */
function withCompanions (path: string[], options: Record<string, unknown>): Record<string, unknown> {
  const extra = COMPANIONS[path.join('.')]?.options ?? {}
  const merged: Record<string, unknown> = { ...options }
  for (const [key, block] of Object.entries(extra)) merged[key] = { ...block, ...(options[key] as Record<string, unknown>) }
  return merged
}

/** A text the CLI accepts for a setting, and the value it must become. */
function goodText (given: Leaf['schema']): [string, unknown] {
  const s = valueSchema(given)
  if (s.paths === true) return ['a.json, b', [{ path: 'a.json' }, { path: 'b' }]]
  if (s.list === true) return ['thrive-mock, 10.0.0.5', ['thrive-mock', '10.0.0.5']]
  if (s.type === 'integer') return [String(s.maximum), s.maximum]
  if (s.type === 'boolean') return ['true', s.negated !== true]
  if (s.enum !== undefined) return [s.enum.find((v) => v !== s.default) as string, s.enum.find((v) => v !== s.default)]
  return ['a-value-of-forty-characters-xxxxxxxxxxxx', 'a-value-of-forty-characters-xxxxxxxxxxxx']
}

/** Texts the schema refuses for a setting, and the words the error must use to state the allowed range. */
function badTexts (given: Leaf['schema']): Array<[string, string[]]> {
  const s = valueSchema(given)
  if (s.list === true) return [['bad name!', [s.expected as string]]]
  if (s.type === 'integer') return [[String((s.maximum as number) + 1), [`from ${s.minimum as number} to ${s.maximum as number}`]], ['-1', [`from ${s.minimum as number}`]], ['12abc', ['whole number']]]
  if (s.type === 'boolean') return [['maybe', ['true or false']]]
  if (s.enum !== undefined) return [['nope', s.enum]]
  const min = minLength(s)
  if (min !== undefined) return [['x'.repeat(min - 1), [`at least ${min} characters`]]]
  if (s.pattern !== undefined) return [[' ', [s.expected as string]]]
  return []
}

t.test('every setting in the schema is set by its flag and by its environment variable, the flag winning', async (t) => {
  t.ok(LEAVES.length >= 14, `${LEAVES.length} settings`)
  for (const { path, schema } of LEAVES) {
    const [text, value] = goodText(schema)
    const flagArgs = [...(schema.type === 'boolean' ? [`--${schema.flag}`] : [`--${schema.flag}`, text]), ...companionArgs(path)]
    t.same(at(run(flagArgs), path), value, `--${schema.flag} sets ${path.join('.')}`)
    t.same(at(run(companionArgs(path), { [schema.env]: text }), path), value, `${schema.env} sets ${path.join('.')}`)
    t.same(at(run(flagArgs, { [schema.env]: 'not a valid value for anything' }), path), value, `--${schema.flag} wins over ${schema.env}, which is then not read`)
    if (schema.file !== undefined) {
      const file = join(mkdtempSync(join(tmpdir(), 'setting-')), 'value')
      writeFileSync(file, `${text}\n`)
      t.same(at(run([`--${schema.file.flag}`, file]), path), value, `--${schema.file.flag} sets ${path.join('.')}`)
      t.same(at(run([], { [schema.file.env]: file }), path), value, `${schema.file.env} sets ${path.join('.')}`)
    }
  }
})

t.test('a bad value of every constrained setting is a ConfigError naming the flag or variable used, the allowed range and the value', async (t) => {
  const unconstrained: string[] = []
  for (const { path, schema } of LEAVES) {
    const bad = badTexts(schema)
    if (bad.length === 0) unconstrained.push(path.join('.'))
    for (const [text, words] of bad) {
      const sources: Array<[string, string[], Record<string, string>]> = [[schema.env, [], { [schema.env]: text }]]
      if (schema.type !== 'boolean') sources.push([`--${schema.flag}`, [`--${schema.flag}`, text], {}])
      for (const [name, argv, env] of sources) {
        const shown = schema.secret === true ? `${text.length} characters` : JSON.stringify(text)
        let message = ''
        t.throws(() => { try { parseCli(argv, env) } catch (err) { message = (err as Error).message; throw err } }, ConfigError, `${name}=${text}`)
        t.ok(message.startsWith(`${name} must be `), `names ${name}: ${message}`)
        t.ok(message.endsWith(`, got ${shown}`), `quotes the value as given: ${message}`)
        for (const word of words) t.ok(message.includes(word), `states the range ("${word}"): ${message}`)
        if (schema.secret === true && text !== '') t.notOk(message.includes(text), 'a secret is not echoed')
      }
    }
  }
  // Any text is a valid path, key, issuer or file name; their content is checked where it is read.
  t.same(unconstrained, ['fixtures', 'token.signingKey', 'token.issuer', 'faultsFile'])
})

t.test('every default in the schema satisfies the schema, in the server and in-process', async (t) => {
  for (const { path, schema } of LEAVES) {
    const check = Compile(schema as never)
    t.ok(check.Check(schema.default), `${path.join('.')} default ${JSON.stringify(schema.default)}`)
    if ('inProcessDefault' in schema) t.ok(check.Check(schema.inProcessDefault), `${path.join('.')} in-process default ${JSON.stringify(schema.inProcessDefault)}`)
    t.same(at(run([]), path), schema.default, `the CLI's ${path.join('.')} is the schema default`)
    t.same(at(defaultConfig(), path), 'inProcessDefault' in schema ? schema.inProcessDefault : schema.default, `the in-process ${path.join('.')}`)
  }
})

/** A typed value startMockServer accepts for a setting. */
function goodValue (s: Leaf['schema']): unknown {
  if (s.paths === true) return [{ path: 'a.json' }, { name: 'inline', data: { tenants: [] } }]
  return valueSchema(s).type === 'integer' ? valueSchema(s).maximum : goodText(s)[1]
}

t.test('every library option is set by its name, and a bad value of each is a ConfigError naming it as written, with the range and the value', async (t) => {
  const options = LEAVES.filter((l) => l.schema.library !== false)
  t.same(LEAVES.filter((l) => l.schema.library === false).map((l) => l.path.join('.')), ['faultsFile', 'admin.enabled'], 'the settings startMockServer takes otherwise (faults) or not at all')
  for (const { path, schema } of options) {
    const name = typeof schema.library === 'string' ? schema.library : path.join('.')
    const keys = name.split('.')
    t.same(at(libraryConfig(withCompanions(path, nested(keys, goodValue(schema)))), path), goodValue(schema), `${name} sets ${path.join('.')}`)
    const bads: Array<[unknown, string]> = [[Symbol('s'), 'Symbol(s)']]
    const integer = valueSchema(schema)
    if (integer.type === 'integer') bads.push([(integer.maximum as number) + 1, String((integer.maximum as number) + 1)], [1.5, '1.5'], ['7', '"7"'])
    else if (schema.type === 'boolean') bads.push(['true', '"true"'])
    else bads.push([42, '42'])
    const min = minLength(schema)
    if (min !== undefined) bads.push(['x'.repeat(min - 1), `"${'x'.repeat(min - 1)}"`])
    for (const [value, shown] of bads) {
      const got = schema.secret === true ? (typeof value === 'string' ? `${value.length} characters` : `a ${typeof value}`) : shown
      t.throws(() => libraryConfig(nested(keys, value)), { name: 'ConfigError', message: new RegExp(`^${name.replace('.', '\\.')} must be .+, got ${got.replace(/[.()"]/g, '\\$&')}$`) }, `${name}: ${String(shown)}`)
    }
  }
  t.throws(() => libraryConfig({ fixtures: 'f'.repeat(100) }), { name: 'ConfigError', message: `fixtures must be a list of fixture paths ({path}) or inline documents ({name, data}), got "${'f'.repeat(76)}...` }, 'a long value is cut short')
  t.throws(() => libraryConfig(null), { name: 'ConfigError', message: 'the options must be an object, got null' })
  t.throws(() => libraryConfig({ fixtures: [], generate: 0 }), { name: 'ConfigError', message: 'no data: give fixtures (fixtures) or generated audiences (generate)' })
})

t.test('buildApp checks the Config it is given, as every entry point does', async (t) => {
  await t.rejects(buildApp({ ...defaultConfig(), journalSize: -1 }), { name: 'ConfigError', message: 'journalSize must be a whole number from 0 to 1000000, got -1' })
  await t.rejects(buildApp({ ...defaultConfig(), token: { ...defaultConfig().token, ttlSeconds: 0 } }), { name: 'ConfigError', message: 'token.ttlSeconds must be a whole number from 1 to 31536000, got 0' })
})

t.test('--help has one line per setting of the schema (and per key-file variant) with its flag, description, default and variable', async (t) => {
  const help = helpText()
  const lines = help.split('\n').filter((l) => l.startsWith('  --'))
  const line = (flag: string): string => lines.find((l) => l.startsWith(`  --${flag} `)) ?? ''
  for (const { schema } of LEAVES) {
    const l = line(schema.flag)
    t.ok(l.startsWith(`  --${schema.flag}${schema.type === 'boolean' ? ' ' : ' <value> '}`), `--${schema.flag} is listed, with a value placeholder unless it is a switch`)
    t.ok(l.includes(` ${schema.description}`), `--${schema.flag}: description`)
    t.ok(l.endsWith(`[${schema.env}]`), `--${schema.flag}: [${schema.env}]`)
    const shown = schema.shownDefault ?? (typeof schema.default === 'string' || typeof schema.default === 'number' ? String(schema.default) : undefined)
    if (shown === undefined) t.notOk(l.includes('(default: '), `--${schema.flag}: no default shown`)
    else t.ok(l.includes(`(default: ${shown}) [${schema.env}]`), `--${schema.flag}: default ${shown}`)
    if (schema.file !== undefined) t.ok(line(schema.file.flag).endsWith(`${schema.file.description} [${schema.file.env}]`), `--${schema.file.flag}`)
  }
  t.equal(lines.length, LEAVES.length + LEAVES.filter((l) => l.schema.file !== undefined).length + 2, 'the settings, the file variants, --help and --version')
  t.equal(line('port'), '  --port <value>                    TCP port to listen on (0 picks a free one) (default: 8080) [PORT]')
  t.equal(line('no-admin'), '  --no-admin                        Disable the /__mock control plane (health stays) [MOCK_NO_ADMIN]')
  t.equal(line('fixtures'), '  --fixtures <value>                Fixture JSON file or directory; repeat the flag or separate with commas; "none" for no fixtures (default: the bundled fixtures/) [FIXTURES]')
  t.equal(line('journal-size'), '  --journal-size <value>            How many recent requests the journal keeps (default: 1000) [JOURNAL_SIZE]')
  t.equal(line('help'), '  --help                            Show this help and exit')
})

t.test('HTTPS settings that cannot work together are refused, naming each setting as the user gave it', async (t) => {
  t.same(run([]).https, { port: null, cert: null, key: null, caDir: null, hostnames: [] }, 'HTTPS is off unless asked for')
  t.same(run(['--https-port', '0', '--tls-hostnames', 'a', '--tls-hostnames', 'b,c']).https.hostnames, ['a', 'b', 'c'], 'the flag repeats or takes commas')
  t.throws(() => run(['--https-port', '8443', '--tls-cert', 'c.pem']), new ConfigError('give a certificate and its key together: --tls-cert / TLS_CERT and --tls-key / TLS_KEY'))
  t.throws(() => run(['--https-port', '8443'], { TLS_KEY: 'k.pem' }), new ConfigError('give a certificate and its key together: --tls-cert / TLS_CERT and --tls-key / TLS_KEY'))
  t.throws(() => run(['--tls-cert', 'c.pem', '--tls-key', 'k.pem']), new ConfigError('--tls-cert / TLS_CERT is for the HTTPS listener: give --https-port / HTTPS_PORT too'))
  t.throws(() => run(['--tls-hostnames', 'thrive-mock']), new ConfigError('--tls-hostnames / TLS_HOSTNAMES is for the HTTPS listener: give --https-port / HTTPS_PORT too'))
  t.throws(() => run(['--port', '8443', '--https-port', '8443']), new ConfigError('--https-port / HTTPS_PORT must differ from --port / PORT: both are 8443'))
  t.equal(run(['--port', '0', '--https-port', '0']).https.port, 0, 'two free ports are two different ports')
  t.throws(() => libraryConfig({ https: { port: 0, key: 'k.pem' } }), new ConfigError('give a certificate and its key together: https.cert and https.key'))
  t.throws(() => libraryConfig({ https: { port: 1, hostname: ['x'] } }), { name: 'ConfigError', message: 'unknown option "https.hostname"; the options are https.port, https.cert, https.key, https.caDir, https.hostnames' })
})
