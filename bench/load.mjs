// Load generator for the benchmark: autocannon runs, one after another, each summarised as one line on stdout.
// Run by bench/run.mjs in its own process, pinned to a different core from the servers under test.
// Usage: node bench/load.mjs <jobs.json>, where the file holds an array of autocannon options (plus `warmup`
// seconds; `maxSeconds` to bound a counted run in time; `sequence: "create-delete"` with `headers` and `parentId` for
// create + delete pairs). For job i it prints "measuring i" once the warm-up is over, then "result i <JSON summary>".
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { API_PREFIX } from '../dist/operations.js'

const jobs = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8'))

// autocannon's own latency histogram counts whole milliseconds; budgets near 1-2 ms need finer buckets.
const BUCKET_US = 10
const BUCKETS = 100_000 // 10 µs buckets up to 1 s
const hist = new Uint32Array(BUCKETS + 1)
let recorded = 0

function percentile (p) {
  if (recorded === 0) return null
  const rank = Math.ceil((p / 100) * recorded)
  let seen = 0
  for (let i = 0; i <= BUCKETS; i++) {
    seen += hist[i]
    if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000
  }
  return null
}

// References made by this process: unique across rounds and runs, so a pair cut off by the end of a measurement
// (created, never deleted) cannot make a later create collide with it.
let made = 0
const prefix = `bench-${process.pid}-${Date.now().toString(36)}`

/** A create followed by the delete of what it created, by its reference: a child under `parentId`. */
function createDelete ({ headers, parentId }) {
  return [
    {
      method: 'POST',
      path: `${API_PREFIX}/audiences`,
      headers,
      setupRequest: (req, context) => {
        context.reference = `${prefix}-${++made}`
        return { ...req, body: JSON.stringify({ name: `Bench ${made}`, reference: context.reference, category: 'audience', parentId }) }
      }
    },
    { method: 'DELETE', headers, setupRequest: (req, context) => ({ ...req, path: `${API_PREFIX}/audiences/${context.reference}` }) }
  ]
}

async function run (options, record) {
  const requests = options.sequence === 'create-delete' ? createDelete(options) : options.requests
  const instance = autocannon({
    url: options.url,
    connections: options.connections ?? 50,
    pipelining: 1,
    timeout: 10,
    ...(options.amount === undefined ? { duration: options.duration ?? 5 } : { amount: options.amount }),
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(requests === undefined ? {} : { requests })
  })
  // autocannon ignores `duration` once `amount` is set: `maxSeconds` bounds a counted run in time as well.
  const cap = options.amount === undefined || options.maxSeconds === undefined ? null : setTimeout(() => instance.stop(), options.maxSeconds * 1000)
  if (record) {
    instance.on('response', (client, statusCode, resBytes, responseTime) => {
      const bucket = Math.floor((responseTime * 1000) / BUCKET_US)
      hist[bucket < BUCKETS ? bucket : BUCKETS] += 1
      recorded += 1
    })
  }
  try {
    return await instance
  } finally {
    if (cap !== null) clearTimeout(cap)
  }
}

for (const [i, job] of jobs.entries()) {
  if (job.warmup > 0) await run({ ...job, amount: undefined, duration: job.warmup }, false)
  hist.fill(0)
  recorded = 0
  // The orchestrator samples the server's CPU time at this line and at the result, so the warm-up is not counted.
  process.stdout.write(`measuring ${i}\n`)
  const cpuBefore = process.cpuUsage()
  const result = await run(job, true)
  const cpu = process.cpuUsage(cpuBefore)
  const statuses = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = Number(count)
  process.stdout.write(`result ${i} ${JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: percentile(50),
    p99: percentile(99),
    p999: percentile(99.9),
    loaderCpu: (cpu.user + cpu.system) / 1e6 / result.duration,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses
  })}\n`)
  // A pause, so the orchestrator reads the server's CPU time before the next job's load begins.
  await sleep(100)
}
