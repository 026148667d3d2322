// Fault injection through HTTP: Prefer headers and armed rules, on the audience and token routes.
// Statuses and bodies: thrive-api.md A ("Errors") and B.4; token route: RFC 6749 §5.2; Retry-After: RFC 9110 §10.2.3.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { FAULT_STATUSES, RULE_LIMITS } from '../../src/schemas/faults.js'
import { STATUSES } from '../../src/schemas/statuses.js'
import { basic, BASIC_A, BASIC_B, build, IDS, json, TENANT_A, TENANT_B, testConfig } from '../helpers.js'
import { uncheckedResponses } from '../response-check.js'

type App = Awaited<ReturnType<typeof build>>

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }
const OAUTH_CODES: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_client', 403: 'invalid_request', 404: 'invalid_request', 409: 'invalid_request', 422: 'invalid_request', 429: 'temporarily_unavailable', 500: 'server_error', 502: 'server_error', 503: 'temporarily_unavailable', 504: 'server_error' }

const readA = (app: App, audience = 'backend', headers: Record<string, string> = {}) =>
  app.inject({ url: `/rest/v1/audiences/${audience}`, headers: { authorization: BASIC_A, ...headers } })
const tokenA = (app: App, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })

async function arm (app: App, rule: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await app.inject({ method: 'POST', url: '/__mock/faults', payload: rule })
  if (res.statusCode !== 201) throw new Error(`arming failed: ${res.body}`)
  return json(res)
}

t.test('Prefer: code=NNN returns every documented status with its documented body on the audience route', async (t) => {
  const app = await build(t)
  for (const status of FAULT_STATUSES) {
    const res = await readA(app, 'backend', { prefer: `code=${status}` })
    t.equal(res.statusCode, status, `status ${status}`)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(Object.keys(json(res)).sort(), ['error', 'message', 'status'])
    t.equal(json(res).status, status)
    t.equal(json(res).error, REASONS[status])
    t.equal(json(res).message, STATUSES[status].faultMessage, 'the status\'s default fault message')
    t.equal(res.headers['x-mock-fault'], 'prefer')
    t.equal(res.headers['retry-after'], status === 429 || status === 503 ? '1' : undefined, `Retry-After on ${status}`)
    if (status === 401) t.match(res.headers['www-authenticate'], /^Basic realm="Thrive API"/)
  }
})

t.test('Prefer: code=NNN on the token route answers in RFC 6749 §5.2 form', async (t) => {
  const app = await build(t)
  for (const status of FAULT_STATUSES) {
    const res = await tokenA(app, { prefer: `code=${status}` })
    t.equal(res.statusCode, status)
    t.same(Object.keys(json(res)).sort(), ['error', 'error_description'])
    t.equal(json(res).error, OAUTH_CODES[status], `code for ${status}`)
    t.equal(json(res).error_description, STATUSES[status].faultMessage, 'the status\'s default fault message')
    t.equal(res.headers['cache-control'], 'no-store')
    if (status === 429 || status === 503) t.equal(res.headers['retry-after'], '1')
    if (status === 401) t.match(res.headers['www-authenticate'], /^Basic/)
  }
})

t.test('an unsupported Prefer is a 400 naming what is supported, in each route\'s own error shape', async (t) => {
  const app = await build(t)
  const api = await readA(app, 'backend', { prefer: 'code=418' })
  t.equal(api.statusCode, 400)
  t.same(json(api), { status: 400, error: 'Bad Request', message: 'Unsupported Prefer code "418": supported preferences: code=<400|401|403|404|409|422|429|500|502|503|504> and delay=<0-60000 milliseconds>, plus strict (or handling=strict|lenient) for contract checks, e.g. "Prefer: code=429, delay=100"' })
  const token = await tokenA(app, { prefer: 'return=minimal' })
  t.equal(token.statusCode, 400)
  t.equal(json(token).error, 'invalid_request')
  t.match(json(token).error_description, /^Unsupported Prefer "return=minimal": supported preferences/)
})

t.test('Prefer: delay=MS waits at least that long, then answers normally', async (t) => {
  const app = await build(t)
  const started = process.hrtime.bigint()
  const res = await readA(app, 'backend', { prefer: 'delay=150' })
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(res.statusCode, 200)
  t.equal(json(res).reference, 'backend')
  t.ok(elapsedMs >= 145, `waited ${elapsedMs.toFixed(0)} ms`)
})

t.test('faults fire only after authentication: bad credentials with Prefer still get the real 401', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/audiences/backend', headers: { authorization: basic(TENANT_A.tenantId, 'wrong'), prefer: 'code=500' } })
  t.equal(res.statusCode, 401)
  t.match(json(res).message, /^Invalid credentials/)
  t.equal(res.headers['x-mock-fault'], undefined)
})

