import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))

export interface Running {
  child: ChildProcess
  endpoints: { mqtt?: { port: number }; http?: { port: number } }
  stdout: () => string
  exited: Promise<number | null>
}

/** `sensebus start` as a real process, resolved once its "sensebus ready" log line names the ports. */
export function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'start', '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sensebus did not become ready:\n${out}${err}`))
    }, 15_000)
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      for (const line of out.split('\n')) {
        if (!line.includes('"sensebus ready"')) continue
        clearTimeout(timer)
        resolve({ child, endpoints: (JSON.parse(line) as { endpoints: Running['endpoints'] }).endpoints, stdout: () => out, exited })
        return
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`sensebus exited with ${code} before it was ready:\n${out}${err}`))
    })
  })
}

/** Runs the CLI to completion. */
export function runCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sensebus ${args.join(' ')} did not finish:\n${stdout}${stderr}`))
    }, 15_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}
