// The README's fault-injection cookbook and audience API walk-through, each pasted in order against a fresh server,
// do what their comments say. Each command runs in one bash session (variables carry over, as in a terminal); a command with a
// trailing "# ..." comment is checked against it, and every other command must exit 0.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startCli } from './cli-helpers.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The first ```sh block after a heading, as commands: continuation lines joined, comment-only lines dropped. */
function commandsUnder (markdown: string, heading: string): Array<{ command: string, comment: string | null }> {
  const section = markdown.slice(markdown.indexOf(`\n${heading}\n`))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) throw new Error(`no sh block under ${heading}`)
  const commands: Array<{ command: string, comment: string | null }> = []
  let pending = ''
  let previousLine = ''
  for (const line of block.split('\n')) {
    const last = commands.at(-1)
    // A comment line right under a command, with no blank line between, is that command's expected result.
    if (pending === '' && line.trim().startsWith('#') && previousLine.trim() !== '' && !previousLine.trim().startsWith('#') && last !== undefined && last.comment === null) {
      last.comment = line.replace(/^\s*#\s*/, '')
    }
    previousLine = line
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue
    const joined = pending + line
    if (joined.endsWith('\\')) {
      pending = `${joined}\n`
      continue
    }
    pending = ''
    // The comment starts at the last " # " outside quotes; commands here quote no "#".
    const at = joined.lastIndexOf('   # ')
    const short = at === -1 ? joined.lastIndexOf('  # ') : at
    commands.push(short === -1 ? { command: joined, comment: null } : { command: joined.slice(0, short).trimEnd(), comment: joined.slice(short).replace(/^\s*#\s*/, '') })
  }
  return commands
}

interface Ran { stdout: string, stderr: string, code: number }

/** Where `actual` differs from the part of it that `expected` shows (objects: the fields named; arrays: item by item). */
function firstMismatch (expected: unknown, actual: unknown, at: string): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${at}: expected an array of ${expected.length}`
    for (const [i, item] of expected.entries()) {
      const problem = firstMismatch(item, actual[i], `${at}[${i}]`)
      if (problem !== null) return problem
    }
    return null
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return `${at}: expected an object`
    for (const [key, value] of Object.entries(expected)) {
      const problem = firstMismatch(value, (actual as Record<string, unknown>)[key], `${at}.${key}`)
      if (problem !== null) return problem
    }
    return null
  }
  return Object.is(expected, actual) ? null : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`
}

/** What a comment promises about a command's result; null when the comment promises nothing checkable. */
function check (comment: string, ran: Ran): string | null {
  const exit = /curl(?: exit|: \()\s*(\d+)/.exec(comment)
  if (exit !== null) return ran.code === Number(exit[1]) ? null : `expected curl exit ${exit[1]}, got ${ran.code} (${ran.stderr.trim()})`
  if (ran.code !== 0) return `exit ${ran.code}: ${ran.stderr.trim()}`
  const statusLine = /^HTTP\/1\.1 (\d{3})/.exec(comment)
  if (statusLine !== null) {
    if (!ran.stdout.startsWith(`HTTP/1.1 ${statusLine[1]}`)) return `expected HTTP/1.1 ${statusLine[1]}, got ${ran.stdout.split('\n')[0]}`
    for (const header of comment.matchAll(/([a-z-]+): (\S+)/g)) {
      if (!ran.stdout.toLowerCase().includes(`${header[1]}: ${header[2]}`.toLowerCase())) return `expected header ${header[0]}`
    }
    return null
  }
  const after = /^(\d{3}) after ([\d.]+)/.exec(comment)
  if (after !== null) {
    const [status, seconds] = ran.stdout.trim().split(' after ')
    if (status !== after[1]) return `expected ${after[1]}, got ${ran.stdout.trim()}`
    // A lower bound only: the delay is the least it can take, however busy the machine is.
    return Number.parseFloat(seconds as string) >= Number(after[2]) ? null : `answered in ${seconds as string}, before the ${after[2]} s the rule asks for`
  }
  // A JSON comment shows part of the answer: every field it names must be there with that value.
  if (comment.startsWith('{') || comment.startsWith('[')) {
    let answer: unknown
    try {
      answer = JSON.parse(ran.stdout)
    } catch {
      return `expected JSON, got ${ran.stdout.slice(0, 200)}`
    }
    const missing = firstMismatch(JSON.parse(comment), answer, '$')
    return missing === null ? null : `${missing} in ${ran.stdout.slice(0, 300)}`
  }
  const status = /^(\d{3})\b/.exec(comment)
  if (status !== null) {
    const got = /^HTTP\/1\.1 (\d{3})/.exec(ran.stdout)?.[1] ?? ran.stdout.trim()
    if (got !== status[1]) return `expected ${status[1]}, got ${got}`
    for (const quoted of comment.matchAll(/error_description="([^"]+)"/g)) {
      if (!ran.stdout.includes(quoted[1] as string)) return `expected "${quoted[1] as string}" in the answer`
    }
    return null
  }
  return `no check for the comment "${comment}"`
}

/** Runs a README block's commands in order, in one bash session against a fresh server, and checks each result. */
async function runSection (t: Test, heading: string, least: { commands: number, checked: number }): Promise<void> {
  const commands = commandsUnder(README, heading)
  t.ok(commands.length >= least.commands, `${commands.length} commands`)
  t.ok(commands[0]?.command.startsWith('B=http://localhost:8080;'), 'it starts by naming the server')
  const server = await startCli([])
  t.teardown(() => server.stop())
  // Files a block writes land in a directory of their own, not in the repository.
  const cwd = mkdtempSync(join(tmpdir(), 'readme-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const marker = '@@readme-step@@'
  const script = commands.map((c, i) => {
    const command = i === 0 ? c.command.replace('B=http://localhost:8080', `B=${server.url}`) : c.command
    // Each step's output and exit status are fenced, so the runner can read them back per step.
    return `echo "${marker}${i}" ; echo "${marker}${i}" >&2\n${command}\nstatus=$? ; echo "" ; echo "${marker}exit $status"`
  }).join('\n')
  const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000, cwd })
  t.equal(run.status, 0, 'the script ran to its end')
  const stdoutSteps = run.stdout.split(new RegExp(`${marker}\\d+\\n`)).slice(1)
  const stderrSteps = run.stderr.split(new RegExp(`${marker}\\d+\\n`)).slice(1)
  t.equal(stdoutSteps.length, commands.length, 'every command ran')
  let checked = 0
  commands.forEach((c, i) => {
    const out = stdoutSteps[i] ?? ''
    const exitAt = out.lastIndexOf(`${marker}exit `)
    const ran = { stdout: out.slice(0, exitAt).replace(/\n$/, ''), stderr: stderrSteps[i] ?? '', code: Number(out.slice(exitAt + marker.length + 5).trim()) }
    const problem = c.comment === null ? (ran.code === 0 ? null : `exit ${ran.code}: ${ran.stderr.trim()}`) : check(c.comment, ran)
    if (c.comment !== null) checked += 1
    t.equal(problem, null, `step ${i + 1}: ${c.command.split('\n')[0] as string}${c.comment === null ? '' : `   # ${c.comment}`}`)
  })
  t.ok(checked >= least.checked, `${checked} commands checked against their comments`)
}

t.test('the README cookbook, run in order against a fresh server, does what its comments say', async (t) => {
  await runSection(t, '### Cookbook', { commands: 15, checked: 9 })
})

t.test('the README walk-through of the audience API, run in order against a fresh server, does what its comments say', async (t) => {
  await runSection(t, '### Walk-through', { commands: 15, checked: 13 })
})

/** The first ```js block after a heading. */
function jsUnder (markdown: string, heading: string): string {
  const section = markdown.slice(markdown.indexOf(`\n${heading}\n`))
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) throw new Error(`no js block under ${heading}`)
  return block
}

t.test('the README\'s node --test example of asserting coverage passes, and fails naming the status a suite left unexercised', async (t) => {
  const example = jsUnder(README, '### Asserting coverage from a test suite')
  const library = new URL('../dist/index.js', import.meta.url).href
  t.match(example, "from 'thrive-audience-mock'", 'it imports the package by name')
  const dir = mkdtempSync(join(tmpdir(), 'readme-coverage-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // The package is this repository's build (npm test builds it first).
  const file = join(dir, 'coverage.test.mjs')
  writeFileSync(file, example.replace("from 'thrive-audience-mock'", `from '${library}'`))
  const run = (...args: string[]) => spawnSync(process.execPath, ['--test', ...args, file], { encoding: 'utf8', timeout: 60_000, cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } })

  const passed = run()
  t.equal(passed.status, 0, passed.stdout + passed.stderr)
  t.match(passed.stdout, /# tests 4\n# suites 0\n# pass 4\n# fail 0/)

  // Without the 429 test the after hook must fail: the coverage check has teeth.
  const partial = run('--test-name-pattern=^getAudience')
  t.not(partial.status, 0, 'the run fails')
  t.match(partial.stdout, /getAudience: handled statuses the suite never exercised/)
  t.match(partial.stdout, /429/)
})