t.test('a status rule fires for every documented status, with an optional message and Retry-After', async (t) => {
  const app = await build(t)
  for (const status of FAULT_STATUSES) {
    const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status }, times: 1 })
    const res = await readA(app)
    t.equal(res.statusCode, status)
    t.equal(json(res).error, REASONS[status])
    t.equal(json(res).message, STATUSES[status].faultMessage, 'a rule without a message answers the default one')
    t.equal(res.headers['x-mock-fault'], rule.id)
  }
  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 429, message: 'Slow down, please', retryAfterSeconds: 30 }, times: 1 })
  const res = await readA(app)
  t.same(json(res), { status: 429, error: 'Too Many Requests', message: 'Slow down, please' })
  t.equal(res.headers['retry-after'], '30')
  t.equal((await readA(app)).statusCode, 200, 'every rule has retired')
})

t.test('times: a rule fails exactly N times, then retires and the client recovers', async (t) => {
  const app = await build(t)
  const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 503 }, times: 2 })
  t.same((await Promise.all([readA(app), readA(app)])).map((r) => r.statusCode), [503, 503])
  t.equal((await readA(app)).statusCode, 200)
  t.equal((await app.inject({ url: `/__mock/faults/${String(rule.id)}` })).statusCode, 404, 'retired')
})

t.test('a rule for one tenant never touches another tenant', async (t) => {
  const app = await build(t)
  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } })
  t.equal((await readA(app)).statusCode, 500)
  t.equal((await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })).statusCode, 200)
})

t.test('allTenants rules match every tenant, resolving an audience reference in each', async (t) => {
  const app = await build(t)
  await arm(app, { match: { allTenants: true, audienceId: 'shared' }, effect: { status: 502 } })
  t.equal((await readA(app, 'shared')).statusCode, 502)
  t.equal((await readA(app, IDS.aStructure)).statusCode, 502, 'the same audience by id')
  t.equal((await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_B } })).statusCode, 502)
  t.equal((await readA(app, 'backend')).statusCode, 200)
})

t.test('match narrows by client, method, route, exact path, path prefix and audience (id or reference)', async (t) => {
  const app = await build(t)
  const token = json(await tokenA(app)).access_token as string
  const bearer = { authorization: `Bearer ${token}` }
  await arm(app, { match: { tenantId: TENANT_A.tenantId, clientId: 'a-reader' }, effect: { status: 409 } })
  t.equal((await app.inject({ url: '/audiences/backend', headers: bearer })).statusCode, 409, 'the token\'s client')
  t.equal((await readA(app)).statusCode, 200, 'Basic auth is the tenant as client')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { status: 422 } })
  t.equal((await readA(app, IDS.aChild)).statusCode, 422, 'by id when the rule names the reference')
  t.equal((await readA(app, 'shared')).statusCode, 200)
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  // "Shadowed by an id" has the reference IDS.aChild, which Thrive's lookup resolves to Backend (an id wins), so a rule
  // naming IDS.aChild is Backend's and never the shadowed audience's, however that one is addressed.
  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: IDS.aChild }, effect: { status: 409 } })
  const shadowed = (await app.inject({ url: '/rest/v1/audiences?perPage=1000', headers: { authorization: BASIC_A } })).json() as { results: Array<{ id: string, reference: string }> }
  const shadowedId = shadowed.results.find((a) => a.reference === IDS.aChild)?.id as string
  t.equal((await readA(app, shadowedId)).statusCode, 200, 'not the audience whose reference the rule\'s id shadows')
  t.equal((await readA(app, 'backend')).statusCode, 409, 'the audience the id names, by its reference')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: 'ghost' }, effect: { status: 500 } })
  t.equal((await readA(app, 'ghost')).statusCode, 500, 'an audience that does not exist still matches by name')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, path: '/audiences/backend' }, effect: { status: 404 } })
  t.equal((await app.inject({ url: '/audiences/backend?x=1', headers: { authorization: BASIC_A } })).statusCode, 404, 'exact path, query ignored')
  t.equal((await readA(app, 'backend')).statusCode, 200, 'the /rest/v1 path is another path')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, path: '/rest/v1/*' }, effect: { status: 403 } })
  t.equal((await readA(app, 'shared')).statusCode, 403, 'prefix')
  t.equal((await app.inject({ url: '/audiences/shared', headers: { authorization: BASIC_A } })).statusCode, 200)
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, route: 'getAccessToken', method: 'post' }, effect: { status: 401 } })
  t.equal((await readA(app)).statusCode, 200)
  const res = await tokenA(app)
  t.equal(res.statusCode, 401)
  t.same(json(res), { error: 'invalid_client', error_description: 'Unauthorized: the credentials are missing, invalid or expired' })
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { tenantId: TENANT_A.tenantId, method: 'POST' }, effect: { status: 500 } })
  t.equal((await readA(app)).statusCode, 200, 'method mismatch')
})

