#!/usr/bin/env node
// npm run fuzz: seeded, bounded fuzzing of the built CLI over real sockets on 127.0.0.1, with an oracle for every answer.
import { spawn } from 'node:child_process'
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { LIMITS } from '../dist/app.js'
import { reasonPhrase } from '../dist/errors.js'
import { API_PREFIX } from '../dist/operations.js'
import { FAULT_STATUSES, MAX_DELAY_MS } from '../dist/schemas/faults.js'
import { OAUTH_ERRORS } from '../dist/schemas/oauth.js'
import { contractOracle, secretProblems } from '../test/hardening/oracle.js'

// A tool rather than code under test: a test run checks it by running it (test/hardening/fuzz.test.ts), and every
// branch it has for failures only runs when the server misbehaves, so coverage would measure the server, not it.
/* c8 ignore start */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI = join(ROOT, 'dist', 'cli.js')
export const HOST = '127.0.0.1'

// ---------------------------------------------------------------------------------------------------------------
// Shared with scripts/soak.mjs: the fixture, the server process, a raw HTTP/1.1 client and the documented shapes.
// ---------------------------------------------------------------------------------------------------------------

export const SIGNING_KEY = 'fuzz-signing-key-0123456789-abcdefghij'
export const ISSUER = 'thrive-audience-mock'
export const TENANT_A = { tenantId: 'eu-west-2_FuzzTenA1', apiSecret: 'fuzz-a-api-secret-9f2c' }
export const TENANT_B = { tenantId: 'us-east-1_FuzzTenB2', apiSecret: 'fuzz-b-api-secret-41d7' }
/** Rules armed by the fuzzer go to this tenant only, which no fuzzed request uses, so they can never fire. */
export const SINK = { tenantId: 'eu-west-1_FuzzSink9', apiSecret: 'fuzz-sink-secret-77aa' }
export const CLIENTS = [
  { clientId: 'a-reader', clientSecret: 'fuzz-a-reader-secret', scopes: ['api/read'] },
  { clientId: 'a-writer', clientSecret: 'fuzz-a-writer-secret', scopes: ['api/write'] },
  { clientId: 'a-hooks', clientSecret: 'fuzz-a-hooks-secret', scopes: ['api/webhooks'] },
  { clientId: 'a-all', clientSecret: 'fuzz-a-all-secret', scopes: ['api/all'] }
]
export const A_REFERENCES = ['backend', 'shared', 'with space', 'équipe', 'sales/emea', '__proto__x']

/** `extra` tenants (for isolation runs) get one structure each, reference "shared-ref". */
export function fixture (extra = []) {
  return {
    tenants: [
      {
        ...TENANT_A,
        clients: CLIENTS,
        structures: [{
          id: 'aaaaaaaaaaaaaaaaaaaaaaa1',
          name: 'Tech',
          reference: 'shared',
          audiences: [
            { id: 'aaaaaaaaaaaaaaaaaaaaaaa2', name: 'Backend', reference: 'backend' },
            { name: 'With Space', reference: 'with space' },
            { name: 'Accented', reference: 'équipe' },
            { name: 'Slashed', reference: 'sales/emea' },
            { name: 'Proto-ish', reference: '__proto__x' }
          ]
        }]
      },
      { ...TENANT_B, clients: [{ clientId: 'b-reader', clientSecret: 'fuzz-b-reader-secret', scopes: ['api/read'] }], structures: [{ name: 'B Tech', reference: 'shared' }] },
      { ...SINK, structures: [] },
      ...extra.map((t, i) => ({ ...t, structures: [{ name: `Suite ${i}`, reference: 'shared-ref' }] }))
    ]
  }
}

export const SECRETS = [TENANT_A.apiSecret, TENANT_B.apiSecret, SINK.apiSecret, 'fuzz-b-reader-secret', ...CLIENTS.map((c) => c.clientSecret)]

export const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
export const BASIC_A = basic(TENANT_A.tenantId, TENANT_A.apiSecret)

/** A port that was free a moment ago: the server's own log line is not printed below level info. */
export async function freePort () {
  const probe = net.createServer()
  await new Promise((resolve) => probe.listen(0, HOST, resolve))
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** Starts the CLI (dist/cli.js unless `cli` names another build) on a free port with the given fixture; resolves once it listens. */
export async function startServer ({ extraTenants = [], logLevel = 'warn', args = [], cli = CLI } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'thrive-mock-fuzz-'))
  const file = join(dir, 'tenants.json')
  writeFileSync(file, JSON.stringify(fixture(extraTenants)))
  const port = await freePort()
  const child = spawn(process.execPath, [cli, '--host', HOST, '--port', String(port), '--fixtures', file, '--log-level', logLevel, '--token-signing-key', SIGNING_KEY, '--token-issuer', ISSUER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let errorLines = 0
  const onData = (d) => {
    const text = d.toString()
    out = (out + text).slice(-200_000)
    errorLines += (text.match(/"level":(50|60)/g) ?? []).length
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const state = { exit: null }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { state.exit = { code, signal }; resolve(state.exit) }))
  const killOnExit = () => child.kill('SIGKILL')
  process.on('exit', killOnExit)
  try {
    await new Promise((resolve, reject) => {
      const deadline = Date.now() + 20_000
      const attempt = async () => {
        if (state.exit !== null) return reject(new Error(`the server exited (${JSON.stringify(state.exit)}):\n${out}`))
        const res = await exchange(port, httpBytes('GET', '/__mock/health'), { timeoutMs: 1000 })
        if (res.statusCode === 200) return resolve()
        if (Date.now() > deadline) return reject(new Error(`the server did not start:\n${out}`))
        setTimeout(attempt, 50)
      }
      attempt()
    })
  } catch (err) {
    child.kill('SIGKILL')
    process.off('exit', killOnExit)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    child,
    port,
    exited,
    get exit () { return state.exit },
    get errorLines () { return errorLines },
    output: () => out,
    rssMB: () => rssMB(child.pid),
    async stop (signal = 'SIGTERM') {
      if (state.exit === null) child.kill(signal)
      const result = await exited
      process.off('exit', killOnExit)
      rmSync(dir, { recursive: true, force: true })
      return result
    }
  }
}

