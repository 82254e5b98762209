import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { call, expectGenericError } from '../http/http-helpers.js'
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
})

/** The Workflows envelope around the card, as the receiver got it. */
function cardOf(i: number): Json {
  const body = rig.rx.received[i]?.body as Json
  expect(body).toMatchObject({
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null }],
  })
  return body.attachments[0].content
}

describe('teams/post', () => {
  it('a basic post is one wrapping TextBlock', async () => {
    const env = (await rig.client.request('teams/post', { text: 'Reload **done**', wait: true })) as Json
    expect(env.data, JSON.stringify(env)).toMatchObject({ state: 'delivered', webhook: 'default', attempts: 1 })
    expect(rig.rx.received[0]?.path).toBe('/workflows/TEAMSSECRET')
    expect(cardOf(0)).toEqual({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [{ type: 'TextBlock', text: 'Reload **done**', wrap: true }],
    })
  })

  it('a formatted post: title, mentions before the text, facts and link buttons', async () => {
    const env = (await rig.client.request('teams/post', {
      webhook: 'ops',
      title: 'Reload failed',
      text: 'The _Sales_ app did not reload.',
      mentions: [{ id: 'anna@example.com', name: 'Anna' }],
      facts: [{ title: 'Task', value: 'Reload Sales' }],
      links: [{ title: 'Open QMC', url: 'https://sense.example.com/qmc' }],
      wait: true,
    })) as Json
    expect(env.data?.state, JSON.stringify(env)).toBe('delivered')
    const body = rig.ops.received[0]?.body as Json
    expect(body.attachments[0].content).toEqual({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        { type: 'TextBlock', text: 'Reload failed', weight: 'Bolder', size: 'Medium', wrap: true },
        { type: 'TextBlock', text: '<at>Anna</at> The _Sales_ app did not reload.', wrap: true },
        { type: 'FactSet', facts: [{ title: 'Task', value: 'Reload Sales' }] },
      ],
      actions: [{ type: 'Action.OpenUrl', title: 'Open QMC', url: 'https://sense.example.com/qmc' }],
      msteams: {
        entities: [{ type: 'mention', text: '<at>Anna</at>', mentioned: { id: 'anna@example.com', name: 'Anna' } }],
      },
    })
  })

  it('a card of its own is posted as given', async () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'mine' }] }
    const res = await call(rig.sb.httpUrl, 'POST', '/api/v1/teams/post', { body: { card, wait: true } })
    expect(res.status, res.text).toBe(200)
    expect(cardOf(0)).toEqual(card)
  })

  it('retries through connection refused while the receiver is down, then delivers with receipts', async () => {
    const receipts = await rig.client.collect('sense/event/teams/#')
    await rig.rx.down()
    const env = (await rig.client.request('teams/post', { text: 'survives an outage' })) as Json
    expect(env.data).toMatchObject({ state: 'pending', attempts: 0 })
    const id = env.data.deliveryId as string
    await expect.poll(() => receipts.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    const first = JSON.parse(receipts[0]?.payload ?? '{}') as Json
    expect(receipts[0]?.topic).toBe(`sense/event/teams/${id}/failed`)
    expect(first.data).toMatchObject({ outcome: 'retrying', error: 'Teams: network error (ECONNREFUSED)' })
    await rig.rx.up()
    await expect
      .poll(() => receipts.map((r) => r.topic), { timeout: 5000 })
      .toContain(`sense/event/teams/${id}/delivered`)
    expect(rig.rx.received).toHaveLength(1)
    expect(JSON.stringify(receipts)).not.toContain('TEAMSSECRET')
  })

  it('refuses what it cannot post', async () => {
    const cases: Array<[Json, string]> = [
      [{}, 'VALIDATION_FAILED'],
      [{ card: { type: 'AdaptiveCard' }, text: 'both' }, 'VALIDATION_FAILED'],
      [{ card: { type: 'MessageCard' } }, 'VALIDATION_FAILED'],
      [{ text: 'x', links: [{ title: 'x', url: 'javascript:alert(1)' }] }, 'VALIDATION_FAILED'],
      [{ text: 'x', mentions: [{ id: 'a', name: '</at><at>b' }] }, 'VALIDATION_FAILED'],
      [{ text: 'x', webhook: 'nope' }, 'NOT_FOUND'],
    ]
    for (const [body, code] of cases) {
      const env = (await rig.client.request('teams/post', body)) as Json
      expect(env.error?.code, JSON.stringify(body)).toBe(code)
    }
    const res = await call(rig.sb.httpUrl, 'POST', '/api/v1/teams/post', { body: { text: 'x', webhook: 'nope' } })
    expectGenericError(res, 404, 'NOT_FOUND')
    expect(rig.rx.received).toHaveLength(0)
  })
})
