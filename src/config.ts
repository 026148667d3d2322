// Configuration: one TypeBox schema states every option (default, range, flag, environment variable, description);
// the CLI, the environment and the library options are read and validated through it, and --help is printed from it.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Type, type Static, type TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { GENERATED_USERS } from './store/seed.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const DEFAULT_FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url))

/**
 * Skew tolerated when checking a token's exp, nbf and iat (seconds). None by default: the mock issues and checks
 * its own tokens against one clock, so a tolerance would only let a token outlive the expires_in its client was told.
 */
export const DEFAULT_CLOCK_TOLERANCE_S = 0
export const MAX_CLOCK_TOLERANCE_S = 300

/** What this project adds to a setting's schema, beside JSON Schema's own default, description and ranges. */
export interface OptionKeywords {
  /** The CLI flag, without its dashes. */
  flag: string
  /** The environment variable; a flag wins over it. */
  env: string
  description: string
  default: unknown
  /** What --help shows as the default when the value itself would not say it (null, an absolute path). */
  shownDefault?: string
  /** The default in-process (startMockServer, defaultConfig), where it differs from the server's. */
  inProcessDefault?: unknown
  /** The startMockServer option that sets it, when that is not its config path; false when no option does. */
  library?: string | false
  /** A switch that turns the setting off: the flag, or a true variable, gives false. */
  negated?: true
  /** Paths, comma-separated or by repeating the flag; "none" is no path at all. */
  paths?: true
  /** Words, comma-separated or by repeating the flag. */
  list?: true
  /** A second flag and variable naming a file that holds the value, so that a secret stays out of `ps`. */
  file?: { flag: string, env: string, description: string, what: string }
  /** Never echoed in an error message, which gives its length instead. */
  secret?: true
  /** The allowed values in words, where the JSON Schema keywords cannot say it. */
  expected?: string
}

type Setting = TSchema & OptionKeywords & { type?: string, minimum?: number, maximum?: number, minLength?: number, enum?: readonly string[], anyOf?: Setting[] }

const FixtureSourceSchema = Type.Union([
  Type.Object({ path: Type.String() }),
  Type.Object({ name: Type.String(), data: Type.Unknown() })
])