t.test('token-route rules match the authenticated client, from HTTP Basic (form-decoded, RFC 6749 §2.3.1) or from the body', async (t) => {
  const app = await build(t)
  await arm(app, { match: { tenantId: TENANT_A.tenantId, clientId: 'a-reader' }, effect: { status: 503 } })
  await arm(app, { match: { tenantId: TENANT_A.tenantId, clientId: 'a-all' }, effect: { status: 500 } })
  // %2D is "-": the username is form-decoded before it is compared, as the grant itself reads it.
  const viaBasic = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, headers: { authorization: basic('a%2Dreader', 'a-reader-secret'), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' })
  t.equal(viaBasic.statusCode, 503)
  t.same(json(viaBasic), { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable: retry after the number of seconds in the Retry-After header' })
  const viaBody = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: 'a-all', client_secret: 'a-all-secret' } })
  t.equal(viaBody.statusCode, 500)
  t.equal(json(viaBody).error, 'server_error')
  const tenantItself = await app.inject({ method: 'POST', url: `/oauth2/token/${TENANT_A.tenantId}`, payload: { grant_type: 'client_credentials', client_id: TENANT_A.tenantId, client_secret: TENANT_A.apiSecret } })
  t.equal(tenantItself.statusCode, 200, 'a rule for other clients leaves the tenant\'s own client alone')
})

t.test('token route: faults apply only after client authentication, to the authenticated tenant (README "Fault injection")', async (t) => {
  uncheckedResponses(t, 'a malformed fault answers half of the JSON on purpose')
  const app = await build(t)
  const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 503 }, times: 1 })
  const malformed = await arm(app, { match: { tenantId: TENANT_A.tenantId, clientId: 'a-all' }, effect: { transport: 'malformed' } })
  const url = `/oauth2/token/${TENANT_A.tenantId}`
  const attempts = [
    { name: 'no credentials', headers: {}, payload: { grant_type: 'client_credentials' } },
    { name: 'a wrong secret', headers: {}, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'wrong' } },
    { name: 'a wrong secret over Basic', headers: { authorization: basic('a-all', 'wrong') }, payload: { grant_type: 'client_credentials' } },
    { name: 'another tenant\'s valid client', headers: {}, payload: { grant_type: 'client_credentials', client_id: 'b-reader', client_secret: 'b-reader-secret' } },
    { name: 'another tenant\'s own credentials', headers: { authorization: BASIC_B }, payload: { grant_type: 'client_credentials' } },
    { name: 'a wrong secret with Prefer: code=503', headers: { prefer: 'code=503' }, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'wrong' } },
    { name: 'a wrong secret with an unsupported Prefer', headers: { prefer: 'code=418' }, payload: { grant_type: 'client_credentials', client_id: 'a-all', client_secret: 'wrong' } },
    { name: 'a wrong secret for the client a malformed rule targets', headers: {}, payload: { grant_type: 'client_credentials', client_id: 'a-all', client_secret: 'wrong' } }
  ]
  for (const attempt of attempts) {
    const res = await app.inject({ method: 'POST', url, headers: attempt.headers, payload: attempt.payload })
    t.equal(res.statusCode, 401, `${attempt.name}: the real 401`)
    t.equal(json(res).error, 'invalid_client', attempt.name)
    t.match(json(res).error_description, /^(client authentication (is required|failed)|malformed Authorization)/, attempt.name)
    t.equal(res.headers['x-mock-fault'], undefined, `${attempt.name}: no fault named`)
    t.match(res.headers['www-authenticate'], /^Basic/, attempt.name)
  }
  const left = json(await app.inject({ url: `/__mock/faults/${rule.id as string}` }))
  t.equal(left.fired, 0, 'the rule was not used up')
  t.equal(left.remaining, 1)
  t.equal(json(await app.inject({ url: `/__mock/faults/${malformed.id as string}` })).fired, 0)
  t.same(app.journal.list({ tenantId: TENANT_A.tenantId }), [], 'nothing landed in tenant A\'s journal')
  t.same(app.journal.list().map((e) => [e.status, e.tenantId, e.clientId, e.fault]), attempts.map(() => [401, null, null, null]), 'each attempt is journaled without a tenant')

  const real = await app.inject({ method: 'POST', url, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(real.statusCode, 503, 'the tenant\'s own client meets the rule')
  t.equal(real.headers['x-mock-fault'], rule.id)
  t.same(app.journal.list({ tenantId: TENANT_A.tenantId }).map((e) => [e.status, e.clientId, e.fault]), [[503, 'a-reader', rule.id]])
  const prefer = await app.inject({ method: 'POST', url, headers: { prefer: 'code=429' }, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(prefer.statusCode, 429, 'Prefer applies once the client is authenticated')
  t.equal(prefer.headers['retry-after'], '1')
  const badPrefer = await app.inject({ method: 'POST', url, headers: { prefer: 'code=418' }, payload: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'a-reader-secret' } })
  t.equal(badPrefer.statusCode, 400)
  t.equal(json(badPrefer).error, 'invalid_request')
  const half = await app.inject({ method: 'POST', url, payload: { grant_type: 'client_credentials', client_id: 'a-all', client_secret: 'a-all-secret' } })
  t.equal(half.statusCode, 200)
  t.throws(() => JSON.parse(half.body), 'the malformed rule fires for its authenticated client')
})

t.test('ttlMs retires a rule by the mock clock', async (t) => {
  const app = await build(t)
  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, ttlMs: 60_000 })
  t.equal((await readA(app)).statusCode, 500)
  await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 60_000 } })
  t.equal((await readA(app)).statusCode, 200)
  t.same(json(await app.inject({ url: '/__mock/faults' })), [], 'pruned from the list')
})

