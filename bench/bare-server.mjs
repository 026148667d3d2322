// The baseline: a bare Fastify 5 route serving a fixed JSON body, no plugins, no logging.
// Usage: node bench/bare-server.mjs <port> <body as JSON>
import Fastify from 'fastify'

const port = Number(process.argv[2] ?? 0)
const body = JSON.parse(process.argv[3] ?? '{}')

const app = Fastify({ logger: false })
app.get('/rest/v1/audiences/:audienceId', async function () {
  return body
})
const address = await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`Server listening at ${address}\n`)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