/** Every setting, once. A leaf with a `flag` is a setting; the objects around them only group them. */
export const ConfigSchema = Type.Object({
  port: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8080,
    inProcessDefault: 0,
    flag: 'port',
    env: 'PORT',
    description: 'TCP port to listen on (0 picks a free one)'
  }),
  host: Type.String({
    pattern: '\\S',
    expected: 'a host name or address, not blank',
    default: '0.0.0.0',
    inProcessDefault: '127.0.0.1',
    flag: 'host',
    env: 'HOST',
    description: 'Interface to bind'
  }),
  /** Fixture files, directories or inline documents, merged in order. */
  fixtures: Type.Array(FixtureSourceSchema, {
    paths: true,
    expected: 'a list of fixture paths ({path}) or inline documents ({name, data})',
    default: [{ path: DEFAULT_FIXTURES }],
    shownDefault: 'the bundled fixtures/',
    flag: 'fixtures',
    env: 'FIXTURES',
    description: 'Fixture JSON file or directory; repeat the flag or separate with commas; "none" for no fixtures'
  }),
  /** Faker-generated audiences per tenant, on top of the fixtures. */
  generate: Type.Integer({
    minimum: 0,
    maximum: 10_000_000,
    default: 0,
    flag: 'generate',
    env: 'GENERATE',
    description: `Add N faker-generated audiences to every tenant, with N/2 generated users (at least ${GENERATED_USERS.min}, at most ${GENERATED_USERS.max.toLocaleString('en-US')}) as their members and managers (a "generated" tenant is created when there are no fixtures)`
  }),
  seed: Type.Integer({
    minimum: 0,
    maximum: 2 ** 31 - 1,
    default: 1,
    flag: 'seed',
    env: 'SEED',
    description: 'Seed for --generate; the same seed gives identical data'
  }),
  logLevel: Type.Enum(LOG_LEVELS, {
    default: 'info',
    inProcessDefault: 'silent',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    description: `One of ${LOG_LEVELS.join(', ')}`
  }),
  token: Type.Object({
    ttlSeconds: Type.Integer({
      minimum: 1,
      maximum: 31_536_000,
      default: 3600,
      flag: 'token-ttl',
      env: 'TOKEN_TTL_SECONDS',
      description: 'Access token lifetime in seconds'
    }),
    /** Skew tolerated when checking exp, nbf and iat, 0 to 300 seconds. */
    clockToleranceSeconds: Type.Integer({
      minimum: 0,
      maximum: MAX_CLOCK_TOLERANCE_S,
      default: DEFAULT_CLOCK_TOLERANCE_S,
      flag: 'token-clock-tolerance',
      env: 'TOKEN_CLOCK_TOLERANCE_SECONDS',
      description: `Clock skew in seconds (0 to ${MAX_CLOCK_TOLERANCE_S}) tolerated when checking a token's exp, iat and nbf; only useful when other instances with other clocks issue tokens`
    }),
    /** HMAC secret (>= 32 chars) or PEM private key; null means a random key per start. Its content is checked where it is read (src/tokens.ts). */
    signingKey: Type.Union([Type.String(), Type.Null()], {
      default: null,
      shownDefault: 'random per start',
      secret: true,
      flag: 'token-signing-key',
      env: 'TOKEN_SIGNING_KEY',
      description: 'HMAC secret (at least 32 characters) or PEM private key (RSA, EC or Ed25519) used to sign access tokens; share it so several instances accept each other\'s tokens. Prefer --token-signing-key-file or the environment: a flag\'s value is visible to every user in `ps`',
      file: { flag: 'token-signing-key-file', env: 'TOKEN_SIGNING_KEY_FILE', description: 'File holding the token signing key (a trailing newline is ignored); not with --token-signing-key', what: 'token signing key' }
    }),
    issuer: Type.String({
      default: 'thrive-audience-mock',
      flag: 'token-issuer',
      env: 'TOKEN_ISSUER',
      description: 'The iss claim of access tokens'
    })
  }, { additionalProperties: false }),
  /** A JSON file of fault rules armed at start; the library takes the rules themselves (its `faults` option). */
  faultsFile: Type.Union([Type.String(), Type.Null()], {
    default: null,
    library: false,
    flag: 'faults',
    env: 'FAULTS',
    description: 'JSON file of fault rules to arm at start'
  }),
  admin: Type.Object({
    /** When set, every /__mock route but health needs the `X-Mock-Admin-Token` header. */
    token: Type.Union([Type.String({ minLength: 8 }), Type.Null()], {
      default: null,
      library: 'adminToken',
      secret: true,
      flag: 'admin-token',
      env: 'MOCK_ADMIN_TOKEN',
      description: 'Require "X-Mock-Admin-Token: <token>" on every /__mock route except health; at least 8 characters'
    }),
    enabled: Type.Boolean({
      default: true,
      negated: true,
      library: false,
      flag: 'no-admin',
      env: 'MOCK_NO_ADMIN',
      description: 'Disable the /__mock control plane (health stays)'
    })
  }, { additionalProperties: false }),
  https: Type.Object({
    /** Null: no HTTPS listener. */
    port: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
      default: null,
      shownDefault: 'off',
      flag: 'https-port',
      env: 'HTTPS_PORT',
      description: 'Also serve the same app over HTTPS (TLS) on this port, 0 picking a free one; plain HTTP stays on --port'
    }),
    cert: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      shownDefault: 'a certificate from the mock\'s own CA',
      flag: 'tls-cert',
      env: 'TLS_CERT',
      description: 'PEM certificate file (chain allowed) to serve HTTPS with, e.g. from mkcert or a company CA; needs --tls-key'
    }),
    key: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      shownDefault: 'generated',
      flag: 'tls-key',
      env: 'TLS_KEY',
      description: 'PEM private key file of --tls-cert'
    }),
    caDir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      shownDefault: 'a per-user cache directory',
      flag: 'tls-ca-dir',
      env: 'TLS_CA_DIR',
      description: 'Directory that keeps the mock\'s own CA (ca.pem, ca-key.pem) across restarts, so a client trusts it once; not used with --tls-cert'
    }),
    hostnames: Type.Array(Type.String({ pattern: '^[A-Za-z0-9*]([A-Za-z0-9.:*-]*[A-Za-z0-9])?$' }), {
      list: true,
      expected: 'a comma-separated list of host names or IP addresses',
      default: [],
      shownDefault: 'none',
      flag: 'tls-hostnames',
      env: 'TLS_HOSTNAMES',
      description: 'Names (and addresses) the generated certificate covers besides localhost, 127.0.0.1 and ::1, e.g. a docker-compose service name; comma-separated'
    })
  }, { additionalProperties: false }),
  strict: Type.Boolean({
    default: false,
    shownDefault: 'off',
    flag: 'strict',
    env: 'STRICT',
    description: 'Strict mode: answer 400, listing them, to any request with contract violations (see X-Mock-Violations) instead of serving it; per tenant through the control plane, per request with "Prefer: strict"'
  }),
  journalSize: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 1000,
    flag: 'journal-size',
    env: 'JOURNAL_SIZE',
    description: 'How many recent requests the journal keeps'
  })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>

