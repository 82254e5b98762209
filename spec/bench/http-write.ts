/**
 * HTTP durable writes (issue #10): Butler's `POST /v4/keyvalues/:ns` (kv/set, sync LevelDB writes, the
 * mirror published after the batch is on disk) against `GET /v4/keyvalues/:ns?key=` (kv/get) on the same
 * sensebus, in the same repetition. Each connection writes, or reads, keys of its own.
 */
import { BENCH, writeKey } from './ipc.js'
import { httpGetLoad, httpPostLoad, type LoadResult, type LoadWindow, type Probe } from './load.js'
import { fmtMs, fmtNumber, fmtPct, fmtRatio, mdTable, medianOf, verdict } from './stats.js'

export const HTTP_WRITE_CONNECTIONS = [10, 50] as const
/** set ÷ get throughput at every width, and set's p99 at 10 connections (issue #10). */
export const HTTP_WRITE_TARGETS = { ratio: 0.6, p99Connections: 10, p99Ms: 10 }

export type HttpWriteKind = 'set' | 'get'
/** Per connection count, kv/set and kv/get of one repetition. */
export type HttpWriteRep = Record<number, Partial<Record<HttpWriteKind, LoadResult>>>

/** One closed-loop measurement of kv/set or kv/get with `connections` keep-alive sockets. */
export function httpWriteLoad(
  kind: HttpWriteKind,
  appHttp: string,
  connections: number,
  win: LoadWindow,
  probe: Probe,
): Promise<LoadResult> {
  if (connections > BENCH.writers) throw new Error(`at most ${BENCH.writers} writers have seeded keys`)
  const base = `${appHttp}/v4/keyvalues/${BENCH.writeNamespace}`
  const turns = new Array<number>(connections).fill(0)
  // Each worker cycles over its own keys: no two requests in flight touch the same key.
  const nextKey = (worker: number) => {
    const turn = (turns[worker] as number) + 1
    turns[worker] = turn
    return { key: writeKey(worker, turn % BENCH.writeKeysPerWriter), turn }
  }
  const ours = (body: string) => {
    const b = JSON.parse(body) as Record<string, unknown>
    return b.namespace === BENCH.writeNamespace && typeof b.key === 'string' && typeof b.value === 'string'
  }
  if (kind === 'get') {
    return httpGetLoad(
      (worker) => `${base}?key=${nextKey(worker).key}`,
      connections,
      win,
      probe,
      (status, body) => status === 200 && ours(body),
    )
  }
  // A small value as a load script writes one (a timestamp and a row count), different on every write.
  const stamp = new Date().toISOString()
  return httpPostLoad(
    base,
    connections,
    win,
    probe,
    201,
    (status, body) => status === 201 && ours(body),
    (worker) => {
      const { key, turn } = nextKey(worker)
      return JSON.stringify({ key, value: `${stamp} reload ok, ${turn * 7} rows` })
    },
  )
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`bench report: missing ${what}`)
  return v
}

const get = (r: HttpWriteRep, n: number, k: HttpWriteKind) => must(r[n]?.[k], `http write ${k}@${n}`)

/** The Summary rows: set ÷ get per width, and the p99 of set at the target's width. */
export function httpWriteSummary(reps: readonly HttpWriteRep[]): string[][] {
  const rows: string[][] = []
  for (const n of HTTP_WRITE_CONNECTIONS) {
    const per = reps.map((r) => get(r, n, 'set').rate / get(r, n, 'get').rate)
    const v = medianOf(per)
    rows.push([
      `HTTP kv/set (durable) ÷ kv/get, throughput, ${n} connections`,
      fmtRatio(v),
      `≥ ${HTTP_WRITE_TARGETS.ratio}`,
      verdict(v >= HTTP_WRITE_TARGETS.ratio),
      per.map((x) => x.toFixed(2)).join(' / '),
    ])
  }
  const n = HTTP_WRITE_TARGETS.p99Connections
  const p99s = reps.map((r) => get(r, n, 'set').p99)
  const p99 = medianOf(p99s)
  rows.push([
    `HTTP kv/set (durable) p99, ${n} connections`,
    fmtMs(p99),
    `< ${HTTP_WRITE_TARGETS.p99Ms} ms`,
    verdict(p99 < HTTP_WRITE_TARGETS.p99Ms),
    p99s.map(fmtMs).join(' / '),
  ])
  return rows
}