function sequence (app: App, n: number) {
  return (async () => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await readA(app)).statusCode)
    return out
  })()
}

t.test('probability with a seed: the same seed gives the same sequence, and the rate is near p', async (t) => {
  const rule = { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, probability: 0.3, seed: 42 }
  const one = await build(t)
  const two = await build(t)
  await arm(one, rule)
  await arm(two, rule)
  const a = await sequence(one, 400)
  const b = await sequence(two, 400)
  t.same(a, b)
  const failures = a.filter((s) => s === 500).length
  t.ok(failures > 80 && failures < 160, `${failures} of 400 failed at p=0.3`)
  const three = await build(t)
  await arm(three, { ...rule, seed: 7 })
  t.not((await sequence(three, 400)).join(), a.join(), 'another seed, another sequence')
})

t.test('probability 0 never fires; without a seed one is chosen and reported', async (t) => {
  const app = await build(t)
  const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, probability: 0 })
  t.type(rule.seed, 'number')
  t.same(await sequence(app, 20), new Array(20).fill(200))
})

t.test('delayMs with jitter and a status: waits, then answers with the status', async (t) => {
  const app = await build(t)
  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 100, jitterMs: 20, status: 504 }, seed: 1 })
  const started = process.hrtime.bigint()
  const res = await readA(app)
  t.ok(Number(process.hrtime.bigint() - started) / 1e6 >= 95)
  t.equal(res.statusCode, 504)
})

t.test('a delay-only rule answers normally after the wait', async (t) => {
  const app = await build(t)
  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { delayMs: 50 } })
  const res = await readA(app)
  t.equal(res.statusCode, 200)
  t.equal(json(res).reference, 'backend')
  t.match(res.headers['x-mock-fault'], /^fault-1-/)
})

t.test('rules load from a faults file at start, as an array or {rules: [...]}', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'))
  const file = join(dir, 'faults.json')
  writeFileSync(file, JSON.stringify({ rules: [{ match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { status: 503 }, times: 1 }] }))
  const app = await build(t, { faultsFile: file })
  t.equal((await readA(app)).statusCode, 503)
  t.equal((await readA(app)).statusCode, 200)
  writeFileSync(file, JSON.stringify([{ match: { allTenants: true }, effect: { status: 500 } }]))
  const other = await build(t, { faultsFile: file })
  t.equal((await readA(other)).statusCode, 500)
})

t.test('a bad faults file stops start-up naming the file, the JSON path and the problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'))
  const write = (name: string, content: unknown) => { const f = join(dir, name); writeFileSync(f, JSON.stringify(content)); return f }
  const cases: Array<[string, unknown, RegExp]> = [
    ['shape.json', { rules: [{ match: { tenantId: TENANT_A.tenantId }, effect: { status: 418 } }] }, /shape\.json: \$\.rules\[0\]\.effect\.status: must be equal to one of the allowed values/],
    ['unknown.json', [{ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, oops: 1 }], /unknown\.json: \$\[0\]\.oops: unknown field "oops"/],
    ['rule.json', [{ match: {}, effect: { status: 500 } }], /rule\.json: \$\[0\]\.match\.tenantId: is required/],
    ['tenant.json', { rules: [{ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } }, { match: { tenantId: 'eu-west-2_Nobody00' }, effect: { status: 500 } }] }, /tenant\.json: \$\.rules\[1\]\.match\.tenantId: Unknown tenant "eu-west-2_Nobody00"/],
    ['wrapped-rule.json', { rules: [{ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } }, { match: {}, effect: { status: 500 } }] }, /wrapped-rule\.json: \$\.rules\[1\]\.match\.tenantId: is required/],
    ['wrapped-limit.json', { rules: [{ match: { tenantId: TENANT_A.tenantId, 'odd-key': 1 }, effect: { status: 500 } }] }, /wrapped-limit\.json: \$\.rules\[0\]\.match\["odd-key"\]: unknown field "odd-key"/],
    ['not-a-rule.json', { rules: [42] }, /not-a-rule\.json: \$\.rules\[0\]: must be object, got 42/],
    ['object.json', { nope: true }, /object\.json: \$: expected an array of fault rules/],
    ['null.json', null, /null\.json: \$: expected an array of fault rules/]
  ]
  for (const [name, content, message] of cases) {
    await t.rejects(buildApp(testConfig({ faultsFile: write(name, content) })), { name: 'DataFileError', kind: 'faults file', message }, name)
  }
  await t.rejects(buildApp(testConfig({ faultsFile: join(dir, 'missing.json') })), { message: /missing\.json: \$: no such file or directory/ })
})

async function rawGet (port: number, path: string, headers: Record<string, string>): Promise<{ status?: number, body?: string, error?: string }> {
  return await new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode, body }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: err.code ?? err.message }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    req.end()
  })
}

