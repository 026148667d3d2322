// Every limit README.md and SECURITY.md state: the number in the sentence is the constant the code enforces, and
// the server behaves so at the limit (accepted) and just past it (refused in the documented status and body).
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp, LIMITS } from '../src/app.js'
import { ConfigSchema, DEFAULT_CLOCK_TOLERANCE_S, defaultConfig, MAX_CLOCK_TOLERANCE_S } from '../src/config.js'
import { MAX_DELAY_MS, MAX_HANG_MS, MAX_TTL_MS, RULE_LIMITS } from '../src/schemas/faults.js'
import { SHUTDOWN_GRACE_MS } from '../src/server.js'
import { ANONYMOUS_RING_SIZE, JOURNAL_BYTE_BUDGET, JOURNAL_LIMITS, TRUNCATION_MARKER } from '../src/store/journal.js'
import { GENERATED_USERS } from '../src/store/seed.js'
import { CUT, MAX_LISTED, MAX_NAME_CHARS } from '../src/violations.js'
import { BASIC_A, build, json, TENANT_A, testConfig } from './helpers.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const SECURITY = readFileSync(new URL('../SECURITY.md', import.meta.url), 'utf8')

/** The journal size option's range and default, as the configuration schema states them. */
const journalSize = ConfigSchema.properties.journalSize as unknown as { minimum: number, maximum: number, default: number }

const UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 * 1024, s: 1000, years: 365 * 24 * 3600 * 1000 }

/** The numbers a sentence of a document states, in order ("1,024" is 1024, "64 KiB" is 65536, "10 s" 10000 ms). */
function stated (doc: string, sentence: RegExp): number[] {
  const found = sentence.exec(doc)
  if (found === null) throw new Error(`the document no longer says ${String(sentence)}`)
  return found.slice(1).map((n) => {
    const [, digits, unit] = /^([\d,]+)\s*(KiB|MiB|s|years)?$/.exec(n.trim()) as RegExpExecArray
    return Number((digits as string).replaceAll(',', '')) * (UNITS[unit ?? ''] as number)
  })
}

const N = '([\\d,]+(?: (?:KiB|MiB|s|years))?)'
const re = (source: string) => new RegExp(source.replaceAll('#', N))

t.test('SECURITY.md\'s limits table states the constants the server enforces', async (t) => {
  const row = (name: string, rest: string) => stated(SECURITY, re(`\\| ${name} \\| ${rest}`))
  t.same(row('request body', '# \\(`LIMITS\\.bodyLimit`\\)'), [LIMITS.bodyLimit])
  t.same(row('request line plus headers', '# \\(`LIMITS\\.maxHeaderSize`'), [LIMITS.maxHeaderSize])
  t.same(row('one path parameter', '# characters \\(`LIMITS\\.maxParamLength`\\)'), [LIMITS.maxParamLength])
  t.same(row('header count', '# \\(`LIMITS\\.maxHeadersCount`'), [LIMITS.maxHeadersCount])
  t.same(row('headers received', '# \\(`LIMITS\\.headersTimeoutMs`, checked every #\\)'), [LIMITS.headersTimeoutMs, LIMITS.connectionsCheckingIntervalMs])
  t.same(row('whole request received', '# \\(`LIMITS\\.requestTimeoutMs`\\)'), [LIMITS.requestTimeoutMs])
  t.same(row('idle kept-alive connection', '# \\(`LIMITS\\.keepAliveTimeoutMs`\\)'), [LIMITS.keepAliveTimeoutMs])
  t.same(row('shutdown grace', '# \\(`SHUTDOWN_GRACE_MS`\\)'), [SHUTDOWN_GRACE_MS])
  t.same(row('journal entries', '`--journal-size` \\(#–#\\) per tenant; # \\(`ANONYMOUS_RING_SIZE`\\)'), [journalSize.minimum, journalSize.maximum, ANONYMOUS_RING_SIZE])
  t.same(row('journal bytes', '# \\(`JOURNAL_BYTE_BUDGET`'), [JOURNAL_BYTE_BUDGET])
  t.same(row('one journal entry', 'path # characters; query # values, names # and values # characters; tenant and client ids # characters \\(`JOURNAL_LIMITS`\\)'),
    [JOURNAL_LIMITS.pathChars, JOURNAL_LIMITS.queryParams, JOURNAL_LIMITS.queryNameChars, JOURNAL_LIMITS.queryValueChars, JOURNAL_LIMITS.idChars])
  t.same(row('armed fault rules', '# per tenant, # in all \\(`RULE_LIMITS`'), [RULE_LIMITS.perTenant, RULE_LIMITS.total])
  t.same(row('strings in a fault rule', '`path` # characters, `audienceId` # \\(.*?\\), `message` #, `name` #, `tenantId` and `clientId` #, `method` #'),
    [RULE_LIMITS.path, RULE_LIMITS.audienceId, RULE_LIMITS.message, RULE_LIMITS.name, RULE_LIMITS.tenantId, RULE_LIMITS.method])
  t.equal(RULE_LIMITS.tenantId, RULE_LIMITS.clientId, 'one number for both ids')
  t.equal(RULE_LIMITS.audienceId, LIMITS.maxParamLength, '"the longest path parameter a route accepts"')
  t.same(stated(SECURITY, re('`ttlMs` capped at #')), [MAX_TTL_MS])
  t.same(stated(SECURITY, re('`headersTimeout` #, checked every # \\(`LIMITS`')), [LIMITS.headersTimeoutMs, LIMITS.connectionsCheckingIntervalMs])
})

