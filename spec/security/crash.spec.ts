import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { startSecureApp } from './harness.js'
import { runCli, startServer as startProcess, type ServerProcess as Running } from '../helpers/process.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Writes unique keys, a few in flight at a time, until the connection dies; returns what was
 * acknowledged. Raw mqtt.js: a publish on a dead connection never settles, so nothing here awaits one.
 */
async function streamWrites(url: string, prefix: string, onAck: () => void): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 })
  const acked = new Map<string, string>()
  const pending = new Map<string, { key: string; value: string; done: () => void }>()
  let next = 0
  let dead = false
  client.on('message', (_topic, payload) => {
    const env = JSON.parse(payload.toString()) as { transaction?: string; status: string }
    const p = env.transaction === undefined ? undefined : pending.get(env.transaction)
    if (!p) return
    pending.delete(env.transaction as string)
    if (env.status === 'ok') {
      acked.set(p.key, p.value)
      onAck()
    }
    p.done()
  })
  await client.subscribeAsync('sense/response/kv/set', { qos: 1 })
  await new Promise<void>((resolve) => {
    client.once('close', () => {
      dead = true
      for (const p of pending.values()) p.done()
      resolve()
    })
    const send = () => {
      if (dead) return
      const key = `${prefix}-${next++}`
      const value = `value-of-${key}`
      pending.set(key, { key, value, done: () => setImmediate(send) })
      client.publish('sense/request/kv/set', JSON.stringify({ transaction: key, namespace: 'crash', key, value }), {
        qos: 1,
      })
    }
    for (let i = 0; i < 4; i++) send()
  })
  client.end(true)
  return acked
}

describe('crash safety', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-crash-'))
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps every acknowledged KV write across SIGKILL at a random moment, cycle after cycle', async () => {
    const everAcked = new Map<string, string>()
    let proc: Running | undefined
    for (let cycle = 0; cycle < 3; cycle++) {
      proc = await startProcess(['--data-dir', dataDir, '--log-level', 'info'])
      const url = `mqtt://127.0.0.1:${proc.endpoints.mqtt!.port}`
      const client = await connect(url)
      // Everything acknowledged in earlier lives is still there, with its value.
      for (const [key, value] of everAcked) {
        expect(await client.request('kv/get', { namespace: 'crash', key })).toMatchObject({
          status: 'ok',
          data: { value },
        })
      }
      await client.end()
      // The random moment is counted from the first acknowledged write, so a slow start on a busy
      // machine cannot leave a cycle with nothing to check.
      let firstAck: () => void = () => undefined
      const started = new Promise<void>((resolve) => (firstAck = resolve))
      const writing = streamWrites(url, `c${cycle}`, () => firstAck())
      await started
      await sleep(Math.floor(Math.random() * 400))
      proc.child.kill('SIGKILL')
      await proc.exited
      const acked = await writing
      expect(acked.size).toBeGreaterThan(0)
      for (const [k, v] of acked) everAcked.set(k, v)
    }
    proc = await startProcess(['--data-dir', dataDir, '--log-level', 'info'])
    const client = await connect(`mqtt://127.0.0.1:${proc.endpoints.mqtt!.port}`)
    const keys = await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: 'crash' })
    const present = new Set(keys.status === 'ok' ? keys.data.keys.map((k) => k.key) : [])
    expect([...everAcked.keys()].filter((k) => !present.has(k))).toEqual([])
    await client.end()
    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }, 60_000)
})

describe('storage that cannot be opened', () => {
  it('stops start-up with a clear error and a non-zero exit when another process holds the data dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-locked-'))
    const first = await startProcess(['--data-dir', dir, '--log-level', 'info'])
    try {
      const second = await runCli([
        'start',
        '--data-dir',
        dir,
        '--mqtt-port',
        '0',
        '--ws-port',
        '0',
        '--http-port',
        '0',
      ])
      expect(second.code).not.toBe(0)
      expect(second.stderr).toMatch(/Cannot open the broker store in .*mqtt: .*lock.*another sensebus/)
      expect(second.stdout).not.toContain('sensebus ready')
    } finally {
      first.child.kill('SIGTERM')
      await first.exited
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a corrupt store instead of starting empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-corrupt-'))
    await mkdir(join(dir, 'store'), { recursive: true })
    await writeFile(join(dir, 'store', 'CURRENT'), 'MANIFEST-000099\n')
    const run = await runCli(['start', '--data-dir', dir, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0'])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/Cannot open the store in .*store: .*MANIFEST-000099/)
    expect(run.stdout).not.toContain('sensebus ready')
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses a store locked in this process, and a data dir that is not a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-kvlock-'))
    const holder = new Level(join(dir, 'store'))
    await holder.open()
    await expect(startSecureApp({ dataDir: dir })).rejects.toThrow(
      /Cannot open the store in .*store: .*lock.*another sensebus/,
    )
    await holder.close()
    await writeFile(join(dir, 'file'), 'not a directory')
    await expect(startSecureApp({ dataDir: join(dir, 'file') })).rejects.toThrow(
      /Cannot create the data directory .*file: EEXIST/,
    )
    await rm(dir, { recursive: true, force: true })
  })
})
