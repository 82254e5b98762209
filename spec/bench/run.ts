/**
 * `npm run bench`: sensebus against same-run baselines, 3 repetitions, medians.
 *
 * The server process (server.ts) holds sensebus and every baseline; this process is the load
 * generator. See spec/bench/README.md for what each scenario measures and why the baselines are fair.
 *
 *   node dist-bench/spec/bench/run.js [--reps N] [--quick] [--out FILE] [--no-write] [--only http-write]
 *
 * `--only http-write` runs just the HTTP durable-write scenario and prints its section (writes nothing).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { fanout, type FanoutOptions } from './fanout.js'
import { HTTP_WRITE_CONNECTIONS, httpWriteLoad, httpWriteSummary, renderHttpWrite } from './http-write.js'
import {
  BENCH,
  retainedKey,
  retainedNs,
  type Command,
  type CpuSample,
  type Endpoints,
  type Reply,
  type RetainedEndpoints,
  type ServerMessage,
} from './ipc.js'
import { httpGetLoad, mqttRequestLoad, type LoadWindow, type MqttTarget, type Probe } from './load.js'
import { renderReport, type BenchRun, type RepResult } from './report.js'
import { retainedSubscribe, type RetainedOptions, type RetainedTarget } from './retained.js'
import { mdTable } from './stats.js'
import { renderStore, runStoreScenario, type StoreRun } from './store.js'

interface Args {
  reps: number
  quick: boolean
  out: string
  write: boolean
  /** One scenario alone, for iterating on it; never written as a result. */
  only?: 'http-write'
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reps: 3, quick: false, out: resolve(process.cwd(), 'spec/bench/results/latest.md'), write: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') args.quick = true
    else if (a === '--reps') args.reps = Math.max(1, Number(argv[++i]))
    else if (a === '--out') args.out = resolve(String(argv[++i]))
    else if (a === '--no-write') args.write = false
    else if (a === '--only' && argv[i + 1] === 'http-write') args.only = argv[++i] as 'http-write'
    else throw new Error(`unknown argument ${a}`)
  }
  if (args.quick && !argv.includes('--reps')) args.reps = 1
  // A quick run is for checking the harness, never the committed result.
  if (args.quick && !argv.includes('--out')) args.write = false
  if (args.only) args.write = false
  return args
}

/** The server child and a promise-based call over its IPC channel. */
class Server {
  private next = 0
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: ServerMessage) => {
      if (!('id' in msg)) return
      const w = this.waiting.get(msg.id)
      this.waiting.delete(msg.id)
      if (msg.ok) w?.resolve(msg.data)
      else w?.reject(new Error(`server: ${(msg as Extract<Reply, { ok: false }>).error}`))
    })
  }

  static start(): Promise<{ server: Server; endpoints: Endpoints }> {
    const entry = fileURLToPath(new URL('./server.js', import.meta.url))
    const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    return new Promise((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error('server process did not start within 30 s')), 30_000)
      child.once('exit', (code) => reject(new Error(`server process exited early (${code})`)))
      child.on('message', (msg: ServerMessage) => {
        if ('ready' in msg) {
          clearTimeout(timer)
          resolveStart({ server: new Server(child), endpoints: msg.ready })
        } else if ('fatal' in msg) {
          clearTimeout(timer)
          reject(new Error(`server process failed: ${msg.fatal}`))
        }
      })
    })
  }

  call<T>(command: Command): Promise<T> {
    const id = ++this.next
    return new Promise<T>((resolveCall, reject) => {
      this.waiting.set(id, { resolve: resolveCall as (v: unknown) => void, reject })
      this.child.send({ id, command })
    })
  }

  readonly probe: Probe = () => this.call<CpuSample>({ cmd: 'cpu' })

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    await Promise.race([
      this.call({ cmd: 'shutdown' }).catch(() => undefined),
      new Promise((r) => setTimeout(r, 10_000)),
    ])
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

