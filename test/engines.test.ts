// The declared Node range and the installed tree agree: every locked package accepts the oldest Node the project claims.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t from 'tap'

interface Semver {
  minVersion: (range: string) => { version: string } | null
  satisfies: (version: string, range: string) => boolean
}
// semver is already in the tree (Fastify depends on it) and ships no types of its own.
const semver = createRequire(import.meta.url)('semver') as Semver

interface LockEntry { engines?: Record<string, string> | string[] }
const root = new URL('../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, LockEntry> }

/** Node's range from either form npm knows: {"node": "…"} or the old ["node >= 0.2.0"]. */
function nodeRange (engines: LockEntry['engines']): string | undefined {
  if (Array.isArray(engines)) return engines.find((e) => e.startsWith('node'))?.slice(4).trim()
  return engines?.node
}

t.test('every package in package-lock.json admits the oldest Node that package.json "engines" declares', async (t) => {
  const oldest = semver.minVersion(pkg.engines.node)?.version
  t.equal(oldest, '20.19.0')
  t.same(pkg.engines, (lock.packages[''] as { engines: unknown }).engines, 'the lock file records the same engines')
  const refusing: string[] = []
  let checked = 0
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = nodeRange(entry.engines)
    if (path === '' || range === undefined) continue
    checked++
    if (!semver.satisfies(oldest as string, range)) refusing.push(`${path.replace(/^.*node_modules\//, '')} (node ${range})`)
  }
  t.ok(checked > 100, `${checked} packages declare a Node range`)
  t.same(refusing, [], 'no package refuses the declared minimum')
})
