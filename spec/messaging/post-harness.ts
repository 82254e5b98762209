import { connect, type TestClient } from '../helpers/client.js'
import { type SecureApp, startSecureApp } from '../security/harness.js'
import { startReceiver, type Reply } from './webhook-receiver.js'

export type Receiver = Awaited<ReturnType<typeof startReceiver>>

export interface PostRig {
  sb: SecureApp
  client: TestClient
  /** The receiver behind the `default` webhook of both Slack and Teams. */
  rx: Receiver
  /** The receiver behind the webhook named `ops`. */
  ops: Receiver
  close(): Promise<void>
}

/**
 * sensebus (anonymous admin on loopback, every log line kept) with Slack and Teams webhooks pointing at
 * real receivers, fast outbox retries, and an MQTT client.
 */
export async function startPostRig(
  opts: { script?: Reply[]; overrides?: Record<string, unknown> } = {},
): Promise<PostRig> {
  const rx = await startReceiver({ ...(opts.script ? { script: opts.script } : {}) })
  const ops = await startReceiver()
  const sb = await startSecureApp({
    overrides: {
      'capabilities.alert.udp.port': 0,
      'chat.slack.webhooks': { default: rx.url(), ops: ops.url('/services/T0/B0/OPSSECRET') },
      'chat.teams.webhooks': { default: rx.url('/workflows/TEAMSSECRET'), ops: ops.url('/workflows/OPSSECRET') },
      'outbox.baseDelayMs': 50,
      'outbox.maxDelayMs': 200,
      ...opts.overrides,
    },
  })
  const client = await connect(sb.mqttUrl)
  return {
    sb,
    client,
    rx,
    ops,
    async close() {
      await client.end()
      await sb.stop()
      await rx.close()
      await ops.close()
    },
  }
}