/** What in-process callers may give: any subset, nested blocks included, on top of the defaults. */
export type ConfigOverrides = Partial<Omit<Config, 'token' | 'admin' | 'https'>> & { token?: Partial<Config['token']>, admin?: Partial<Config['admin']>, https?: Partial<Config['https']> }

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export interface ConfigOption {
  /** Where it sits in Config, e.g. ['token', 'ttlSeconds']. */
  keys: readonly string[]
  /** The same, dotted: token.ttlSeconds. */
  path: string
  schema: Setting
  validator: Validator
}

function collect (properties: Record<string, TSchema>, keys: string[]): ConfigOption[] {
  return Object.entries(properties).flatMap(([key, schema]) => {
    const path = [...keys, key]
    if ('flag' in schema) return [{ keys: path, path: path.join('.'), schema: schema as Setting, validator: Compile(schema) }]
    return collect((schema as { properties: Record<string, TSchema> }).properties, path)
  })
}

/** The settings of ConfigSchema, in its order (which is --help's order). */
export const CONFIG_OPTIONS: readonly ConfigOption[] = collect(ConfigSchema.properties, [])

function optionAt (path: string): ConfigOption {
  return CONFIG_OPTIONS.find((o) => o.path === path) as ConfigOption
}

interface Flag {
  flag: string
  env: string
  description: string
  takesValue: boolean
  shownDefault?: string
  option?: ConfigOption
  /** The flag names a file holding the option's value. */
  readsFile?: true
}

const ACTIONS: Flag[] = [
  { flag: 'help', env: '', description: 'Show this help and exit', takesValue: false },
  { flag: 'version', env: '', description: 'Print the version and exit', takesValue: false }
]

function shownDefault (schema: Setting): string | undefined {
  if (schema.shownDefault !== undefined) return schema.shownDefault
  return typeof schema.default === 'string' || typeof schema.default === 'number' ? String(schema.default) : undefined
}

/** Every flag, in --help's order: one per setting (and its file variant), then the actions. */
export const FLAGS: readonly Flag[] = [
  ...CONFIG_OPTIONS.flatMap((option): Flag[] => {
    const { flag, env, description, file } = option.schema
    const own: Flag = { flag, env, description, takesValue: option.schema.type !== 'boolean', shownDefault: shownDefault(option.schema), option }
    return file === undefined ? [own] : [own, { flag: file.flag, env: file.env, description: file.description, takesValue: true, option, readsFile: true }]
  }),
  ...ACTIONS
]

export function helpText (): string {
  const lines = ['Usage: thrive-audience-mock [options]', '       thrive-audience-mock snapshot --help   (copy a real tenant into a fixture file)', '', 'Every option can also be set by the environment variable shown; a flag wins over the environment.', '']
  for (const f of FLAGS) {
    const name = `--${f.flag}${f.takesValue ? ' <value>' : ''}`
    const env = f.env === '' ? '' : ` [${f.env}]`
    const def = f.shownDefault === undefined ? '' : ` (default: ${f.shownDefault})`
    lines.push(`  ${name.padEnd(34)}${f.description}${def}${env}`)
  }
  return lines.join('\n')
}

/** The allowed values in words, from the schema's own keywords. */
function expected (schema: Setting): string {
  if (schema.expected !== undefined) return schema.expected
  if (schema.enum !== undefined) return `one of ${schema.enum.join(', ')}`
  if (schema.type === 'integer') return `a whole number from ${String(schema.minimum)} to ${String(schema.maximum)}`
  if (schema.type === 'boolean') return 'true or false'
  if (schema.anyOf !== undefined) return schema.anyOf.filter((s) => s.type !== 'null').map(expected).join(' or ')
  return schema.minLength === undefined ? 'a string' : `a string of at least ${schema.minLength} characters`
}

