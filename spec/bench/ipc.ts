/**
 * The message protocol between the load generator (parent) and the server process (child).
 * The server process hosts everything under test and every baseline, so they share one CPU budget.
 */

/** Fixed topics and values shared by both processes. */
export const BENCH = {
  /** The key every kv/get reads (namespace, key) and its value (64 characters). */
  namespace: 'bench',
  key: 'k1',
  value: 'v'.repeat(64),
  /** Raw echo: an in-process `aedes.subscribe` listener republishes the payload unchanged. */
  rawEchoRequest: 'bench/echo/raw/request',
  rawEchoResponse: 'bench/echo/raw/response',
  /** Bus echo: the same through sensebus' own Bus adapter (AedesBus), still without the dispatcher. */
  busEchoRequest: 'bench/echo/bus/request',
  busEchoResponse: 'bench/echo/bus/response',
  /** Retained scenario: namespaces × keys per namespace (stays within the default maxKeysPerNamespace). */
  retainedNamespaces: 10,
  retainedKeysPerNamespace: 1000,
  /**
   * HTTP durable writes: each of up to `writers` connections cycles over keys of its own in one namespace,
   * so the store stays bounded (50 × 16 = 800 keys, under the default maxKeysPerNamespace of 1,000).
   */
  writeNamespace: 'benchw',
  writers: 50,
  writeKeysPerWriter: 16,
} as const

export const retainedNs = (i: number): string => `ret${String(i).padStart(2, '0')}`
export const retainedKey = (i: number): string => `key${String(i).padStart(4, '0')}`
export const writeKey = (writer: number, i: number): string => `w${writer}-k${i}`

export interface Endpoints {
  /** sensebus with its defaults (level persistence, KV mirror on); ≈ 0 retained keys. */
  appMqtt: string
  appHttp: string
  /** A bare `node:http` server answering the same JSON body as the Butler kv route. */
  bareHttp: string
  /** A bare Aedes with in-memory persistence and default options (TCP noDelay as in sensebus). */
  bareMqtt: string
  /** How long `startApp` took with an empty data dir. */
  appStartMs: number
}

export interface RetainedEndpoints {
  /** A second sensebus holding 10,000 keys, so 10,000 retained mirror messages. */
  appMqtt: string
  /** A bare Aedes (in-memory persistence) holding the same 10,000 retained messages. */
  bareMqtt: string
  retainedKeys: number
  /** Time to write the keys through kv/set (in process, 32 in flight, sync writes as configured). */
  populateMs: number
  /** Time until the retained mirror of the last key was readable (mirror lag after the last set). */
  mirrorSettleMs: number
}

export type Command =
  | { cmd: 'cpu' }
  | { cmd: 'retained:setup' }
  | { cmd: 'retained:restart' }
  /** Starts the HTTP write scenario's own sensebus, its keys seeded; answers `{ appHttp }`. */
  | { cmd: 'write:setup' }
  | { cmd: 'shutdown' }

export interface CpuSample {
  /** user + system CPU of the server process, µs. */
  cpuUs: number
  /** Event-loop utilisation of the server process since the previous sample (0..1). */
  elu: number
  /** LevelDB batches written with `sync: true` (one fsync each) by the server process so far, if counted. */
  syncBatches?: number
  /** Their summed time from the call until it settled, ms (fsync, thread pool, event loop). */
  syncBatchMs?: number
}

export type Reply = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: string }

export type ServerMessage = { ready: Endpoints } | { fatal: string } | Reply