t.test('README.md states the same limits as the code', async (t) => {
  t.same(stated(README, re('\\| `--journal-size` \\| `JOURNAL_SIZE` \\| `#` \\| requests the journal keeps per tenant \\(#–#; within a # budget')),
    [journalSize.default, journalSize.minimum, journalSize.maximum, JOURNAL_BYTE_BUDGET])
  t.same(stated(README, re('N/2 generated users \\(at least #, at most #\\)')), [GENERATED_USERS.min, GENERATED_USERS.max])
  t.same(stated(README, re('`Prefer: delay=MS` waits that many milliseconds \\(#–#\\)')), [0, MAX_DELAY_MS])
  t.same(stated(README, re('after `hangMs` \\(default\\s+and cap #\\)')), [MAX_HANG_MS])
  t.same(stated(README, re('at most # armed rules per tenant and # in all')), [RULE_LIMITS.perTenant, RULE_LIMITS.total])
  t.same(stated(README, re('\\(`path` # characters, `audienceId` #,\\s+`message` #, `name` #, `clientId` and `tenantId` #, `method` #\\)')),
    [RULE_LIMITS.path, RULE_LIMITS.audienceId, RULE_LIMITS.message, RULE_LIMITS.name, RULE_LIMITS.clientId, RULE_LIMITS.method])
  t.same(stated(README, re('and the last # of\\s+requests with no known tenant')), [ANONYMOUS_RING_SIZE])
  t.same(stated(README, re('\\(cut at\\s+# characters, ending with `…`\\)')), [JOURNAL_LIMITS.pathChars])
  t.same(stated(README, re('at most # values, names cut to # and values to # characters')), [JOURNAL_LIMITS.queryParams, JOURNAL_LIMITS.queryNameChars, JOURNAL_LIMITS.queryValueChars])
  t.same(stated(README, re('the entries hold at most\\s+# \\(`JOURNAL_BYTE_BUDGET`\\)')), [JOURNAL_BYTE_BUDGET])
  t.same(stated(README, re('\\(tolerance default `#`, at most `#`\\)')), [DEFAULT_CLOCK_TOLERANCE_S, MAX_CLOCK_TOLERANCE_S])
  t.same(stated(README, re('At most # are listed; the header then ends with')), [MAX_LISTED])
  t.same(stated(README, re('A name is cut at # characters \\(ending in\\s+`\\.\\.\\.`\\)')), [MAX_NAME_CHARS])
  t.equal(CUT, '...')
})

t.test('a body of exactly LIMITS.bodyLimit bytes is read on an API route; one byte more is a 413 in Thrive\'s shape', async (t) => {
  const app = await build(t)
  const body = (size: number) => {
    const head = '{"name":"Big","reference":"big","category":"structure","pad":"'
    return `${head}${'x'.repeat(size - head.length - 2)}"}`
  }
  const headers = { authorization: BASIC_A, 'content-type': 'application/json' }
  const fits = await app.inject({ method: 'POST', url: '/rest/v1/audiences', headers, payload: body(LIMITS.bodyLimit) })
  t.equal(Buffer.byteLength(body(LIMITS.bodyLimit)), LIMITS.bodyLimit)
  t.equal(fits.statusCode, 201, 'read and served (the unknown field is only a violation)')
  t.equal(json(fits).reference, 'big')
  const over = await app.inject({ method: 'POST', url: '/rest/v1/audiences', headers, payload: body(LIMITS.bodyLimit + 1) })
  t.equal(over.statusCode, 413)
  t.match(over.headers['content-type'], /^application\/json/)
  t.same(json(over), { status: 413, error: 'Payload Too Large', message: 'The request body is larger than this server accepts' })
  t.equal((await app.inject({ url: '/rest/v1/audiences/big', headers: { authorization: BASIC_A } })).statusCode, 200, 'only the first was written')
})

