import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { freePort } from '../helpers/ports.js'
import { data, enc, errorCode, mirrorTopic, retainedUnder, uniqueNs } from './kv-helpers.js'

const sleepUntil = (epochMs: number) => new Promise((r) => setTimeout(r, Math.max(epochMs - Date.now(), 0)))

describe('kv survives an in-process restart on the same data dir', () => {
  let dataDir: string
  let sb: TestApp | undefined
  let client: TestClient | undefined

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-kv-restart-'))
  })
  afterEach(async () => {
    await client?.end()
    client = undefined
    await sb?.stop()
    sb = undefined
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  const start = async () => {
    sb = await startTestApp({ dataDir })
    client = await connect(sb.mqttUrl)
    return client
  }

  it(
    'keeps keys, values, TTL deadlines and namespaces (even empty ones); drops what expired while stopped and ' +
      'clears its mirror',
    async () => {
      const ns = uniqueNs('restart')
      const emptyNs = uniqueNs('restart-empty')
      let c = await start()
      await c.request('kv/set', { namespace: ns, key: 'permanent', value: 'p' })
      await c.request('kv/set', { namespace: ns, key: 'sp ace/slash', value: 'odd' })
      const long = data(
        await c.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'long', value: 'l', ttl: 600_000 }),
      )
      const short = data(
        await c.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'short', value: 's', ttl: 400 }),
      )
      await c.request('kv/set', { namespace: emptyNs, key: 'only', value: 'x' })
      await c.request('kv/delete', { namespace: emptyNs, key: 'only' })
      await c.request('kv/set', { namespace: ns, key: 'deleted', value: 'd' })
      await c.request('kv/delete', { namespace: ns, key: 'deleted' })
      const goneNs = uniqueNs('restart-gone')
      await c.request('kv/set', { namespace: goneNs, key: 'k', value: 'v' })
      await c.request('kv/delete-namespace', { namespace: goneNs })
      expect((await retainedUnder(sb!.mqttUrl, mirrorTopic(ns, 'short'))).length).toBe(1)
      await client!.end()
      client = undefined
      await sb!.stop()
      sb = undefined

      // The short key's deadline passes while nothing runs.
      await sleepUntil(Date.parse(short.expiresAt) + 100)
      c = await start()

      const namespaces = data(await c.request<{ namespaces: string[] }>('kv/namespaces')).namespaces
      expect(namespaces).toEqual(expect.arrayContaining([ns, emptyNs]))
      expect(namespaces).not.toContain(goneNs)
      expect(errorCode(await c.request('kv/get', { namespace: ns, key: 'deleted' }))).toBe('NOT_FOUND')
      expect(data(await c.request('kv/keys', { namespace: emptyNs }))).toEqual({ namespace: emptyNs, keys: [] })
      expect(data(await c.request('kv/get', { namespace: ns, key: 'permanent' }))).toEqual({
        namespace: ns,
        key: 'permanent',
        value: 'p',
        expiresAt: null,
      })
      expect(data(await c.request('kv/get', { namespace: ns, key: 'sp ace/slash' }))).toMatchObject({ value: 'odd' })
      // The deadline is absolute: a restart neither resets nor drops it.
      expect(data(await c.request('kv/get', { namespace: ns, key: 'long' }))).toEqual({
        namespace: ns,
        key: 'long',
        value: 'l',
        expiresAt: long.expiresAt,
      })
      expect(errorCode(await c.request('kv/get', { namespace: ns, key: 'short' }))).toBe('NOT_FOUND')
      expect(
        data(await c.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map((k) => k.key),
      ).toEqual(['long', 'permanent', 'sp ace/slash'])

      // The retained mirror matches the store: live keys are there, the expired one is not.
      const retained = await retainedUnder(sb!.mqttUrl, `sense/state/kv/${enc(ns)}/#`)
      expect(retained.map((m) => m.topic).sort()).toEqual(
        [mirrorTopic(ns, 'long'), mirrorTopic(ns, 'permanent'), mirrorTopic(ns, 'sp ace/slash')].sort(),
      )
      expect(JSON.parse(retained.find((m) => m.topic === mirrorTopic(ns, 'permanent'))!.payload)).toMatchObject({
        namespace: ns,
        key: 'permanent',
        value: 'p',
      })
    },
  )

  it('a TTL that runs out after the restart still expires actively, mirror included', async () => {
    const ns = uniqueNs('restart-ttl')
    let c = await start()
    const set = data(
      await c.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'k', value: 'v', ttl: 2500 }),
    )
    await client!.end()
    client = undefined
    await sb!.stop()
    sb = undefined

    c = await start()
    const watcher = await connect(sb!.mqttUrl)
    try {
      const seen = await watcher.collect(mirrorTopic(ns, 'k'))
      expect(Date.now(), 'restart took too long for this test to mean anything').toBeLessThan(
        Date.parse(set.expiresAt) - 300,
      )
      expect(data(await c.request('kv/get', { namespace: ns, key: 'k' }))).toMatchObject({
        value: 'v',
        expiresAt: set.expiresAt,
      })
      await expect.poll(() => seen.map((m) => m.payload).at(-1), { timeout: 5000, interval: 50 }).toBe('')
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(set.expiresAt))
    } finally {
      await watcher.end()
    }
    expect(errorCode(await c.request('kv/get', { namespace: ns, key: 'k' }))).toBe('NOT_FOUND')
  })

  it('keeps the limit after a restart: keys on disk count', async () => {
    const ns = uniqueNs('restart-limit')
    sb = await startTestApp({ dataDir, overrides: { 'capabilities.kv.maxKeysPerNamespace': 2 } })
    client = await connect(sb.mqttUrl)
    await client.request('kv/set', { namespace: ns, key: 'a', value: '1' })
    await client.request('kv/set', { namespace: ns, key: 'b', value: '2' })
    await client.end()
    await sb.stop()
    sb = await startTestApp({ dataDir, overrides: { 'capabilities.kv.maxKeysPerNamespace': 2 } })
    client = await connect(sb.mqttUrl)
    expect(errorCode(await client.request('kv/set', { namespace: ns, key: 'c', value: '3' }))).toBe('LIMIT_EXCEEDED')
  })
})

