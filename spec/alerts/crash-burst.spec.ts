import { createSocket } from 'node:dgram'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelStore } from '../../src/services/store/level-store.js'
import { silentLogger } from '../../src/log.js'
import { taskFailureDatagram } from '../../src/sim/udp/datagram.js'
import { startServer, type ServerProcess } from '../helpers/process.js'
import { freeUdpPort, type HookReceiver, startHookReceiver } from './harness.js'

const BURST = 500
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The execution ids sensebus had durably noted (its intake) when it died: the datagrams it handled. */
async function handledIds(dataDir: string): Promise<Set<string>> {
  const store = await LevelStore.open({ dir: dataDir, sync: false, cacheBytes: 0, log: silentLogger() })
  try {
    return new Set((await store.collection('alert-intake').list()).map((e) => e.key))
  } finally {
    await store.close()
  }
}

/**
 * sensebus as a real process, killed with SIGKILL in the middle of a burst of 500 task-failure
 * datagrams and started again on the same data dir: every datagram it had taken in reaches the
 * webhook, at least once, and a repeat carries the same idempotency key.
 */
describe('SIGKILL during a burst of task failures', () => {
  let dir: string
  let hook: HookReceiver
  let proc: ServerProcess | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alerts2-crash-'))
    hook = await startHookReceiver()
  })
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL')
    await hook?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('loses no delivery of a datagram it took in', async () => {
    const udpPort = await freeUdpPort()
    const configFile = join(dir, 'sensebus.yaml')
    await writeFile(
      configFile,
      stringify({
        outbox: { baseDelayMs: 50, maxDelayMs: 500 },
        capabilities: {
          alert: {
            udp: { port: udpPort, maxPerSourcePerMinute: 100_000, dedupTtlMs: 3_600_000 },
            // No Sense here: every alert goes out marked incomplete, which keeps the test on delivery.
            enrichment: { enabled: false },
            rateLimitMs: 0,
            historyLimit: 1000,
            destinations: { hook: { type: 'webhook', url: hook.url } },
            rules: [{ events: ['reload/failed'], destinations: ['hook'] }],
          },
        },
      }),
    )
    const args = ['--config', configFile, '--data-dir', join(dir, 'data'), '--log-level', 'info']
    proc = await startServer(args)

    const sent: string[] = []
    const socket = createSocket('udp4')
    // Nobody listens once the process is dead: those sends may fail, and that is the point.
    socket.on('error', () => undefined)
    let killedAfter = 0
    for (let i = 0; i < BURST; i++) {
      const executionId = crypto.randomUUID()
      const text = taskFailureDatagram(i, executionId)
      await new Promise<void>((resolve) => socket.send(text, udpPort, '127.0.0.1', () => resolve()))
      sent.push(executionId)
      // Killed once deliveries are flowing, or halfway at the latest: work is then under way at every stage.
      if (!killedAfter && (hook.calls.length >= 30 || i === BURST / 2)) {
        proc.child.kill('SIGKILL')
        killedAfter = i + 1
      }
      if (i % 5 === 4) await sleep(1)
    }
    socket.close()
    await proc.exited
    expect(killedAfter).toBeGreaterThan(0)
    expect(killedAfter).toBeLessThan(BURST)

    const handled = await handledIds(join(dir, 'data'))
    const sentSet = new Set(sent)
    expect(handled.size).toBeGreaterThan(0)
    expect([...handled].filter((id) => !sentSet.has(id))).toEqual([])

    proc = await startServer(args)
    const received = () => new Set(hook.calls.map((c) => JSON.parse(c.body).executionId as string))
    await expect
      .poll(() => [...handled].filter((id) => !received().has(id)).length, { timeout: 90_000, interval: 500 })
      .toBe(0)
    // A moment for late repeats to show up before counting them.
    await sleep(1000)
    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)

    const byExecution = new Map<string, Set<string>>()
    for (const c of hook.calls) {
      const id = JSON.parse(c.body).executionId as string
      const keys = byExecution.get(id) ?? new Set<string>()
      keys.add(String(c.headers['idempotency-key']))
      byExecution.set(id, keys)
    }
    const lost = [...handled].filter((id) => !byExecution.has(id))
    const duplicates = hook.calls.length - byExecution.size
    // Only what sensebus took in can come out; a repeat is recognisable by its one idempotency key.
    expect(lost).toEqual([])
    expect([...byExecution.keys()].filter((id) => !handled.has(id))).toEqual([])
    expect([...byExecution.values()].filter((keys) => keys.size !== 1)).toEqual([])
    process.stdout.write(
      `crash burst: sent ${sent.length}, killed after ${killedAfter}, handled ${handled.size}, ` +
        `delivered ${byExecution.size}, lost ${lost.length}, duplicates ${duplicates}\n`,
    )
  }, 180_000)
})