/** Sends raw bytes on a fresh connection and resolves with the whole answer once the server closes it. */
function rawExchange (port: number, text: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let out = ''
    socket.on('data', (d: Buffer) => { out += d.toString('latin1') })
    socket.on('error', reject)
    socket.on('close', () => {
      const [head, ...rest] = out.split('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? '')?.[1]), body: rest.join('\r\n\r\n') })
    })
    socket.end(text)
  })
}

async function listening (t: Test) {
  const app = await buildApp(testConfig())
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal(app.server.maxHeadersCount, LIMITS.maxHeadersCount)
  t.equal(app.server.headersTimeout, LIMITS.headersTimeoutMs)
  t.equal(app.server.requestTimeout, LIMITS.requestTimeoutMs)
  t.equal(app.server.keepAliveTimeout, LIMITS.keepAliveTimeoutMs)
  return (app.server.address() as { port: number }).port
}

t.test('a request line plus headers of LIMITS.maxHeaderSize bytes is served; past it, a 431 in Thrive\'s shape (RFC 6585 §5)', async (t) => {
  const port = await listening(t)
  const request = (size: number) => {
    const head = `GET /rest/v1/audiences/backend HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: ${BASIC_A}\r\nX-Pad: `
    return `${head}${'p'.repeat(size - head.length - 4)}\r\n\r\n`
  }
  t.equal(request(LIMITS.maxHeaderSize).length, LIMITS.maxHeaderSize)
  const fits = await rawExchange(port, request(LIMITS.maxHeaderSize))
  t.equal(fits.status, 200)
  t.match(JSON.parse(fits.body), { reference: 'backend' })
  // Node counts the URL and the header names and values, not the framing (method, version, ": " and line ends, 35
  // bytes here): 64 bytes more puts what it counts past the limit.
  const over = await rawExchange(port, request(LIMITS.maxHeaderSize + 64))
  t.equal(over.status, 431)
  t.same(JSON.parse(over.body), { status: 431, error: 'Request Header Fields Too Large', message: 'The request headers (or URL) are larger than this server accepts' })
})

t.test('the first LIMITS.maxHeadersCount headers are read and the rest ignored: Authorization as the last one read works, one further is never seen', async (t) => {
  const port = await listening(t)
  const request = (authorizationAt: number) => {
    const lines = ['GET /rest/v1/audiences/backend HTTP/1.1', 'Host: localhost', 'Connection: close']
    while (lines.length < authorizationAt) lines.push('x:1')
    lines.push(`Authorization: ${BASIC_A}`)
    return `${lines.join('\r\n')}\r\n\r\n`
  }
  const last = await rawExchange(port, request(LIMITS.maxHeadersCount))
  t.equal(last.status, 200, `Authorization as header ${LIMITS.maxHeadersCount}`)
  t.match(JSON.parse(last.body), { reference: 'backend' })
  const ignored = await rawExchange(port, request(LIMITS.maxHeadersCount + 1))
  t.equal(ignored.status, 401, `Authorization as header ${LIMITS.maxHeadersCount + 1} is not read`)
  t.match(JSON.parse(ignored.body), { status: 401, error: 'Unauthorized', message: /^Missing Authorization header/ })
})