const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))

interface Child {
  proc: ChildProcess
  mqttUrl: string
  exited: Promise<unknown>
}

/** `sensebus start` as a real process; resolves on its "sensebus ready" log line. */
function startChild(dataDir: string): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [CLI, 'start', '--data-dir', dataDir, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise((r) => proc.once('exit', r))
  let output = ''
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`sensebus did not become ready:\n${output}`))
    }, 15_000)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`sensebus exited before it was ready:\n${output}`))
    })
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      output += `${line}\n`
      let rec: { msg?: string; endpoints?: { mqtt?: { port: number } } }
      try {
        rec = JSON.parse(line)
      } catch {
        return
      }
      if (rec.msg === 'sensebus ready' && rec.endpoints?.mqtt) {
        clearTimeout(timer)
        resolve({ proc, mqttUrl: `mqtt://127.0.0.1:${rec.endpoints.mqtt.port}`, exited })
      }
    })
  })
}

describe('kv durability against kill -9 (child process)', () => {
  let dataDir: string
  const children: Child[] = []

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-kv-kill-'))
  })
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
    await Promise.all(children.map((c) => c.exited))
    await rm(dataDir, { recursive: true, force: true })
  })

  /**
   * Sends `count` sets at once and SIGKILLs the process synchronously inside the message handler
   * of the `killAfter`-th ok answer: nothing acknowledged may be lost.
   */
  async function setThenKill(child: Child, ns: string, count: number, killAfter: number): Promise<string[]> {
    const client = await mqtt.connectAsync(child.mqttUrl, { reconnectPeriod: 0 })
    const acked: string[] = []
    const killed = new Promise<void>((resolve) => {
      client.on('message', (_topic, payload) => {
        const env = JSON.parse(payload.toString()) as { transaction: string; status: string }
        if (env.status !== 'ok' || acked.length >= killAfter) return
        acked.push(env.transaction)
        if (acked.length === killAfter) {
          child.proc.kill('SIGKILL')
          resolve()
        }
      })
    })
    await client.subscribeAsync('sense/response/kv/set', { qos: 1 })
    for (let i = 0; i < count; i++) {
      client.publish(
        'sense/request/kv/set',
        JSON.stringify({ transaction: `k${i}`, namespace: ns, key: `k${i}`, value: `value-${i}` }),
        { qos: 1 },
      )
    }
    await killed
    await child.exited
    client.end(true)
    return acked
  }

  it('a key acknowledged right before SIGKILL is there after a restart, with its retained mirror', async () => {
    const ns = uniqueNs('kill')
    const first = await startChild(dataDir)
    children.push(first)
    expect(await setThenKill(first, ns, 1, 1)).toEqual(['k0'])
    expect(first.proc.signalCode).toBe('SIGKILL')

    const second = await startChild(dataDir)
    children.push(second)
    const client = await connect(second.mqttUrl)
    try {
      expect(data(await client.request('kv/get', { namespace: ns, key: 'k0' }))).toMatchObject({ value: 'value-0' })
      const retained = await retainedUnder(second.mqttUrl, mirrorTopic(ns, 'k0'))
      expect(retained.map((m) => JSON.parse(m.payload))).toEqual([
        expect.objectContaining({ namespace: ns, key: 'k0', value: 'value-0' }),
      ])
    } finally {
      await client.end()
    }
    second.proc.kill('SIGKILL')
    await second.exited
  })

  it('every acknowledged set of a concurrent burst survives SIGKILL in mid-burst', async () => {
    const ns = uniqueNs('kill-burst')
    const first = await startChild(dataDir)
    children.push(first)
    const acked = await setThenKill(first, ns, 60, 20)
    expect(acked).toHaveLength(20)

    const second = await startChild(dataDir)
    children.push(second)
    const client = await connect(second.mqttUrl)
    try {
      const keys = new Set(
        data(await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map(
          (k) => k.key,
        ),
      )
      for (const key of acked) expect(keys.has(key), `acknowledged ${key} is missing`).toBe(true)
      for (const key of acked)
        expect(data(await client.request<{ value: string }>('kv/get', { namespace: ns, key })).value).toBe(
          `value-${key.slice(1)}`,
        )
    } finally {
      await client.end()
    }
    second.proc.kill('SIGKILL')
    await second.exited
  })
})

