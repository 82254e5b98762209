/** Renders one bench run as Markdown: medians over repetitions, every figure beside its baseline. */
import type { FanoutOptions, FanoutQosResult, FanoutResult } from './fanout.js'
import { HTTP_WRITE_CONNECTIONS, type HttpWriteRep, httpWriteSummary, renderHttpWrite } from './http-write.js'
import type { RetainedEndpoints } from './ipc.js'
import type { LoadResult, LoadWindow } from './load.js'
import type { RetainedOptions, RetainedResult } from './retained.js'
import { fmtMs, fmtNumber, fmtPct, fmtRatio, mdTable as table, medianOf, verdict as pass } from './stats.js'

export interface RepResult {
  mqtt: Record<number, Partial<Record<'kvget' | 'raw' | 'bus', LoadResult>>>
  http: Partial<Record<'shim' | 'bare', LoadResult>>
  /** HTTP durable writes: kv/set and kv/get per connection count (http-write.ts). */
  httpWrite: HttpWriteRep
  fanout: Partial<Record<'app' | 'bare', FanoutResult>>
  retained: Partial<Record<'appEmpty' | 'app10k' | 'bare10k', RetainedResult>>
}

export interface BenchRun {
  date: string
  node: string
  cpu: string
  commit: string
  loadBefore: number[]
  loadAfter: number[]
  durationS: number
  quick: boolean
  settings: {
    window: LoadWindow
    httpWindow: LoadWindow
    inFlights: number[]
    httpConnections: number
    fanout: FanoutOptions
    retained: RetainedOptions
  }
  appStartMs: number
  retainedSetup: RetainedEndpoints
  restart: { restartMs: number; emptyStartMs: number }
  reps: RepResult[]
}

export const TARGETS = { mqtt: 0.5, http: 0.4 }
/** Our bar for the retained mirror (see the README): one key's value within this, per SUBSCRIBE. */
export const RETAINED_KEY_MS = 50
/** …and a reconnect storm of 1,000 subscribers may cost at most this much broker CPU. */
export const STORM_1000_CPU_S = 10

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`bench report: missing ${what}`)
  return v
}

