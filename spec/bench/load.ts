/**
 * Closed-loop load generators. The same generator drives a subject and its baseline, so the ratio
 * between them carries the client's own costs on both sides.
 */
import { Agent, type ClientRequest, get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { CpuSample } from './ipc.js'
import { quantile } from './stats.js'

export interface LoadWindow {
  /** Load runs this long before anything is counted. */
  warmupMs: number
  /** Then this long is measured. */
  durationMs: number
}

export interface LoadResult {
  /** Completions per second inside the measured window. */
  rate: number
  p50: number
  p99: number
  ops: number
  errors: number
  /** Server-process CPU per completed operation, µs. */
  serverCpuUsPerOp: number
  /** Server event-loop utilisation in the window (1 = saturated). */
  serverElu: number
  /** Load-generator CPU in the window, in % of one core. */
  clientCpuPct: number
  /** Server fsyncs (sync LevelDB batches) in the window; NaN where the probe does not count them. */
  serverSyncBatches: number
  /** Their summed duration, ms (NaN likewise). */
  serverSyncBatchMs: number
}

export type Probe = () => Promise<CpuSample>

/** mqtt.js with TCP_NODELAY on every (re)connect: without it a QoS 1 round trip waits ~88 ms (MQTT-STACK.md B5). */
export async function connectMqtt(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
  const noDelay = () => (client.stream as Partial<Socket>).setNoDelay?.(true)
  noDelay()
  client.on('connect', noDelay)
  return client
}

/**
 * Shared closed-loop driver: `width` workers each keep one operation outstanding; `start(done, worker)`
 * launches one operation for worker 0..width-1 and calls `done(ok)` when it completes.
 */
async function closedLoop(
  width: number,
  win: LoadWindow,
  probe: Probe,
  start: (done: (ok: boolean) => void, worker: number) => void,
): Promise<LoadResult> {
  let measuring = false
  let stopping = false
  let windowStart = 0
  let ops = 0
  let errors = 0
  let outstanding = 0
  const latencies: number[] = []
  let drained: (() => void) | undefined

  const launch = (worker: number) => {
    const t0 = performance.now()
    let settled = false
    outstanding++
    start((ok) => {
      if (settled) return
      settled = true
      const t1 = performance.now()
      outstanding--
      if (!ok) errors++
      if (measuring) {
        ops++
        if (t0 >= windowStart) latencies.push(t1 - t0)
      }
      if (!stopping) launch(worker)
      else if (outstanding === 0) drained?.()
    }, worker)
  }
  for (let i = 0; i < width; i++) launch(i)

  await sleep(win.warmupMs)
  const cpu0 = await probe()
  const client0 = process.cpuUsage()
  windowStart = performance.now()
  measuring = true
  await sleep(win.durationMs)
  measuring = false
  stopping = true
  const elapsed = performance.now() - windowStart
  const client1 = process.cpuUsage(client0)
  const cpu1 = await probe()
  if (outstanding > 0) {
    await Promise.race([new Promise<void>((r) => (drained = r)), sleep(10_000)])
    if (outstanding > 0) throw new Error(`${outstanding} operations never completed`)
  }
  return {
    rate: (ops * 1000) / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    ops,
    errors,
    serverCpuUsPerOp: ops > 0 ? (cpu1.cpuUs - cpu0.cpuUs) / ops : Number.NaN,
    serverElu: cpu1.elu,
    clientCpuPct: ((client1.user + client1.system) / 1000 / elapsed) * 100,
    serverSyncBatches: (cpu1.syncBatches ?? Number.NaN) - (cpu0.syncBatches ?? Number.NaN),
    serverSyncBatchMs: (cpu1.syncBatchMs ?? Number.NaN) - (cpu0.syncBatchMs ?? Number.NaN),
  }
}

export interface MqttTarget {
  request: string
  response: string
  /** The request payload for a transaction id. */
  body(transaction: string): string
  /** False counts the answer as an error (e.g. an error envelope). */
  ok(answer: { transaction?: unknown; status?: unknown }): boolean
}

/** Request/response over one mqtt.js connection (QoS 1 both ways), `inFlight` requests outstanding. */
export async function mqttRequestLoad(
  url: string,
  target: MqttTarget,
  inFlight: number,
  win: LoadWindow,
  probe: Probe,
): Promise<LoadResult> {
  const client = await connectMqtt(url)
  try {
    await client.subscribeAsync(target.response, { qos: 1 })
    const pending = new Map<string, (ok: boolean) => void>()
    client.on('message', (_topic, payload) => {
      let answer: { transaction?: unknown; status?: unknown }
      try {
        answer = JSON.parse(payload.toString()) as typeof answer
      } catch {
        return
      }
      const done = typeof answer.transaction === 'string' ? pending.get(answer.transaction) : undefined
      if (!done) return
      pending.delete(answer.transaction as string)
      done(target.ok(answer))
    })
    const prefix = `b${Math.random().toString(36).slice(2, 8)}-`
    let seq = 0
    return await closedLoop(inFlight, win, probe, (done) => {
      const tx = prefix + ++seq
      pending.set(tx, done)
      client.publish(target.request, target.body(tx), { qos: 1 })
    })
  } finally {
    await client.endAsync()
  }
}

/** Sends one request on `agent` for `worker`; `onAnswer` gets the response. */
type HttpSend = (agent: Agent, worker: number, onAnswer: (res: IncomingMessage) => void) => ClientRequest

/** `connections` keep-alive sockets (one `http.Agent`), one request outstanding per socket. */
async function httpLoad(
  connections: number,
  win: LoadWindow,
  probe: Probe,
  okStatus: number,
  check: (status: number, body: string) => boolean,
  send: HttpSend,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
  let checked = false
  try {
    return await closedLoop(connections, win, probe, (done, worker) => {
      const req = send(agent, worker, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          // Status on every answer; the body once (parsing it every time would load the client more).
          if (!checked) {
            checked = true
            if (!check(status, Buffer.concat(chunks).toString())) return done(false)
          }
          done(status === okStatus)
        })
      })
      req.on('error', () => done(false))
    })
  } finally {
    agent.destroy()
  }
}

/** HTTP GETs, answered 200; `url` may differ per worker (each reading its own keys). */
export function httpGetLoad(
  url: string | ((worker: number) => string),
  connections: number,
  win: LoadWindow,
  probe: Probe,
  check: (status: number, body: string) => boolean,
): Promise<LoadResult> {
  const urlOf = typeof url === 'string' ? () => url : url
  return httpLoad(connections, win, probe, 200, check, (agent, worker, onAnswer) =>
    httpGet(urlOf(worker), { agent }, onAnswer),
  )
}

/** HTTP POSTs of a JSON body per worker and request, answered `okStatus` (Butler's kv route: 201). */
export function httpPostLoad(
  url: string,
  connections: number,
  win: LoadWindow,
  probe: Probe,
  okStatus: number,
  check: (status: number, body: string) => boolean,
  body: (worker: number) => string,
): Promise<LoadResult> {
  return httpLoad(connections, win, probe, okStatus, check, (agent, worker, onAnswer) => {
    const text = body(worker)
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
    const req = httpRequest(url, { agent, method: 'POST', headers }, onAnswer)
    req.end(text)
    return req
  })
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
