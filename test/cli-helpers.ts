// Starts the built CLI as a real process and waits until it listens.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export interface RunningCli {
  child: ChildProcess
  url: string
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

export async function startCli (args: string[], env: Record<string, string> = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [CLI, '--host', '127.0.0.1', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    // A CLI that never says it listens is stopped, so a failed start leaves no process behind.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`CLI did not start:\n${out}`)) }, 20_000)
    const check = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    }
    child.stdout.on('data', check)
    exited.then((code) => { clearTimeout(timer); reject(new Error(`CLI exited with ${code}:\n${out}`)) }, reject)
  })
  return {
    child,
    url,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal)
      return await exited
    }
  }
}

/** Runs the CLI to completion (for --help and start-up errors). */
export async function runCli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}
