import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'

export interface RedisServer {
  url: string
  port: number
  stop(): Promise<void>
}

const BINARIES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']

function binary(): string {
  const found =
    BINARIES.find((b) => existsSync(b)) ?? (spawnSync('which', ['redis-server']).stdout?.toString().trim() || undefined)
  // Fail loudly rather than skip: the shared backend is part of what CI proves (.ci/run installs it).
  if (!found) throw new Error('redis-server is not installed (apt-get install redis-server); the redis specs need it')
  return found
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => s.write('PING\r\n'))
    s.once('data', (d) => {
      s.destroy()
      resolve(d.toString().startsWith('+PONG'))
    })
    s.once('error', () => resolve(false))
  })
}

/** A throwaway redis-server on a free loopback port, its files in its own /tmp folder, no persistence. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-redis-'))
  const child: ChildProcess = spawn(
    binary(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const deadline = Date.now() + 5000
  while (!(await answersPing(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not start on ${port}: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 30))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
