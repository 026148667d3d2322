#!/usr/bin/env node
// Command-line entry: parse flags and environment, then start the server; bad input exits 1 with one clear line.
import { VERSION } from './app.js'
import { ConfigError, helpText, parseCli } from './config.js'
import { DataFileError } from './data-file.js'
import { startServer } from './server.js'

if (process.argv[2] === 'snapshot') {
  // Loaded only for this command, so the server's start does not pay for it.
  const { runSnapshot } = await import('./snapshot-cli.js')
  process.exit(await runSnapshot(process.argv.slice(3), process.env, { stdout: process.stdout, stderr: process.stderr, signals: process }))
}

try {
  const result = parseCli(process.argv.slice(2), process.env)
  if (result.kind === 'help') console.log(helpText())
  else if (result.kind === 'version') console.log(VERSION)
  else await startServer(result.config)
} catch (err) {
  if (err instanceof ConfigError) console.error(`thrive-audience-mock: configuration error: ${err.message}`)
  else if (err instanceof DataFileError) console.error(`thrive-audience-mock: ${err.kind} error: ${err.message}`)
  else console.error(`thrive-audience-mock: cannot start: ${(err as Error).message}`)
  process.exit(1)
}
