#!/usr/bin/env node
// Command-line entry: parse flags and environment, then start the server; bad input exits 1 with one clear line.
import { readFileSync } from 'node:fs'
import { ConfigError, helpText, parseCli } from './config.js'
import { DataFileError } from './data-file.js'
import { startServer } from './server.js'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

try {
  const result = parseCli(process.argv.slice(2), process.env)
  if (result.kind === 'help') console.log(helpText())
  else if (result.kind === 'version') console.log(pkg.version)
  else await startServer(result.config)
} catch (err) {
  if (err instanceof ConfigError) console.error(`thrive-audience-mock: configuration error: ${err.message}`)
  else if (err instanceof DataFileError) console.error(`thrive-audience-mock: ${err.kind} error: ${err.message}`)
  else console.error(`thrive-audience-mock: cannot start: ${(err as Error).message}`)
  process.exit(1)
}
