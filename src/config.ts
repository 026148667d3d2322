// Configuration from CLI flags and environment variables, validated once into a typed object.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { FixtureSource } from './store/load-fixtures.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const DEFAULT_FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url))

/**
 * Skew tolerated when checking a token's exp, nbf and iat (seconds). None by default: the mock issues and checks
 * its own tokens against one clock, so a tolerance would only let a token outlive the expires_in its client was told.
 */
export const DEFAULT_CLOCK_TOLERANCE_S = 0
export const MAX_CLOCK_TOLERANCE_S = 300

export interface Config {
  host: string
  port: number
  logLevel: LogLevel
  /** Fixture files, directories or inline documents, merged in order. */
  fixtures: FixtureSource[]
  /** Faker-generated audiences per tenant, on top of the fixtures. */
  generate: number
  seed: number
  token: {
    ttlSeconds: number
    /** HMAC secret (>= 32 chars) or PEM private key; null means a random key per start. */
    signingKey: string | null
    issuer: string
    /** Skew tolerated when checking exp, nbf and iat, 0 to 300 seconds. */
    clockToleranceSeconds: number
  }
  /** A JSON file of fault rules armed at start. */
  faultsFile: string | null
  admin: {
    enabled: boolean
    /** When set, every /__mock route but health needs the `X-Mock-Admin-Token` header. */
    token: string | null
  }
  journalSize: number
}

/** What in-process callers may give: any subset, nested blocks included, on top of the defaults. */
export type ConfigOverrides = Partial<Omit<Config, 'token' | 'admin'>> & { token?: Partial<Config['token']>, admin?: Partial<Config['admin']> }

export class ConfigError extends Error {
  override name = 'ConfigError'
}

interface Option {
  flag: string
  env: string
  type: 'string' | 'boolean'
  multiple?: boolean
  description: string
  default?: string
}

/** Every setting, once: the CLI, the environment and --help are generated from this table. */
export const OPTIONS: Option[] = [
  { flag: 'port', env: 'PORT', type: 'string', description: 'TCP port to listen on (0 picks a free one)', default: '8080' },
  { flag: 'host', env: 'HOST', type: 'string', description: 'Interface to bind', default: '0.0.0.0' },
  { flag: 'fixtures', env: 'FIXTURES', type: 'string', multiple: true, description: 'Fixture JSON file or directory; repeat the flag or separate with commas; "none" for no fixtures', default: 'the bundled fixtures/' },
  { flag: 'generate', env: 'GENERATE', type: 'string', description: 'Add N faker-generated audiences to every tenant (a "generated" tenant is created when there are no fixtures)', default: '0' },
  { flag: 'seed', env: 'SEED', type: 'string', description: 'Seed for --generate; the same seed gives identical data', default: '1' },
  { flag: 'log-level', env: 'LOG_LEVEL', type: 'string', description: `One of ${LOG_LEVELS.join(', ')}`, default: 'info' },
  { flag: 'token-ttl', env: 'TOKEN_TTL_SECONDS', type: 'string', description: 'Access token lifetime in seconds', default: '3600' },
  { flag: 'token-clock-tolerance', env: 'TOKEN_CLOCK_TOLERANCE_SECONDS', type: 'string', description: `Clock skew in seconds (0 to ${MAX_CLOCK_TOLERANCE_S}) tolerated when checking a token's exp, iat and nbf; only useful when other instances with other clocks issue tokens`, default: String(DEFAULT_CLOCK_TOLERANCE_S) },
  { flag: 'token-signing-key', env: 'TOKEN_SIGNING_KEY', type: 'string', description: 'HMAC secret (at least 32 characters) or PEM private key (RSA, EC or Ed25519) used to sign access tokens; share it so several instances accept each other\'s tokens. Prefer --token-signing-key-file or the environment: a flag\'s value is visible to every user in `ps`', default: 'random per start' },
  { flag: 'token-signing-key-file', env: 'TOKEN_SIGNING_KEY_FILE', type: 'string', description: 'File holding the token signing key (a trailing newline is ignored); not with --token-signing-key' },
  { flag: 'token-issuer', env: 'TOKEN_ISSUER', type: 'string', description: 'The iss claim of access tokens', default: 'thrive-audience-mock' },
  { flag: 'faults', env: 'FAULTS', type: 'string', description: 'JSON file of fault rules to arm at start' },
  { flag: 'admin-token', env: 'MOCK_ADMIN_TOKEN', type: 'string', description: 'Require "X-Mock-Admin-Token: <token>" on every /__mock route except health; at least 8 characters' },
  { flag: 'no-admin', env: 'MOCK_NO_ADMIN', type: 'boolean', description: 'Disable the /__mock control plane (health stays)' },
  { flag: 'journal-size', env: 'JOURNAL_SIZE', type: 'string', description: 'How many recent requests the journal keeps', default: '1000' },
  { flag: 'help', env: '', type: 'boolean', description: 'Show this help and exit' },
  { flag: 'version', env: '', type: 'boolean', description: 'Print the version and exit' }
]

export function helpText (): string {
  const lines = ['Usage: thrive-audience-mock [options]', '', 'Every option can also be set by the environment variable shown; a flag wins over the environment.', '']
  for (const o of OPTIONS) {
    const name = `--${o.flag}${o.type === 'string' ? ' <value>' : ''}`
    const env = o.env === '' ? '' : ` [${o.env}]`
    const def = o.default === undefined ? '' : ` (default: ${o.default})`
    lines.push(`  ${name.padEnd(34)}${o.description}${def}${env}`)
  }
  return lines.join('\n')
}

