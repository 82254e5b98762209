import { randomUUID } from 'node:crypto'
import { connect, type TestClient } from '../helpers/client.js'
import type { Envelope } from '../../src/core/envelope.js'

/** A namespace no other test touches. */
export const uniqueNs = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

/**
 * Written out independently of src/core/topics.ts on purpose: the mirror topic is a public
 * contract (`encodeURIComponent`, plus `!'()*` percent-encoded), so the spec states it.
 */
export const enc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
export const mirrorTopic = (ns: string, key: string): string => `sense/state/kv/${enc(ns)}/${enc(key)}`

export function data<T>(env: Envelope<T>): T {
  if (env.status !== 'ok') throw new Error(`expected an ok envelope, got ${JSON.stringify(env)}`)
  return env.data
}

export function errorCode(env: Envelope): string | undefined {
  return env.status === 'error' ? env.error.code : undefined
}

export interface RetainedMessage {
  topic: string
  payload: string
}

/**
 * What a brand-new subscriber is handed as retained state under `filter`. Brokers send retained
 * messages right after SUBACK; the settle window only has to cover that burst, and a message
 * that should not be there would still be caught.
 */
export async function retainedUnder(url: string, filter: string, settleMs = 250): Promise<RetainedMessage[]> {
  const client: TestClient = await connect(url, { clientId: `retained-probe-${randomUUID().slice(0, 8)}` })
  try {
    const seen = await client.collect(filter)
    await new Promise((r) => setTimeout(r, settleMs))
    return seen.filter((m) => m.retain).map(({ topic, payload }) => ({ topic, payload }))
  } finally {
    await client.end()
  }
}