t.test('transport faults over a real socket: reset, empty, malformed and hang', async (t) => {
  uncheckedResponses(t, 'a malformed fault answers half of the JSON on purpose')
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const headers = { authorization: BASIC_A }

  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'reset' }, times: 1 })
  t.same(await rawGet(port, '/audiences/backend', headers), { error: 'ECONNRESET' }, 'reset: the connection is reset')

  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'empty' }, times: 1 })
  const empty = await rawGet(port, '/audiences/backend', headers)
  t.equal(empty.status, 200, 'empty: headers arrive')
  t.equal(empty.error, 'ECONNRESET', 'empty: then the body is cut off')

  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'malformed' }, times: 1 })
  const malformed = await rawGet(port, '/audiences/backend', headers)
  t.equal(malformed.status, 200)
  t.throws(() => JSON.parse(malformed.body ?? ''), SyntaxError, 'malformed: the JSON is truncated')
  t.match(malformed.body, /^\{"id":"aaaaaaaaaaaaaaaaaaaaaaa2"/)

  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: 'ghost' }, effect: { transport: 'malformed' }, times: 1 })
  const malformed404 = await rawGet(port, '/audiences/ghost', headers)
  t.equal(malformed404.status, 200, 'malformed turns even an error into a 200')

  await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'hang', hangMs: 300 }, times: 1 })
  const started = Date.now()
  const hang = await rawGet(port, '/audiences/backend', headers)
  t.equal(hang.error, 'ECONNRESET', 'hang: nothing comes, then the server gives up')
  t.ok(Date.now() - started >= 250)

  const journal = json(await app.inject({ url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })) as unknown as Array<Record<string, unknown>>
  t.same(journal.map((e) => [e.status, e.transport]), [[null, 'hang'], [200, 'malformed'], [200, 'malformed'], [null, 'empty'], [null, 'reset']])
})

t.test('an answered request and one a reset broke are journaled and counted alike: every field of both entries, and the status each counts under', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const headers = { authorization: BASIC_A }
  // The same request twice: short path, an undocumented query parameter, so both carry the same violations.
  const path = '/audiences/backend?colour=blue'
  const before = Date.now()
  t.equal((await rawGet(port, path, headers)).status, 200)
  const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { transport: 'reset' }, times: 1 })
  t.same(await rawGet(port, path, headers), { error: 'ECONNRESET' })
  const after = Date.now()

  const violations = [
    { location: 'path', code: 'short-path', message: 'the short form of Thrive\'s reference pages, while real clients call the same path under /rest/v1' },
    { location: 'query.colour', code: 'unknown-query-param', message: 'getAudience takes no query parameters, so Thrive ignores it' }
  ]
  const journal = json(await app.inject({ url: `/__mock/requests?tenantId=${TENANT_A.tenantId}` })) as unknown as Array<Record<string, unknown>>
  t.equal(journal.length, 2)
  const [broken, answered] = journal as [Record<string, unknown>, Record<string, unknown>]
  const common = { method: 'GET', path: '/audiences/backend', query: { colour: 'blue' }, truncated: false, tenantId: TENANT_A.tenantId, clientId: TENANT_A.tenantId, violations, violationsNotListed: 0 }
  for (const [entry, expected] of [[answered, { ...common, status: 200, fault: null, transport: null }], [broken, { ...common, status: null, fault: rule.id, transport: 'reset' }]] as const) {
    t.same(Object.keys(entry).sort(), ['clientId', 'durationMs', 'fault', 'method', 'path', 'query', 'seq', 'status', 'tenantId', 'time', 'transport', 'truncated', 'violations', 'violationsNotListed'])
    const { seq, time, durationMs, ...rest } = entry
    t.same(rest, expected)
    t.type(seq, 'number')
    t.ok(typeof durationMs === 'number' && durationMs >= 0, `durationMs ${String(durationMs)}`)
    const at = Date.parse(time as string)
    t.ok(at >= before - 1 && at <= after, `time ${String(time)} is when the request arrived`)
  }
  t.ok((broken.seq as number) > (answered.seq as number), 'the later request has the later seq')

  const coverage = json(await app.inject({ url: `/__mock/coverage?tenantId=${TENANT_A.tenantId}` })) as unknown as { requests: number, operations: Array<{ operationId: string, statuses: Array<{ status: number | null, count: number }> }>, violations: Array<{ code: string, count: number }> }
  t.equal(coverage.requests, 2)
  const getAudience = coverage.operations.find((o) => o.operationId === 'getAudience')
  t.same(getAudience?.statuses.filter((s) => s.count > 0), [{ status: 200, documented: true, count: 1 }, { status: null, documented: false, count: 1 }])
  t.same(coverage.violations.map((v) => [v.code, v.count]), [['short-path', 2], ['unknown-query-param', 2]])
})

t.test('a client that gives up on a hang frees it; closing the server ends hangs and delays at once', async (t) => {
  const app = await buildApp(testConfig())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: 'backend' }, effect: { transport: 'hang' } })
  await arm(app, { match: { tenantId: TENANT_A.tenantId, audienceId: 'shared' }, effect: { delayMs: 60_000 } })
  const gaveUp = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/audiences/backend', headers: { authorization: BASIC_A }, agent: false, timeout: 100 })
    req.on('timeout', () => { req.destroy(); resolve('client timeout') })
    req.on('error', () => {})
    req.end()
  })
  t.equal(gaveUp, 'client timeout')
  const hung = rawGet(port, '/audiences/backend', { authorization: BASIC_A })
  const delayed = rawGet(port, '/audiences/shared', { authorization: BASIC_A })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const closing = Date.now()
  await app.close()
  t.ok(Date.now() - closing < 10_000, 'close did not wait for the 60 s delay or the 300 s hang')
  t.same(await hung, { error: 'ECONNRESET' })
  t.equal((await delayed).status, 200, 'the delayed request was answered, not dropped')
})