export function rssMB (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1]) / 1024
  } catch {
    return NaN
  }
}

function parseResponse (buf) {
  const text = buf.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return null
  const lines = text.slice(0, end).split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (m === null) return null
  const headers = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    const name = line.slice(0, i).trim().toLowerCase()
    const value = line.slice(i + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  let body = buf.subarray(end + 4)
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = []
    let at = 0
    for (;;) {
      const nl = body.indexOf('\r\n', at)
      if (nl === -1) break
      const size = parseInt(body.subarray(at, nl).toString('latin1'), 16)
      if (!(size > 0)) break
      parts.push(body.subarray(nl + 2, nl + 2 + size))
      at = nl + 2 + size + 2
    }
    body = Buffer.concat(parts)
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']))
  }
  return { statusCode: Number(m[1]), headers, body: body.toString('utf8') }
}

/**
 * Sends raw bytes on a fresh connection and reads until the server closes it (requests say Connection: close).
 * Resolves { statusCode, headers, body } or { error } — never rejects.
 */
export function exchange (port, bytes, { timeoutMs = 10_000, halfClose = false } = {}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = net.connect(port, HOST)
    const chunks = []
    let settled = false
    const finish = (error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const buf = Buffer.concat(chunks)
      const parsed = buf.length === 0 ? null : parseResponse(buf)
      const ms = performance.now() - started
      if (parsed !== null) resolve({ ...parsed, ms })
      else resolve({ error: error ?? (buf.length === 0 ? 'closed without a response' : `unparseable response: ${JSON.stringify(buf.toString('latin1').slice(0, 80))}`), ms })
    }
    const timer = setTimeout(() => finish('timeout: no complete response'), timeoutMs)
    socket.on('connect', () => {
      socket.write(bytes)
      if (halfClose) socket.end()
    })
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', (err) => finish(err.code ?? err.message))
    socket.on('close', () => finish())
  })
}

/** Builds a request; header values are written as Latin-1 so obs-text bytes go out as they are. */
export function httpBytes (method, target, headers = [], body) {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${HOST}`, 'Connection: close']
  const hasLength = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))
  for (const [k, v] of headers) lines.push(`${k}: ${v}`)
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body)
  if (payload !== undefined && !hasLength) lines.push(`Content-Length: ${payload.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  return payload === undefined ? head : Buffer.concat([head, payload])
}

const AUDIENCE_KEYS = 'apiControlled,category,createdAt,id,name,parent,reference,type,updatedAt'

function json (res) {
  try {
    return JSON.parse(res.body)
  } catch {
    return undefined
  }
}

export function audienceProblems (res) {
  const body = json(res)
  if (body === undefined || Object.keys(body).sort().join() !== AUDIENCE_KEYS) return ['a 200 that is not an Audience']
  return []
}

// Unbiased, so each draw is uniform over its range as the generators' weights assume (fast-check's default bias
// favours small values and the ends of a range).
const uniformInt = (min, max) => fc.noBias(fc.integer({ min, max }))
const uniformUnit = () => fc.noBias(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))
const uniformChars = (n, alphabet) => fc.noBias(fc.string({ unit: fc.constantFrom(...alphabet), minLength: n, maxLength: n }))
const uniformBytes = (n, min, max) => fc.noBias(fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n }))

/**
 * The draws the generators make, each from a fast-check arbitrary through the generator `fc.gen()` hands out. fc.gen
 * keeps one arbitrary per distinct set of arguments and finds it by comparing them, so a pick draws an index (a few
 * distinct ranges) rather than passing its list, whose items can differ on every call.
 */
export function draws (g) {
  const int = (min, max) => g(uniformInt, min, max)
  const pick = (list) => list[int(0, list.length - 1)]
  const chance = (p) => g(uniformUnit) < p
  const chars = (n, alphabet) => g(uniformChars, n, alphabet)
  const bytes = (n, min = 0, max = 255) => Buffer.from(g(uniformBytes, n, min, max))
  return { int, pick, chance, chars, bytes }
}

// ---------------------------------------------------------------------------------------------------------------
// The fuzzer.
// ---------------------------------------------------------------------------------------------------------------

const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const UNICODE = ['é', 'ß', '漢', '字', '😀', '\u200b', '\u202e', 'Ω', 'ﬁ', '\ufeff']
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const BACKEND = `${API_PREFIX}/audiences/backend`
const API_PATHS = [BACKEND, '/audiences/backend', `${API_PREFIX}/audiences/shared`, '/audiences/aaaaaaaaaaaaaaaaaaaaaaa1/']

function signed (header, claims) {
  const input = `${b64url(header)}.${b64url(claims)}`
  return `${input}.${createHmac('sha256', SIGNING_KEY).update(input).digest('base64url')}`
}

