// The `snapshot` subcommand: flags and THRIVE_API_SECRET, progress on stderr, and a file that appears whole or not at all.
import { randomBytes } from 'node:crypto'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { DataFileError } from './data-file.js'
import { loadFixtures } from './store/load-fixtures.js'
import { SnapshotError, takeSnapshot, type SnapshotOptions, type SnapshotProgress } from './snapshot.js'

export const SNAPSHOT_HELP = `Usage: thrive-audience-mock snapshot --base-url <url> --tenant-id <id> [options]

Pages through a Thrive tenant with the documented read operations (list audiences, each audience's members and
managers) and writes a fixture file that --fixtures loads to give the same answers. Users' emails, references and
names are replaced by deterministic fakes unless --keep-personal-data is given. The tenant gets a new API secret,
printed once on stderr; the real one is never written.

  --base-url <url>           The API host's origin, e.g. https://public.api.learnstaging.link (/rest/v1 is added)
  --tenant-id <id>           The Tenant ID, e.g. eu-west-2_AbcdEfghI
  --api-secret <secret>      The tenant's API secret; prefer THRIVE_API_SECRET: a flag's value is visible in \`ps\`
  --out <file>               Where to write the fixture (default: <tenant-id>.snapshot.json)
  --keep-personal-data       Keep users' real emails and references (the file then holds personal data)
  --max-audiences <n>        Only the first n audiences of the list (their structures must be among them)
  --help                     Show this help

Exit status: 0 written, 1 any other failure, 2 credentials refused (401).`

export interface SnapshotIo {
  /** Where --help goes (stderr when absent); every other message goes to stderr. */
  stdout?: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown, isTTY?: boolean, columns?: number }
  /** Extra options a test gives (page size, waits); never from the command line. */
  internal?: Partial<Pick<SnapshotOptions, 'perPage' | 'sleep' | 'random' | 'timeoutMs' | 'attempts'>>
  /** The process, to hear Ctrl-C: the half-written file is removed before exiting 130. */
  signals?: { once: (event: 'SIGINT', listener: () => void) => unknown, exit: (code: number) => void }
}

class UsageError extends Error {}

interface Parsed { options: Omit<SnapshotOptions, 'apiSecret'> & { apiSecret: string }, out: string }

function parse (argv: string[], env: NodeJS.ProcessEnv): Parsed | 'help' {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'base-url': { type: 'string' },
        'tenant-id': { type: 'string' },
        'api-secret': { type: 'string' },
        out: { type: 'string' },
        'keep-personal-data': { type: 'boolean' },
        'max-audiences': { type: 'string' },
        help: { type: 'boolean' }
      }
    }).values
  } catch (err) {
    throw new UsageError(`${(err as Error).message}. Run "thrive-audience-mock snapshot --help" for the options.`)
  }
  if (values.help === true) return 'help'
  const base = values['base-url']
  if (base === undefined) throw new UsageError('--base-url is required, e.g. --base-url https://public.api.learnstaging.link')
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new UsageError(`--base-url must be a URL such as https://public.api.learnstaging.link, got ${JSON.stringify(base)}`)
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw new UsageError(`--base-url must be the host's origin only, such as https://public.api.learnstaging.link (the command adds /rest/v1), got ${JSON.stringify(base)}`)
  }
  const tenantId = values['tenant-id']
  if (tenantId === undefined || tenantId === '') throw new UsageError('--tenant-id is required, e.g. --tenant-id eu-west-2_AbcdEfghI')
  const apiSecret = values['api-secret'] ?? env.THRIVE_API_SECRET
  if (apiSecret === undefined || apiSecret === '') throw new UsageError('the API secret is required: set THRIVE_API_SECRET (or give --api-secret)')
  let maxAudiences: number | undefined
  if (values['max-audiences'] !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(values['max-audiences'])) throw new UsageError(`--max-audiences must be a whole number from 1, got ${JSON.stringify(values['max-audiences'])}`)
    maxAudiences = Number(values['max-audiences'])
  }
  return {
    options: { baseUrl: url.origin, tenantId, apiSecret, keepPersonalData: values['keep-personal-data'] === true, maxAudiences },
    out: values.out ?? `${tenantId}.snapshot.json`
  }
}