export function renderReport(run: BenchRun): string {
  const reps = run.reps
  const med = (f: (r: RepResult) => number) => medianOf(reps.map(f))
  /** Median of the per-repetition ratios: each ratio pairs numbers taken minutes apart at most. */
  const ratio = (num: (r: RepResult) => number, den: (r: RepResult) => number) =>
    medianOf(reps.map((r) => num(r) / den(r)))
  const perRep = (num: (r: RepResult) => number, den: (r: RepResult) => number) =>
    reps.map((r) => (num(r) / den(r)).toFixed(2)).join(' / ')

  const mq = (r: RepResult, n: number, k: 'kvget' | 'raw' | 'bus') => must(r.mqtt[n]?.[k], `mqtt ${k}@${n}`)
  const ht = (r: RepResult, k: 'shim' | 'bare') => must(r.http[k], `http ${k}`)
  const fo = (r: RepResult, k: 'app' | 'bare', qos: 0 | 1): FanoutQosResult =>
    must(
      must(r.fanout[k], `fanout ${k}`).byQos.find((q) => q.qos === qos),
      `fanout ${k} qos${qos}`,
    )
  const rt = (r: RepResult, k: 'appEmpty' | 'app10k' | 'bare10k') => must(r.retained[k], `retained ${k}`)

  const out: string[] = []
  out.push('# sensebus benchmark (`npm run bench`)')
  out.push('')
  out.push(
    `${run.date} · commit ${run.commit} · Node ${run.node} · ${run.cpu} · load average ` +
      `${run.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ` +
      `${run.loadAfter.map((l) => l.toFixed(2)).join(' ')} after · ${reps.length} repetition(s), medians · ` +
      `${run.durationS.toFixed(0)} s${run.quick ? ' · **QUICK MODE (not a result)**' : ''}`,
  )
  out.push('')
  out.push(
    'Every ratio is the median of the per-repetition ratios subject ÷ same-run baseline (throughput: higher is ' +
      'better; latency and CPU: lower is better). Per-repetition ratios are listed where a target applies. Method ' +
      'and fairness notes: `spec/bench/README.md`.',
  )
  out.push('')

  // ---- summary
  const retainedKeyMs = med((r) => rt(r, 'app10k').keyRetainedP50)
  // 1,000 SUBSCRIBEs × (ms per SUBSCRIBE) ÷ 1,000 ms per s.
  const storm1000CpuS = (1000 * med((r) => rt(r, 'app10k').serverCpuMsPerSubscribe)) / 1000
  const retainedOk = retainedKeyMs <= RETAINED_KEY_MS && storm1000CpuS <= STORM_1000_CPU_S
  out.push('## Summary')
  out.push('')
  const summary: string[][] = []
  for (const n of run.settings.inFlights) {
    const v = ratio(
      (r) => mq(r, n, 'kvget').rate,
      (r) => mq(r, n, 'raw').rate,
    )
    summary.push([
      `MQTT kv/get ÷ raw echo, throughput, ${n} in flight`,
      fmtRatio(v),
      `≥ ${TARGETS.mqtt}`,
      pass(v >= TARGETS.mqtt),
      perRep(
        (r) => mq(r, n, 'kvget').rate,
        (r) => mq(r, n, 'raw').rate,
      ),
    ])
  }
  const hv = ratio(
    (r) => ht(r, 'shim').rate,
    (r) => ht(r, 'bare').rate,
  )
  summary.push([
    `HTTP shim ÷ bare node:http, throughput, ${run.settings.httpConnections} connections`,
    fmtRatio(hv),
    `≥ ${TARGETS.http}`,
    pass(hv >= TARGETS.http),
    perRep(
      (r) => ht(r, 'shim').rate,
      (r) => ht(r, 'bare').rate,
    ),
  ])
  // Throughput ratios undersell or flatter the subject when one side is bound by the load generator;
  // the server-CPU ratio (baseline µs per request ÷ subject µs per request) is the capacity view.
  const topN = Math.max(...run.settings.inFlights)
  const mcap = ratio(
    (r) => mq(r, topN, 'raw').serverCpuUsPerOp,
    (r) => mq(r, topN, 'kvget').serverCpuUsPerOp,
  )
  summary.push([
    `MQTT capacity: raw echo ÷ kv/get server CPU per request, ${topN} in flight`,
    fmtRatio(mcap),
    `≥ ${TARGETS.mqtt}`,
    pass(mcap >= TARGETS.mqtt),
    perRep(
      (r) => mq(r, topN, 'raw').serverCpuUsPerOp,
      (r) => mq(r, topN, 'kvget').serverCpuUsPerOp,
    ),
  ])
  const hcap = ratio(
    (r) => ht(r, 'bare').serverCpuUsPerOp,
    (r) => ht(r, 'shim').serverCpuUsPerOp,
  )
  summary.push([
    `HTTP capacity: bare ÷ shim server CPU per request`,
    fmtRatio(hcap),
    `≥ ${TARGETS.http}`,
    pass(hcap >= TARGETS.http),
    perRep(
      (r) => ht(r, 'bare').serverCpuUsPerOp,
      (r) => ht(r, 'shim').serverCpuUsPerOp,
    ),
  ])
  summary.push(...httpWriteSummary(reps.map((r) => r.httpWrite)))
  summary.push([
    `Retained mirror, 10,000 keys: SUBSCRIBE → value ${fmtMs(retainedKeyMs)}; 1,000 SUBSCRIBEs ≈ ` +
      `${storm1000CpuS.toFixed(1)} s broker CPU`,
    `${fmtRatio(
      ratio(
        (r) => rt(r, 'app10k').keyRetainedP50,
        (r) => rt(r, 'appEmpty').keyRetainedP50,
      ),
    )} vs 0 keys`,
    `≤ ${RETAINED_KEY_MS} ms and ≤ ${STORM_1000_CPU_S} s`,
    retainedOk ? 'acceptable' : '**NOT acceptable**',
    perRep(
      (r) => rt(r, 'app10k').keyRetainedP50,
      (r) => rt(r, 'appEmpty').keyRetainedP50,
    ),
  ])
  out.push(table(['check', 'ratio', 'target', 'verdict', 'per repetition'], summary))
  out.push('')

  // A measurement whose server event loop had headroom was limited by the load generator or by the
  // round-trip latency at that concurrency: its throughput is not the server's capacity.
  const headroom: string[] = []
  const note = (label: string, get: (r: RepResult) => LoadResult) => {
    const elu = med((r) => get(r).serverElu)
    if (elu < 0.9)
      headroom.push(
        `${label} (server event loop ${fmtPct(elu)} busy, load generator ` +
          `${fmtNumber(med((r) => get(r).clientCpuPct))} % of a core)`,
      )
  }
  for (const n of run.settings.inFlights)
    for (const k of ['kvget', 'raw', 'bus'] as const) note(`MQTT ${k} @${n}`, (r) => mq(r, n, k))
  note('HTTP shim', (r) => ht(r, 'shim'))
  note('HTTP bare', (r) => ht(r, 'bare'))
  for (const n of HTTP_WRITE_CONNECTIONS)
    for (const k of ['set', 'get'] as const) note(`HTTP kv/${k} @${n}`, (r) => must(r.httpWrite[n]?.[k], `kv/${k}`))
  out.push(
    headroom.length
      ? `Not saturating the server in this run: ${headroom.join('; ')}. There, throughput is set by the load ` +
          `generator or by round trips at that concurrency, so a throughput ratio compares the two *at that ` +
          `concurrency*; the capacity rows (server CPU per request) compare what the server can do.`
      : 'Every measurement saturated the server process (event loop ≥ 90 % busy).',
  )
  out.push('')

  // ---- 1. MQTT
  out.push('## 1. MQTT request/response: `kv/get` vs raw echo through the same broker')
  out.push('')
  out.push(
    `One mqtt.js connection (TCP_NODELAY), QoS 1 requests and responses, closed loop with N requests in flight; ` +
      `${run.settings.window.warmupMs} ms warm-up, ${run.settings.window.durationMs} ms measured. ` +
      "*Raw echo* (baseline): an in-process `aedes.subscribe` listener on sensebus' own broker republishes the " +
      'same request bytes (QoS 1) to a reply topic. ' +
      "*Bus echo*: the same through sensebus' `AedesBus` (published hook + `setImmediate`), i.e. everything but " +
      'the dispatcher and the KV handler.',
  )
  out.push('')
  out.push(
    table(
      ['in flight', 'kv/get req/s', 'raw echo req/s', 'kv/get ÷ raw', 'bus echo req/s', 'bus ÷ raw', 'kv/get ÷ bus'],
      run.settings.inFlights.map((n) => [
        String(n),
        fmtNumber(med((r) => mq(r, n, 'kvget').rate)),
        fmtNumber(med((r) => mq(r, n, 'raw').rate)),
        `**${fmtRatio(
          ratio(
            (r) => mq(r, n, 'kvget').rate,
            (r) => mq(r, n, 'raw').rate,
          ),
        )}**`,
        fmtNumber(med((r) => mq(r, n, 'bus').rate)),
        fmtRatio(
          ratio(
            (r) => mq(r, n, 'bus').rate,
            (r) => mq(r, n, 'raw').rate,
          ),
        ),
        fmtRatio(
          ratio(
            (r) => mq(r, n, 'kvget').rate,
            (r) => mq(r, n, 'bus').rate,
          ),
        ),
      ]),
    ),
  )
  out.push('')
  out.push(
    table(
      ['in flight', 'kv/get p50', 'raw p50', 'p50 ×', 'kv/get p99', 'raw p99', 'p99 ×', 'bus p50 / p99'],
      run.settings.inFlights.map((n) => [
        String(n),
        fmtMs(med((r) => mq(r, n, 'kvget').p50)),
        fmtMs(med((r) => mq(r, n, 'raw').p50)),
        fmtRatio(
          ratio(
            (r) => mq(r, n, 'kvget').p50,
            (r) => mq(r, n, 'raw').p50,
          ),
        ),
        fmtMs(med((r) => mq(r, n, 'kvget').p99)),
        fmtMs(med((r) => mq(r, n, 'raw').p99)),
        fmtRatio(
          ratio(
            (r) => mq(r, n, 'kvget').p99,
            (r) => mq(r, n, 'raw').p99,
          ),
        ),
        `${fmtMs(med((r) => mq(r, n, 'bus').p50))} / ${fmtMs(med((r) => mq(r, n, 'bus').p99))}`,
      ]),
    ),
  )
  out.push('')
  out.push(
    'Where the time goes: server-process CPU per request (µs), server event-loop utilisation, and load-generator ' +
      'CPU (% of one core).',
  )
  out.push('')
  out.push(
    table(
      [
        'in flight',
        'server µs/req kv/get',
        'raw',
        'bus',
        'kv/get ÷ raw',
        'server ELU kv/get / raw',
        'client CPU kv/get / raw',
        'errors',
      ],
      run.settings.inFlights.map((n) => [
        String(n),
        fmtNumber(med((r) => mq(r, n, 'kvget').serverCpuUsPerOp)),
        fmtNumber(med((r) => mq(r, n, 'raw').serverCpuUsPerOp)),
        fmtNumber(med((r) => mq(r, n, 'bus').serverCpuUsPerOp)),
        fmtRatio(
          ratio(
            (r) => mq(r, n, 'kvget').serverCpuUsPerOp,
            (r) => mq(r, n, 'raw').serverCpuUsPerOp,
          ),
        ),
        `${fmtPct(med((r) => mq(r, n, 'kvget').serverElu))} / ${fmtPct(med((r) => mq(r, n, 'raw').serverElu))}`,
        `${fmtNumber(med((r) => mq(r, n, 'kvget').clientCpuPct))} % / ` +
          `${fmtNumber(med((r) => mq(r, n, 'raw').clientCpuPct))} %`,
        String(
          reps.reduce((s, r) => s + mq(r, n, 'kvget').errors + mq(r, n, 'raw').errors + mq(r, n, 'bus').errors, 0),
        ),
      ]),
    ),
  )
  out.push('')

  // ---- 2. HTTP
  out.push('## 2. HTTP `GET /v4/keyvalues/:ns?key=` vs bare `node:http`')
  out.push('')
  out.push(
    `${run.settings.httpConnections} keep-alive connections (one \`http.Agent\`), one request outstanding per ` +
      `connection, ${run.settings.httpWindow.warmupMs} ms warm-up, ${run.settings.httpWindow.durationMs} ms ` +
      `measured. ` +
      'The bare server answers the identical JSON body and headers from the same process as sensebus.',
  )
  out.push('')
  const httpRow = (k: 'shim' | 'bare', label: string) => [
    label,
    fmtNumber(med((r) => ht(r, k).rate)),
    fmtMs(med((r) => ht(r, k).p50)),
    fmtMs(med((r) => ht(r, k).p99)),
    fmtNumber(med((r) => ht(r, k).serverCpuUsPerOp)),
    fmtPct(med((r) => ht(r, k).serverElu)),
    `${fmtNumber(med((r) => ht(r, k).clientCpuPct))} %`,
    String(reps.reduce((s, r) => s + ht(r, k).errors, 0)),
  ]
  out.push(
    table(
      ['', 'req/s', 'p50', 'p99', 'server µs/req', 'server ELU', 'client CPU', 'errors'],
      [
        httpRow('shim', 'sensebus shim'),
        httpRow('bare', 'bare node:http (baseline)'),
        [
          '**shim ÷ bare**',
          `**${fmtRatio(hv)}**`,
          fmtRatio(
            ratio(
              (r) => ht(r, 'shim').p50,
              (r) => ht(r, 'bare').p50,
            ),
          ),
          fmtRatio(
            ratio(
              (r) => ht(r, 'shim').p99,
              (r) => ht(r, 'bare').p99,
            ),
          ),
          fmtRatio(
            ratio(
              (r) => ht(r, 'shim').serverCpuUsPerOp,
              (r) => ht(r, 'bare').serverCpuUsPerOp,
            ),
          ),
          '',
          '',
          '',
        ],
      ],
    ),
  )
  out.push('')

  out.push(
    renderHttpWrite(
      reps.map((r) => r.httpWrite),
      run.settings.httpWindow,
      '## 2b. HTTP durable writes: `POST /v4/keyvalues/:ns` (kv/set) vs `GET` (kv/get), same sensebus',
    ),
  )

  // ---- 3. Fan-out
  const f = run.settings.fanout
  out.push(`## 3. Fan-out: 1 publisher → ${fmtNumber(f.subscribers)} subscribers`)
  out.push('')
  out.push(
    `All ${fmtNumber(f.subscribers)} subscribers are mqtt.js connections in the load process (TCP_NODELAY), ` +
      `subscribed at QoS 0 and QoS 1; the publisher publishes 100-byte messages at the same QoS. ` +
      `*Time to all*: ${f.singles} single messages, one at a time, publish → the last subscriber has it. *Burst*: ` +
      `${f.burst} messages back to back (${fmtNumber(f.burst * f.subscribers)} deliveries). ` +
      'Baseline: a bare Aedes (in-memory persistence, default options) in the same server process. The load ' +
      'process receiving 1,000 sockets is usually the bottleneck here, so read the server CPU per delivery too.',
  )
  out.push('')
  const foRows: string[][] = []
  for (const qos of [0, 1] as const) {
    const m = (label: string, get: (q: FanoutQosResult) => number, fmt: (v: number) => string) =>
      foRows.push([
        `QoS ${qos}`,
        label,
        fmt(med((r) => get(fo(r, 'app', qos)))),
        fmt(med((r) => get(fo(r, 'bare', qos)))),
        fmtRatio(
          ratio(
            (r) => get(fo(r, 'app', qos)),
            (r) => get(fo(r, 'bare', qos)),
          ),
        ),
      ])
    m('time to all, p50', (q) => q.timeToAllP50, fmtMs)
    m('time to all, worst', (q) => q.timeToAllMax, fmtMs)
    m('time to first, p50', (q) => q.timeToFirstP50, fmtMs)
    m(
      'burst deliveries/s',
      (q) => q.burstDeliveriesPerSec,
      (v) => fmtNumber(v),
    )
    m('burst, time for all', (q) => q.burstMs, fmtMs)
    m(
      'server CPU µs/delivery',
      (q) => q.serverCpuUsPerDelivery,
      (v) => fmtNumber(v, 1),
    )
    foRows.push([
      `QoS ${qos}`,
      'deliveries missing (all reps)',
      String(reps.reduce((s, r) => s + fo(r, 'app', qos).missing, 0)),
      String(reps.reduce((s, r) => s + fo(r, 'bare', qos).missing, 0)),
      '',
    ])
  }
  foRows.push([
    '',
    `CONNECT + SUBSCRIBE ${fmtNumber(f.subscribers)} (50 at a time)`,
    fmtMs(med((r) => must(r.fanout.app, 'fanout').connectMs)),
    fmtMs(med((r) => must(r.fanout.bare, 'fanout').connectMs)),
    fmtRatio(
      ratio(
        (r) => must(r.fanout.app, 'fanout').connectMs,
        (r) => must(r.fanout.bare, 'fanout').connectMs,
      ),
    ),
  ])
  out.push(table(['QoS', 'metric', 'sensebus', 'bare Aedes (memory)', 'sensebus ÷ bare'], foRows))
  out.push('')

  // ---- 4. Retained
  const s = run.retainedSetup
  const ro = run.settings.retained
  out.push(`## 4. KV retained mirror: SUBSCRIBE with ${fmtNumber(s.retainedKeys)} retained keys`)
  out.push('')
  out.push(
    `Three targets in the same server process: sensebus with ≈ 0 keys (the bench key plus the 2 retained bridge ` +
      `topics), a second sensebus holding ${fmtNumber(s.retainedKeys)} keys ` +
      `(${BENCH_NOTE}), and a bare Aedes with in-memory persistence holding the same ${fmtNumber(s.retainedKeys)} ` +
      `retained messages (what in-memory retained state would cost). ` +
      `Every SUBSCRIBE is a fresh connection; ${ro.samples} samples per row and repetition. SUBACK is sent ` +
      `*before* Aedes scans the retained messages, so the scan shows as the time until a retained value arrives ` +
      `(the key read last by the scan is used: the worst position), as server CPU, and as a storm of ` +
      `${ro.stormSubscribers} subscribers at once, during which a kv/get client measures its round trips.`,
  )
  out.push('')
  const rRow = (label: string, get: (x: RetainedResult) => number, fmt: (v: number) => string) => [
    label,
    fmt(med((r) => get(rt(r, 'appEmpty')))),
    fmt(med((r) => get(rt(r, 'app10k')))),
    fmt(med((r) => get(rt(r, 'bare10k')))),
    fmtRatio(
      ratio(
        (r) => get(rt(r, 'app10k')),
        (r) => get(rt(r, 'appEmpty')),
      ),
    ),
    fmtRatio(
      ratio(
        (r) => get(rt(r, 'app10k')),
        (r) => get(rt(r, 'bare10k')),
      ),
    ),
  ]
  const ms = (v: number) => fmtMs(v)
  out.push(
    table(
      [
        '',
        'sensebus ≈ 0 keys (baseline)',
        'sensebus 10k keys',
        'bare Aedes 10k (memory)',
        'sensebus 10k ÷ 0',
        'sensebus ÷ bare at 10k',
      ],
      [
        rRow('SUBSCRIBE unrelated topic → SUBACK, p50', (x) => x.subackUnrelatedP50, ms),
        rRow('SUBSCRIBE `sense/state/kv/<ns>/<key>` → value, p50', (x) => x.keyRetainedP50, ms),
        rRow('… worst sample', (x) => x.keyRetainedMax, ms),
        rRow(
          'server CPU per CONNECT+SUBSCRIBE+DISCONNECT, unrelated topic',
          (x) => x.serverCpuMsPerUnrelatedSubscribe,
          ms,
        ),
        rRow('server CPU per CONNECT+SUBSCRIBE+DISCONNECT, key topic', (x) => x.serverCpuMsPerSubscribe, ms),
        rRow(`storm: ${ro.stormSubscribers} SUBSCRIBEs at once → all values`, (x) => x.stormMs, ms),
        rRow('kv/get round trip during the storm, p50', (x) => x.stormKvGetP50, ms),
        rRow('kv/get round trip during the storm, worst', (x) => x.stormKvGetMax, ms),
        rRow('SUBSCRIBE `sense/state/kv/#` → all values', (x) => x.wildcardMs, ms),
      ],
    ),
  )
  out.push('')
  out.push(
    `Setup and start-up: writing ${fmtNumber(s.retainedKeys)} keys through kv/set took ${fmtMs(s.populateMs)} ` +
      `(${fmtNumber((s.retainedKeys * 1000) / s.populateMs)} sets/s, 32 in flight, sync writes), ` +
      `the mirror settled ${fmtMs(s.mirrorSettleMs)} after the last set. \`startApp\` with an empty data dir: ` +
      `${fmtMs(run.restart.emptyStartMs)}; ` +
      `restart with ${fmtNumber(s.retainedKeys)} keys (the mirror is set from the store): ` +
      `${fmtMs(run.restart.restartMs)} (${fmtRatio(run.restart.restartMs / run.restart.emptyStartMs)}; one sample).`,
  )
  out.push('')
  out.push(
    `Bar used for the verdict: one key's value within ${RETAINED_KEY_MS} ms of SUBSCRIBE, and a reconnect storm ` +
      `of 1,000 subscribers costing ≤ ${STORM_1000_CPU_S} s of broker CPU. ` +
      `Measured: ${fmtMs(retainedKeyMs)} and ≈ ${storm1000CpuS.toFixed(1)} s → ` +
      `${retainedOk ? 'acceptable' : '**not acceptable**'}.`,
  )
  out.push('')
  return out.join('\n')
}

const BENCH_NOTE = '10 namespaces × 1,000 keys, written through kv/set, default config'