t.test('the journal keeps ANONYMOUS_RING_SIZE requests with no known tenant, and cuts a path or query at JOURNAL_LIMITS', async (t) => {
  const app = await build(t)
  for (let i = 0; i <= ANONYMOUS_RING_SIZE; i++) await app.inject({ url: `/nowhere/${i}` })
  const anonymous = json(await app.inject({ url: '/__mock/requests' })) as unknown as Array<{ path: string, tenantId: string | null }>
  t.equal(anonymous.length, ANONYMOUS_RING_SIZE, 'one past the ring drops the oldest')
  t.equal(anonymous.at(-1)?.path, '/nowhere/1')
  t.equal(anonymous[0]?.path, `/nowhere/${ANONYMOUS_RING_SIZE}`)

  const { pathChars, queryParams, queryNameChars, queryValueChars } = JOURNAL_LIMITS
  const entryFor = async (url: string, method: 'GET' | 'DELETE' = 'GET') => {
    await app.inject({ method: 'DELETE', url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })
    await app.inject({ method, url, headers: { authorization: BASIC_A } })
    return (json(await app.inject({ url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })) as unknown as Array<{ path: string, query: Record<string, string | string[]>, truncated: boolean }>)[0]
  }
  // Two path parameters, each within LIMITS.maxParamLength, make a path of n characters that reaches a route (a 404).
  const path = (n: number) => { const audience = 'a'.repeat(1000); const head = `/rest/v1/audiences/${audience}/members/`; return `${head}${'u'.repeat(n - head.length)}` }
  t.match(await entryFor(path(pathChars), 'DELETE'), { path: path(pathChars), truncated: false }, 'a path at the limit is kept whole')
  t.match(await entryFor(path(pathChars + 1), 'DELETE'), { path: `${path(pathChars + 1).slice(0, pathChars)}${TRUNCATION_MARKER}`, truncated: true }, 'one more character is cut')
  const query = (n: number) => Array.from({ length: n }, (_, i) => `q=${i}`).join('&')
  t.match(await entryFor(`/rest/v1/audiences?${query(queryParams)}`), { query: { q: Array.from({ length: queryParams }, (_, i) => String(i)) }, truncated: false })
  const cutQuery = await entryFor(`/rest/v1/audiences?${query(queryParams + 1)}`)
  t.equal((cutQuery?.query.q as string[]).length, queryParams)
  t.equal(cutQuery?.truncated, true)
  const [name, value] = ['n'.repeat(queryNameChars), 'v'.repeat(queryValueChars)]
  t.same((await entryFor(`/rest/v1/audiences?${name}=${value}`))?.query, { [name]: value }, 'a name and a value at their limits are kept whole')
  t.same((await entryFor(`/rest/v1/audiences?${name}n=${value}v`))?.query, { [`${name}${TRUNCATION_MARKER}`]: `${value}${TRUNCATION_MARKER}` }, 'one more character cuts each')
})

t.test('--journal-size takes its documented range and refuses one past it; the tolerance of token clocks likewise', async (t) => {
  const { minimum, maximum } = journalSize
  for (const size of [minimum, maximum]) {
    const app = await buildApp(defaultConfig({ journalSize: size }))
    await app.close()
    t.pass(`journalSize ${size} is accepted`)
  }
  await t.rejects(buildApp({ ...defaultConfig(), journalSize: maximum + 1 }), { name: 'ConfigError', message: `journalSize must be a whole number from ${minimum} to ${maximum}, got ${maximum + 1}` })
  t.equal(defaultConfig({ token: { clockToleranceSeconds: MAX_CLOCK_TOLERANCE_S } }).token.clockToleranceSeconds, MAX_CLOCK_TOLERANCE_S)
  t.throws(() => defaultConfig({ token: { clockToleranceSeconds: MAX_CLOCK_TOLERANCE_S + 1 } }), { name: 'ConfigError', message: /clockToleranceSeconds/ })
})

t.test('a fault rule takes hangMs and ttlMs up to their caps, and refuses one past them with a 400 naming the field', async (t) => {
  const app = await build(t)
  const arm = (extra: Record<string, unknown>, effect: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect, ...extra } })
  t.equal((await arm({}, { transport: 'hang', hangMs: MAX_HANG_MS })).statusCode, 201)
  t.equal((await arm({ ttlMs: MAX_TTL_MS }, { status: 500 })).statusCode, 201)
  t.equal((await arm({}, { delayMs: MAX_DELAY_MS })).statusCode, 201)
  for (const [field, res] of [
    ['hangMs', await arm({}, { transport: 'hang', hangMs: MAX_HANG_MS + 1 })],
    ['ttlMs', await arm({ ttlMs: MAX_TTL_MS + 1 }, { status: 500 })],
    ['delayMs', await arm({}, { delayMs: MAX_DELAY_MS + 1 })]
  ] as const) {
    t.equal(res.statusCode, 400, field)
    t.match(json(res), { status: 400, error: 'Bad Request', message: new RegExp(`${field} must be <= `) }, field)
  }
})

t.test('a violation names a field of MAX_NAME_CHARS characters whole and cuts a longer one with CUT', async (t) => {
  const app = await build(t)
  const name = 'n'.repeat(MAX_NAME_CHARS)
  const header = async (param: string) => (await app.inject({ url: `/rest/v1/audiences?${param}=1`, headers: { authorization: BASIC_A } })).headers['x-mock-violations']
  t.match(await header(name), new RegExp(`^query\\.${name} unknown-query-param: `))
  t.match(await header(`${name}n`), new RegExp(`^query\\.${name}\\.\\.\\. unknown-query-param: `))
})
