import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import got from 'got'
import { DeliveryError, type Outbox, retryAfterMs } from '../../../services/outbox/index.js'

export const WEBHOOK_KIND = 'alert-webhook'

export interface WebhookPayload {
  url: string
  method: 'GET' | 'POST' | 'PUT'
  headers: Record<string, string>
  /** Absolute: resolved against the config file's folder when the delivery was planned. */
  caFile?: string
  rejectUnauthorized: boolean
  /** Butler's webhook fields: a JSON body for POST/PUT, query parameters for GET. */
  body: Record<string, string>
}

/** 408, 425, 429 and 5xx may pass later; any other 4xx will not. */
const RETRYABLE = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500

export function registerWebhook(outbox: Outbox): void {
  outbox.register<WebhookPayload>(WEBHOOK_KIND, async (item, signal) => {
    const p = item.payload
    const url = new URL(p.url)
    if (p.method === 'GET') for (const [k, v] of Object.entries(p.body)) url.searchParams.set(k, v)
    let response: { statusCode: number; headers: Record<string, string | string[] | undefined> }
    try {
      response = await got(url, {
        method: p.method,
        headers: { ...p.headers, 'idempotency-key': item.key },
        ...(p.method === 'GET' ? {} : { json: p.body }),
        https: {
          rejectUnauthorized: p.rejectUnauthorized,
          ...(p.caFile ? { certificateAuthority: readFileSync(resolve(p.caFile)) } : {}),
        },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        signal,
      })
    } catch (err) {
      throw new DeliveryError(`webhook ${url.host}: ${(err as Error).message}`, { cause: err })
    }
    const status = response.statusCode
    if (status >= 200 && status < 300) return { status }
    const wait = retryAfterMs(response.headers['retry-after'])
    throw new DeliveryError(`webhook ${url.host} answered ${status}`, {
      permanent: !RETRYABLE(status),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    })
  })
}
