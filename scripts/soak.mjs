#!/usr/bin/env node
// npm run soak: tenant isolation under load, then minutes of mixed traffic at 50 connections, with RSS, journal and slow-client figures.
import http from 'node:http'
import net from 'node:net'
import { parseArgs } from 'node:util'
import { FAULT_STATUSES } from '../dist/schemas/statuses.js'
import { basic, BASIC_A, CLIENTS, HOST, startServer, TENANT_A, TENANT_B } from './fuzz.mjs'

const USAGE = `Usage: npm run soak -- [options]   (npm run soak builds first; node scripts/soak.mjs needs a build)

  --duration <s>            Seconds of mixed traffic (default 300)
  --connections <n>         Concurrent keep-alive connections for mixed traffic (default 50)
  --isolation-seconds <s>   Seconds of the isolation phase (default 30; 0 skips it)
  --isolation-tenants <n>   Concurrent clients, one tenant each (default 8)
  --sample-seconds <s>      RSS sampling interval (default 5)
  --slow-clients <n>        Slow-loris connections opened during the soak, to time their cut-off (default 10)
  --log-level <level>       The server's log level (default warn)
  --json                    Print the summary as one JSON line
  --help                    Show this help`

/** One request over a keep-alive agent; never rejects. */
function send (agent, port, { method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const h = { ...headers, ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload), 'content-type': headers['content-type'] ?? 'application/json' }) }
    const req = http.request({ host: HOST, port, method, path, headers: h, agent }, (res) => {
      const chunks = []
      res.on('data', (d) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', (err) => resolve({ error: err.code ?? err.message }))
    })
    req.setTimeout(30_000, () => req.destroy(new Error('client timeout')))
    req.on('error', (err) => resolve({ error: err.code ?? err.message }))
    req.end(payload)
  })
}

const parse = (res) => { try { return JSON.parse(res.body) } catch { return undefined } }

/** Least-squares slope of y over x. */
function slope (points) {
  const n = points.length
  if (n < 2) return NaN
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0)
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

// -------------------------------------------------------------------------------------------------------------
// Isolation: N clients on N tenants arm, fire and clear their own rules; every answer must be their own prediction.
// -------------------------------------------------------------------------------------------------------------

