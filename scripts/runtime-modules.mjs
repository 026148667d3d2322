#!/usr/bin/env node
// Copies into <dest>/node_modules the packages that dist/cli.bundle.js loads from node_modules at run time, each with
// its dependency closure as package-lock.json locks it, from an installed node_modules: the container image ships these
// and no other package. Usage: node scripts/runtime-modules.mjs <dest> | --list
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * What the bundle leaves to node_modules (scripts/build-bundle.mjs). `closure: false` ships the package's own files
 * without its dependencies, for a package whose code is bundled and only whose files are read.
 */
const RUNTIME_MODULES = [
  // Marked external in the bundle: pino loads its worker files (and pino-pretty) by path; faker is imported on --generate.
  { name: 'pino', closure: true },
  { name: 'pino-pretty', closure: true },
  { name: '@faker-js/faker', closure: true },
  // Marked external too: imported when the HTTPS listener makes its own certificate.
  { name: 'node-forge', closure: true },
  // Required on first use by the bundle's lazy stand-in (GET /docs/yaml).
  { name: 'yaml', closure: true },
  // Bundled, but its HTML, JS and CSS assets are read from the installed package (require.resolve).
  { name: '@fastify/swagger-ui', closure: false }
]

const root = fileURLToPath(new URL('..', import.meta.url))

/** Node's lookup from a lock-file path: its own node_modules, then each enclosing one up to the root. */
function resolveIn (packages, from, name) {
  let base = from
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`
    if (packages[candidate] !== undefined) return candidate
    if (base === '') return undefined
    const cut = base.lastIndexOf('/node_modules/')
    base = cut === -1 ? '' : base.slice(0, cut)
  }
}

/** The lock-file paths (node_modules/...) of every package in the closure, sorted. */
function closure (lock, modules = RUNTIME_MODULES) {
  const packages = lock.packages ?? {}
  const found = new Set()
  const visit = (path, follow) => {
    if (found.has(path)) return
    found.add(path)
    if (!follow) return
    const entry = packages[path]
    const optionalPeers = entry.peerDependenciesMeta ?? {}
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}).map((name) => [name, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((name) => [name, true]),
      ...Object.keys(entry.peerDependencies ?? {}).map((name) => [name, optionalPeers[name]?.optional === true])
    ]
    for (const [name, optional] of wanted) {
      const dep = resolveIn(packages, path, name)
      if (dep === undefined) {
        // An optional dependency for another platform is not in the lock file's tree.
        if (optional) continue
        throw new Error(`${path} depends on ${name}, which package-lock.json does not resolve`)
      }
      visit(dep, true)
    }
  }
  for (const { name, closure: follow } of modules) {
    const path = `node_modules/${name}`
    if (packages[path] === undefined) throw new Error(`${name} is not in package-lock.json`)
    if (packages[path].dev === true) throw new Error(`${name} is a dev dependency in package-lock.json`)
    visit(path, follow)
  }
  return [...found].sort()
}

function main () {
  const arg = process.argv[2]
  if (arg === '--list') {
    // What the container test checks in the image: a package to import, or one whose files must be found.
    for (const { name, closure: follow } of RUNTIME_MODULES) console.log(`${name} ${follow ? 'load' : 'files'}`)
    return
  }
  if (arg === undefined || arg.startsWith('-')) throw new Error('usage: node scripts/runtime-modules.mjs <dest> | --list')
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  const paths = closure(lock)
  for (const path of paths) {
    const from = join(root, path)
    const installed = existsSync(join(from, 'package.json')) ? JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')).version : undefined
    const locked = lock.packages[path].version
    // The copy must be what the lock file says, not whatever a stray install left.
    if (installed !== locked) throw new Error(`${path} is ${installed ?? 'not installed'}, package-lock.json locks ${locked}`)
    // Nested node_modules hold other packages, copied (or not) on their own account.
    cpSync(from, join(arg, path), { recursive: true, filter: (src) => relative(from, src).split(sep)[0] !== 'node_modules' })
  }
  console.log(`runtime-modules: ${paths.length} packages copied to ${join(arg, 'node_modules')}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
