// Secrets never leave the server: not in logs (trace level, every route, failures included), not in the journal, not in replies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { basic, build } from '../helpers.js'
import { startCli } from '../cli-helpers.js'

type App = Awaited<ReturnType<typeof build>>

const TENANT = 'eu-west-2_Secret01'
const API_SECRET = 'SECRET-api-7f3a9c1e'
const CLIENT_SECRET = 'SECRET-client-51d0e2b'
const ADMIN_TOKEN = 'SECRET-admin-0b9e4d77'
const WRONG_SECRET = 'SECRET-wrong-88aa31'
const FIXTURE = {
  tenants: [{
    tenantId: TENANT,
    apiSecret: API_SECRET,
    clients: [{ clientId: 'reader', clientSecret: CLIENT_SECRET, scopes: ['api/read'] }],
    structures: [{ name: 'S', reference: 'backend' }]
  }]
}
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const ADMIN = { 'x-mock-admin-token': ADMIN_TOKEN }
const b64 = (s: string) => Buffer.from(s).toString('base64')

interface Exchange { method?: string, url: string, headers?: Record<string, string>, payload?: string | object }

/** Every route, in success and failure, with every way a secret can travel: Basic, body, Bearer, admin header, query. */
function traffic (token: string): Exchange[] {
  const tampered = `${token.slice(0, -4)}AAAA`
  const api = '/rest/v1/audiences/backend'
  const tokenUrl = `/oauth2/token/${TENANT}`
  return [
    { url: api, headers: { authorization: basic(TENANT, API_SECRET) } },
    { url: api, headers: { authorization: basic(TENANT, WRONG_SECRET) } },
    { url: '/audiences/nope', headers: { authorization: basic(TENANT, API_SECRET) } },
    { url: api, headers: { authorization: `Bearer ${token}` } },
    { url: api, headers: { authorization: `Bearer ${tampered}` } },
    { url: api, headers: { authorization: `Basic ${b64(`${TENANT}:${API_SECRET}`)}x` } },
    { url: api, headers: { authorization: `Digest ${API_SECRET}` } },
    { url: `${api}?access_token=${token}&client_secret=${CLIENT_SECRET}`, headers: { authorization: basic(TENANT, API_SECRET) } },
    { url: api, headers: { authorization: basic(TENANT, API_SECRET), prefer: 'code=500' } },
    { url: api, headers: { authorization: basic(TENANT, API_SECRET), prefer: 'code=999' } },
    { url: `/rest/v1/audiences/%E0%A4%A?secret=${API_SECRET}`, headers: { authorization: basic(TENANT, API_SECRET) } },
    { url: `/nowhere?client_secret=${CLIENT_SECRET}`, headers: { authorization: `Bearer ${token}` } },
    { method: 'POST', url: tokenUrl, headers: { authorization: basic('reader', CLIENT_SECRET), ...FORM }, payload: 'grant_type=client_credentials' },
    { method: 'POST', url: tokenUrl, headers: FORM, payload: `grant_type=client_credentials&client_id=reader&client_secret=${CLIENT_SECRET}` },
    { method: 'POST', url: tokenUrl, payload: { grant_type: 'client_credentials', client_id: TENANT, client_secret: API_SECRET } },
    { method: 'POST', url: tokenUrl, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: WRONG_SECRET } },
    { method: 'POST', url: tokenUrl, headers: { authorization: basic('reader', WRONG_SECRET), ...FORM }, payload: 'grant_type=client_credentials' },
    { method: 'POST', url: tokenUrl, headers: { authorization: basic('reader', CLIENT_SECRET), ...FORM }, payload: `grant_type=client_credentials&client_secret=${CLIENT_SECRET}` },
    { method: 'POST', url: tokenUrl, headers: FORM, payload: `grant_type=client_credentials&client_secret=${CLIENT_SECRET}&client_secret=${API_SECRET}` },
    { method: 'POST', url: tokenUrl, headers: { 'content-type': 'application/json' }, payload: `{"client_secret":"${CLIENT_SECRET}",` },
    { method: 'POST', url: tokenUrl, headers: { 'content-type': 'text/plain' }, payload: `client_secret=${CLIENT_SECRET}` },
    { method: 'POST', url: tokenUrl, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: { value: CLIENT_SECRET } } },
    { method: 'POST', url: tokenUrl, headers: { prefer: 'code=500' }, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: CLIENT_SECRET } },
    { method: 'POST', url: `${tokenUrl}?client_secret=${CLIENT_SECRET}`, headers: FORM, payload: 'grant_type=client_credentials&client_id=reader' },
    { method: 'POST', url: '/oauth2/token/%E0%A4%A', headers: { authorization: basic('reader', CLIENT_SECRET), ...FORM }, payload: 'grant_type=client_credentials' },
    { method: 'POST', url: tokenUrl, headers: { authorization: basic('reader', CLIENT_SECRET), ...FORM }, payload: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}` },
    { url: '/__mock/requests', headers: ADMIN },
    { url: '/__mock/requests', headers: { 'x-mock-admin-token': WRONG_SECRET } },
    { url: '/__mock/faults', headers: { authorization: basic(TENANT, API_SECRET) } },
    { method: 'POST', url: '/__mock/faults', headers: ADMIN, payload: { match: { tenantId: TENANT }, effect: { status: 503, message: 'armed by the secrets test' }, times: 1 } },
    { url: api, headers: { authorization: basic(TENANT, API_SECRET) } },
    { method: 'POST', url: '/__mock/clock', headers: ADMIN, payload: { advanceMs: 7_200_000 } },
    { url: api, headers: { authorization: `Bearer ${token}` } },
    { method: 'POST', url: '/__mock/reset', headers: { ...ADMIN, 'content-type': 'application/json' } },
    { url: '/__mock/health' },
    { url: '/.well-known/jwks.json' }
  ]
}

/** Every form a secret could take in text: raw, form- or URL-encoded, inside a Basic value, JSON-escaped. */
function forms (secrets: string[]): string[] {
  return secrets.flatMap((s) => [s, encodeURIComponent(s), b64(`${TENANT}:${s}`), b64(`reader:${s}`), JSON.stringify(s).slice(1, -1)])
}

function leaks (text: string, secrets: string[]): string[] {
  return forms(secrets).filter((s) => text.includes(s))
}

async function run (app: App, exchanges: Exchange[]): Promise<Array<{ exchange: Exchange, status: number, body: string, headers: string }>> {
  const out = []
  for (const exchange of exchanges) {
    const res = await app.inject({ method: exchange.method ?? 'GET', url: exchange.url, headers: exchange.headers ?? {}, ...(exchange.payload === undefined ? {} : { payload: exchange.payload as string }) })
    out.push({ exchange, status: res.statusCode, body: res.body, headers: JSON.stringify(res.headers) })
  }
  return out
}

t.test('at trace level, across every route and failure, no log line holds a secret, an Authorization value or a token', async (t) => {
  const lines: string[] = []
  const app = await build(t, { fixtures: [{ name: 'secrets', data: FIXTURE }], admin: { enabled: true, token: ADMIN_TOKEN } }, { logger: { level: 'trace', stream: { write: (l: string) => { lines.push(l) } } } })
  const issued = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT}`, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: CLIENT_SECRET } })
  const token = (JSON.parse(issued.body) as { access_token: string }).access_token
  const results = await run(app, traffic(token))
  t.ok(lines.length >= results.length, `${lines.length} log lines for ${results.length} requests`)
  t.ok(results.some((r) => r.status === 500) && results.some((r) => r.status === 401) && results.some((r) => r.status === 413), 'failures of every kind were logged')
  const secrets = [API_SECRET, CLIENT_SECRET, ADMIN_TOKEN, WRONG_SECRET, token, token.split('.')[2] as string]
  t.same(leaks(lines.join('\n'), secrets), [], 'no secret in any log line')
  t.notMatch(lines.join('\n'), /"authorization"|Basic [A-Za-z0-9+/=]{8,}|Bearer ey/i, 'no Authorization value')
})

