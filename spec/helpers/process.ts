import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built CLI to completion. */
export function runCli(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sensebus ${args.join(' ')} did not finish: ${stdout}${stderr}`))
    }, opts.timeoutMs ?? 40_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}

export interface Endpoints {
  mqtt?: { host: string; port: number }
  ws?: { host: string; port: number }
  http?: { host: string; port: number }
}

export interface ServerProcess {
  child: ChildProcess
  endpoints: Endpoints
  mqttUrl: string
  httpUrl: string
  /** Every stdout line seen so far. */
  logs: string[]
  /** All of stdout so far, as one string. */
  stdout(): string
  exited: Promise<number | null>
}

/**
 * Starts `sensebus start` as a real process and waits for its "sensebus ready" log line; `cli` is
 * another build's entry point (the packed tarball's).
 */
export function startServer(args: string[], env: NodeJS.ProcessEnv = {}, cli = CLI): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, 'start', '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0', ...args],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const logs: string[] = []
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sensebus did not become ready: ${logs.join('\n')}${stderr}`))
    }, 40_000)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`sensebus exited with ${code} before it was ready: ${stderr}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line)
      let rec: { msg?: string; endpoints?: Endpoints }
      try {
        rec = JSON.parse(line)
      } catch {
        return
      }
      if (rec.msg === 'sensebus ready' && rec.endpoints) {
        clearTimeout(timer)
        resolve({
          child,
          endpoints: rec.endpoints,
          mqttUrl: `mqtt://127.0.0.1:${rec.endpoints.mqtt?.port}`,
          httpUrl: `http://127.0.0.1:${rec.endpoints.http?.port}`,
          logs,
          stdout: () => logs.join('\n'),
          exited,
        })
      }
    })
  })
}