/** Rotates the order of subject and baseline between repetitions so drift hits both alike. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], {
      encoding: 'utf8',
    }).trim()
    return dirty ? `${sha} (src/ modified)` : sha
  } catch {
    return 'unknown'
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const started = performance.now()
  const loadBefore = loadavg()

  const window: LoadWindow = args.quick ? { warmupMs: 300, durationMs: 700 } : { warmupMs: 500, durationMs: 1_500 }
  const httpWindow: LoadWindow = args.quick ? { warmupMs: 300, durationMs: 700 } : { warmupMs: 500, durationMs: 2_500 }
  const fanoutOpts: FanoutOptions = {
    subscribers: args.quick ? 200 : 1000,
    singles: args.quick ? 5 : 10,
    burst: args.quick ? 20 : 100,
    timeoutMs: 15_000,
  }
  const retainedOpts: RetainedOptions = {
    samples: args.quick ? 3 : 7,
    stormSubscribers: args.quick ? 10 : 50,
    timeoutMs: 20_000,
  }
  const inFlights = [1, 16, 64]
  const httpConnections = 10

  const { server, endpoints } = await Server.start()
  // Bounded no matter what: a hung run kills the server and fails.
  const watchdog = setTimeout(() => {
    console.error('bench: watchdog fired after 8 minutes; aborting')
    server.kill()
    process.exit(2)
  }, 8 * 60_000)
  watchdog.unref()

  const kvBody = (tx: string) => JSON.stringify({ namespace: BENCH.namespace, key: BENCH.key, transaction: tx })
  const targets: Record<'kvget' | 'raw' | 'bus', MqttTarget> = {
    kvget: {
      request: 'sense/request/kv/get',
      response: 'sense/response/kv/get',
      body: kvBody,
      ok: (a) => a.status === 'ok',
    },
    // The echo gets the very same request bytes; it answers them unchanged.
    raw: { request: BENCH.rawEchoRequest, response: BENCH.rawEchoResponse, body: kvBody, ok: () => true },
    bus: { request: BENCH.busEchoRequest, response: BENCH.busEchoResponse, body: kvBody, ok: () => true },
  }
  const shimUrl = `${endpoints.appHttp}/v4/keyvalues/${BENCH.namespace}?key=${BENCH.key}`
  const bareUrl = `${endpoints.bareHttp}/v4/keyvalues/${BENCH.namespace}?key=${BENCH.key}`
  const expectBody = (status: number, body: string) => {
    if (status !== 200) return false
    const b = JSON.parse(body) as Record<string, unknown>
    return b.namespace === BENCH.namespace && b.key === BENCH.key && b.value === BENCH.value
  }

  const reps: RepResult[] = []
  let retainedSetup: RetainedEndpoints | undefined
  let writeHttp: string | undefined
  let restart: { restartMs: number; emptyStartMs: number } | undefined
  try {
    // One unmeasured pass first: the first repetition measured right after start-up ran slow in every run
    // (0.30–0.49 of the others at 1 in flight), as the server's code was still being compiled.
    if (!args.only && !args.quick) {
      console.error('[bench] warm-up pass (not measured)')
      for (const name of ['kvget', 'raw', 'bus'] as const)
        await mqttRequestLoad(endpoints.appMqtt, targets[name], 16, window, server.probe)
      for (const url of [shimUrl, bareUrl])
        await httpGetLoad(url, httpConnections, httpWindow, server.probe, expectBody)
    }
    for (let r = 0; r < args.reps; r++) {
      const log = (what: string) =>
        console.error(
          `[bench] rep ${r + 1}/${args.reps} ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        )
      const rep: RepResult = { mqtt: {}, http: {}, httpWrite: {}, fanout: {}, retained: {} }

      // `--only http-write` skips the scenarios before it.
      if (!args.only) {
        log('mqtt request/response')
        for (const inFlight of inFlights) {
          const row: RepResult['mqtt'][number] = {}
          for (const name of rotate(['kvget', 'raw', 'bus'] as const, r)) {
            row[name] = await mqttRequestLoad(endpoints.appMqtt, targets[name], inFlight, window, server.probe)
          }
          rep.mqtt[inFlight] = row
        }

        log('http')
        for (const name of rotate(['shim', 'bare'] as const, r)) {
          rep.http[name] = await httpGetLoad(
            name === 'shim' ? shimUrl : bareUrl,
            httpConnections,
            httpWindow,
            server.probe,
            expectBody,
          )
        }
      }

      // A sensebus of its own, so the keys written here are not in the other scenarios' instances.
      writeHttp ??= (await server.call<{ appHttp: string }>({ cmd: 'write:setup' })).appHttp
      log('http durable writes')
      for (const n of HTTP_WRITE_CONNECTIONS) {
        const row: RepResult['httpWrite'][number] = {}
        for (const kind of rotate(['set', 'get'] as const, r)) {
          row[kind] = await httpWriteLoad(kind, writeHttp, n, httpWindow, server.probe)
        }
        rep.httpWrite[n] = row
      }
      if (args.only === 'http-write') {
        reps.push(rep)
        continue
      }

      log(`fan-out to ${fanoutOpts.subscribers}`)
      for (const name of rotate(['app', 'bare'] as const, r)) {
        rep.fanout[name] = await fanout(
          name === 'app' ? endpoints.appMqtt : endpoints.bareMqtt,
          `${name}${r}`,
          fanoutOpts,
          server.probe,
        )
      }

      if (!retainedSetup) {
        log('populating 10,000 keys')
        retainedSetup = await server.call<RetainedEndpoints>({ cmd: 'retained:setup' })
      }
      log('retained / SUBSCRIBE')
      const total = BENCH.retainedNamespaces * BENCH.retainedKeysPerNamespace
      const keyTopics = Array.from({ length: retainedOpts.stormSubscribers }, (_, i) => {
        const k = (i * 7919) % total
        const per = BENCH.retainedKeysPerNamespace
        return `sense/state/kv/${retainedNs(Math.floor(k / per))}/${retainedKey(k % per)}`
      })
      const lastNs = retainedNs(BENCH.retainedNamespaces - 1)
      const lastKeyTopic = `sense/state/kv/${lastNs}/${retainedKey(BENCH.retainedKeysPerNamespace - 1)}`
      const benchKeyTopic = `sense/state/kv/${BENCH.namespace}/${BENCH.key}`
      const retainedTargets: Record<'appEmpty' | 'app10k' | 'bare10k', RetainedTarget> = {
        appEmpty: {
          url: endpoints.appMqtt,
          keyTopics: [benchKeyTopic],
          lastKeyTopic: benchKeyTopic,
          wildcard: 'sense/state/kv/#',
          wildcardCount: 1,
          kvProbe: { namespace: BENCH.namespace, key: BENCH.key },
        },
        app10k: {
          url: retainedSetup.appMqtt,
          keyTopics,
          lastKeyTopic,
          wildcard: 'sense/state/kv/#',
          wildcardCount: total,
          kvProbe: { namespace: retainedNs(0), key: retainedKey(0) },
        },
        bare10k: {
          url: retainedSetup.bareMqtt,
          keyTopics,
          lastKeyTopic,
          wildcard: 'sense/state/kv/#',
          wildcardCount: total,
        },
      }
      for (const name of rotate(['appEmpty', 'app10k', 'bare10k'] as const, r)) {
        rep.retained[name] = await retainedSubscribe(retainedTargets[name], retainedOpts, server.probe)
      }
      reps.push(rep)
    }
    if (args.only === 'http-write') {
      const writes = reps.map((r) => r.httpWrite)
      const summary = mdTable(['check', 'ratio', 'target', 'verdict', 'per repetition'], httpWriteSummary(writes))
      process.stdout.write(`${renderHttpWrite(writes, httpWindow, '## HTTP durable writes (--only)')}\n${summary}\n`)
      return
    }
    console.error('[bench] restarting the 10,000-key instance (mirror rebuild)')
    restart = await server.call<{ restartMs: number; emptyStartMs: number }>({ cmd: 'retained:restart' })
  } finally {
    await server.stop()
    clearTimeout(watchdog)
  }
  // Its own fresh processes, one per start, after the server is gone so nothing else competes.
  const store: StoreRun = await runStoreScenario(
    { keys: args.quick ? 10_000 : 100_000, expiring: args.quick ? 500 : 2000, reps: args.reps },
    (what) => console.error(`[bench] ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`),
  )

  const run: BenchRun = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    commit: gitCommit(),
    loadBefore,
    loadAfter: loadavg(),
    durationS: (performance.now() - started) / 1000,
    quick: args.quick,
    settings: { window, httpWindow, inFlights, httpConnections, fanout: fanoutOpts, retained: retainedOpts },
    appStartMs: endpoints.appStartMs,
    retainedSetup: retainedSetup!,
    restart: restart!,
    reps,
  }
  const report = `${renderReport(run)}\n\n${renderStore(store)}`
  process.stdout.write(`${report}\n`)
  if (args.write) {
    mkdirSync(dirname(args.out), { recursive: true })
    writeFileSync(args.out, `${report}\n`)
    writeFileSync(`${args.out.replace(/\.md$/, '')}.json`, `${JSON.stringify({ ...run, store }, null, 2)}\n`)
    console.error(`[bench] wrote ${args.out} and its .json`)
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message)
  process.exit(1)
})
