import mqtt from '/web/vendor/mqtt.esm.js'

/** Whether an MQTT topic matches a filter with `+` and `#`. */
export function matches(filter, topic) {
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

const REQUEST_TIMEOUT_MS = 20_000

/**
 * The page's one MQTT connection. Requests go to `<base>/request/<capability>` with a private replyTo
 * (`<base>/reply/<id>/...`, which the broker lets only this connection read), so answers are matched
 * by transaction exactly as the CLI does. Retained state is kept so views drawn later see it too.
 */
export class Bus {
  constructor(client, base, replyId) {
    this.client = client
    this.base = base
    this.replyId = replyId
    this.counter = 0
    this.pending = new Map()
    this.handlers = []
    this.retained = new Map()
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet))
  }

  /** Connects, or rejects with the broker's reason (bad credentials, origin not allowed, unreachable). */
  static async connect({ url, username, password, base }) {
    const replyId = `web-${crypto.randomUUID().slice(0, 13)}`
    const client = mqtt.connect(url, {
      clientId: replyId,
      username: username || undefined,
      password: password || undefined,
      protocolVersion: 4,
      clean: true,
      connectTimeout: 8000,
      reconnectPeriod: 0,
    })
    await new Promise((resolve, reject) => {
      client.once('connect', resolve)
      client.once('error', (err) => {
        client.end(true)
        reject(err)
      })
      client.once('close', () => reject(new Error(`Could not reach the broker at ${url}`)))
    })
    // Only now: a refused login must not be retried in a loop.
    client.options.reconnectPeriod = 3000
    const bus = new Bus(client, base, replyId)
    await bus.subscribe(`${base}/reply/${replyId}/#`)
    return bus
  }

  /** Subscribes; a filter the user's roles do not cover is refused by the broker and skipped. */
  async subscribe(filter) {
    try {
      const granted = await this.client.subscribeAsync(filter, { qos: 1 })
      return granted.every((g) => g.qos !== 128)
    } catch {
      return false
    }
  }

  /** `fn(topic, message, { retain })` for every message on `filter` (JSON parsed; null for an empty payload). */
  on(filter, fn) {
    this.handlers.push({ filter, fn })
    for (const [topic, message] of this.retained) if (matches(filter, topic)) fn(topic, message, { retain: true })
  }

  /** One request, one envelope: the answer, or a TIMEOUT envelope of our own. */
  request(capability, body = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    const transaction = `${this.replyId}-${++this.counter}`
    const replyTo = `${this.base}/reply/${this.replyId}/${capability}`
    const payload = JSON.stringify({ ...body, transaction, replyTo })
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction)
        resolve({
          transaction,
          status: 'error',
          error: { code: 'TIMEOUT', message: `No answer to ${capability} within ${timeoutMs / 1000} s` },
        })
      }, timeoutMs)
      this.pending.set(transaction, (env) => {
        clearTimeout(timer)
        resolve(env)
      })
      this.client.publish(`${this.base}/request/${capability}`, payload, { qos: 1 })
    })
  }

  /** The envelope a request would carry, for the console to show before sending. */
  envelope(capability, body) {
    return {
      topic: `${this.base}/request/${capability}`,
      payload: {
        ...body,
        transaction: `${this.replyId}-…`,
        replyTo: `${this.base}/reply/${this.replyId}/${capability}`,
      },
    }
  }

  onMessage(topic, payload, packet) {
    let message = null
    if (payload.length > 0) {
      try {
        message = JSON.parse(new TextDecoder().decode(payload))
      } catch {
        message = new TextDecoder().decode(payload)
      }
    }
    if (topic.startsWith(`${this.base}/reply/${this.replyId}/`)) {
      const settle = message && this.pending.get(String(message.transaction))
      if (settle) {
        this.pending.delete(String(message.transaction))
        settle(message)
      }
      return
    }
    if (topic.startsWith(`${this.base}/state/`) || topic.startsWith(`${this.base}/bridge/`)) {
      if (message === null) this.retained.delete(topic)
      else this.retained.set(topic, message)
    }
    for (const { filter, fn } of this.handlers) {
      if (!matches(filter, topic)) continue
      try {
        fn(topic, message, { retain: packet.retain })
      } catch (err) {
        console.error('view failed on', topic, err)
      }
    }
  }

  end() {
    this.client.end(true)
  }
}
