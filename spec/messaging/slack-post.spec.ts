import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { call, expectButlerError, expectGenericError } from '../http/http-helpers.js'
import { type PostRig, startPostRig } from './post-harness.js'

type Json = Record<string, any>

let rig: PostRig
beforeAll(async () => {
  rig = await startPostRig()
})
afterAll(async () => {
  await rig?.close()
})
beforeEach(() => {
  rig.rx.clear()
  rig.ops.clear()
  rig.rx.setFallback({ status: 200, body: 'ok' })
})

const parse = (list: Array<{ payload: string }>) => list.map((m) => JSON.parse(m.payload) as Json)

/** What a secret-bearing webhook URL would show of itself in an answer or a log line. */
function expectNoWebhookUrl(text: string): void {
  for (const secret of ['XXXXSECRET', 'OPSSECRET', 'TEAMSSECRET', `:${rig.rx.port}`, `:${rig.ops.port}`])
    expect(text).not.toContain(secret)
}

describe('slack/post over MQTT', () => {
  it('answers once queued, retries a receiver that fails, and publishes a receipt per attempt', async () => {
    rig.rx.script({ status: 503, body: 'busy' }, { status: 500 })
    const receipts = await rig.client.collect('sense/event/slack/#')
    const env = (await rig.client.request('slack/post', {
      text: 'Reload of *Sales* failed',
      mentions: ['U024BE7LH', 'here'],
      channel: '#ops',
      username: 'sensebus',
      iconEmoji: 'rotating_light',
    })) as Json
    expect(env.status, JSON.stringify(env)).toBe('ok')
    expect(env.data).toEqual({ deliveryId: expect.any(String), webhook: 'default', state: 'pending', attempts: 0 })
    const id = env.data.deliveryId as string
    await expect
      .poll(() => receipts.map((r) => r.topic), { timeout: 5000 })
      .toContain(`sense/event/slack/${id}/delivered`)
    expect(receipts.map((r) => r.topic)).toEqual([
      `sense/event/slack/${id}/failed`,
      `sense/event/slack/${id}/failed`,
      `sense/event/slack/${id}/delivered`,
    ])
    const events = parse(receipts)
    expect(events[0]).toMatchObject({
      type: 'sense.slack.failed',
      data: { deliveryId: id, capability: 'slack/post', webhook: 'default', outcome: 'retrying', attempts: 1 },
    })
    expect(events[0]?.data.error).toBe('Slack: HTTP 503 busy')
    expect(events[2]).toMatchObject({ type: 'sense.slack.delivered', data: { outcome: 'delivered', attempts: 3 } })
    expect(events[2]?.data.error).toBeUndefined()
    // Every attempt carried the same message: mrkdwn as written, mentions in front.
    expect(rig.rx.received).toHaveLength(3)
    for (const post of rig.rx.received)
      expect(post.body).toEqual({
        text: '<@U024BE7LH> <!here> Reload of *Sales* failed',
        channel: '#ops',
        username: 'sensebus',
        icon_emoji: ':rotating_light:',
      })
    expectNoWebhookUrl(JSON.stringify(receipts) + JSON.stringify(env) + rig.sb.logText())
  })

  it('wait: true holds the answer until the post is delivered', async () => {
    rig.rx.script({ status: 502 })
    const env = (await rig.client.request('slack/post', { text: 'waited for', wait: true })) as Json
    expect(env.status, JSON.stringify(env)).toBe('ok')
    expect(env.data).toMatchObject({ state: 'delivered', attempts: 2, webhook: 'default' })
    expect(rig.rx.received).toHaveLength(2)
  })

  it('wait: true answers DELIVERY_FAILED when Slack refuses the post for good', async () => {
    rig.ops.setFallback({ status: 404, body: 'channel_not_found' })
    const env = (await rig.client.request('slack/post', {
      webhook: 'ops',
      text: 'x',
      channel: '#gone',
      wait: true,
    })) as Json
    rig.ops.setFallback({ status: 200, body: 'ok' })
    expect(env.status).toBe('error')
    expect(env.error).toMatchObject({
      code: 'DELIVERY_FAILED',
      message: 'The post was not delivered: Slack: HTTP 404 channel_not_found',
      details: { webhook: 'ops', attempts: 1, error: 'Slack: HTTP 404 channel_not_found' },
    })
    expect(rig.ops.received).toHaveLength(1)
    expectNoWebhookUrl(JSON.stringify(env))
  })

  it('plain text is shown as written; blocks follow it, with mentions in a section of their own', async () => {
    const blocks = [{ type: 'divider' }]
    const env = (await rig.client.request('slack/post', {
      text: 'a <b> & *c*',
      format: 'plain',
      mentions: ['W123ABC'],
      blocks,
      wait: true,
    })) as Json
    expect(env.data?.state, JSON.stringify(env)).toBe('delivered')
    expect(rig.rx.received[0]?.body).toEqual({
      text: '<@W123ABC> a &lt;b&gt; &amp; *c*',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '<@W123ABC>' } },
        { type: 'section', text: { type: 'plain_text', text: 'a <b> & *c*', emoji: true } },
        { type: 'divider' },
      ],
    })
  })

  it('keeps one delivery for a repeated key', async () => {
    const a = (await rig.client.request('slack/post', { text: 'once', key: 'nightly-42', wait: true })) as Json
    const b = (await rig.client.request('slack/post', { text: 'once', key: 'nightly-42' })) as Json
    expect(b.data).toEqual({ ...a.data, state: 'delivered' })
    expect(rig.rx.received).toHaveLength(1)
  })

  it('refuses what it cannot post, with the error it deserves', async () => {
    const cases: Array<[Json, string]> = [
      [{}, 'VALIDATION_FAILED'],
      [{ text: '' }, 'VALIDATION_FAILED'],
      [{ text: 'x', url: 'https://hooks.slack.com/services/evil' }, 'VALIDATION_FAILED'],
      [{ text: 'x', webhook: '../default' }, 'VALIDATION_FAILED'],
      [{ text: 'x', mentions: ['<!everyone>'] }, 'VALIDATION_FAILED'],
      [
        { blocks: Array.from({ length: 50 }, () => ({ type: 'divider' })), text: 'x', format: 'plain' },
        'VALIDATION_FAILED',
      ],
      [{ text: 'x', webhook: 'nope' }, 'NOT_FOUND'],
      // Names that exist on every JavaScript object, but not in the config.
      [{ text: 'x', webhook: 'constructor' }, 'NOT_FOUND'],
      [{ text: 'x', webhook: '__proto__' }, 'NOT_FOUND'],
    ]
    for (const [body, code] of cases) {
      const env = (await rig.client.request('slack/post', body)) as Json
      expect(env.error?.code, JSON.stringify(body)).toBe(code)
    }
    expect(rig.rx.received).toHaveLength(0)
  })
})