async function isolation (seconds, tenants) {
  const suites = Array.from({ length: tenants }, (_, i) => ({ tenantId: `eu-west-2_Iso${String(i).padStart(3, '0')}x`, apiSecret: `iso-secret-${i}-${'k'.repeat(8)}` }))
  const server = await startServer({ extraTenants: suites })
  const until = Date.now() + seconds * 1000
  const results = await Promise.all(suites.map(async (suite, i) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const auth = { authorization: basic(suite.tenantId, suite.apiSecret) }
    const stats = { requests: 0, mismatches: 0, rounds: 0, examples: [] }
    const expect = (what, res, ok) => {
      stats.requests++
      if (!ok) {
        stats.mismatches++
        if (stats.examples.length < 5) stats.examples.push(`${what}: got ${res.status ?? res.error} ${String(res.body ?? '').slice(0, 120)}`)
      }
    }
    const read = (path = '/audiences/shared-ref', headers = {}) => send(agent, server.port, { path, headers: { ...auth, ...headers } })
    const tokenReq = (headers = {}) => send(agent, server.port, { method: 'POST', path: `/oauth2/token/${suite.tenantId}`, headers, body: { grant_type: 'client_credentials', client_id: suite.tenantId, client_secret: suite.apiSecret } })
    let round = 0
    while (Date.now() < until) {
      round++
      const status = FAULT_STATUSES[(i + round) % FAULT_STATUSES.length]
      const times = 1 + ((i + round) % 3)
      const kind = round % 4
      const match = kind === 0 ? { tenantId: suite.tenantId } : kind === 1 ? { tenantId: suite.tenantId, audienceId: 'shared-ref' } : kind === 2 ? { tenantId: suite.tenantId, route: 'getAccessToken' } : { tenantId: suite.tenantId, method: 'GET', path: '/rest/v1/*' }
      const armed = await send(agent, server.port, { method: 'POST', path: '/__mock/faults', body: { match, effect: { status }, times, name: `suite ${i} round ${round}` } })
      expect('arm', armed, armed.status === 201)
      const rule = parse(armed)
      for (let k = 0; k < times + 1; k++) {
        // Predict from this tenant's rule alone: it fires `times` times on what it matches, then retires.
        const firing = k < times
        if (kind === 2) {
          const res = await tokenReq()
          expect(`token #${k}`, res, res.status === (firing ? status : 200) && (firing ? res.headers['x-mock-fault'] === rule?.id : parse(res)?.token_type === 'Bearer'))
          const other = await read()
          expect('read beside a token rule', other, other.status === 200 && parse(other)?.name === `Suite ${i}`)
        } else {
          const path = kind === 3 ? '/rest/v1/audiences/shared-ref' : '/audiences/shared-ref'
          const res = await read(path)
          expect(`read #${k}`, res, res.status === (firing ? status : 200) && (firing ? res.headers['x-mock-fault'] === rule?.id : parse(res)?.name === `Suite ${i}`))
          if (kind === 3) {
            const untouched = await read('/audiences/shared-ref')
            expect('short path beside a /rest/v1 rule', untouched, untouched.status === 200)
          }
          if (kind === 1) {
            const unknown = await read('/audiences/not-here')
            expect('another audience beside an audience rule', unknown, unknown.status === 404)
          }
        }
      }
      const prefer = await read('/audiences/shared-ref', { prefer: `code=${status}` })
      expect('prefer', prefer, prefer.status === status && prefer.headers['x-mock-fault'] === 'prefer')
      // A rule that never fires (times high), removed by id; then everything of this tenant cleared.
      const extra = await send(agent, server.port, { method: 'POST', path: '/__mock/faults', body: { match: { tenantId: suite.tenantId, audienceId: 'never-read' }, effect: { status: 500 }, times: 1000 } })
      expect('arm extra', extra, extra.status === 201)
      const removed = await send(agent, server.port, { method: 'DELETE', path: `/__mock/faults/${parse(extra)?.id}` })
      expect('remove by id', removed, removed.status === 204)
      const listed = await send(agent, server.port, { path: `/__mock/faults?tenantId=${suite.tenantId}` })
      expect('own rules listed', listed, listed.status === 200 && Array.isArray(parse(listed)) && parse(listed).length === 0)
      const cleared = await send(agent, server.port, { method: 'DELETE', path: `/__mock/faults?tenantId=${suite.tenantId}` })
      expect('clear own', cleared, cleared.status === 200 && parse(cleared)?.removed === 0)
      const after = await read()
      expect('read after clear', after, after.status === 200 && parse(after)?.name === `Suite ${i}`)
      stats.rounds = round
    }
    const journal = await send(agent, server.port, { path: `/__mock/requests?tenantId=${suite.tenantId}&limit=50` })
    const foreign = (parse(journal) ?? []).filter((e) => e.tenantId !== suite.tenantId).length
    expect('own journal', journal, journal.status === 200 && foreign === 0)
    agent.destroy()
    return stats
  }))
  const exit = await server.stop('SIGTERM')
  return {
    seconds,
    tenants,
    requests: results.reduce((s, r) => s + r.requests, 0),
    rounds: results.reduce((s, r) => s + r.rounds, 0),
    mismatches: results.reduce((s, r) => s + r.mismatches, 0),
    perTenant: results.map((r) => ({ requests: r.requests, mismatches: r.mismatches })),
    examples: results.flatMap((r, i) => r.examples.map((e) => `tenant ${i}: ${e}`)).slice(0, 10),
    exitCode: exit.code
  }
}

// -------------------------------------------------------------------------------------------------------------
// Mixed soak: Basic, Bearer, 404s, faults and token requests at N connections; RSS, journal and slow clients watched.
// -------------------------------------------------------------------------------------------------------------

/** A connection that sends a request's headers one byte a second, and reports when the server cut it off. */
function slowLoris (port) {
  return new Promise((resolve) => {
    const started = Date.now()
    const socket = net.connect(port, HOST)
    const text = `GET /__mock/health HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: ${'y'.repeat(10_000)}`
    let i = 0
    let got = ''
    const timer = setInterval(() => { if (!socket.destroyed) socket.write(text[i++] ?? 'y') }, 1000)
    socket.on('data', (d) => { got += d.toString() })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ seconds: (Date.now() - started) / 1000, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), bytesSent: i })
    })
  })
}