/** The scenario's section of the report. */
export function renderHttpWrite(reps: readonly HttpWriteRep[], win: LoadWindow, heading: string): string {
  const med = (f: (r: HttpWriteRep) => number) => medianOf(reps.map(f))
  const ratio = (n: number, f: (x: LoadResult) => number) =>
    medianOf(reps.map((r) => f(get(r, n, 'set')) / f(get(r, n, 'get'))))
  const row = (n: number, k: HttpWriteKind, label: string) => [
    String(n),
    label,
    fmtNumber(med((r) => get(r, n, k).rate)),
    fmtMs(med((r) => get(r, n, k).p50)),
    fmtMs(med((r) => get(r, n, k).p99)),
    fmtNumber(med((r) => get(r, n, k).serverCpuUsPerOp)),
    fmtPct(med((r) => get(r, n, k).serverElu)),
    `${fmtNumber(med((r) => get(r, n, k).clientCpuPct))} %`,
    k === 'set'
      ? fmtNumber(
          med((r) => get(r, n, k).ops / get(r, n, k).serverSyncBatches),
          1,
        )
      : '',
    k === 'set' ? fmtMs(med((r) => get(r, n, k).serverSyncBatchMs / get(r, n, k).serverSyncBatches)) : '',
    String(reps.reduce((s, r) => s + get(r, n, k).errors, 0)),
  ]
  const rows: string[][] = []
  for (const n of HTTP_WRITE_CONNECTIONS) {
    rows.push(row(n, 'set', 'kv/set `POST`'), row(n, 'get', 'kv/get `GET`'))
    rows.push([
      String(n),
      '**set ÷ get**',
      `**${fmtRatio(ratio(n, (x) => x.rate))}**`,
      fmtRatio(ratio(n, (x) => x.p50)),
      fmtRatio(ratio(n, (x) => x.p99)),
      fmtRatio(ratio(n, (x) => x.serverCpuUsPerOp)),
      '',
      '',
      '',
      '',
      '',
    ])
  }
  return [
    heading,
    '',
    `One sensebus for both, its own in the server process (defaults: LevelDB with sync writes and group commit, ` +
      `KV mirror on). ` +
      `${HTTP_WRITE_CONNECTIONS.join(' and ')} keep-alive connections (one \`http.Agent\`), one request outstanding ` +
      `per connection, ${win.warmupMs} ms warm-up, ${win.durationMs} ms measured; kv/set and kv/get alternate ` +
      `which goes first per repetition. Each connection cycles over ${BENCH.writeKeysPerWriter} keys of its own ` +
      `in \`${BENCH.writeNamespace}\` (seeded when that instance starts), writing \`{"key","value"}\` with a ` +
      `value of about 40 bytes, different on every write; kv/get reads the same keys. A 201 means the write's ` +
      `batch reached disk with \`sync: true\`; *writes per fsync* is the sets acknowledged in the window ÷ the sync ` +
      `LevelDB batches the server process wrote meanwhile (group commit at work); *time per fsync* is their mean ` +
      `duration as the event loop sees it, from the call until it settled (fsync, thread pool, event loop). ` +
      `Targets (issue #10): set ÷ get ≥ ${HTTP_WRITE_TARGETS.ratio} at every width, set p99 < ` +
      `${HTTP_WRITE_TARGETS.p99Ms} ms at ${HTTP_WRITE_TARGETS.p99Connections} connections.`,
    '',
    mdTable(
      [
        'connections',
        '',
        'req/s',
        'p50',
        'p99',
        'server µs/req',
        'server ELU',
        'client CPU',
        'writes per fsync',
        'time per fsync',
        'errors',
      ],
      rows,
    ),
    '',
  ].join('\n')
}