t.test('the journal never holds a secret, a token or a query string', async (t) => {
  const app = await build(t, { fixtures: [{ name: 'secrets', data: FIXTURE }], admin: { enabled: true, token: ADMIN_TOKEN } })
  const issued = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT}`, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: CLIENT_SECRET } })
  const token = (JSON.parse(issued.body) as { access_token: string }).access_token
  await run(app, traffic(token).filter((e) => !e.url.startsWith('/__mock/reset')))
  const journal = await app.inject({ url: '/__mock/requests', headers: ADMIN })
  const entries = JSON.parse(journal.body) as Array<Record<string, unknown>>
  t.ok(entries.length >= 25, `${entries.length} journal entries`)
  t.same(leaks(journal.body, [API_SECRET, CLIENT_SECRET, ADMIN_TOKEN, WRONG_SECRET, token]), [])
  t.notOk(entries.some((e) => String(e.path).includes('?')), 'paths only')
  t.same([...new Set(entries.flatMap(Object.keys))].sort(), ['clientId', 'durationMs', 'fault', 'method', 'path', 'query', 'seq', 'status', 'tenantId', 'time', 'transport', 'truncated', 'violations', 'violationsNotListed'])
  const credentials = entries.flatMap((e) => Object.entries(e.query as Record<string, string>)).filter(([name]) => /secret|token/.test(name))
  t.ok(credentials.length >= 4, `${credentials.length} credential-named query parameters journaled`)
  t.same([...new Set(credentials.map(([, value]) => value))], ['[redacted]'], 'and every one redacted')
})

t.test('no reply echoes a secret it was sent; only the token endpoint\'s 200 carries a token', async (t) => {
  const app = await build(t, { fixtures: [{ name: 'secrets', data: FIXTURE }], admin: { enabled: true, token: ADMIN_TOKEN } })
  const issued = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT}`, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: CLIENT_SECRET } })
  const token = (JSON.parse(issued.body) as { access_token: string }).access_token
  for (const r of await run(app, traffic(token))) {
    const issuing = r.status === 200 && r.exchange.url.startsWith('/oauth2/token/')
    const secrets = [API_SECRET, CLIENT_SECRET, ADMIN_TOKEN, WRONG_SECRET, ...(issuing ? [] : [token])]
    t.same(leaks(`${r.body}\n${r.headers}`, secrets), [], `${r.exchange.method ?? 'GET'} ${r.exchange.url.slice(0, 60)} → ${r.status}`)
  }
})