/** A value as an error message quotes it: secrets by their length only, anything long cut short. */
function show (value: unknown, secret = false): string {
  if (secret) return typeof value === 'string' ? `${value.length} characters` : `a ${typeof value}`
  const text = typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** A value as the user gave it, and in their terms: the flag, the variable or the library option path. */
interface Given { name: string, value: unknown, shown: string }

/**
 * The one place a Config is made: the values given, the rest from the defaults, each given value checked against its
 * setting's schema, so every entry point fails the same way, naming the setting as the user wrote it.
 */
function assemble (given: Map<ConfigOption, Given>, inProcess: boolean, nameOf: (option: ConfigOption) => string): Config {
  const config: Record<string, Record<string, unknown>> = {}
  for (const option of CONFIG_OPTIONS) {
    const g = given.get(option)
    if (g !== undefined && !option.validator.Check(g.value)) {
      throw new ConfigError(`${g.name} must be ${expected(option.schema)}, got ${g.shown}`)
    }
    const fallback = inProcess && 'inProcessDefault' in option.schema ? option.schema.inProcessDefault : option.schema.default
    const [first, second] = option.keys as [string, string | undefined]
    // Defaults are copied: a caller that mutates its Config must not change the next one's.
    const value = g === undefined ? structuredClone(fallback) : g.value
    if (second === undefined) (config as Record<string, unknown>)[first] = value
    else (config[first] ??= {})[second] = value
  }
  const result = config as unknown as Config
  if (result.fixtures.length === 0 && result.generate === 0) {
    throw new ConfigError(`no data: give fixtures (${nameOf(optionAt('fixtures'))}) or generated audiences (${nameOf(optionAt('generate'))})`)
  }
  const https = result.https
  if ((https.cert === null) !== (https.key === null)) {
    throw new ConfigError(`give a certificate and its key together: ${nameOf(optionAt('https.cert'))} and ${nameOf(optionAt('https.key'))}`)
  }
  for (const setting of ['https.cert', 'https.hostnames'] as const) {
    const given = setting === 'https.cert' ? https.cert !== null : https.hostnames.length > 0
    if (https.port === null && given) {
      throw new ConfigError(`${nameOf(optionAt(setting))} is for the HTTPS listener: give ${nameOf(optionAt('https.port'))} too`)
    }
  }
  if (https.port !== null && https.port !== 0 && https.port === result.port) {
    throw new ConfigError(`${nameOf(optionAt('https.port'))} must differ from ${nameOf(optionAt('port'))}: both are ${result.port}`)
  }
  return result
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads settings from an object whose keys are each setting's `keyOf` path (a dotted path walks into nested blocks).
 * A key that names no setting is an error, so that a typo is never silently ignored; undefined means "not given".
 */
function fromObject (input: unknown, keyOf: (option: ConfigOption) => string | false, extraKeys: readonly string[]): Config {
  const byKey = new Map<string, ConfigOption>()
  for (const option of CONFIG_OPTIONS) {
    const key = keyOf(option)
    if (key !== false) byKey.set(key, option)
  }
  const blocks = new Set([...byKey.keys()].filter((k) => k.includes('.')).map((k) => k.split('.')[0] as string))
  const known = [...new Set([...byKey.keys()].map((k) => k.split('.')[0] as string)), ...extraKeys].sort()
  const given = new Map<ConfigOption, Given>()
  const visit = (value: unknown, prefix: string): void => {
    if (!isObject(value)) throw new ConfigError(`${prefix === '' ? 'the options' : prefix} must be an object, got ${show(value)}`)
    for (const [key, v] of Object.entries(value)) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      if (v === undefined || (prefix === '' && extraKeys.includes(key))) continue
      const option = byKey.get(path)
      if (option !== undefined) given.set(option, { name: path, value: v, shown: show(v, option.schema.secret) })
      else if (prefix === '' && blocks.has(key)) visit(v, key)
      else throw new ConfigError(`unknown option "${path}"; the options are ${prefix === '' ? known.join(', ') : [...byKey.keys()].filter((k) => k.startsWith(`${prefix}.`)).join(', ')}`)
    }
  }
  visit(input, '')
  return assemble(given, true, (option) => keyOf(option) as string)
}

/** startMockServer's options (bar those it handles itself, `extraKeys`) into a Config, named as the caller wrote them. */
export function libraryConfig (options: unknown, extraKeys: readonly string[] = []): Config {
  return fromObject(options, (option) => option.schema.library ?? option.path, extraKeys)
}

/** Defaults for in-process use (library API and tests): port 0, quiet, the bundled fixtures. Errors name the config path. */
export function defaultConfig (overrides: ConfigOverrides = {}): Config {
  return fromObject(overrides, (option) => option.path, [])
}

/** Checks a whole Config, as buildApp receives it; errors name the config path (token.ttlSeconds). */
export function validateConfig (config: Config): Config {
  return defaultConfig(config)
}

/** A value as the CLI and the environment give it: text, read as the setting's type says. */
function fromText (schema: Setting, text: string): unknown {
  if (schema.paths === true) {
    return text.trim() === 'none' ? [] : text.split(',').map((p) => p.trim()).filter((p) => p !== '').map((path) => ({ path }))
  }
  if (schema.list === true) return text.split(',').map((w) => w.trim()).filter((w) => w !== '')
  if (schema.type === 'integer' || schema.anyOf?.some((s) => s.type === 'integer') === true) return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text
  if (schema.type === 'boolean') {
    const on = /^(1|true|yes|on)$/i.test(text) ? true : /^(0|false|no|off|)$/i.test(text) ? false : undefined
    // A word that is neither stays text, which the schema then refuses in the same words as any bad value.
    if (on === undefined) return text
    // A switch (--no-admin) turns its setting off: true gives false.
    return on !== (schema.negated === true)
  }
  return text
}

/**
 * parseArgs refuses a value that starts with "-" unless it is written --flag=value, and a PEM key passed as
 * --token-signing-key "$(cat key.pem)" starts with "-----BEGIN". So a flag that takes a value takes the next
 * argument as it is, unless that argument is one of our own flags or "--": then the value was forgotten.
 */
function attachDashValues (argv: readonly string[]): string[] {
  const valued = new Set(FLAGS.filter((f) => f.takesValue).map((f) => `--${f.flag}`))
  const flags = new Set(FLAGS.map((f) => `--${f.flag}`))
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const next = argv[i + 1]
    if (valued.has(arg) && next?.startsWith('-') === true) {
      if (next === '--' || flags.has(next.split('=', 1)[0] as string)) {
        throw new ConfigError(`${arg} needs a value, but the next argument is ${next}. Run with --help for the list of options.`)
      }
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

/** Reads a key file; a trailing newline (as editors and `echo` leave) is not part of the key. */
function readValueFile (name: string, what: string, path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`${name}: cannot read the ${what} file "${path}": ${(err as Error).message}`)
  }
  const value = text.replace(/(\r?\n)+$/, '')
  if (value === '') throw new ConfigError(`${name}: the ${what} file "${path}" is empty`)
  return value
}

export type CliResult = { kind: 'help' } | { kind: 'version' } | { kind: 'run', config: Config }

/** Parses CLI arguments and environment variables; throws ConfigError with one clear line on any bad value. */
export function parseCli (argv: string[], env: NodeJS.ProcessEnv): CliResult {
  const args = attachDashValues(argv)
  let parsed
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(FLAGS.map((f) => [f.flag, { type: f.takesValue ? 'string' : 'boolean', multiple: f.option?.schema.paths === true || f.option?.schema.list === true }]))
    })
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run with --help for the list of options.`)
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>
  if (flags.help === true) return { kind: 'help' }
  if (flags.version === true) return { kind: 'version' }

  const given = new Map<ConfigOption, Given>()
  for (const f of FLAGS) {
    if (f.option === undefined) continue
    const value = flags[f.flag]
    const from = value === undefined
      ? (env[f.env] === undefined ? undefined : { name: f.env, text: env[f.env] as string })
      : { name: `--${f.flag}`, text: Array.isArray(value) ? value.join(',') : String(value) }
    if (from === undefined) continue
    const schema = f.option.schema
    const earlier = given.get(f.option)
    if (earlier !== undefined) {
      throw new ConfigError(`give the ${schema.file?.what as string} once: ${earlier.name} and ${from.name} are both set`)
    }
    const text = f.readsFile === true ? readValueFile(from.name, `${schema.file?.what as string}`, from.text) : from.text
    given.set(f.option, { name: from.name, value: fromText(schema, text), shown: schema.secret === true ? show(text, true) : JSON.stringify(text) })
  }
  const cliName = (option: ConfigOption): string => `--${option.schema.flag} / ${option.schema.env}`
  return { kind: 'run', config: assemble(given, false, cliName) }
}