describe('slack/post over HTTP', () => {
  it('the generic route answers 200 with the receipt id', async () => {
    const res = await call(rig.sb.httpUrl, 'POST', '/api/v1/slack/post', { body: { text: 'from http', wait: true } })
    expect(res.status, res.text).toBe(200)
    expect(res.json).toMatchObject({ state: 'delivered', webhook: 'default' })
    expect(rig.rx.received.map((r) => r.body)).toEqual([{ text: 'from http' }])
  })

  it("Butler's PostToSlack sub, byte for byte: POST + override PUT → 201 echoing the body", async () => {
    // What butler_subs.qvs builds for PostToSlack('ops-alerts', 'Butler', 'Reload done', ':ghost:').
    const bytes = '{"channel":"#ops-alerts", "from_user":"Butler", "msg":"Reload done", "emoji":":ghost:"}'
    const receipts = await rig.client.collect('sense/event/slack/+/delivered')
    const res = await call(rig.sb.httpUrl, 'POST', '/v4/slackpostmessage', {
      body: bytes,
      headers: { 'Content-Type': 'application/json', 'X-HTTP-Method-Override': 'PUT' },
    })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ channel: '#ops-alerts', from_user: 'Butler', msg: 'Reload done', emoji: ':ghost:' })
    await expect.poll(() => receipts.length).toBe(1)
    // What Butler posted: a plain_text section with the message, sender, channel and icon.
    expect(rig.rx.received.map((r) => r.body)).toEqual([
      {
        text: 'Reload done',
        blocks: [{ type: 'section', text: { type: 'plain_text', text: 'Reload done', emoji: true } }],
        channel: '#ops-alerts',
        username: 'Butler',
        icon_emoji: ':ghost:',
      },
    ])
  })

  it('the sub with an empty emoji (vEmoji left blank) posts without an icon, and echoes it', async () => {
    const bytes = '{"channel":"@anna", "from_user":"", "msg":"hi", "emoji":""}'
    const res = await call(rig.sb.httpUrl, 'POST', '/v4/slackpostmessage', {
      body: bytes,
      headers: { 'Content-Type': 'application/json', 'X-HTTP-Method-Override': 'PUT' },
    })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ channel: '@anna', from_user: '', msg: 'hi', emoji: '' })
    await expect.poll(() => rig.rx.received.length).toBe(1)
    expect(rig.rx.received[0]?.body).toEqual({
      text: 'hi',
      blocks: [{ type: 'section', text: { type: 'plain_text', text: 'hi', emoji: true } }],
      channel: '@anna',
    })
  })

  it("a missing field → Butler's 400, and nothing is posted", async () => {
    const res = await call(rig.sb.httpUrl, 'PUT', '/v4/slackpostmessage', { body: { channel: '#x', msg: 'm' } })
    expectButlerError(res, 400)
    expect(res.json.message).toBe('Required parameter(s) missing')
    expect(res.json.details).toEqual([{ path: '/from_user', message: 'is required' }])
    const bad = await call(rig.sb.httpUrl, 'PUT', '/v4/slackpostmessage', {
      body: '{"channel":',
      headers: { 'content-type': 'application/json' },
    })
    expect(bad.status).toBe(400)
    expect(rig.rx.received).toHaveLength(0)
  })

  it('a webhook name that is not configured → 404 naming it, never a URL', async () => {
    const res = await call(rig.sb.httpUrl, 'POST', '/api/v1/slack/post', { body: { text: 'x', webhook: 'sales' } })
    expectGenericError(res, 404, 'NOT_FOUND')
    expect(res.json.message).toContain("'sales'")
  })
})

describe('slack/post without a default webhook', () => {
  it("answers NOT_CONFIGURED (503) on Butler's route instead of pretending", async () => {
    const bare = await startPostRig({ overrides: { 'chat.slack.webhooks': {} } })
    try {
      const res = await call(bare.sb.httpUrl, 'PUT', '/v4/slackpostmessage', {
        body: { channel: '#x', from_user: 'u', msg: 'm' },
      })
      expectButlerError(res, 503)
      expect(res.json.code).toBe('NOT_CONFIGURED')
      expect(res.json.message).toContain('chat.slack.webhooks.default')
    } finally {
      await bare.close()
    }
  })
})
