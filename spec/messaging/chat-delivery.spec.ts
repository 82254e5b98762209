import { afterEach, describe, expect, it } from 'vitest'
import { startChat } from './chat-harness.js'
import { startReceiver } from './webhook-receiver.js'

type Chat = Awaited<ReturnType<typeof startChat>>
type Receiver = Awaited<ReturnType<typeof startReceiver>>

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function chatWith(config: Parameters<typeof startChat>[0], dir?: string): Promise<Chat> {
  const chat = await startChat(config, dir)
  cleanups.push(() => chat.stop({ clean: dir === undefined }))
  return chat
}
async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts)
  cleanups.push(() => r.close())
  return r
}

describe('chat delivery (Slack and Teams webhooks through the outbox)', () => {
  it('retries a Slack post through 503s and delivers it once the receiver recovers', async () => {
    const rx = await receiver({ script: [{ status: 503, body: 'busy' }, { status: 500 }] })
    const { chat, outbox, outcomes, logs } = await chatWith({
      slack: { webhooks: { default: rx.url() }, username: 'sensebus', iconEmoji: ':robot_face:' },
    })
    const item = await chat.postSlack(
      {},
      { text: 'Reload of *Sales* failed <@U123>', channel: '#ops' },
      { source: 'spec', key: 'k1' },
    )
    expect(item.state).toBe('pending')
    await expect.poll(async () => (await outbox.get(item.id))?.state, { timeout: 5000 }).toBe('delivered')
    expect(rx.received).toHaveLength(3)
    // Every attempt carries the same message, with the configured sender filled in.
    for (const post of rx.received)
      expect(post.body).toEqual({
        username: 'sensebus',
        icon_emoji: ':robot_face:',
        text: 'Reload of *Sales* failed <@U123>',
        channel: '#ops',
      })
    expect(rx.received[0]?.headers['content-type']).toMatch(/^application\/json/)
    expect(outcomes.map((o) => o.outcome)).toEqual(['retrying', 'retrying', 'delivered'])
    expect(outcomes[0]?.lastError).toBe('Slack: HTTP 503 busy')
    const done = await outbox.get(item.id)
    expect(done).toMatchObject({ attempts: 3, meta: { source: 'spec' }, receipt: { status: 200, response: 'ok' } })
    // The webhook URL is the secret: not in any log line, not in any error.
    expect(logs.join('\n')).not.toContain('XXXXSECRET')
    expect(logs.join('\n')).not.toContain(`:${rx.port}`)
  })

  it('dead-letters a post the receiver refuses for good (4xx), after one attempt', async () => {
    const rx = await receiver({ fallback: { status: 404, body: 'channel_not_found' } })
    const { chat, outbox, outcomes } = await chatWith({ slack: { webhooks: { ops: rx.url() } } })
    const item = await chat.postSlack({ webhook: 'ops' }, { text: 'x', channel: '#gone' })
    await expect.poll(async () => (await outbox.get(item.id))?.state).toBe('dead')
    expect(rx.received).toHaveLength(1)
    expect(outcomes).toEqual([
      { id: item.id, outcome: 'dead', attempts: 1, lastError: 'Slack: HTTP 404 channel_not_found' },
    ])
  })

  it('waits at least as long as a 429 Retry-After asks', async () => {
    const rx = await receiver({ script: [{ status: 429, headers: { 'retry-after': '1' } }] })
    const { chat, outbox } = await chatWith({ slack: { webhooks: { default: rx.url() } } })
    const item = await chat.postSlack({}, { text: 'throttled' })
    await expect.poll(async () => (await outbox.get(item.id))?.state, { timeout: 5000 }).toBe('delivered')
    expect(rx.received).toHaveLength(2)
    const gap = Number(new Date((await outbox.get(item.id))?.deliveredAt ?? 0)) - item.createdAt
    expect(gap).toBeGreaterThanOrEqual(950)
  })

  it('retries through connection refused while the receiver is down', async () => {
    const rx = await receiver()
    await rx.down()
    const { chat, outbox, outcomes } = await chatWith({ teams: { webhooks: { default: rx.url('/workflows/SECRET') } } })
    const card = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'Reload failed' }] }
    const item = await chat.postTeams({}, card)
    await expect.poll(() => outcomes.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    expect(outcomes.every((o) => o.outcome === 'retrying')).toBe(true)
    expect(outcomes[0]?.lastError).toBe('Teams: network error (ECONNREFUSED)')
    await rx.up()
    await expect.poll(async () => (await outbox.get(item.id))?.state, { timeout: 5000 }).toBe('delivered')
    expect(rx.received).toHaveLength(1)
    expect(rx.received[0]?.body).toEqual({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
    })
  })

  it('counts a receiver that does not answer in time as a retryable failure', async () => {
    const { createServer } = await import('node:http')
    let calls = 0
    const silent = createServer(() => {
      calls++
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    cleanups.push(async () => {
      silent.closeAllConnections()
      await new Promise<void>((r) => silent.close(() => r()))
    })
    const port = (silent.address() as import('node:net').AddressInfo).port
    const { chat, outcomes } = await chatWith({
      timeoutMs: 200,
      slack: { webhooks: { default: `http://127.0.0.1:${port}/x` } },
    })
    await chat.postSlack({}, { text: 'slow' })
    await expect.poll(() => outcomes[0]?.lastError, { timeout: 3000 }).toBe('Slack: no answer in time')
    expect(outcomes[0]?.outcome).toBe('retrying')
    expect(calls).toBeGreaterThanOrEqual(1)
  })

  it('keeps a pending post across a restart and delivers it afterwards', async () => {
    const rx = await receiver()
    await rx.down()
    const first = await startChat({ slack: { webhooks: { default: rx.url() } } })
    const item = await first.chat.postSlack({}, { text: 'survives' })
    await first.stop()
    await rx.up()
    const again = await chatWith({ slack: { webhooks: { default: rx.url() } } }, first.dataDir)
    cleanups.push(() => import('node:fs/promises').then((fs) => fs.rm(first.dataDir, { recursive: true, force: true })))
    await expect.poll(async () => (await again.outbox.get(item.id))?.state, { timeout: 5000 }).toBe('delivered')
    expect(rx.received.map((r) => r.body)).toEqual([{ text: 'survives' }])
  })

  it('uses a URL given with the call, and refuses a post with no webhook at all', async () => {
    const rx = await receiver()
    const { chat, outbox } = await chatWith({})
    expect(chat.resolvable('slack', {})).toBe(false)
    await expect(chat.postSlack({}, { text: 'x' })).rejects.toMatchObject({ code: 'NOT_CONFIGURED' })
    await expect(chat.postTeams({ webhook: 'nope' }, {})).rejects.toMatchObject({ code: 'NOT_CONFIGURED' })
    const item = await chat.postSlack({ url: rx.url('/given') }, { text: 'direct' })
    await expect.poll(async () => (await outbox.get(item.id))?.state).toBe('delivered')
    expect(rx.received[0]?.path).toBe('/given')
  })
})
