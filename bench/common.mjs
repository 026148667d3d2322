// What bench/run.mjs and bench/peers.mjs share: the request under test, child processes (tracked so none outlives
// the run), ports and HTTP on 127.0.0.1, readings from /proc, the load generator, and the figures' formatting.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { API_PREFIX } from '../dist/operations.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const BARE = join(ROOT, 'bench', 'bare-server.mjs')
export const LOAD = join(ROOT, 'bench', 'load.mjs')
export const HOST = '127.0.0.1'

/** The CLI as installed: whatever package.json's bin points at (dist/cli.js, or a bundle of it). */
export function packageCli () {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  return join(ROOT, typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin ?? { cli: 'dist/cli.js' })[0])
}

/** A bundled fixture's tenant (fixtures/<file>), read from the file so the benchmark follows any change to it. */
function bundledTenant (file, readerId) {
  const tenant = JSON.parse(readFileSync(join(ROOT, 'fixtures', file), 'utf8')).tenants[0]
  const reader = tenant.clients.find((c) => c.clientId === readerId)
  return { tenant: { tenantId: tenant.tenantId, apiSecret: tenant.apiSecret }, reader: { clientId: reader.clientId, clientSecret: reader.clientSecret } }
}

// The bundled fixtures' credentials, and what real Thrive clients send on every request.
const acme = bundledTenant('acme.json', 'acme-reader')
const globex = bundledTenant('globex.json', 'globex-reader')
export const ACME = acme.tenant
export const ACME_READER = acme.reader
export const GLOBEX = globex.tenant
export const GLOBEX_READER = globex.reader
export const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
export const CLIENT_HEADERS = { accept: 'application/json', 'content-type': 'application/json' }
/** The audience collection under the API prefix; READ_PATH is the bundled "backend" audience in it. */
export const AUDIENCES_PATH = `${API_PREFIX}/audiences`
export const READ_PATH = `${AUDIENCES_PATH}/backend`

/** A command-line number: `fallback` when absent; exits with a message when it is not a number >= min. */
export function positive (name, value, fallback, { integer = false, min = 0 } = {}) {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    console.error(`bench: --${name} must be a${integer ? ' whole' : ''} number >= ${min}, got "${value}"`)
    process.exit(2)
  }
  return n
}

// ---------------------------------------------------------------------------------------------------------
// Processes: every child is tracked and killed on exit, whatever happens.

const children = new Set()

export function track (child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export function killAll () {
  for (const child of children) child.kill('SIGKILL')
}

export function killChildrenOnExit () {
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}

export const CORES = os.availableParallelism?.() ?? os.cpus().length
export const HAS_TASKSET = CORES >= 2 && spawnSync('taskset', ['-c', '1', process.execPath, '-e', ''], { stdio: 'ignore' }).status === 0
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100

/** The command that runs `cmd args`, pinned to one core with taskset when `pin` is true. */
export function pinned (pin, core, cmd, args) {
  return pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export async function freePort () {
  const server = net.createServer()
  server.listen(0, HOST)
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

/** One HTTP request on 127.0.0.1; resolves with status, headers and the body as text. An https URL is verified against `ca` only. */
export function request (url, { method = 'GET', headers = {}, body, keepAlive = true, timeoutMs, ca } = {}) {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('https:')
    const options = tls ? { method, headers, ca, agent: false } : { method, headers, agent: keepAlive ? agent : false }
    const req = (tls ? https : http).request(url, options, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.end(body)
  })
}

export function rssBytes (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1]) * 1024
  } catch {
    return null
  }
}

/** User + system CPU seconds the process has used, from /proc; null where there is no /proc. */
export function cpuSeconds (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return null
  }
}

/** SIGTERM, then SIGKILL after 5 s for a server that does not stop. */
export async function stopServer (server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = once(server.child, 'exit')
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/**
 * Runs bench/load.mjs in its own process (pinned to core 1 when `pin`) over `list`, one `{ server, options }` per
 * job, where options are autocannon's plus `warmup` seconds; and measures each server's CPU time over its measured
 * window (after the warm-up). `timeoutMs`, if given, bounds the whole run.
 */
export async function runLoads (list, { dir, pin, timeoutMs }) {
  const file = join(dir, `load-${process.hrtime.bigint()}.json`)
  writeFileSync(file, JSON.stringify(list.map(({ server, options }) => ({ ...options, url: server.url }))))
  const [cmd, args] = pinned(pin, 1, process.execPath, [LOAD, file])
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }))
  const timer = timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const results = []
  const cpuStart = []
  let pending = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    pending += chunk
    let nl
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      const m = /^(measuring|result) (\d+) ?(.*)$/.exec(line)
      if (m === null) continue
      const i = Number(m[2])
      const pid = list[i].server.pid
      if (m[1] === 'measuring') {
        cpuStart[i] = cpuSeconds(pid)
        continue
      }
      const cpuEnd = cpuSeconds(pid)
      const result = JSON.parse(m[3])
      result.serverCpu = cpuStart[i] == null || cpuEnd === null ? null : (cpuEnd - cpuStart[i]) / result.seconds
      result.usPerRequest = result.serverCpu === null || result.rps === 0 ? null : (result.serverCpu * 1e6) / result.rps
      results[i] = result
    }
  })
  const [code] = await once(child, 'exit')
  if (timer !== null) clearTimeout(timer)
  rmSync(file, { force: true })
  if (code !== 0 || results.length !== list.length) throw new Error(`the load generator failed (exit ${code}) against ${list.map((j) => j.server.name).join(', ')}`)
  return results
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

export function stats (values) {
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
  return { median, min: v[0], max: v[v.length - 1], n: v.length }
}

export function fmt (s, digits, unit = '') {
  if (s === null) return 'n/a'
  const f = (x) => x.toFixed(digits)
  return s.n === 1 || f(s.min) === f(s.max) ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`
}

export function kfmt (s) {
  if (s === null) return 'n/a'
  const f = (x) => x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)
  return s.n === 1 ? `${f(s.median)}/s` : `${f(s.median)}/s (${f(s.min)}–${f(s.max)})`
}

/** A Markdown table, every column padded to its widest cell. */
export function printTable (header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
}
