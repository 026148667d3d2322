#!/usr/bin/env node
// npm run bench:peers: the mock next to the tools used in its place, WireMock and Prism, on the same endpoint, each as
// a ratio to a bare Fastify 5 route measured just before it in the same run. The peers are not dependencies of the
// project: they are installed with npm on first use into a cache directory, and one that cannot be had is skipped.
// Servers run pinned to core 0, autocannon to core 1, on 127.0.0.1 only; every wait has a timeout.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import {
  ACME, AUDIENCES_PATH, BARE, CLIENT_HEADERS, CORES, HAS_TASKSET, HOST, READ_PATH, ROOT, agent, basic, cpuSeconds, fmt, freePort,
  kfmt, killAll, killChildrenOnExit, packageCli, pinned, positive, printTable, request, rssBytes, runLoads, sleep, stats,
  stopServer, track
} from './common.mjs'

const PEERS = ['wiremock', 'wiremock-no-journal', 'prism']
const CACHE = join(ROOT, 'node_modules', '.cache', 'thrive-bench-peers')

const USAGE = `Usage: npm run bench:peers -- [options]

  --duration <s>         Seconds of load per measurement (default 2)
  --warmup <s>           Seconds of unmeasured load before each measurement (default 1)
  --initial-warmup <s>   Seconds of unmeasured load for every server once, before the first round (default 10):
                         the JVM compiles WireMock's hot path only after several seconds of load
  --runs <n>             Rounds; req/s and p99 are the median of the rounds, with min-max (default 3)
  --connections <n>      Concurrent connections (default 50)
  --only <peers>         Comma-separated subset of: ${PEERS.join(', ')} (default: all);
                         the mock and bare Fastify are always measured
  --json <file>          Also write every raw measurement to this file
  --help                 Show this help

The peers are installed with npm on first use into ${relative(ROOT, CACHE)} and reused after;
WireMock also needs Java 11 or later ($JAVA_HOME/bin/java, or java on the PATH). A peer that cannot be had is skipped.`

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'initial-warmup': { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})
if (flags.help) {
  console.log(USAGE)
  process.exit(0)
}

const settings = {
  duration: positive('duration', flags.duration, 2, { min: 0.1 }),
  warmup: positive('warmup', flags.warmup, 1),
  initialWarmup: positive('initial-warmup', flags['initial-warmup'], 10),
  runs: positive('runs', flags.runs, 3, { integer: true, min: 1 }),
  connections: positive('connections', flags.connections, 50, { integer: true, min: 1 }),
  // As npm run bench measures the mock: a log line per request would be measuring the logger.
  logLevel: 'warn'
}
const only = new Set((flags.only ?? PEERS.join(',')).split(',').map((x) => x.trim()))
for (const peer of only) {
  if (!PEERS.includes(peer)) {
    console.error(`bench:peers: --only takes ${PEERS.join(', ')}; got "${peer}"`)
    process.exit(2)
  }
}

const CLI = packageCli()
const CAN_PIN = HAS_TASKSET
const BEGAN = Date.now()
const stamp = () => `[${((Date.now() - BEGAN) / 1000).toFixed(1)} s]`
const START_TIMEOUT_MS = 120_000
const INSTALL_TIMEOUT_MS = 600_000

killChildrenOnExit()
let tmp = ''
process.on('exit', () => { if (tmp !== '') rmSync(tmp, { recursive: true, force: true }) })

const lastLine = (text) => text.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.trim() ?? ''
const tail = (file) => { try { return readFileSync(file, 'utf8').slice(-2000) } catch { return '' } }

// ---------------------------------------------------------------------------------------------------------
// The peers: installed once into the cache, each package in a directory of its own so installing one never prunes
// the other (npm removes what the directory's package.json does not list).

const WIREMOCK = { name: 'wiremock', minor: '3.13', dir: 'wiremock-3.13' }
const PRISM = { name: '@stoplight/prism-cli', minor: '5.14', dir: 'prism-cli-5.14' }

