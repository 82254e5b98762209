import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Value } from '@sinclair/typebox/value'
import { createLogger } from '../../src/log.js'
import { type ChatConfig, type ChatService, chatConfigSchema, chatService } from '../../src/services/chat/index.js'
import type { ServiceContext } from '../../src/services/define.js'
import { DurableOutbox } from '../../src/services/outbox/outbox.js'
import type { OutboxItem, Outcome } from '../../src/services/outbox/types.js'
import { LevelStore } from '../../src/services/store/level-store.js'

/**
 * The chat service on a real outbox and a real store (no app around it), with fast retries and every
 * log line kept, so a spec can check what was delivered, what was logged, and what survives a restart.
 */
export async function startChat(config: Partial<ChatConfig> = {}, dir?: string) {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'sensebus-chat-')))
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const log = createLogger({ level: 'debug', destination: sink })
  const store = await LevelStore.open({ dir: dataDir, sync: false, cacheBytes: 1 << 20, log })
  const outbox = await DurableOutbox.open({
    store,
    log,
    maxAttempts: 5,
    baseDelayMs: 50,
    maxDelayMs: 200,
    concurrency: 4,
    timeoutMs: 5000,
    retainMs: 60_000,
  })
  const outcomes: Array<{ id: string; outcome: Outcome; attempts: number; lastError?: string }> = []
  const full = Value.Default(chatConfigSchema, structuredClone(config)) as ChatConfig
  const chat = (await chatService.create({
    config: full,
    log,
    services: { outbox },
  } as unknown as ServiceContext<ChatConfig>)) as ChatService
  chat.onOutcome((item: OutboxItem, outcome) =>
    outcomes.push({
      id: item.id,
      outcome,
      attempts: item.attempts,
      ...(item.lastError ? { lastError: item.lastError } : {}),
    }),
  )
  return {
    chat,
    outbox,
    outcomes,
    logs,
    dataDir,
    async stop(opts: { clean?: boolean } = {}) {
      await outbox.close()
      await store.close()
      if (opts.clean) await rm(dataDir, { recursive: true, force: true })
    },
  }
}
