import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { PASSWORDS, refusal, securityOverrides, startSecureApp, TOKENS, type SecureApp } from './harness.js'

describe('an API token as the MQTT password', () => {
  let sb: SecureApp
  beforeAll(async () => {
    sb = await startSecureApp({ overrides: await securityOverrides() })
  })
  afterAll(async () => sb?.stop())

  it("logs in as the token, with the token's roles, over TCP and WebSocket", async () => {
    const watcher = await connect(sb.mqttUrl, { username: 'token', password: TOKENS.watcher })
    expect((await watcher.request('alert/list', {})).status).toBe('ok')
    const denied = await watcher.request('kv/set', {
      namespace: 'n',
      key: 'k',
      value: 'v',
      replyTo: 'sense/reply/token-watcher/kv/set',
    })
    expect(denied).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
    await watcher.end()
    const ops = await connect(sb.url('ws'), { username: 'anything', password: TOKENS.admin })
    expect((await ops.request('kv/set', { namespace: 'n', key: 'k', value: 'v' })).status).toBe('ok')
    await ops.end()
    const audit = sb.logs.filter((l) => l.area === 'audit' && l.msg === 'request')
    expect(audit).toContainEqual(
      expect.objectContaining({
        capability: 'kv/set',
        username: 'dashboard',
        tokenName: 'dashboard',
        outcome: 'FORBIDDEN',
      }),
    )
    expect(audit).toContainEqual(expect.objectContaining({ capability: 'kv/set', username: 'ops', transport: 'ws' }))
  })

  it('refuses a wrong token, and never takes a token for a configured user', async () => {
    expect(await refusal(sb.mqttUrl, { username: 'token', password: 'sbt_not-a-token' })).toBe(4)
    expect(await refusal(sb.mqttUrl, { username: 'etl', password: TOKENS.etl })).toBe(4)
    expect(await refusal(sb.mqttUrl, { username: 'token' })).toBe(4)
    // Passwords still work as before.
    expect(await refusal(sb.mqttUrl, { username: 'etl', password: PASSWORDS.etl })).toBeUndefined()
    expect(sb.logText()).not.toContain(TOKENS.watcher)
  })
})
