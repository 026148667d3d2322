// The baseline: a bare Fastify 5 route serving a fixed JSON body, no plugins, no logging.
// Usage: node bench/bare-server.mjs <port> <body as JSON>
import Fastify from 'fastify'

const port = Number(process.argv[2] ?? 0)
const body = JSON.parse(process.argv[3] ?? '{}')

const app = Fastify({ logger: false })
async function handler () {
  return body
}
// The path is written out, not imported from dist/operations.js: loading the mock's modules would add their memory
// and start-up to the baseline the mock is measured against.
app.get('/rest/v1/audiences/:audienceId', handler)
// The list's baseline: the same page body for any query.
app.get('/rest/v1/audiences', handler)
const address = await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`Server listening at ${address}\n`)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
