#!/usr/bin/env node
// npm run bench:profile: where the server's CPU goes on the Basic GET. The mock (dist/cli.js, unbundled, so each
// function keeps its package's path) and the bare Fastify route each run under `node --cpu-prof`, pinned to core 0,
// while autocannon loads them from core 1 for a fixed time; then the top functions by self time are printed,
// grouped into this project's code, Fastify and other dependencies, Node internals, and GC.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  ACME, BARE, CLIENT_HEADERS, HAS_TASKSET, HOST, READ_PATH, ROOT, basic, freePort, killChildrenOnExit, pinned, positive,
  request, runLoads, sleep, stopServer, track
} from './common.mjs'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' },
    top: { type: 'string' },
    'log-level': { type: 'string' },
    keep: { type: 'string' },
    cli: { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})
if (flags.help) {
  console.log(`Usage: npm run bench:profile -- [--seconds 10] [--top 20] [--log-level warn] [--keep <dir>]

  --seconds <s>       Seconds of load while profiling, after 2 s of unprofiled warm-up (default 10)
  --top <n>           Functions to print per server (default 20)
  --log-level <level> The mock's log level (default warn)
  --keep <dir>        Keep the .cpuprofile files in this new directory (open them in Chrome DevTools)
  --cli <file>        The mock's unbundled CLI to profile (default dist/cli.js), e.g. an older build to compare`)
  process.exit(0)
}
const seconds = positive('seconds', flags.seconds, 10, { min: 1 })
const top = positive('top', flags.top, 20, { integer: true, min: 1 })
const logLevel = flags['log-level'] ?? 'warn'
killChildrenOnExit()

const CLI = flags.cli === undefined ? join(ROOT, 'dist', 'cli.js') : resolve(flags.cli)
const READ = { method: 'GET', path: READ_PATH, headers: { authorization: basic(ACME.tenantId, ACME.apiSecret), ...CLIENT_HEADERS } }

/** Which part of the stack a profiled function belongs to, from its script's path. */
function groupOf (url, name) {
  if (name === '(garbage collector)') return 'GC'
  if (name === '(program)' || name === '(idle)') return name
  if (url === '') return 'V8 and native'
  if (url.startsWith('node:')) return 'Node'
  const path = relative(ROOT, url.replace(/^file:\/\//, ''))
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (pkg !== null) return pkg[1]
  return /(^|\/)dist\//.test(path) ? 'this project' : path
}

/** Self time per function (microseconds) from a .cpuprofile between two instants, and the sampled total. */
function selfTimes (profile, from, to) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  let total = 0
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]
    const dt = profile.timeDeltas[i + 1] ?? 0
    if (at < from || at > to) continue
    const { callFrame } = nodes.get(profile.samples[i])
    const name = callFrame.functionName || '(anonymous)'
    const where = callFrame.url === '' ? '' : `${relative(ROOT, callFrame.url.replace(/^file:\/\//, ''))}:${callFrame.lineNumber + 1}`
    const key = `${name} ${where}`
    const entry = self.get(key) ?? { name, where, group: groupOf(callFrame.url, name), us: 0 }
    entry.us += dt
    self.set(key, entry)
    total += dt
  }
  return { entries: [...self.values()].sort((a, b) => b.us - a.us), total }
}

async function profileServer (name, argv, parent) {
  const dir = join(parent, name.replace(/\W+/g, '-'))
  const port = await freePort()
  const [cmd, args] = pinned(HAS_TASKSET, 0, process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, ...argv(port)])
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] }))
  const server = { name, child, url: `http://${HOST}:${port}`, pid: child.pid }
  for (;;) {
    try {
      if ((await request(`${server.url}${READ_PATH}`, { headers: READ.headers, keepAlive: false })).status === 200) break
    } catch {}
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    await sleep(20)
  }
  const options = { connections: 50, requests: [READ], warmup: 0 }
  await runLoads([{ server, options: { ...options, duration: 2 } }], { dir: parent, pin: HAS_TASKSET })
  // V8 stamps samples with the monotonic clock that hrtime reads: only the measured load is counted, not start-up.
  const from = Number(process.hrtime.bigint() / 1000n)
  const [result] = await runLoads([{ server, options: { ...options, duration: seconds } }], { dir: parent, pin: HAS_TASKSET })
  const to = Number(process.hrtime.bigint() / 1000n)
  // The profile is written when the process exits (SIGTERM: the mock drains and exits 0).
  await stopServer(server)
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`${name} wrote no profile`)
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  return { name, result, profile, from, to }
}

function report ({ name, result, profile, from, to }) {
  const { entries, total } = selfTimes(profile, from, to)
  const busy = total - entries.filter((e) => e.group === '(idle)').reduce((s, e) => s + e.us, 0)
  console.log(`\n${name}: ${Math.round(result.rps)} req/s; ${(busy / result.requests).toFixed(1)} µs of CPU per request (${(busy / 1e3).toFixed(0)} ms sampled under load)`)
  const groups = new Map()
  for (const e of entries) groups.set(e.group, (groups.get(e.group) ?? 0) + e.us)
  const shown = [...groups].filter(([group, us]) => group !== '(idle)' && us / busy >= 0.005).sort((a, b) => b[1] - a[1])
  console.log(`  by group, share of busy time: ${shown.map(([group, us]) => `${group} ${(100 * us / busy).toFixed(1)}%`).join(', ')}`)
  console.log(`  top ${top} functions by self time:`)
  for (const e of entries.filter((x) => x.group !== '(idle)').slice(0, top)) {
    console.log(`    ${(100 * e.us / busy).toFixed(1).padStart(5)}%  ${(e.us / result.requests).toFixed(2).padStart(5)} µs  ${e.name.slice(0, 36).padEnd(36)} ${e.group.padEnd(20)} ${e.where}`)
  }
}

/** The body the mock serves, so the bare route sends the same bytes. */
async function mockBody () {
  const port = await freePort()
  const child = track(spawn(process.execPath, [CLI, '--host', HOST, '--port', String(port), '--log-level', 'silent'], { stdio: 'ignore' }))
  try {
    for (;;) {
      try {
        return (await request(`http://${HOST}:${port}${READ_PATH}`, { headers: READ.headers, keepAlive: false })).body
      } catch {
        await sleep(20)
      }
    }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const dir = flags.keep === undefined ? mkdtempSync(join(os.tmpdir(), 'thrive-profile-')) : resolve(flags.keep)
mkdirSync(dir, { recursive: true })
try {
  console.log(`profiling ${seconds} s of Basic GET ${READ_PATH}, 50 connections, mock --log-level ${logLevel}; ${HAS_TASKSET ? 'server on core 0, load on core 1' : 'NOT PINNED (no taskset or < 2 cores)'}`)
  const body = await mockBody()
  report(await profileServer('mock', (port) => [CLI, '--host', HOST, '--port', String(port), '--log-level', logLevel], dir))
  report(await profileServer('bare Fastify', (port) => [BARE, String(port), body], dir))
} finally {
  if (flags.keep === undefined) rmSync(dir, { recursive: true, force: true })
}
