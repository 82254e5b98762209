import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'

export interface Mosquitto {
  url: string
  port: number
  stop(): Promise<void>
  /** Stops and starts the broker again on the same port (all its in-memory state is gone). */
  restart(): Promise<void>
}

const BINARIES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']

function binary(): string {
  const found =
    BINARIES.find((b) => existsSync(b)) ?? (spawnSync('which', ['mosquitto']).stdout?.toString().trim() || undefined)
  // Fail loudly rather than skip: external-broker mode is part of what CI proves (.ci/run installs it).
  if (!found)
    throw new Error('mosquitto is not installed (apt-get install mosquitto); the external-broker tests need it')
  return found
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`mosquitto did not listen on ${port}`)
}

async function spawnOn(port: number, conf: string): Promise<ChildProcess> {
  const child: ChildProcess = spawn(binary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  try {
    await waitForPort(port, Date.now() + 5000)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}: ${stderr}`)
  }
  return child
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/** A real Mosquitto on a free loopback port, anonymous, in-memory, for external-broker mode. */
export async function startMosquitto(): Promise<Mosquitto> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-mosq-'))
  const conf = join(dir, 'mosquitto.conf')
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 100000',
      '',
    ].join('\n'),
  )
  let child = await spawnOn(port, conf)
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () => stopChild(child),
    async restart() {
      await stopChild(child)
      child = await spawnOn(port, conf)
    },
  }
}
