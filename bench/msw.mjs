#!/usr/bin/env node
// One process, one client (global fetch, `connections` requests in flight): the same GET through the msw handlers
// (dist/msw.js) and over a socket to startMockServer, alternately for `rounds` rounds, plus the time from
// createThriveHandlers() to the first answer. Prints one JSON line. Used by bench/run.mjs (--only msw).
// Usage: node bench/msw.mjs <seconds> <connections> <rounds> | node bench/msw.mjs --amount <n> <connections> <rounds>
import { setupServer } from 'msw/node'
import { startMockServer } from '../dist/index.js'
import { createThriveHandlers } from '../dist/msw.js'

const [first, ...rest] = process.argv.slice(2)
const byAmount = first === '--amount'
const [limit, connections, rounds] = (byAmount ? rest : [first, ...rest]).map(Number)
const HEADERS = { authorization: `Basic ${Buffer.from('eu-west-2_AcmeCorp1:acme-api-secret-0001').toString('base64')}`, accept: 'application/json', 'content-type': 'application/json' }
const PATH = '/rest/v1/audiences/backend'

/** `connections` loops of fetch, until `limit` seconds pass or `limit` requests are made; requests per second. */
async function measure (url) {
  let made = 0
  let failed = 0
  const began = process.hrtime.bigint()
  const elapsed = () => Number(process.hrtime.bigint() - began) / 1e9
  const more = () => byAmount ? made < limit : elapsed() < limit
  await Promise.all(Array.from({ length: connections }, async () => {
    while (more()) {
      made++
      const res = await fetch(url, { headers: HEADERS })
      await res.arrayBuffer()
      if (res.status !== 200) failed++
    }
  }))
  if (failed > 0) throw new Error(`${failed} of ${made} requests to ${url} did not get a 200`)
  return made / elapsed()
}

async function warmUp (url) {
  for (let i = 0; i < 200; i++) await (await fetch(url, { headers: HEADERS })).arrayBuffer()
}

const began = process.hrtime.bigint()
const thrive = await createThriveHandlers({ journalSize: 1000 })
const server = setupServer(...thrive.handlers)
server.listen({ onUnhandledRequest: 'error' })
const firstAnswer = await fetch(`https://public.api.learn.link${PATH}`, { headers: HEADERS })
await firstAnswer.arrayBuffer()
const startMs = Number(process.hrtime.bigint() - began) / 1e6
if (firstAnswer.status !== 200) throw new Error(`the first answer was ${firstAnswer.status}`)
server.close()

const socket = await startMockServer({ journalSize: 1000 })
const out = { startMs, msw: [], socket: [] }
try {
  // Unmeasured: the first requests of each path compile it.
  await warmUp(`${socket.url}${PATH}`)
  server.listen({ onUnhandledRequest: 'error' })
  await warmUp(`https://public.api.learn.link${PATH}`)
  server.close()
  for (let round = 0; round < rounds; round++) {
    // The socket run with msw off: with it on, every fetch would pay msw's look-up before passing through.
    out.socket.push(await measure(`${socket.url}${PATH}`))
    server.listen({ onUnhandledRequest: 'error' })
    out.msw.push(await measure(`https://public.api.learn.link${PATH}`))
    server.close()
  }
} finally {
  await Promise.all([socket.close(), thrive.close()])
}
console.log(JSON.stringify(out))
