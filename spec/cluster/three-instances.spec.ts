import { createSocket } from 'node:dgram'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { silentLogger } from '../../src/log.js'
import { RedisStore } from '../../src/services/store/redis-store.js'
import { taskFailureDatagram } from '../../src/sim/udp/datagram.js'
import { freeUdpPort, type HookReceiver, startHookReceiver } from '../alerts/harness.js'
import { connect, type TestClient } from '../helpers/client.js'
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js'
import { type ServerProcess, startServer } from '../helpers/process.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Three sensebus processes on one Mosquitto and one Redis, one of them killed with SIGKILL and started
 * again while requests, task-failure datagrams and schedule ticks keep coming: every request is
 * answered once, every alert reaches the webhook (a repeat carries the same idempotency key), and
 * every schedule tick fires once.
 */
describe('three instances on Mosquitto and Redis', () => {
  let dir: string
  let redis: RedisServer
  let mosquitto: Mosquitto
  let hook: HookReceiver
  let client: TestClient
  const procs: Array<ServerProcess | undefined> = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sensebus-redis-cluster-'))
    redis = await startRedis()
    mosquitto = await startMosquitto()
    hook = await startHookReceiver()
    // Slow enough that deliveries are under way on the instance that dies: another must take them over.
    hook.otherwise = { status: 200, hangMs: 150 }
  })
  afterAll(async () => {
    for (const p of procs) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
    await client?.end()
    await hook?.close()
    await mosquitto?.stop()
    await redis?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('answers each request once, delivers every alert and fires every tick once through a kill', async () => {
    const udpPorts = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()]
    const argsOf = async (i: number) => {
      const file = join(dir, `sensebus-${i}.yaml`)
      await writeFile(
        file,
        stringify({
          broker: { url: mosquitto.url, sharedGroup: 'sensebus' },
          store: { backend: 'redis', redis: { url: redis.url, keyPrefix: 'site:', expiryPollMs: 100 } },
          outbox: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 100, timeoutMs: 2000, sharedPollMs: 200 },
          capabilities: {
            schedule: { sharedSyncMs: 300 },
            alert: {
              udp: { port: udpPorts[i], maxPerSourcePerMinute: 100_000, dedupTtlMs: 3_600_000, sharedClaimMs: 1000 },
              enrichment: { enabled: false },
              rateLimitMs: 0,
              historyLimit: 1000,
              destinations: { hook: { type: 'webhook', url: hook.url } },
              rules: [{ events: ['reload/failed'], destinations: ['hook'] }],
            },
          },
        }),
      )
      return ['--config', file, '--data-dir', join(dir, `data-${i}`), '--log-level', 'info']
    }
    const args = [await argsOf(0), await argsOf(1), await argsOf(2)]
    // Started together, as a cluster's nodes come up: each start is a second or more of a loaded CPU.
    const started = await Promise.allSettled(args.map((a) => startServer(a)))
    for (const [i, r] of started.entries()) if (r.status === 'fulfilled') procs[i] = r.value
    for (const r of started) if (r.status === 'rejected') throw r.reason
    client = await connect(mosquitto.url)
    const responses = await client.collect('sense/response/util/ping')
    const fired = await client.collect('sense/event/schedule/+/fired')

    const created = await client.request<{ id: string }>('schedule/create', {
      name: 'every-second',
      cron: '* * * * * *',
      target: { capability: 'util/ping', request: {} },
    })
    expect(created.status).toBe('ok')

    const requests: string[] = []
    const burst = async (tag: string, n: number) => {
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => {
          requests.push(`${tag}${i}`)
          return client.request('util/ping', { transaction: `${tag}${i}` }, { timeoutMs: 10_000 })
        }),
      )
      expect(results.filter((r) => r.status !== 'ok')).toEqual([])
    }

    const udp = createSocket('udp4')
    udp.on('error', () => undefined)
    const send = (port: number, text: string) =>
      new Promise<void>((resolve) => udp.send(text, port, '127.0.0.1', () => resolve()))
    const alerts: string[] = []
    /** Half of the events go to every instance (Sense's appender on each node), half to one live one. */
    const alertBurst = async (n: number, live: number[]) => {
      for (let i = 0; i < n; i++) {
        const executionId = crypto.randomUUID()
        const text = taskFailureDatagram(alerts.length, executionId)
        alerts.push(executionId)
        const targets = i % 2 === 0 ? live : [live[i % live.length] as number]
        for (const t of targets) await send(udpPorts[t] as number, text)
        if (i % 10 === 9) await sleep(5)
      }
    }

    await Promise.all([burst('a', 200), alertBurst(100, [0, 1, 2])])
    await sleep(1500)
    // Killed half-way between two ticks, with deliveries on their way to the slow webhook.
    await alertBurst(60, [0, 1, 2])
    const tickPhase = Date.now() % 1000
    await sleep((1500 - tickPhase) % 1000)
    procs[1]?.child.kill('SIGKILL')
    await procs[1]?.exited
    const killedAt = Date.now()
    await Promise.all([burst('b', 200), alertBurst(100, [0, 2])])
    await sleep(2500)
    procs[1] = await startServer(args[1] as string[])
    await Promise.all([burst('c', 200), alertBurst(100, [0, 1, 2])])

    const delivered = () => new Set(hook.calls.map((c) => JSON.parse(c.body).executionId as string))
    // UDP may drop a datagram before sensebus reads it (a loaded host overflows the socket buffer): what
    // must not be lost is every event sensebus noted, which the shared intake in Redis lists.
    const everyDelivered = () => alerts.filter((id) => !delivered().has(id)).length
    await expect
      .poll(everyDelivered, { timeout: 60_000, interval: 500 })
      .toBe(0)
      .catch(() => undefined)
    const store = await RedisStore.open({
      url: redis.url,
      keyPrefix: 'site:',
      expiryPollMs: 60_000,
      commandTimeoutMs: 5000,
      log: silentLogger(),
    })
    const noted = new Set((await store.collection('alert-intake').list()).map((e) => e.key))
    await store.close()
    await expect
      .poll(() => [...noted].filter((id) => !delivered().has(id)).length, { timeout: 60_000, interval: 500 })
      .toBe(0)
    const sentSet = new Set(alerts)
    expect([...noted].filter((id) => !sentSet.has(id))).toEqual([])
    expect(noted.size).toBeGreaterThanOrEqual(alerts.length * 0.9)
    const droppedByUdp = alerts.length - noted.size
    await sleep(2000)
    const lastTick = Date.now()

    // Requests: every one answered, and once.
    const perTransaction = new Map<string, number>()
    for (const r of responses) {
      const t = JSON.parse(r.payload).transaction as string
      perTransaction.set(t, (perTransaction.get(t) ?? 0) + 1)
    }
    expect(requests.filter((t) => perTransaction.get(t) !== 1)).toEqual([])

    // Alerts: every one delivered; a repeat (a delivery whose owner died mid-way) has one idempotency key.
    const byExecution = new Map<string, Set<string>>()
    for (const c of hook.calls) {
      const id = JSON.parse(c.body).executionId as string
      const keys = byExecution.get(id) ?? new Set<string>()
      keys.add(String(c.headers['idempotency-key']))
      byExecution.set(id, keys)
    }
    expect([...noted].filter((id) => !byExecution.has(id))).toEqual([])
    expect([...byExecution.values()].filter((keys) => keys.size !== 1)).toEqual([])
    const duplicates = hook.calls.length - byExecution.size

    // Ticks: one fired event per planned second, none missing while an instance was up.
    const ticks = fired.map((f) => Date.parse(JSON.parse(f.payload).data.scheduledFor as string))
    const perTick = new Map<number, number>()
    for (const t of ticks) perTick.set(t, (perTick.get(t) ?? 0) + 1)
    expect([...perTick.entries()].filter(([, n]) => n !== 1)).toEqual([])
    const first = Math.min(...ticks)
    const missing: number[] = []
    for (let t = first; t < lastTick - 1000; t += 1000) if (!perTick.has(t)) missing.push(t)
    expect(missing).toEqual([])
    expect(perTick.size).toBeGreaterThan(5)
    expect([...perTick.keys()].some((t) => t > killedAt)).toBe(true)

    process.stdout.write(
      `three instances: ${requests.length} requests answered once, ${noted.size} of ${alerts.length} alerts ` +
        `taken in (${droppedByUdp} datagrams dropped by UDP) and delivered ` +
        `(${duplicates} duplicate deliveries, same idempotency key), ${perTick.size} ticks fired once\n`,
    )
    for (const p of procs) p?.child.kill('SIGTERM')
    for (const p of procs) expect(await p?.exited).toBe(0)
  }, 240_000)
})