async function mixed ({ seconds, connections, sampleSeconds, slowClients, logLevel }) {
  const server = await startServer({ logLevel })
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const port = server.port
  const tokenFor = async (clientId, clientSecret) => parse(await send(agent, port, { method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } }))?.access_token
  const reader = CLIENTS.find((c) => c.clientId === 'a-reader')
  let token = await tokenFor(reader.clientId, reader.clientSecret)

  const tally = { requests: 0, unexpected: 0, byKind: {}, statuses: {}, examples: [] }
  const mix = [
    ['basic-read', 20, () => ({ path: '/rest/v1/audiences/backend', headers: { authorization: BASIC_A } }), (r) => r.status === 200 && parse(r)?.reference === 'backend'],
    ['bearer-read', 20, () => ({ path: '/audiences/shared', headers: { authorization: `Bearer ${token}` } }), (r) => r.status === 200 && parse(r)?.reference === 'shared'],
    ['basic-404', 8, () => ({ path: `/rest/v1/audiences/missing-${tally.requests % 1000}`, headers: { authorization: BASIC_A } }), (r) => r.status === 404 && parse(r)?.status === 404],
    ['route-404', 4, () => ({ path: `/rest/v1/nothing/${tally.requests % 100}`, headers: { authorization: BASIC_A } }), (r) => r.status === 404],
    ['bad-credentials', 6, () => ({ path: '/audiences/backend', headers: { authorization: basic(TENANT_A.tenantId, 'wrong') } }), (r) => r.status === 401 && r.headers['www-authenticate'] !== undefined],
    ['other-tenant', 4, () => ({ path: '/audiences/backend', headers: { authorization: basic(TENANT_B.tenantId, TENANT_B.apiSecret) } }), (r) => r.status === 404],
    ['prefer-503', 5, () => ({ path: '/audiences/backend', headers: { authorization: BASIC_A, prefer: 'code=503' } }), (r) => r.status === 503 && r.headers['retry-after'] === '1' && parse(r)?.status === 503],
    ['prefer-429', 3, () => ({ path: '/audiences/backend', headers: { authorization: BASIC_A, prefer: 'code=429' } }), (r) => r.status === 429],
    ['prefer-delay', 3, () => ({ path: '/audiences/backend', headers: { authorization: BASIC_A, prefer: 'delay=20' } }), (r) => r.status === 200],
    ['token-post', 8, () => ({ method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=a-reader&client_secret=${reader.clientSecret}` }), (r) => r.status === 200 && parse(r)?.token_type === 'Bearer'],
    ['token-basic', 5, () => ({ method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: { authorization: basic('a-all', 'fuzz-a-all-secret'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api%2Fall' }), (r) => r.status === 200 && parse(r)?.scope === 'api/all'],
    ['token-bad', 4, () => ({ method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, body: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: 'nope' } }), (r) => r.status === 401 && parse(r)?.error === 'invalid_client'],
    ['token-prefer-500', 2, () => ({ method: 'POST', path: `/oauth2/token/${TENANT_A.tenantId}`, headers: { prefer: 'code=500' }, body: { grant_type: 'client_credentials', client_id: 'a-reader', client_secret: reader.clientSecret } }), (r) => r.status === 500 && parse(r)?.error === 'server_error'],
    ['health', 2, () => ({ path: '/__mock/health' }), (r) => r.status === 200]
  ]
  const wheel = mix.flatMap((m) => Array(m[1]).fill(m))
  const rss = []
  const journalSizes = []
  const started = Date.now()
  const until = started + seconds * 1000
  const sample = () => rss.push({ x: (Date.now() - started) / 60_000, y: server.rssMB() })
  sample()
  const sampler = setInterval(sample, sampleSeconds * 1000)
  // Tokens are renewed every 10 s, as a client would before they expire; the bearer reads keep working throughout.
  const renew = setInterval(async () => { token = await tokenFor(reader.clientId, reader.clientSecret) ?? token }, 10_000)
  // Armed rules on tenant B's audience-less route, fired and retired continuously by one worker.
  const faultsLoop = (async () => {
    const control = new http.Agent({ keepAlive: true, maxSockets: 1 })
    let cycles = 0
    while (Date.now() < until) {
      const armed = await send(control, port, { method: 'POST', path: '/__mock/faults', body: { match: { tenantId: TENANT_B.tenantId, audienceId: 'shared' }, effect: { status: 502 }, times: 2 } })
      const fire = [await send(control, port, { path: '/audiences/shared', headers: { authorization: basic(TENANT_B.tenantId, TENANT_B.apiSecret) } }), await send(control, port, { path: '/audiences/shared', headers: { authorization: basic(TENANT_B.tenantId, TENANT_B.apiSecret) } })]
      const after = await send(control, port, { path: '/audiences/shared', headers: { authorization: basic(TENANT_B.tenantId, TENANT_B.apiSecret) } })
      const ok = armed.status === 201 && fire.every((r) => r.status === 502) && after.status === 200
      tally.requests += 4
      tally.byKind['armed-rule'] = (tally.byKind['armed-rule'] ?? 0) + 4
      if (!ok) { tally.unexpected++; if (tally.examples.length < 10) tally.examples.push(`armed-rule: ${armed.status} ${fire.map((r) => r.status)} ${after.status}`) }
      // The journal keeps a ring per tenant and a 100-entry one for requests with no tenant: each must hold to its bound.
      const perTenant = new Map()
      for (const e of parse(await send(control, port, { path: '/__mock/requests' })) ?? []) perTenant.set(e.tenantId, (perTenant.get(e.tenantId) ?? 0) + 1)
      journalSizes.push({ tenant: Math.max(0, ...[...perTenant].filter(([id]) => id !== null).map(([, n]) => n)), anonymous: perTenant.get(null) ?? 0 })
      cycles++
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    control.destroy()
    return cycles
  })()
  const lorises = Array.from({ length: slowClients }, () => slowLoris(port))

  let pick = 0
  const worker = async () => {
    while (Date.now() < until) {
      const [kind, , make, ok] = wheel[pick++ % wheel.length]
      const res = await send(agent, port, make())
      tally.requests++
      tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1
      const key = res.status ?? res.error
      tally.statuses[key] = (tally.statuses[key] ?? 0) + 1
      if (!ok(res)) {
        tally.unexpected++
        if (tally.examples.length < 10) tally.examples.push(`${kind}: ${res.status ?? res.error} ${String(res.body ?? '').slice(0, 120)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  const faultCycles = await faultsLoop
  clearInterval(sampler)
  clearInterval(renew)
  sample()
  // The deadline is cleared once the slow clients are done: a pending timer would keep the process alive for its full 120 s.
  let deadline
  const slow = await Promise.race([Promise.all(lorises), new Promise((resolve) => { deadline = setTimeout(() => resolve(null), 120_000) })])
  clearTimeout(deadline)
  const health = await send(agent, port, { path: '/__mock/health' })
  agent.destroy()
  const exit = await server.stop('SIGTERM')
  const warm = rss.filter((p) => p.x >= 0.5)
  // The lowest reading of each minute: after a collection, so the trend of these is the trend of live memory.
  const byMinute = new Map()
  for (const p of warm) byMinute.set(Math.floor(p.x), [...(byMinute.get(Math.floor(p.x)) ?? []), p])
  const troughs = [...byMinute.values()].map((group) => group.reduce((a, b) => (b.y < a.y ? b : a)))
  return {
    seconds,
    connections,
    requests: tally.requests,
    requestsPerSecond: Math.round(tally.requests / seconds),
    unexpected: tally.unexpected,
    examples: tally.examples,
    byKind: tally.byKind,
    statuses: tally.statuses,
    faultCycles,
    rss: {
      samples: rss.length,
      startMB: Math.round(rss[0]?.y ?? NaN),
      peakMB: Math.round(Math.max(...rss.map((p) => p.y))),
      endMB: Math.round(rss.at(-1)?.y ?? NaN),
      slopeMBPerMin: Math.round(slope(rss) * 100) / 100,
      slopeAfterWarmupMBPerMin: Math.round(slope(warm) * 100) / 100,
      minuteTroughsMB: troughs.map((p) => Math.round(p.y)),
      troughSlopeMBPerMin: Math.round(slope(troughs) * 100) / 100
    },
    journal: { maxPerTenant: Math.max(0, ...journalSizes.map((j) => j.tenant)), maxAnonymous: Math.max(0, ...journalSizes.map((j) => j.anonymous)), samples: journalSizes.length },
    slowClients: slow === null ? { count: slowClients, cutOff: 'not within 120 s of the end' } : { count: slow.length, maxSeconds: Math.max(0, ...slow.map((s) => s.seconds)), statuses: [...new Set(slow.map((s) => s.status))] },
    healthyAfter: health.status === 200,
    exitCode: exit.code,
    rssSeries: rss.map((p) => [Math.round(p.x * 600) / 10, Math.round(p.y)])
  }
}

async function main () {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      'isolation-seconds': { type: 'string' },
      'isolation-tenants': { type: 'string' },
      'sample-seconds': { type: 'string' },
      'slow-clients': { type: 'string' },
      'log-level': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const num = (name, fallback, min) => {
    const v = values[name]
    if (v === undefined) return fallback
    if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < min) throw new Error(`--${name} must be a number >= ${min}, got "${v}"`)
    return Number(v)
  }
  const log = values.json ? () => {} : (line) => console.log(line)
  const isoSeconds = num('isolation-seconds', 30, 0)
  const isoTenants = num('isolation-tenants', 8, 1)
  let iso = null
  if (isoSeconds > 0) {
    log(`isolation: ${isoTenants} clients on ${isoTenants} tenants for ${isoSeconds} s`)
    iso = await isolation(isoSeconds, isoTenants)
    log(`isolation ${iso.mismatches === 0 ? 'PASSED' : 'FAILED'}: ${iso.tenants} tenants, ${iso.rounds} rounds, ${iso.requests} requests, ${iso.mismatches} answers differed from the tenant's own rules`)
    for (const e of iso.examples) log(`  ${e}`)
  }
  const opts = { seconds: num('duration', 300, 1), connections: num('connections', 50, 1), sampleSeconds: num('sample-seconds', 5, 1), slowClients: num('slow-clients', 10, 0), logLevel: values['log-level'] ?? 'warn' }
  log(`soak: ${opts.seconds} s of mixed traffic at ${opts.connections} connections, RSS every ${opts.sampleSeconds} s, ${opts.slowClients} slow clients`)
  const soak = await mixed(opts)
  const ok = (iso === null || (iso.mismatches === 0 && iso.exitCode === 0)) && soak.unexpected === 0 && soak.healthyAfter && soak.exitCode === 0 && soak.journal.maxPerTenant <= 1000 && soak.journal.maxAnonymous <= 100
  if (values.json) {
    console.log(JSON.stringify({ ok, isolation: iso, soak }))
  } else {
    for (const e of soak.examples) log(`  ${e}`)
    log(`  by kind ${JSON.stringify(soak.byKind)}`)
    log(`  statuses ${JSON.stringify(soak.statuses)}`)
    log(`  rss (s, MB) ${JSON.stringify(soak.rssSeries)}`)
    log(`  slow clients ${JSON.stringify(soak.slowClients)}`)
    log(`soak ${ok ? 'PASSED' : 'FAILED'}: ${soak.seconds} s, ${soak.connections} connections, ${soak.requests} requests (${soak.requestsPerSecond}/s), unexpected=${soak.unexpected}, rssMB=${soak.rss.startMB}->${soak.rss.endMB} (peak ${soak.rss.peakMB}), slope=${soak.rss.slopeMBPerMin} MB/min (after 30 s warm-up: ${soak.rss.slopeAfterWarmupMBPerMin} MB/min; per-minute lows ${soak.rss.minuteTroughsMB.join(', ')}: ${soak.rss.troughSlopeMBPerMin} MB/min), journal<=${soak.journal.maxPerTenant} per tenant, <=${soak.journal.maxAnonymous} without one, healthyAfter=${soak.healthyAfter}, exit=${soak.exitCode}`)
  }
  return ok ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err) => { console.error(`soak: ${err.stack ?? err.message}`); process.exitCode = 2 })