t.test('eight concurrent suites, each on its own tenant, arming and clearing their own faults, see no cross-talk', async (t) => {
  const tenants = Array.from({ length: 8 }, (_, i) => ({ tenantId: `eu-west-2_Suite00${i}`, apiSecret: `suite-secret-${i}`, structures: [{ name: `S${i}`, reference: 'shared-ref' }] }))
  const app = await build(t, { fixtures: [{ name: 'suites', data: { tenants } }] })
  const results = await Promise.all(tenants.map(async (tenant, i) => {
    const auth = { authorization: basic(tenant.tenantId, tenant.apiSecret) }
    const seen: number[] = []
    for (let round = 0; round < 5; round++) {
      const status = [500, 503, 429, 404, 409][(i + round) % 5] as number
      const rule = json(await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: tenant.tenantId }, effect: { status }, times: 2 } }))
      for (let k = 0; k < 3; k++) {
        const res = await app.inject({ url: '/audiences/shared-ref', headers: auth })
        seen.push(res.statusCode)
        if (res.statusCode === 200 && json(res).name !== `S${i}`) seen.push(-1)
      }
      seen.push((await app.inject({ method: 'DELETE', url: `/__mock/faults/${String(rule.id)}` })).statusCode)
      await app.inject({ method: 'DELETE', url: `/__mock/faults?tenantId=${tenant.tenantId}` })
      seen.push(-status)
    }
    return seen
  }))
  results.forEach((seen, i) => {
    const expected: number[] = []
    for (let round = 0; round < 5; round++) {
      const status = [500, 503, 429, 404, 409][(i + round) % 5] as number
      expected.push(status, status, 200, 404, -status)
    }
    t.same(seen, expected, `suite ${i} saw only its own faults`)
  })
})

t.test('rules for every tenant: route-only matching, audience rules skip token requests, times and TTL retire them', async (t) => {
  const app = await build(t)
  await arm(app, { match: { allTenants: true, route: 'getAccessToken' }, effect: { status: 500 }, times: 1 })
  t.equal((await readA(app)).statusCode, 200, 'another operation')
  t.equal((await tokenA(app)).statusCode, 500)
  t.equal((await tokenA(app)).statusCode, 200, 'retired after one fire')

  await arm(app, { match: { allTenants: true, audienceId: 'ghost' }, effect: { status: 409 } })
  t.equal((await tokenA(app)).statusCode, 200, 'a token request is about no audience')
  t.equal((await readA(app, 'ghost')).statusCode, 409, 'an unknown reference matches by name in every tenant')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  await arm(app, { match: { allTenants: true }, effect: { status: 500 }, ttlMs: 1000 })
  await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 1000 } })
  t.same(json(await app.inject({ url: '/__mock/faults' })), [], 'expired global rules are pruned')
  t.same(json(await app.inject({ url: `/__mock/faults?tenantId=${TENANT_A.tenantId}` })), [], 'a tenant with no rules lists none')
})

t.test('the engine refuses to arm a rule that fails its own checks, whoever calls it', async (t) => {
  const app = await build(t)
  t.throws(() => app.faults.add({ match: {}, effect: { status: 500 } }), { name: 'FaultRuleError', field: 'match.tenantId', problem: /is required/ })
  t.same(app.faults.list(), [])
})

t.test('every way of arming a rule applies the same checks: HTTP, app.faults.add, the library and the faults file', async (t) => {
  const app = await build(t)
  const tenantId = TENANT_A.tenantId
  const bad: Array<[string, unknown, string, RegExp]> = [
    ['status 418', { match: { tenantId }, effect: { status: 418 } }, 'effect.status', /must be equal to one of the allowed values/],
    ['status 200', { match: { tenantId }, effect: { status: 200 } }, 'effect.status', /must be equal to one of the allowed values/],
    ['times 0', { match: { tenantId }, effect: { status: 500 }, times: 0 }, 'times', /must be >= 1/],
    ['times -1', { match: { tenantId }, effect: { status: 500 }, times: -1 }, 'times', /must be >= 1/],
    ['probability 7', { match: { tenantId }, effect: { status: 500 }, probability: 7 }, 'probability', /must be <= 1/],
    ['an unknown field', { match: { tenantId }, effect: { status: 500 }, colour: 'red' }, 'colour', /unknown field "colour"/],
    ['an unknown match field', { match: { tenantId, host: 'x' }, effect: { status: 500 } }, 'match.host', /unknown field "host"/],
    ['an unknown field that is no identifier', { match: { tenantId }, effect: { status: 500 }, 'the-colour': 'red' }, '["the-colour"]', /unknown field "the-colour"/],
    ['transport "explode"', { match: { tenantId }, effect: { transport: 'explode' } }, 'effect.transport', /must be equal to one of the allowed values/],
    ['not an object', 'a rule', 'rule', /must be object/]
  ]
  for (const [name, rule, field, problem] of bad) {
    t.throws(() => app.faults.add(rule as never), { name: 'FaultRuleError', field, problem }, `app.faults.add: ${name}`)
    const res = await app.inject({ method: 'POST', url: '/__mock/faults', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rule) })
    t.equal(res.statusCode, 400, `HTTP: ${name}`)
    t.equal(json(res).error, 'Bad Request')
  }
  t.same(app.faults.list(), [], 'nothing was armed')
  t.equal((await readA(app)).statusCode, 200, 'and requests are served as usual')
})