/** A Mosquitto without persistence on a port we choose, so it can come back on the same one. */
async function mosquittoOn(port: number, dir: string): Promise<{ stop(): Promise<void> }> {
  const conf = join(dir, `mosquitto-${Date.now()}.conf`)
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', ''].join('\n'),
  )
  const bin =
    ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((b) => existsSync(b)) ?? 'mosquitto'
  const proc = spawn(bin, ['-c', conf], { stdio: 'ignore' })
  const exited = new Promise((r) => proc.once('exit', r))
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 })
      await probe.endAsync()
      break
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    async stop() {
      proc.kill('SIGKILL')
      await exited
    },
  }
}

describe('kv mirror on an external broker that restarts without persistence', () => {
  let dir: string
  let sb: TestApp | undefined
  let broker: { stop(): Promise<void> } | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sensebus-kv-extrestart-'))
  })
  afterAll(async () => {
    await sb?.stop()
    await broker?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('publishes the mirror again once sensebus is reconnected, as it does sense/bridge/state', async () => {
    const port = await freePort()
    const url = `mqtt://127.0.0.1:${port}`
    broker = await mosquittoOn(port, dir)
    sb = await startTestApp({ dataDir: join(dir, 'data'), brokerUrl: url })
    const ns = uniqueNs('ext-restart')
    const c = await connect(url)
    await c.request('kv/set', { namespace: ns, key: 'k', value: 'survives' })
    await c.end()
    expect(await retainedUnder(url, mirrorTopic(ns, 'k'))).toHaveLength(1)

    await broker.stop()
    broker = await mosquittoOn(port, dir)
    // sensebus reconnects on its own (mqtt.js reconnectPeriod) and republishes its bridge state.
    await expect
      .poll(async () => (await retainedUnder(url, 'sense/bridge/state', 100)).map((m) => JSON.parse(m.payload).state), {
        timeout: 8000,
        interval: 200,
      })
      .toEqual(['online'])
    await expect
      .poll(async () => (await retainedUnder(url, mirrorTopic(ns, 'k'), 100)).map((m) => JSON.parse(m.payload).value), {
        timeout: 3000,
        interval: 200,
      })
      .toEqual(['survives'])
  })
})