t.test('the CLI, with its own logger configuration at trace level, writes no secret to stdout or stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'tenants.json')
  writeFileSync(file, JSON.stringify(FIXTURE))
  const cli = await startCli(['--fixtures', file, '--log-level', 'trace', '--admin-token', ADMIN_TOKEN])
  const port = Number(new URL(cli.url).port)
  const send = (e: Exchange) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const payload = e.payload === undefined ? undefined : typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload)
    const headers = { ...(typeof e.payload === 'object' ? { 'content-type': 'application/json' } : {}), ...e.headers, ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }) }
    const req = httpRequest({ host: '127.0.0.1', port, method: e.method ?? 'GET', path: e.url, headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(payload)
  })
  const issued = await send({ method: 'POST', url: `/oauth2/token/${TENANT}`, payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: CLIENT_SECRET } })
  const token = (JSON.parse(issued.body) as { access_token: string }).access_token
  for (const e of traffic(token)) await send(e)
  t.equal(await cli.stop(), 0)
  const out = cli.output()
  t.match(out, /"msg":"request"/, 'request lines were written')
  t.same(leaks(out, [API_SECRET, CLIENT_SECRET, ADMIN_TOKEN, WRONG_SECRET, token]), [], 'nothing secret on stdout or stderr')
})