t.test('rules fire in arming order, whether they name the tenant or every tenant (README "Order")', async (t) => {
  const app = await build(t)
  const first = await arm(app, { match: { allTenants: true }, effect: { status: 500 }, times: 1 })
  const second = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 503 }, times: 1 })
  const third = await arm(app, { match: { allTenants: true }, effect: { status: 429 }, times: 1 })
  const fourth = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 409 }, times: 1 })
  const seen = []
  for (let i = 0; i < 5; i++) {
    const res = await readA(app)
    seen.push([res.statusCode, res.headers['x-mock-fault']])
  }
  t.same(seen, [[500, first.id], [503, second.id], [429, third.id], [409, fourth.id], [200, undefined]])
})

t.test('match.path compares the percent-decoded path without a trailing slash, as the router reads it', async (t) => {
  const app = await build(t)
  const cases: Array<[string, string, string]> = [
    ['an encoded slash', '/rest/v1/audiences/sales/emea', '/rest/v1/audiences/sales%2Femea'],
    ['an encoded letter', '/rest/v1/audiences/backend', '/rest/v1/audiences/%62ackend'],
    ['a trailing slash', '/rest/v1/audiences/backend', '/rest/v1/audiences/backend/'],
    ['a rule written encoded, the request in lower-case hex', '/rest/v1/audiences/sales%2Femea', '/rest/v1/audiences/sales%2femea'],
    ['an encoded space and accent', '/audiences/équipe', '/audiences/%C3%A9quipe'],
    ['a prefix', '/rest/v1/audiences/sales/*', '/rest/v1/audiences/sales%2Femea'],
    ['an encoded prefix', '/rest/v1/audiences/with%20*', '/rest/v1/audiences/with%20space']
  ]
  for (const [name, path, url] of cases) {
    const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId, path }, effect: { status: 503 }, times: 1 })
    const res = await app.inject({ url, headers: { authorization: BASIC_A } })
    t.equal(res.statusCode, 503, `${name}: ${path} matches ${url}`)
    t.equal(res.headers['x-mock-fault'], rule.id, name)
  }
  t.same(app.faults.list(), [], 'each rule fired')
  await arm(app, { match: { tenantId: TENANT_A.tenantId, path: '/rest/v1/audiences/back*' }, effect: { status: 503 } })
  await arm(app, { match: { tenantId: TENANT_A.tenantId, path: '/rest/v1/audiences/with space/' }, effect: { status: 503 } })
  t.equal((await app.inject({ url: '/rest/v1/audiences/with%20space', headers: { authorization: BASIC_A } })).statusCode, 503, 'a rule\'s own trailing slash is dropped too')
  t.equal((await app.inject({ url: '/audiences/backend', headers: { authorization: BASIC_A } })).statusCode, 200, 'the short path is another path')
  await arm(app, { match: { tenantId: TENANT_A.tenantId, path: '/rest/v1/audiences/sales/*' }, effect: { status: 500 } })
  t.equal((await app.inject({ url: '/rest/v1/audiences/sales', headers: { authorization: BASIC_A } })).statusCode, 404, 'a prefix keeps its slash: /sales/* does not match /sales')
})

t.test('a Prefer header wins over armed rules: they are not consulted, nor used up (README "Prefer and rules")', async (t) => {
  const app = await build(t)
  const rule = await arm(app, { match: { tenantId: TENANT_A.tenantId }, effect: { status: 503 }, times: 1 })
  const withPrefer = await readA(app, 'backend', { prefer: 'delay=1' })
  t.equal(withPrefer.statusCode, 200, 'a delay-only Prefer answers normally')
  t.equal(withPrefer.headers['x-mock-fault'], 'prefer')
  const withCode = await readA(app, 'backend', { prefer: 'code=429' })
  t.equal(withCode.statusCode, 429)
  t.equal(withCode.headers['x-mock-fault'], 'prefer')
  t.match(json(await app.inject({ url: `/__mock/faults/${rule.id as string}` })), { fired: 0, remaining: 1 }, 'the rule is still armed')
  const plain = await readA(app)
  t.equal(plain.statusCode, 503, 'the next request without Prefer meets it')
  t.equal(plain.headers['x-mock-fault'], rule.id)
})