function integer (name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`)
  const n = Number(value.trim())
  if (n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`)
  return n
}

function truthy (name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off|)$/i.test(value)) return false
  throw new ConfigError(`${name} must be true or false, got "${value}"`)
}

/**
 * parseArgs refuses a value that starts with "-" unless it is written --flag=value, and a PEM key passed as
 * --token-signing-key "$(cat key.pem)" starts with "-----BEGIN". So a flag that takes a value takes the next
 * argument as it is, unless that argument is one of our own flags or "--": then the value was forgotten.
 */
function attachDashValues (argv: readonly string[]): string[] {
  const valued = new Set(OPTIONS.filter((o) => o.type === 'string').map((o) => `--${o.flag}`))
  const flags = new Set(OPTIONS.map((o) => `--${o.flag}`))
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
function readKeyFile (name: string, path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`${name}: cannot read the token signing key file "${path}": ${(err as Error).message}`)
  }
  const key = text.replace(/(\r?\n)+$/, '')
  if (key === '') throw new ConfigError(`${name}: the token signing key file "${path}" is empty`)
  return key
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
      options: Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.type, multiple: o.multiple ?? false }]))
    })
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run with --help for the list of options.`)
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>
  if (flags.help === true) return { kind: 'help' }
  if (flags.version === true) return { kind: 'version' }

  const raw = (flag: string): { name: string, value: string } | undefined => {
    const option = OPTIONS.find((o) => o.flag === flag) as Option
    const value = flags[flag]
    if (Array.isArray(value)) return { name: `--${flag}`, value: value.join(',') }
    if (typeof value === 'string') return { name: `--${flag}`, value }
    if (value === true) return { name: `--${flag}`, value: 'true' }
    const fromEnv = env[option.env]
    return fromEnv === undefined ? undefined : { name: option.env, value: fromEnv }
  }
  const int = (flag: string, fallback: number, min: number, max: number): number => {
    const r = raw(flag)
    return r === undefined ? fallback : integer(r.name, r.value, min, max)
  }
  const str = (flag: string): string | undefined => raw(flag)?.value

  const level = raw('log-level')
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level.value)) {
    throw new ConfigError(`${level.name} must be one of ${LOG_LEVELS.join(', ')}, got "${level.value}"`)
  }
  const logLevel = level?.value ?? 'info'
  const fixturesValue = str('fixtures')
  const fixtures = fixturesValue === undefined
    ? [{ path: DEFAULT_FIXTURES }]
    : fixturesValue.trim() === 'none'
      ? []
      : fixturesValue.split(',').map((p) => p.trim()).filter((p) => p !== '').map((path) => ({ path }))
  const noAdmin = raw('no-admin')
  const signingKey = raw('token-signing-key')
  const signingKeyFile = raw('token-signing-key-file')
  if (signingKey !== undefined && signingKeyFile !== undefined) {
    throw new ConfigError(`give the token signing key once: ${signingKey.name} and ${signingKeyFile.name} are both set`)
  }

  const config: Config = {
    host: str('host') ?? '0.0.0.0',
    port: int('port', 8080, 0, 65535),
    logLevel: logLevel as LogLevel,
    fixtures,
    generate: int('generate', 0, 0, 10_000_000),
    seed: int('seed', 1, 0, 2 ** 31 - 1),
    token: {
      ttlSeconds: int('token-ttl', 3600, 1, 31_536_000),
      signingKey: signingKeyFile === undefined ? signingKey?.value ?? null : readKeyFile(signingKeyFile.name, signingKeyFile.value),
      issuer: str('token-issuer') ?? 'thrive-audience-mock',
      clockToleranceSeconds: int('token-clock-tolerance', DEFAULT_CLOCK_TOLERANCE_S, 0, MAX_CLOCK_TOLERANCE_S)
    },
    faultsFile: str('faults') ?? null,
    admin: {
      enabled: noAdmin === undefined ? true : !truthy(noAdmin.name, noAdmin.value),
      token: str('admin-token') ?? null
    },
    journalSize: int('journal-size', 1000, 0, 1_000_000)
  }
  return { kind: 'run', config: validateConfig(config) }
}

/** Checks the values that every entry point (CLI or library) can get wrong. */
export function validateConfig (config: Config): Config {
  if (config.host.trim() === '') throw new ConfigError('host must not be empty')
  if (config.fixtures.length === 0 && config.generate === 0) {
    throw new ConfigError('no data: give fixtures (--fixtures / FIXTURES) or --generate N')
  }
  const tolerance = config.token.clockToleranceSeconds
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_S) {
    throw new ConfigError(`the token clock tolerance must be a whole number of seconds from 0 to ${MAX_CLOCK_TOLERANCE_S}, got ${tolerance}`)
  }
  if (config.admin.token !== null && config.admin.token.length < 8) {
    throw new ConfigError('the admin token must be at least 8 characters')
  }
  return config
}

/** Defaults for in-process use (library API and tests): port 0, quiet, the bundled fixtures. */
export function defaultConfig (overrides: ConfigOverrides = {}): Config {
  return validateConfig({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    fixtures: [{ path: DEFAULT_FIXTURES }],
    generate: 0,
    seed: 1,
    faultsFile: null,
    journalSize: 1000,
    ...overrides,
    token: { ttlSeconds: 3600, signingKey: null, issuer: 'thrive-audience-mock', clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_S, ...overrides.token },
    admin: { enabled: true, token: null, ...overrides.admin }
  })
}