/** The package's directory and version, installed first if the cache lacks it; or why it cannot be had. */
async function ensurePackage ({ name, minor, dir }) {
  const prefix = join(CACHE, dir)
  const pkgDir = join(prefix, 'node_modules', ...name.split('/'))
  const installed = () => {
    try {
      const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
      return version.startsWith(`${minor}.`) ? version : null
    } catch {
      return null
    }
  }
  const cached = installed()
  if (cached !== null) return { dir: pkgDir, version: cached }

  const spec = `${name}@~${minor}.0`
  console.log(`${stamp()} installing ${spec} into ${relative(ROOT, prefix)}`)
  mkdirSync(prefix, { recursive: true })
  // A package.json of its own, so npm installs here and never into the project around it.
  if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n')
  // No install scripts: neither package needs one, and the wiremock package's would fetch a Java runtime from
  // outside the registry where Java is missing.
  const child = track(spawn('npm', ['install', '--no-save', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', spec], { stdio: ['ignore', 'ignore', 'pipe'] }))
  let err = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d) => { err += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS)
  const [code] = await Promise.race([once(child, 'exit'), once(child, 'error').then(([e]) => [e.code ?? e.message])])
  clearTimeout(timer)
  if (code !== 0) {
    const why = code === null ? `no result within ${INSTALL_TIMEOUT_MS / 1000} s` : typeof code === 'number' ? `exit ${code}` : code
    return { reason: `npm install ${spec} failed (${why})${npmError(err) === '' ? '' : `: ${npmError(err)}`}` }
  }
  const version = installed()
  return version === null ? { reason: `npm install ${spec} left no ${name} ${minor}.x in ${relative(ROOT, prefix)}` } : { dir: pkgDir, version }
}

/** npm's error code and message, without the lines around them (errno, syscall, where its log is). */
function npmError (stderr) {
  const lines = stderr.split('\n').map((l) => l.replace(/^npm (error|ERR!) ?/, '').trim()).filter((l) => l !== '')
  const code = lines.find((l) => l.startsWith('code '))?.slice(5)
  const message = lines.find((l) => !/^(code|errno|syscall) |complete log of this run/.test(l))
  return [code, message].filter((x) => x !== undefined).join(': ')
}

/** The Java command and its version line, if it is Java 11 or later (WireMock 3's floor); or why not. */
function findJava () {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
  const r = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30_000 })
  if (r.error !== undefined) return { reason: `no Java (${java}: ${r.error.code ?? r.error.message})` }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`)
  if (r.status !== 0 || m === null) return { reason: `${java} -version failed (exit ${r.status})` }
  const major = m[1] === '1' ? Number(m[2]) : Number(m[1])
  if (major < 11) return { reason: `Java ${major} found; WireMock 3 needs 11 or later` }
  return { java, version: `${r.stderr}${r.stdout}`.split('\n')[0].trim() }
}

// ---------------------------------------------------------------------------------------------------------
// Servers: each spawned pinned to core 0 on a free port, its output to a file, timed from spawn to its first 200
// on the endpoint under test.

/**
 * Starts `cmd` with `argv(port)`, and polls GET READ_PATH (with `headers`) every 10 ms until it answers 200, or
 * any status at all when `anyStatus`. The figure is spawn to that answer, the same for every server.
 */
async function startServer (name, cmd, argv, { headers = {}, anyStatus = false, timeoutMs = START_TIMEOUT_MS } = {}) {
  const port = await freePort()
  const logFile = join(tmp, `${name}.log`)
  const out = openSync(logFile, 'w')
  const [c, a] = pinned(CAN_PIN, 0, cmd, argv(port))
  const began = process.hrtime.bigint()
  const child = track(spawn(c, a, { stdio: ['ignore', out, out] }))
  closeSync(out)
  let spawnError = null
  child.on('error', (err) => { spawnError = err })
  const url = `http://${HOST}:${port}`
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  for (;;) {
    if (spawnError !== null) throw new Error(`${name} could not be started: ${spawnError.message}`)
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before answering: ${lastLine(tail(logFile))}`)
    }
    try {
      const res = await request(`${url}${READ_PATH}`, { headers: { ...headers, ...CLIENT_HEADERS }, keepAlive: false, timeoutMs: 5000 })
      if (res.status === 200 || anyStatus) {
        return { name, child, url, pid: child.pid, startMs: Number(process.hrtime.bigint() - began) / 1e6, first: res }
      }
      last = `status ${res.status}`
    } catch (err) {
      last = err.code ?? err.message
    }
    if (Date.now() > deadline) {
      await stopServer({ child })
      throw new Error(`${name} did not answer 200 within ${timeoutMs / 1000} s (last: ${last}): ${lastLine(tail(logFile))}`)
    }
    await sleep(10)
  }
}

const QUIET_WINDOW_MS = 300
const QUIET_TIMEOUT_MS = 15_000

/** Waits until the servers together use at most 5% of a core over 300 ms, for 15 s at most. */
async function waitQuiet (pids) {
  const used = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0)
  const began = Date.now()
  for (;;) {
    const before = used()
    await sleep(QUIET_WINDOW_MS)
    if (used() - before <= 0.05 * QUIET_WINDOW_MS / 1000) return
    if (Date.now() - began > QUIET_TIMEOUT_MS) {
      const note = `the servers were still busy ${QUIET_TIMEOUT_MS / 1000} s after a measurement; measured anyway`
      if (!notes.includes(note)) notes.push(note)
      return
    }
  }
}

/** The same JSON as `expected`, whatever the spacing. */
function sameJson (text, expected) {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(JSON.parse(expected))
  } catch {
    return false
  }
}

/** How many violations Prism lists in its sl-violations header. */
function countViolations (header) {
  try {
    return header === undefined ? 0 : JSON.parse(header).length
  } catch {
    return 1
  }
}

/** The mock's OpenAPI document with the mock's own body as the example of the 200 answer of GET READ_PATH. */
function withExample (doc, body) {
  const copy = structuredClone(doc)
  const key = Object.keys(copy.paths ?? {}).find((p) => p.startsWith(`${AUDIENCES_PATH}/{`) && /^\{[^}/]+\}$/.test(p.slice(AUDIENCES_PATH.length + 1)))
  const operation = key === undefined ? undefined : copy.paths[key].get
  if (operation === undefined) throw new Error(`the OpenAPI document has no GET ${AUDIENCES_PATH}/{audienceId}`)
  const ok = (operation.responses ??= {})['200'] ??= { description: 'The audience' }
  const media = (ok.content ??= {})['application/json'] ??= {}
  media.example = JSON.parse(body)
  delete media.examples
  return copy
}

// ---------------------------------------------------------------------------------------------------------
// The benchmark

const problems = []
const fatal = []
const notes = []
const skipped = {}
const versions = { node: process.version }
let prismUnmodified = null

function skip (peer, reason) {
  skipped[peer] = reason
  console.log(`${stamp()} ${peer}: skipped, ${reason}`)
}

async function main () {
  if (!existsSync(CLI)) {
    console.error(`bench:peers: ${relative(ROOT, CLI)} is missing; run "npm run build" first (npm run bench:peers does)`)
    process.exit(2)
  }
  tmp = mkdtempSync(join(os.tmpdir(), 'thrive-bench-peers-'))
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(`thrive-audience-mock peer benchmark: node ${process.version}, ${CORES} cores (${cpuModel}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`)
  console.log(`mock: ${relative(ROOT, CLI)} --log-level ${settings.logLevel}; runs ${settings.runs}, ${settings.duration} s per measurement after ${settings.warmup} s warm-up (${settings.initialWarmup} s once for each server first), ${settings.connections} connections`)
  if (CAN_PIN) console.log('servers pinned to core 0, load generator to core 1 (taskset)')
  else {
    const why = CORES < 2 ? 'fewer than 2 cores' : 'taskset is not available'
    console.log(`NOT PINNED: ${why}; servers and load generator share the cores, so ratios are less reliable`)
    notes.push(`not pinned (${why})`)
  }

  const servers = []
  try {
    await measureAll(servers)
  } finally {
    await Promise.all(servers.map(stopServer))
    agent.destroy()
  }
}

async function measureAll (servers) {
  const keep = (server) => { servers.push(server); return server }
  const authorization = basic(ACME.tenantId, ACME.apiSecret)

  // Every install before any server starts, so nothing installs while something is measured.
  let wiremock = null
  const wiremockPeers = ['wiremock', 'wiremock-no-journal'].filter((p) => only.has(p))
  if (wiremockPeers.length > 0) {
    const java = findJava()
    const pkg = java.reason === undefined ? await ensurePackage(WIREMOCK) : java
    // The package ships the standalone jar; it is run with java directly, so the pid measured is the JVM's.
    const build = pkg.reason === undefined ? join(pkg.dir, 'build') : null
    const jar = build !== null && existsSync(build) ? readdirSync(build).find((f) => /^wiremock.*\.jar$/.test(f)) : undefined
    if (pkg.reason !== undefined) wiremockPeers.forEach((p) => skip(p, pkg.reason))
    else if (jar === undefined) wiremockPeers.forEach((p) => skip(p, `no jar in ${relative(ROOT, build)}`))
    else {
      wiremock = { java: java.java, jar: join(build, jar), version: pkg.version }
      versions.java = java.version
      versions.wiremock = pkg.version
    }
  }
  let prism = null
  if (only.has('prism')) {
    const pkg = await ensurePackage(PRISM)
    if (pkg.reason !== undefined) skip('prism', pkg.reason)
    else {
      const { bin } = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'))
      prism = { bin: join(pkg.dir, typeof bin === 'string' ? bin : bin.prism), version: pkg.version }
      versions.prism = pkg.version
    }
  }

  // The mock, and the body and OpenAPI document it serves; every other server serves that body.
  const mockArgv = (port) => [CLI, '--host', HOST, '--port', String(port), '--log-level', settings.logLevel]
  const mock = keep(await startServer('mock', process.execPath, mockArgv, { headers: { authorization } }))
  const bodyText = mock.first.body
  const spec = await request(`${mock.url}/openapi.json`, { timeoutMs: 10_000 })
  if (spec.status !== 200) throw new Error(`the mock answered ${spec.status} to /openapi.json`)
  console.log(`${stamp()} mock: first 200 after ${mock.startMs.toFixed(0)} ms; body ${Buffer.byteLength(bodyText)} bytes (${READ_PATH})`)
  const bare = keep(await startServer('bare', process.execPath, (port) => [BARE, String(port), bodyText]))
  console.log(`${stamp()} bare Fastify: first 200 after ${bare.startMs.toFixed(0)} ms`)

  const targets = [{ key: 'mock', label: 'thrive-audience-mock (request journal on)', server: mock }]
  const startPeer = async (key, label, start) => {
    try {
      const server = keep(await start())
      targets.push({ key, label, server })
      console.log(`${stamp()} ${key}: first 200 after ${server.startMs.toFixed(0)} ms`)
    } catch (err) {
      skip(key, err.message.split('\n')[0])
    }
  }

  if (wiremock !== null) {
    // One stub, the mock's body byte for byte; WireMock reads it from the root directory's mappings at start-up.
    const root = join(tmp, 'wiremock')
    mkdirSync(join(root, 'mappings'), { recursive: true })
    mkdirSync(join(root, '__files'), { recursive: true })
    writeFileSync(join(root, 'mappings', 'audience.json'), JSON.stringify({
      request: { method: 'GET', url: READ_PATH },
      response: { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: bodyText }
    }))
    const argv = (extra) => (port) => ['-jar', wiremock.jar, '--port', String(port), '--bind-address', HOST, '--root-dir', root, '--disable-banner', ...extra]
    if (only.has('wiremock')) {
      await startPeer('wiremock', `WireMock ${wiremock.version}, request journal on (default)`, () => startServer('wiremock', wiremock.java, argv([]), { headers: { authorization } }))
    }
    if (only.has('wiremock-no-journal')) {
      // WireMock's command line spells "disable the request journal" as --no-request-journal.
      await startPeer('wiremock-no-journal', `WireMock ${wiremock.version}, --no-request-journal`, () => startServer('wiremock-no-journal', wiremock.java, argv(['--no-request-journal']), { headers: { authorization } }))
    }
  }

  if (prism !== null) {
    // First what Prism answers on the document exactly as the mock serves it, with the same Basic header. Prism
    // needs that header (without it: 401, "Invalid security scheme used"), though it checks only that a credential
    // of a documented scheme is there; it then answers 200 with an Audience made up from the schema ("string" for
    // every string, so ids that break the document's own pattern, reported in its sl-violations header). So Prism
    // is measured on a saved copy whose 200 answer has the mock's body as its example: the same Audience, byte
    // for byte, as every other server here.
    const asServed = join(tmp, 'openapi.json')
    writeFileSync(asServed, spec.body)
    const measured = join(tmp, 'openapi-with-example.json')
    writeFileSync(measured, JSON.stringify(withExample(JSON.parse(spec.body), bodyText)))
    const prismArgv = (doc) => (port) => [prism.bin, 'mock', '--host', HOST, '--port', String(port), '--verboseLevel', 'warn', doc]
    try {
      const probe = await startServer('prism-as-served', process.execPath, prismArgv(asServed), { headers: { authorization }, anyStatus: true })
      let keys = null
      try { keys = Object.keys(JSON.parse(probe.first.body)).sort().join(',') } catch {}
      prismUnmodified = {
        status: probe.first.status,
        bytes: Buffer.byteLength(probe.first.body),
        contentType: probe.first.headers['content-type'] ?? null,
        audienceShaped: keys === Object.keys(JSON.parse(bodyText)).sort().join(','),
        sameBody: sameJson(probe.first.body, bodyText),
        violations: countViolations(probe.first.headers['sl-violations'])
      }
      await stopServer(probe)
      console.log(`${stamp()} prism on the document as served: ${prismUnmodified.status}, ${prismUnmodified.bytes} bytes${prismUnmodified.audienceShaped ? ', an Audience' : ''}${prismUnmodified.sameBody ? ', the mock\'s body' : ''}`)
      await startPeer('prism', `Prism ${prism.version}, prism mock, the mock's OpenAPI + example`, () => startServer('prism', process.execPath, prismArgv(measured), { headers: { authorization } }))
    } catch (err) {
      skip('prism', err.message.split('\n')[0])
    }
  }

  // Every server serves the same body, or the comparison says so.
  for (const t of [{ key: 'bare', server: bare }, ...targets]) {
    t.sameBody = sameJson(t.server.first.body, bodyText)
    t.bytes = Buffer.byteLength(t.server.first.body)
    if (!t.sameBody) notes.push(`${t.key} serves a different body: ${t.bytes} bytes against the mock's ${Buffer.byteLength(bodyText)}`)
    const violations = countViolations(t.server.first.headers['sl-violations'])
    if (violations > 0) notes.push(`${t.key} reports ${violations} violation(s) of the OpenAPI document in its sl-violations header`)
  }

  const raw = { bare: { rps: [], p99: [], us: [] } }
  for (const t of targets) raw[t.key] = { rps: [], bareRps: [], ratio: [], p99: [], bareP99: [], us: [] }
  const options = {
    connections: settings.connections,
    duration: settings.duration,
    warmup: settings.warmup,
    requests: [{ method: 'GET', path: READ_PATH, headers: { authorization, ...CLIENT_HEADERS } }]
  }
  // Measured cold, WireMock showed a fifth of its later rate on this kind of machine: every server gets the same
  // load once first, so each round measures it warm.
  if (settings.initialWarmup > 0) {
    console.log(`${stamp()} warming every server up: ${settings.initialWarmup} s each`)
    const all = [bare, ...targets.map((t) => t.server)]
    await runLoads(all.map((server) => ({ server, options: { ...options, warmup: 0, duration: settings.initialWarmup } })), {
      dir: tmp, pin: CAN_PIN, timeoutMs: all.length * (settings.initialWarmup + 15) * 1000 + 60_000
    })
  }
  const pids = [bare, ...targets.map((t) => t.server)].map((server) => server.pid)
  for (let run = 1; run <= settings.runs; run++) {
    console.log(`${stamp()} round ${run}/${settings.runs}`)
    for (const t of targets) {
      // A JVM goes on compiling and collecting for a while after its load stops; bare Fastify measured in that
      // while would make the next ratio look better than it is.
      await waitQuiet(pids)
      // Bare Fastify right before each server, so drift on a shared machine hits both sides of each ratio.
      // Bounded: each job is its warm-up and duration, plus autocannon's 10 s request timeout and some slack.
      const timeoutMs = 2 * (settings.warmup + settings.duration + 15) * 1000 + 60_000
      const [b, r] = await runLoads([{ server: bare, options }, { server: t.server, options }], { dir: tmp, pin: CAN_PIN, timeoutMs })
      check('bare', b, true)
      check(t.key, r, t.key === 'mock')
      raw.bare.rps.push(b.rps)
      raw.bare.p99.push(b.p99)
      raw.bare.us.push(b.usPerRequest)
      const x = raw[t.key]
      x.rps.push(r.rps)
      x.bareRps.push(b.rps)
      x.ratio.push(r.rps / b.rps)
      x.p99.push(r.p99)
      x.bareP99.push(b.p99)
      x.us.push(r.usPerRequest)
      const us = (v) => v.usPerRequest === null ? '?' : v.usPerRequest.toFixed(1)
      process.stdout.write(`  ${t.key.padEnd(20)} ${Math.round(r.rps).toString().padStart(6)} req/s (bare ${Math.round(b.rps)})  ${(r.rps / b.rps).toFixed(2)}×  p99 ${r.p99} ms (bare ${b.p99})  server ${us(r)} µs/req (bare ${us(b)})\n`)
    }
  }

  // RSS once every round is over: what the measured load left behind (WireMock's journal keeps every request).
  for (const t of [{ key: 'bare', server: bare }, ...targets]) {
    const rss = rssBytes(t.server.pid)
    raw[t.key].rssMiB = rss === null ? null : rss / 2 ** 20
    raw[t.key].startMs = t.server.startMs
    raw[t.key].bytes = t.bytes
    raw[t.key].sameBody = t.sameBody
    if (t.label !== undefined) raw[t.key].label = t.label
  }

  console.log(`${stamp()} done`)
  report(targets, raw)
  if (flags.json !== undefined) {
    writeFileSync(flags.json, JSON.stringify({
      settings,
      machine: { node: process.version, cores: CORES, cpu: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30 },
      pinned: CAN_PIN,
      versions,
      prismUnmodified,
      raw,
      skipped,
      problems,
      notes
    }, null, 2))
  }
}

/** Only 200s and no connection errors; a wrong answer from the mock or bare Fastify fails the run. */
function check (key, result, isFatal) {
  const wrong = Object.entries(result.statuses).filter(([code]) => Number(code) !== 200)
  if (wrong.length > 0 || result.errors > 0) {
    const problem = `${key}: expected only 200, got ${JSON.stringify(result.statuses)} and ${result.errors} connection errors`
    problems.push(problem)
    if (isFatal) fatal.push(problem)
  }
}

function report (targets, raw) {
  const mib = (x) => x === null || x === undefined ? 'n/a' : `${x.toFixed(0)} MB`
  const ms = (x) => `${x.toFixed(0)} ms`
  const rows = [
    ['bare Fastify 5 route, same body', kfmt(stats(raw.bare.rps)), '1.00×', fmt(stats(raw.bare.p99), 2, ' ms'), ms(raw.bare.startMs), mib(raw.bare.rssMiB)]
  ]
  for (const t of targets) {
    const x = raw[t.key]
    rows.push([t.label, kfmt(stats(x.rps)), fmt(stats(x.ratio), 2, '×'), fmt(stats(x.p99), 2, ' ms'), ms(x.startMs), mib(x.rssMiB)])
  }
  for (const [key, reason] of Object.entries(skipped)) rows.push([key, `skipped: ${reason}`, '', '', '', ''])
  console.log('')
  printTable(['Server', 'req/s: median (min–max)', 'Ratio to bare Fastify', 'p99 latency', 'Start → first 200', 'RSS after'], rows)
  console.log('')
  console.log(`Ratios: each server's req/s ÷ bare Fastify's req/s measured just before it with the same requests (GET ${READ_PATH}, Basic), ${settings.runs} round(s); p99 from the same measurements.`)
  console.log(`Every server had ${settings.initialWarmup} s of the same load once before the first round, and ${settings.warmup} s before each measurement.`)
  console.log('Start-up: spawn to the first 200 on that request, polled every 10 ms. RSS: VmRSS once every round is over, servers kept running through the rounds.')
  if (prismUnmodified !== null) {
    const u = prismUnmodified
    const violations = u.violations === 0 ? '' : `, ${u.violations} violation(s) of the document in its sl-violations header`
    console.log(`Prism on the mock's OpenAPI document as served answered ${u.status} (${u.bytes} bytes${u.audienceShaped ? ', Audience-shaped' : ''}${u.sameBody ? ', the mock\'s body' : ''}${violations}); it is measured with the mock's body added as the 200 example.`)
  }
  for (const n of notes) console.log(`note: ${n}`)
  for (const p of problems) console.log(`PROBLEM: ${p}`)
}

main().then(() => {
  if (fatal.length > 0) process.exit(1)
}, (err) => {
  console.error(`bench:peers: ${err.stack ?? err}`)
  killAll()
  process.exit(1)
})