t.test('rules past their TTL leave room under both caps: arming forgets them before it counts (README, Caps)', async (t) => {
  const app = await build(t)
  const ruleFor = (tenantId: string) => ({ method: 'POST' as const, url: '/__mock/faults', payload: { match: { tenantId }, effect: { status: 500 } } })
  const cases: Array<[string, (i: number) => Parameters<App['faults']['add']>[0]]> = [
    ['per tenant', (i) => ({ match: { tenantId: TENANT_A.tenantId, audienceId: `never-${i}` }, effect: { status: 500 }, ttlMs: 1000 })],
    ['in all', (i) => ({ match: { allTenants: true, audienceId: `never-${i}` }, effect: { status: 500 }, ttlMs: 1000 })]
  ]
  for (const [cap, rule] of cases) {
    const limit = cap === 'per tenant' ? RULE_LIMITS.perTenant : RULE_LIMITS.total
    for (let i = 0; i < limit; i++) app.faults.add(rule(i))
    t.equal((await app.inject(ruleFor(TENANT_A.tenantId))).statusCode, 409, `${cap}: live rules count`)
    t.equal((await app.inject({ method: 'POST', url: '/__mock/clock', payload: { advanceMs: 1001 } })).statusCode, 200)
    const res = await app.inject(ruleFor(TENANT_A.tenantId))
    t.equal(res.statusCode, 201, `${cap}: once they expired, one more is armed`)
    t.same((json(await app.inject({ url: '/__mock/faults' })) as unknown as Array<{ id: string }>).map((r) => r.id), [json(res).id], `${cap}: and only it is listed`)
    await app.inject({ method: 'POST', url: '/__mock/reset', payload: {} })
  }
})

t.test('armed rules are capped per tenant and in all, and every string in a rule is bounded (SECURITY.md)', async (t) => {
  const app = await build(t)
  for (let i = 0; i < RULE_LIMITS.perTenant; i++) app.faults.add({ match: { tenantId: TENANT_A.tenantId, audienceId: `never-${i}` }, effect: { status: 500 } })
  const over = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } } })
  t.equal(over.statusCode, 409)
  t.same(json(over), { status: 409, error: 'Conflict', message: `Too many fault rules: tenant "${TENANT_A.tenantId}" already has ${RULE_LIMITS.perTenant} armed fault rules, the most one tenant may have: remove some first (DELETE /__mock/faults?tenantId=…)` })
  t.throws(() => app.faults.add({ match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 } }), { name: 'FaultLimitError' }, 'the library path refuses it too')
  t.equal((await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_B.tenantId }, effect: { status: 500 }, times: 1 } })).statusCode, 201, 'another tenant still has room')
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })
  for (let i = 0; i < RULE_LIMITS.total; i++) app.faults.add({ match: { allTenants: true, audienceId: `never-${i}` }, effect: { status: 500 } })
  const full = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_B.tenantId }, effect: { status: 500 } } })
  t.equal(full.statusCode, 409)
  t.equal(json(full).message, `Too many fault rules: ${RULE_LIMITS.total} fault rules are armed, the most this server holds: remove some first (DELETE /__mock/faults)`)
  t.equal(app.faults.list().length, RULE_LIMITS.total)
  await app.inject({ method: 'DELETE', url: '/__mock/faults' })

  const long: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['tenantId', { tenantId: 'x'.repeat(RULE_LIMITS.tenantId + 1) }, {}],
    ['clientId', { tenantId: TENANT_A.tenantId, clientId: 'x'.repeat(RULE_LIMITS.clientId + 1) }, {}],
    ['method', { tenantId: TENANT_A.tenantId, method: 'G'.repeat(RULE_LIMITS.method + 1) }, {}],
    ['path', { tenantId: TENANT_A.tenantId, path: `/${'x'.repeat(RULE_LIMITS.path)}` }, {}],
    ['audienceId', { tenantId: TENANT_A.tenantId, audienceId: 'x'.repeat(RULE_LIMITS.audienceId + 1) }, {}],
    ['message', { tenantId: TENANT_A.tenantId }, { message: 'x'.repeat(RULE_LIMITS.message + 1) }]
  ]
  for (const [field, match, effect] of long) {
    const res = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match, effect: { status: 500, ...effect } } })
    t.equal(res.statusCode, 400, `${field} over its cap`)
    t.match(json(res).message, /must NOT have more than \d+ characters/, field)
  }
  const name = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId }, effect: { status: 500 }, name: 'x'.repeat(RULE_LIMITS.name + 1) } })
  t.equal(name.statusCode, 400, 'name over its cap')
  const atCaps = await app.inject({ method: 'POST', url: '/__mock/faults', payload: { match: { tenantId: TENANT_A.tenantId, clientId: 'c'.repeat(RULE_LIMITS.clientId), method: 'G'.repeat(RULE_LIMITS.method), path: `/${'p'.repeat(RULE_LIMITS.path - 1)}`, audienceId: 'a'.repeat(RULE_LIMITS.audienceId) }, effect: { status: 500, message: 'm'.repeat(RULE_LIMITS.message) }, name: 'n'.repeat(RULE_LIMITS.name) } })
  t.equal(atCaps.statusCode, 201, 'every string at its cap is accepted')
})
