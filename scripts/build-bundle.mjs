#!/usr/bin/env node
// Bundles the CLI into one ESM file, dist/cli.bundle.js, after tsc has built dist/. Start-up is mostly module loading
// (typebox alone is ~700 files, fastify and its plugins hundreds more); one file to read and compile is several
// times faster. The library entry (dist/index.js) stays unbundled. Usage: node scripts/build-bundle.mjs [outfile]
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const outfile = process.argv[2] ?? `${root}dist/cli.bundle.js`

// Loaded at run time from node_modules, not bundled (each is a direct dependency, so it is always installed):
const external = [
  // Loads worker files by path for log transports (pino-pretty on a terminal).
  'pino',
  'pino-pretty',
  // Only imported with --generate, and large.
  '@faker-js/faker',
  // Only imported when the HTTPS listener makes its own certificate.
  'node-forge'
]

/**
 * @fastify/swagger-ui finds its HTML, JS and CSS through __dirname, which a bundle does not have: point it at the
 * installed package instead (it is a dependency, so it is always there), resolved at run time.
 */
const swaggerUiAssets = {
  name: 'swagger-ui-assets',
  setup (b) {
    b.onLoad({ filter: /[\\/]@fastify[\\/]swagger-ui[\\/](index|lib[\\/]routes)\.js$/ }, async (args) => {
      const dir = /[\\/]lib[\\/]routes\.js$/.test(args.path) ? "'lib'" : "'.'"
      const source = await readFile(args.path, 'utf8')
      const prelude = `const __dirname = require('node:path').join(require('node:path').dirname(require.resolve('@fastify/swagger-ui/package.json')), ${dir});\n`
      return { contents: prelude + source, loader: 'js' }
    })
  }
}

/**
 * yaml (~800 kB of CommonJS) is required at start by @fastify/swagger and @fastify/swagger-ui, but only used to
 * serve /docs/yaml. This stand-in loads the real package on first use.
 */
const lazyYaml = {
  name: 'lazy-yaml',
  setup (b) {
    b.onResolve({ filter: /^yaml$/ }, (args) => args.namespace === 'lazy-yaml' ? { path: 'yaml', external: true } : { path: 'yaml', namespace: 'lazy-yaml' })
    b.onLoad({ filter: /.*/, namespace: 'lazy-yaml' }, () => ({
      contents: 'let real\nmodule.exports = new Proxy({}, { get (_, key) { real ??= require(\'yaml\'); return real[key] } })\n',
      loader: 'js'
    }))
  }
}

await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  plugins: [swaggerUiAssets, lazyYaml],
  // CommonJS dependencies call require(); an ES module has none until it makes one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning'
})