/** A bar redrawn in place on a terminal; elsewhere (a CI log, a pipe) a line at every tenth of the audiences. */
function progressReporter (stderr: SnapshotIo['stderr']): { update: (p: SnapshotProgress) => void, end: () => void } {
  const tty = stderr.isTTY === true
  let lastTenth = -1
  let drawn = false
  let listed = false
  return {
    update (p) {
      const { done, total } = p.audiences
      if (total === null) return
      const counts = `audiences ${done}/${total}, members ${p.members.done}/${p.members.total}`
      if (tty) {
        const width = 20
        const filled = total === 0 ? width : Math.floor(width * done / total)
        stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}\x1b[K`)
        drawn = true
        return
      }
      if (!listed) {
        listed = true
        stderr.write(`snapshot: ${total} audiences to read\n`)
      }
      const tenth = total === 0 ? 10 : Math.floor(10 * done / total)
      if (tenth > lastTenth && done > 0) {
        lastTenth = tenth
        stderr.write(`snapshot: ${counts}\n`)
      }
    },
    end () {
      if (drawn) stderr.write('\n')
    }
  }
}

/** Runs the command; the exit status is returned. */
export async function runSnapshot (argv: string[], env: NodeJS.ProcessEnv, io: SnapshotIo): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`)
  let parsed
  try {
    parsed = parse(argv, env)
  } catch (err) {
    say(`thrive-audience-mock snapshot: ${(err as Error).message}`)
    return 1
  }
  if (parsed === 'help') {
    (io.stdout ?? io.stderr).write(`${SNAPSHOT_HELP}\n`)
    return 0
  }
  const { options, out } = parsed
  // Written beside the target and renamed over it, so an interrupted run never leaves a half-written fixture.
  const temp = `${out}.${process.pid}.tmp`
  io.signals?.once('SIGINT', () => { unlink(temp).catch(() => {}).then(() => io.signals?.exit(130), () => {}) })
  const newApiSecret = randomBytes(24).toString('base64url')
  const progress = progressReporter(io.stderr)
  say(`snapshot: reading tenant ${options.tenantId} from ${options.baseUrl}${options.keepPersonalData === true ? '' : ', personal data replaced'}`)
  let result
  try {
    result = await takeSnapshot({ ...options, ...io.internal, newApiSecret, onProgress: progress.update })
    // What --fixtures will do with the file, done now: a problem is reported here rather than at the mock's start.
    loadFixtures([{ name: out, data: result.fixture }])
  } catch (err) {
    progress.end()
    if (err instanceof SnapshotError) {
      say(`thrive-audience-mock snapshot: ${err.message}`)
      return err.exitCode
    }
    if (err instanceof DataFileError) {
      say(`thrive-audience-mock snapshot: the tenant's data does not fit the fixture format, nothing written: ${err.message}`)
      return 1
    }
    /* c8 ignore start - only a defect in this program gets here, and its stack is what would show it */
    throw err
  }
  /* c8 ignore stop */
  progress.end()

  try {
    await writeFile(temp, `${JSON.stringify(result.fixture, null, 2)}\n`, { mode: 0o600 })
    await rename(temp, out)
  } catch (err) {
    await unlink(temp).catch(() => {})
    say(`thrive-audience-mock snapshot: cannot write ${out}: ${(err as Error).message}`)
    return 1
  }

  for (const note of result.notes) say(`note: ${note}`)
  say(`snapshot: wrote ${out}: ${result.audiences} audiences, ${result.users} users, ${result.members} memberships, ${result.managers} managers (${result.requests} requests)`)
  if (options.keepPersonalData === true) say('snapshot: --keep-personal-data: the file holds the users\' real emails and references; do not commit it')
  say(`snapshot: the tenant's API secret in ${out} is a new one (the real one is not written), shown only now: ${newApiSecret}`)
  say(`snapshot: use it with: thrive-audience-mock --fixtures ${out}, then Basic auth ${options.tenantId}:<that secret>, or a token from POST /oauth2/token/${options.tenantId}`)
  return 0
}