/** What the server must answer for a correctly signed HS256 token with these claims, on GET of an existing audience of tenant A. */
function expectForClaims (c, nowS) {
  const str = (v) => typeof v === 'string'
  const present = ['iss', 'iat', 'exp', 'jti', 'token_use', 'client_id', 'tenant_id', 'scope'].every((k) => c[k] !== undefined && c[k] !== null)
  const valid = present && c.iss === ISSUER && c.token_use === 'access' && str(c.client_id) && str(c.tenant_id) && str(c.scope) && str(c.jti) &&
    typeof c.exp === 'number' && typeof c.iat === 'number' && c.exp + 5 > nowS && c.iat - 5 <= nowS &&
    !(typeof c.nbf === 'number' && c.nbf - 5 > nowS) && [TENANT_A.tenantId, TENANT_B.tenantId].includes(c.tenant_id)
  if (!valid) return [401]
  const scopes = c.scope.split(' ')
  if (!scopes.includes('api/read') && !scopes.includes('api/all')) return [403]
  return c.tenant_id === TENANT_A.tenantId ? [200] : [404]
}

function generators (r, ctx) {
  const token = (n) => r.chars(n, B64URL)
  const junkText = (n) => r.chars(n, PRINTABLE)
  const latin1 = (n) => Buffer.from(Array.from({ length: n }, () => r.chance(0.5) ? r.int(0x20, 0x7e) : r.int(0x80, 0xff))).toString('latin1')
  const claims = () => {
    const now = Math.floor(ctx.now() / 1000)
    const c = { sub: 'a-reader', client_id: 'a-reader', tenant_id: TENANT_A.tenantId, token_use: 'access', scope: 'api/read', iss: ISSUER, iat: now, exp: now + 3600, jti: ctx.uuid() }
    const weird = [null, 0, -1, 1e308, '', 'x', [], {}, true, [ISSUER], ['https://evil.example', ISSUER], '__proto__', { __proto__: { admin: true } }]
    for (let i = r.int(0, 3); i > 0; i--) {
      const k = r.pick([...Object.keys(c), 'nbf', 'aud', 'admin', '__proto__'])
      if (r.chance(0.2)) delete c[k]
      else c[k] = r.pick([...weird, now - 7200, now + 7200, TENANT_B.tenantId, 'eu-west-2_Nobody00', 'api/write', 'api/all api/webhooks', 'id', `${ISSUER} `])
    }
    return c
  }

  return {
    auth () {
      const path = r.pick(API_PATHS)
      const kind = r.int(0, 9)
      let value
      let statuses = [401]
      if (kind === 0) value = `Basic ${r.bytes(r.int(0, 200)).toString('base64')}`
      else if (kind === 1) value = `Basic ${Buffer.from(`${junkText(r.int(0, 30))}:${junkText(r.int(0, 30))}`).toString('base64')}`
      else if (kind === 2) value = basic(TENANT_A.tenantId, r.pick(['', TENANT_B.apiSecret, `${TENANT_A.apiSecret}x`, TENANT_A.apiSecret.toUpperCase(), junkText(12)]))
      else if (kind === 3) value = `${r.pick(['Bearer', 'Digest', 'NTLM', 'Negotiate', 'AWS4-HMAC-SHA256', 'Token', 'basic', 'BASIC', '', 'Basic ', 'Basic\t', 'Bearer\t'])} ${r.chars(r.int(0, 80), B64 + '=.~-_ ')}`
      else if (kind === 4) {
        value = `Basic ${'A'.repeat(r.int(1000, 30_000))}`
        statuses = [401, 431]
      } else if (kind === 5) value = `${r.pick(['Basic', 'Bearer'])} ${latin1(r.int(1, 200))}`
      else if (kind === 6) {
        // Control characters are not allowed in a field value (RFC 9110 §5.5): the parser refuses them.
        value = `Basic ${String.fromCharCode(r.pick([1, 2, 8, 11, 12, 14, 27, 31, 127]))}${token(10)}`
        statuses = [400]
      } else if (kind === 7) {
        const first = r.chance(0.5)
        const headers = first ? [['Authorization', BASIC_A], ['Authorization', 'Bearer x']] : [['Authorization', 'Bearer x'], ['Authorization', BASIC_A]]
        // Node keeps the first Authorization and discards repeats.
        return { cat: 'auth', method: 'GET', path, headers, statuses: first ? [200] : [401], audience: true }
      } else if (kind === 8) {
        return { cat: 'auth', method: 'GET', path, headers: [], statuses: [401] }
      } else {
        return { cat: 'auth', method: 'GET', path, headers: [['Authorization', BASIC_A.replace('Basic', r.pick(['Basic', 'basic', 'BASIC', 'bAsIc']))]], statuses: [200], audience: true }
      }
      return { cat: 'auth', method: 'GET', path, headers: [['Authorization', value]], statuses }
    },

    jwt () {
      const path = BACKEND
      const kind = r.int(0, 5)
      if (kind <= 1) {
        const c = claims()
        return { cat: 'jwt', method: 'GET', path, headers: [['Authorization', `Bearer ${signed({ alg: 'HS256', typ: 'JWT' }, c)}`]], statuses: expectForClaims(c, ctx.now() / 1000), audience: true }
      }
      if (kind === 2) {
        const header = { alg: r.pick(['none', 'None', 'NONE', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', '', 'hs256']), typ: r.pick(['JWT', 'at+jwt', 'JWE']) }
        if (r.chance(0.5)) header.kid = r.pick(['../../../../dev/null', "' OR 1=1 --", junkText(10)])
        if (r.chance(0.3)) header.jku = `http://${HOST}:1/jwks.json`
        if (r.chance(0.3)) header.x5u = `http://${HOST}:1/cert.pem`
        if (r.chance(0.2)) header.crit = ['exp']
        const sig = r.pick(['', token(43), createHmac('sha256', SIGNING_KEY).update('other').digest('base64url')])
        return { cat: 'jwt', method: 'GET', path, headers: [['Authorization', `Bearer ${b64url(header)}.${b64url(claims())}.${sig}`]], statuses: [401] }
      }
      if (kind === 3) {
        const parts = Array.from({ length: r.int(1, 6) }, () => r.chance(0.3) ? b64url(junkText(r.int(0, 40))) : token(r.int(0, 60)))
        return { cat: 'jwt', method: 'GET', path, headers: [['Authorization', `Bearer ${parts.join('.')}`]], statuses: [401] }
      }
      if (kind === 4) {
        const good = ctx.tokens.reader
        const [h, p, s] = good.split('.')
        const variants = [`${h}.${p}.${s.slice(0, -2)}`, `${h}.${b64url({ ...JSON.parse(Buffer.from(p, 'base64url')), scope: 'api/all' })}.${s}`, `${h}.${p}`, `${h}.${p}.${s}.`, `${good}${junkText(3).replace(/ /g, 'x')}`, `${b64url({ alg: 'none' })}.${p}.`]
        return { cat: 'jwt', method: 'GET', path, headers: [['Authorization', `Bearer ${r.pick(variants)}`]], statuses: [401] }
      }
      const [name, statuses] = r.pick([['reader', [200]], ['writer', [403]], ['hooks', [403]], ['all', [200]], ['b', [404]]])
      return { cat: 'jwt', method: 'GET', path, headers: [['Authorization', `${r.pick(['Bearer', 'bearer'])} ${ctx.tokens[name]}`]], statuses, audience: true }
    },

    path () {
      const prefix = r.pick([`${API_PREFIX}/audiences/`, '/audiences/'])
      const kind = r.int(0, 6)
      let param
      let statuses = [400, 404, 414, 431]
      if (kind === 0) param = r.pick(['%', '%E0%A4%A', '%zz', '%00', '%2F', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%252e', '%C0%AE', '%ff', '%u0041', '%0d%0aX-Injected:%201', '%20'])
      else if (kind === 1) param = r.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf', '__proto__%2Fx', 'constructor%2Fprototype'])
      else if (kind === 2) param = 'a'.repeat(r.pick([LIMITS.maxParamLength, LIMITS.maxParamLength + 1, 5 * LIMITS.maxParamLength, r.int(100, 20_000)]))
      else if (kind === 3) param = encodeURIComponent(Array.from({ length: r.int(1, 20) }, () => r.chance(0.3) ? r.pick(UNICODE) : r.pick(PRINTABLE.split(''))).join(''))
      else if (kind === 4) {
        const ref = r.pick(A_REFERENCES)
        return { cat: 'path', method: 'GET', path: `${prefix}${encodeURIComponent(ref)}${r.pick(['', '/', '?x=1', '?x=%', '?__proto__[a]=1'])}`, headers: [['Authorization', BASIC_A]], statuses: [200], audience: true }
      } else if (kind === 5) {
        const target = r.pick(['/audiences/../audiences/backend', '/./audiences/backend', '//audiences/backend', `${API_PREFIX}//audiences/backend`, `http://${HOST}/audiences/backend`, '*', '/audiences/backend#frag', '/audiences/backend;x=1', '/audiences/%2E%2E/%2E%2E/__mock/health', `${API_PREFIX.toUpperCase()}/AUDIENCES/backend`])
        return { cat: 'path', method: 'GET', path: target, headers: [['Authorization', BASIC_A]], statuses: [200, 400, 404], audience: false }
      } else {
        param = `${r.pick(A_REFERENCES.map(encodeURIComponent))}${r.pick(['%', '%2', '%G0', '/extra', '//'])}`
        statuses = [400, 404]
      }
      return { cat: 'path', method: 'GET', path: `${prefix}${param}${r.pick(['', '', '/', '?q=1'])}`, headers: r.chance(0.9) ? [['Authorization', BASIC_A]] : [], statuses: [...statuses, 401] }
    },

    token () {
      const tenant = r.pick([TENANT_A.tenantId, TENANT_A.tenantId, TENANT_B.tenantId, 'eu-west-2_Nobody00', '__proto__', 'constructor', '%E0%A4%A', 'a'.repeat(2 * LIMITS.maxParamLength), encodeURIComponent('ä/../x')])
      const client = r.pick(CLIENTS)
      const ct = r.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', '', null, 'application/x-www-form-urlencoded; charset=utf-16', 'APPLICATION/JSON'])
      const validForm = `grant_type=client_credentials&client_id=${encodeURIComponent(client.clientId)}&client_secret=${encodeURIComponent(client.clientSecret)}`
      const validJson = JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
      const kind = r.int(0, 9)
      let body
      if (kind === 0) body = validForm
      else if (kind === 1) body = validJson.slice(0, r.int(0, validJson.length - 1))
      else if (kind === 2) body = JSON.stringify({ grant_type: r.pick(['client_credentials', ['client_credentials'], { x: 1 }, 1, null]), client_id: r.pick([client.clientId, [client.clientId, 'x'], { $ne: null }, 7]), client_secret: r.pick([client.clientSecret, { $gt: '' }, [client.clientSecret], true]), scope: r.pick([undefined, 'api/read', ['api/read'], 'api/everything', ' '.repeat(50)]) })
      else if (kind === 3) body = `${validForm}&${r.pick(['grant_type=client_credentials', 'client_id=x', 'scope=a&scope=b', 'client_secret[]=x', 'grant_type[x]=1', '%zz=1', 'a=%', '__proto__=1', 'constructor[prototype][x]=1'])}`
      else if (kind === 4) body = `grant_type=client_credentials&pad=${'x'.repeat(r.pick([200 * 1024, LIMITS.bodyLimit + 1, r.int(LIMITS.bodyLimit + 1, 300_000)]))}`
      else if (kind === 5) body = r.bytes(r.int(0, 500))
      else if (kind === 6) body = ''
      else if (kind === 7) body = JSON.stringify(r.pick([[], [validJson], 'grant_type=client_credentials', 42, null, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, extra: { deep: [1, 2, { a: 'b' }] } }]))
      else if (kind === 8) body = `{"__proto__":{"admin":true},"grant_type":"client_credentials","client_id":"${client.clientId}","client_secret":"${client.clientSecret}"}`
      else body = validForm.replace(/&/g, r.pick([';', '&&', '&amp;', '\n']))
      const headers = []
      if (ct !== null) headers.push(['Content-Type', ct])
      if (r.chance(0.2)) headers.push(['Authorization', r.pick([basic(client.clientId, client.clientSecret), basic('x', 'y'), 'Basic !!!', 'Bearer x', basic('%E0%A4%A', 'x')])])
      if (r.chance(0.05)) headers.push(['Content-Encoding', r.pick(['gzip', 'br', 'identity', 'deflate'])])
      if (r.chance(0.05) && typeof body === 'string') {
        headers.push(['Transfer-Encoding', 'chunked'])
        const buf = Buffer.from(body)
        const chunks = []
        for (let at = 0; at < buf.length; at += 4096) chunks.push(Buffer.concat([Buffer.from(`${Math.min(4096, buf.length - at).toString(16)}\r\n`), buf.subarray(at, at + 4096), Buffer.from('\r\n')]))
        body = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')])
      }
      const sentText = Buffer.isBuffer(body) ? body.toString('latin1') : body
      const carriesSecret = SECRETS.some((s) => sentText.includes(s)) || headers.some(([k, v]) => k === 'Authorization' && v === basic(client.clientId, client.clientSecret))
      return { cat: 'token', method: 'POST', path: `/oauth2/token/${tenant}`, headers, body, statuses: [200, 400, 401, 413, 414, 431], tokenRoute: true, carriesSecret }
    },

    flood () {
      const kind = r.int(0, 7)
      const auth = ['Authorization', BASIC_A]
      const path = BACKEND
      if (kind === 0) {
        const n = r.int(100, LIMITS.maxHeadersCount + 1000)
        return { cat: 'flood', method: 'GET', path, headers: [auth, ...Array.from({ length: n }, (_, i) => [`X-Flood-${i}`, token(r.int(1, 8))])], statuses: [200, 431] }
      }
      if (kind === 1) return { cat: 'flood', method: 'GET', path, headers: [auth, ['X-Big', 'x'.repeat(r.int(LIMITS.maxHeaderSize / 2, 2.5 * LIMITS.maxHeaderSize))]], statuses: [200, 431] }
      if (kind === 2) return { cat: 'flood', method: 'GET', path, headers: [auth, ...Array.from({ length: r.int(2, 50) }, () => ['Prefer', r.pick(['', 'delay=0', 'x=1', 'code=404'])])], statuses: [200, 400, 404] }
      if (kind === 3) return { cat: 'flood', method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', '5'], ['Content-Length', '6']], body: 'abcdef', statuses: [400], tokenRoute: true }
      if (kind === 4) return { cat: 'flood', method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', '3'], ['Transfer-Encoding', 'chunked']], body: '0\r\n\r\n', statuses: [400], tokenRoute: true }
      if (kind === 5) return { cat: 'flood', method: 'GET', path, headers: [auth, [r.pick(['X Bad', 'X\tBad', '(x)', 'X\u00e9', '']), 'v']], statuses: [400] }
      if (kind === 6) return { cat: 'flood', method: 'GET', path, headers: [auth, ['X-Folded', 'a\r\n b']], statuses: [400] }
      return { cat: 'flood', method: 'GET', path, headers: [auth, ...Array.from({ length: r.int(10, 500) }, () => ['Accept', r.pick(['application/json', '*/*', 'text/html', junkText(20)])])], statuses: [200] }
    },

    prefer () {
      const value = r.chance(0.6)
        ? Array.from({ length: r.int(1, 3) }, () => r.pick([`code=${r.pick(FAULT_STATUSES)}`, `delay=${r.int(0, 3)}`, `code=${r.int(100, 999)}`, `delay=${r.pick(['-1', '1.5', '1e3', String(MAX_DELAY_MS + 1), 'x'])}`, 'return=minimal', 'respond-async', `CODE = "${r.pick(FAULT_STATUSES)}"`])).join(r.pick([',', ';', ', ']))
        : junkText(r.int(0, 40))
      let expected
      try {
        const effect = ctx.parsePrefer(value)
        if ((effect?.delayMs ?? 0) > 5) return generators(r, ctx).prefer()
        expected = { statuses: [effect?.status ?? 200], preferCode: effect?.status }
      } catch {
        expected = { statuses: [400] }
      }
      if (r.chance(0.5)) return { cat: 'prefer', method: 'GET', path: BACKEND, headers: [['Authorization', BASIC_A], ['Prefer', value]], audience: true, ...expected }
      return { cat: 'prefer', method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: [['Prefer', value], ['Content-Type', 'application/x-www-form-urlencoded']], body: 'grant_type=client_credentials&client_id=a-reader&client_secret=fuzz-a-reader-secret', tokenRoute: true, ...expected }
    },

    method () {
      const method = r.pick(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'QUERY', 'M-SEARCH', 'FOO', 'get', 'G\u00c9T'])
      const picked = r.pick([...API_PATHS, `/oauth2/token/${TENANT_A.tenantId}`, '/__mock/health', '/__mock/faults', '/', '/.well-known/jwks.json', '/openapi.json'])
      // A DELETE of a fixture audience would succeed and leave every later read of it a 404: delete one that is not there.
      const path = method === 'DELETE' && API_PATHS.includes(picked) ? `${API_PREFIX}/audiences/fuzz-no-such-audience` : picked
      const body = ['POST', 'PUT', 'PATCH', 'DELETE', 'QUERY'].includes(method) && r.chance(0.5) ? '{}' : undefined
      const headers = [['Authorization', BASIC_A], ...(body === undefined ? [] : [['Content-Type', 'application/json']])]
      return { cat: 'method', method, path, headers, body, statuses: [200, 201, 400, 401, 404, 405, 415], tokenRoute: method === 'POST' && path.startsWith('/oauth2/'), head: method === 'HEAD' }
    },

    garbage () {
      const raw = r.pick([
        () => Buffer.concat([r.bytes(r.int(1, 300)), Buffer.from('\r\n\r\n')]),
        () => Buffer.from(`GET /audiences/backend HTTP/${r.pick(['9.9', '0.9', '1.2', '2.0', '1'])}\r\nHost: x\r\nConnection: close\r\n\r\n`),
        () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        () => Buffer.from(`GET ${'/a'.repeat(r.int(LIMITS.maxHeaderSize / 4, 3 * LIMITS.maxHeaderSize / 4))} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        () => Buffer.from('GET  /audiences/backend  HTTP/1.1\r\nHost: x\r\n\r\n'),
        () => Buffer.from('\r\n\r\nGET /__mock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        () => Buffer.from('GET /__mock/health HTTP/1.1\nHost: x\nConnection: close\n\n'),
        () => Buffer.from('GET /__mock/health\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'),
        () => Buffer.from(`${junkText(r.int(1, 50)).replace(/\s/g, '_')} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
      ])()
      if (r.chance(0.05)) return { cat: 'garbage', raw: Buffer.from('GET /__mock/health HTTP/1.1\r\nConnection: close\r\n\r\n'), statuses: [400], noHost: true }
      return { cat: 'garbage', raw, statuses: [200, 400, 401, 404, 431], allowNoResponse: true, halfClose: true }
    },

    control () {
      const kind = r.int(0, 5)
      if (kind <= 1) {
        const rule = { match: { tenantId: SINK.tenantId }, effect: r.pick([{ status: r.pick([...FAULT_STATUSES, 418]) }, { delayMs: r.int(-1, MAX_DELAY_MS + 10_000) }, { transport: r.pick(['reset', 'hang', 'explode']) }, {}, null]) }
        for (let i = r.int(0, 3); i > 0; i--) rule[r.pick(['times', 'probability', 'seed', 'ttlMs', 'name', 'colour'])] = r.pick([1, 0, -1, 0.5, 1e308, 'x', null, [], {}, 2 ** 32, 9007199254740991])
        if (r.chance(0.2)) rule.match = { ...rule.match, allTenants: true }
        const text = JSON.stringify(rule)
        const body = kind === 0 ? text : text.slice(0, r.int(0, text.length))
        return { cat: 'control', method: 'POST', path: '/__mock/faults', headers: [['Content-Type', r.pick(['application/json', 'application/json', 'text/plain', 'application/xml'])]], body, statuses: [201, 400, 415] }
      }
      if (kind === 2) return { cat: 'control', method: 'POST', path: '/__mock/faults', headers: [['Content-Type', 'application/json']], body: `{"name":"${'x'.repeat(r.int(LIMITS.bodyLimit + 1, 250_000))}"}`, statuses: [413] }
      if (kind === 3) return { cat: 'control', method: r.pick(['GET', 'DELETE']), path: `/__mock/faults/${r.pick(['x', '__proto__', 'constructor', '%E0', 'fault-1-000000', 'a'.repeat(2 * LIMITS.maxParamLength), '..%2F..'])}`, headers: [], statuses: [400, 404, 414] }
      if (kind === 4) return { cat: 'control', method: 'GET', path: `/__mock/requests?${r.pick(['limit=0', 'limit=-1', 'limit=abc', 'limit=1e3', 'limit=5', 'since=2016-12-31T23:59:60Z', 'since=x', `tenantId=${SINK.tenantId}`, 'tenantId=', 'x=1', 'limit=1&limit=2', '__proto__[x]=1'])}`, headers: [], statuses: [200, 400, 404] }
      return { cat: 'control', method: 'GET', path: `/__mock/faults?tenantId=${r.pick([SINK.tenantId, '', '__proto__', '%zz'])}`, headers: [], statuses: [200, 400, 404] }
    }
  }
}

// The same statement of the documented error shapes the hardening tests assert, on the reason phrases and OAuth codes
// of the build under test.
const oracle = contractOracle({ reasonPhrase, oauthErrors: OAUTH_ERRORS })

const WEIGHTS = { auth: 16, jwt: 14, path: 16, token: 18, flood: 8, prefer: 10, method: 6, garbage: 4, control: 8 }

/** Everything wrong with one answer; an empty list means the answer is what the contract says. */
function judge (c, res, tally) {
  if (res.error !== undefined) return c.allowNoResponse ? [] : [`no response (${res.error})`]
  const problems = []
  const status = res.statusCode
  if (status >= 500) {
    if (c.preferCode === status && res.headers['x-mock-fault'] === 'prefer') tally.expected5xx++
    else { tally.unexpected5xx++; problems.push(`unexpected ${status}`) }
  }
  if (c.statuses !== undefined && !c.statuses.includes(status)) problems.push(`status ${status}, expected ${c.statuses.join('/')}`)
  // RFC 9112 §3.2: Node itself answers an HTTP/1.1 request without Host with a bare 400, before any handler can shape it.
  const bareHostRefusal = status === 400 && res.body === '' && c.noHost === true
  if (status >= 400 && !c.head && !bareHostRefusal) {
    const tokenRoute = c.tokenRoute === true && /^\/oauth2\/token\/[^/?]+\/?(\?.*)?$/.test(c.path)
    problems.push(...oracle.errorProblems(res, tokenRoute ? 'oauth' : 'thrive'))
  }
  if (status === 200 && c.audience === true) problems.push(...audienceProblems(res))
  if (status === 200 && c.cat === 'token') {
    const body = json(res)
    if (body === undefined || Object.keys(body).sort().join() !== 'access_token,expires_in,scope,token_type') problems.push('a token 200 that is not a token response')
    // The token endpoint must never agree with everything: a token only for a request that carried a real secret.
    if (c.carriesSecret !== true) problems.push('a token issued without a real secret')
  }
  if (!(status === 200 && c.cat === 'token')) problems.push(...secretProblems(res, SECRETS))
  return problems
}

/** Cases are generated up front, in order, so a seed always produces the same requests whatever the concurrency. */
function generateCases (requests, seed, ctx) {
  const categories = Object.entries(WEIGHTS).flatMap(([k, w]) => Array(w).fill(k))
  const oneCase = fc.gen().map((g) => {
    const r = draws(g)
    return generators(r, ctx)[r.pick(categories)]()
  })
  return fc.sample(oneCase, { seed, numRuns: requests }).map((c, index) => {
    c.index = index
    c.bytes = c.raw ?? httpBytes(c.method, c.path, c.headers, c.body)
    return c
  })
}

/**
 * The requests a seed sends and what each expects, without a server: the clock, the token ids and the server's
 * tokens are pinned, which are the only inputs besides the seed. Its digest changes exactly when the requests do.
 */
export async function dryRun ({ requests, seed }) {
  const { parsePrefer } = await import(pathToFileURL(join(ROOT, 'dist', 'faults', 'prefer.js')).href)
  const nowMs = Date.UTC(2026, 0, 1)
  let ids = 0
  const uuid = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`
  const standIn = (client, tenantId, scope) => signed({ alg: 'HS256', typ: 'JWT' }, { sub: client, client_id: client, tenant_id: tenantId, token_use: 'access', scope, iss: ISSUER, iat: nowMs / 1000, exp: nowMs / 1000 + 3600, jti: `stand-in-${client}` })
  const ctx = {
    parsePrefer,
    now: () => nowMs,
    uuid,
    tokens: {
      reader: standIn('a-reader', TENANT_A.tenantId, 'api/read'),
      writer: standIn('a-writer', TENANT_A.tenantId, 'api/write'),
      hooks: standIn('a-hooks', TENANT_A.tenantId, 'api/webhooks'),
      all: standIn('a-all', TENANT_A.tenantId, 'api/all'),
      b: standIn('b-reader', TENANT_B.tenantId, 'api/read')
    }
  }
  const hash = createHash('sha256')
  const categories = {}
  for (const c of generateCases(requests, seed, ctx)) {
    categories[c.cat] = (categories[c.cat] ?? 0) + 1
    const { method, path, headers, body, raw, bytes, ...expectation } = c
    hash.update(bytes).update(JSON.stringify(expectation)).update('\n')
  }
  return { seed, requests, sha256: hash.digest('hex'), categories }
}

export async function fuzz ({ requests, seed, concurrency, cli = CLI, log = () => {} }) {
  const server = await startServer({ cli })
  const { parsePrefer } = await import(pathToFileURL(join(ROOT, 'dist', 'faults', 'prefer.js')).href)
  const started = Date.now()
  const rssStart = server.rssMB()
  const tokenFor = async (client, secret, tenant = TENANT_A.tenantId) => {
    const res = await exchange(server.port, httpBytes('POST', `/oauth2/token/${tenant}`, [['Content-Type', 'application/x-www-form-urlencoded']], `grant_type=client_credentials&client_id=${client}&client_secret=${secret}`))
    if (res.statusCode !== 200) throw new Error(`could not get a token for ${client}: ${res.statusCode} ${res.body ?? res.error}`)
    return JSON.parse(res.body).access_token
  }
  const ctx = {
    parsePrefer,
    now: Date.now,
    uuid: randomUUID,
    tokens: {
      reader: await tokenFor('a-reader', 'fuzz-a-reader-secret'),
      writer: await tokenFor('a-writer', 'fuzz-a-writer-secret'),
      hooks: await tokenFor('a-hooks', 'fuzz-a-hooks-secret'),
      all: await tokenFor('a-all', 'fuzz-a-all-secret'),
      b: await tokenFor('b-reader', 'fuzz-b-reader-secret', TENANT_B.tenantId)
    }
  }
  const cases = generateCases(requests, seed, ctx)
  const tally = { requests: 0, expected5xx: 0, unexpected5xx: 0, violations: 0, noResponse: 0, statuses: {}, categories: {}, failures: [] }
  let next = 0
  const run = { crashed: false }
  server.exited.then(() => { run.crashed = true })
  const worker = async () => {
    while (next < cases.length && !run.crashed) {
      const c = cases[next++]
      // Only garbage half-closes: Node aborts a request whose client half-closes before the answer (httpAllowHalfOpen is false).
      const res = await exchange(server.port, c.bytes, { timeoutMs: 15_000, halfClose: c.halfClose === true })
      tally.requests++
      tally.categories[c.cat] = (tally.categories[c.cat] ?? 0) + 1
      const key = res.statusCode ?? 'none'
      tally.statuses[key] = (tally.statuses[key] ?? 0) + 1
      if (res.error !== undefined) tally.noResponse++
      const problems = judge(c, res, tally)
      if (problems.length > 0) {
        tally.violations++
        if (tally.failures.length < 20) tally.failures.push({ index: c.index, cat: c.cat, problems, request: c.bytes.toString('latin1').slice(0, 300), response: res.error ?? `${res.statusCode} ${res.body.slice(0, 200)}` })
      }
      if (tally.requests % 2000 === 0) log(`  ${tally.requests}/${requests} requests, ${tally.violations} violations`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))

  // Healthy afterwards: alive, answering health, a Basic read and a token request.
  const health = await exchange(server.port, httpBytes('GET', '/__mock/health'))
  const read = await exchange(server.port, httpBytes('GET', BACKEND, [['Authorization', BASIC_A]]))
  const token = await exchange(server.port, httpBytes('POST', `/oauth2/token/${TENANT_A.tenantId}`, [['Content-Type', 'application/x-www-form-urlencoded']], 'grant_type=client_credentials&client_id=a-reader&client_secret=fuzz-a-reader-secret'))
  const crashed = run.crashed
  const crashes = crashed ? 1 : 0
  const healthy = !crashed && health.statusCode === 200 && read.statusCode === 200 && token.statusCode === 200
  const rssEnd = server.rssMB()
  const errorLines = server.errorLines
  const exit = await server.stop('SIGTERM')
  return {
    seed,
    requests: tally.requests,
    crashes,
    unexpected5xx: tally.unexpected5xx,
    expected5xx: tally.expected5xx,
    violations: tally.violations,
    noResponse: tally.noResponse,
    errorLogLines: errorLines,
    healthy,
    exitCode: exit.code,
    rssStartMB: Math.round(rssStart),
    rssEndMB: Math.round(rssEnd),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    statuses: tally.statuses,
    categories: tally.categories,
    failures: tally.failures
  }
}

const USAGE = `Usage: npm run fuzz -- [options]   (npm run fuzz builds first; node scripts/fuzz.mjs needs a build)

  --requests <n>     How many requests to send (default 12000)
  --seed <n>         fast-check seed; the same seed sends the same requests (default 1)
  --concurrency <n>  Requests in flight at once (default 16)
  --cli <file>       The CLI to fuzz (default dist/cli.js; dist/cli.bundle.js is the one the package ships)
  --dry-run          Send nothing: print the SHA-256 of the requests the seed makes and what each expects
  --json             Print the summary as one JSON line (for tests)
  --help             Show this help`

async function main () {
  const { values } = parseArgs({ options: { requests: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' }, cli: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const int = (v, fallback, name) => {
    if (v === undefined) return fallback
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a whole number, got "${v}"`)
    return Number(v)
  }
  const options = { requests: int(values.requests, 12_000, 'requests'), seed: int(values.seed, 1, 'seed'), concurrency: Math.max(1, int(values.concurrency, 16, 'concurrency')), cli: values.cli === undefined ? CLI : resolvePath(values.cli) }
  if (values['dry-run']) {
    console.log(JSON.stringify(await dryRun(options)))
    return 0
  }
  const log = values.json ? () => {} : (line) => console.log(line)
  log(`fuzz: ${options.requests} requests, seed ${options.seed}, ${options.concurrency} at a time, against ${options.cli}`)
  const s = await fuzz({ ...options, log })
  const ok = s.crashes === 0 && s.unexpected5xx === 0 && s.violations === 0 && s.healthy && s.exitCode === 0
  if (values.json) {
    console.log(JSON.stringify({ ok, ...s }))
  } else {
    for (const f of s.failures) console.log(`  FAIL #${f.index} [${f.cat}] ${f.problems.join('; ')}\n    request:  ${JSON.stringify(f.request)}\n    response: ${JSON.stringify(f.response)}`)
    console.log(`  statuses ${JSON.stringify(s.statuses)}`)
    console.log(`  categories ${JSON.stringify(s.categories)}`)
    console.log(`fuzz ${ok ? 'PASSED' : 'FAILED'}: seed=${s.seed} requests=${s.requests} crashes=${s.crashes} unexpected5xx=${s.unexpected5xx} expected5xx=${s.expected5xx} shapeOrStatusViolations=${s.violations} noResponse=${s.noResponse} errorLogLines=${s.errorLogLines} healthyAfter=${s.healthy} exit=${s.exitCode} rssMB=${s.rssStartMB}->${s.rssEndMB} time=${s.seconds}s`)
  }
  return ok ? 0 : 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => { process.exitCode = code }, (err) => { console.error(`fuzz: ${err.message}`); process.exitCode = 2 })
}
/* c8 ignore stop */
