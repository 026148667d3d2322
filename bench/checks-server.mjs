// The mock built from dist/ with its contract checks on or off, the bundled fixtures, for the cost-of-checks figure.
// Usage: node bench/checks-server.mjs <port> <on|off> [log level]
import { buildApp, defaultConfig } from '../dist/index.js'

const port = Number(process.argv[2] ?? 0)
const contractChecks = process.argv[3] !== 'off'
const app = await buildApp(defaultConfig({ logLevel: process.argv[4] ?? 'warn' }), { contractChecks })
const address = await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`Server listening at ${address}\n`)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
