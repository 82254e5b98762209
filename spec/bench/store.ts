/**
 * Store scenario: start-up with a large KV store and the CPU each expiry costs, against baselines
 * from the same run (an empty data dir). Every start is a fresh process (store-child.ts), so time
 * and RSS are those of a real start.
 *
 * Runs inside `npm run bench`, or alone (after `tsc -p tsconfig.bench.json`):
 *   node dist-bench/spec/bench/store.js [--quick] [--reps N]
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StoreChildResult } from './store-child.js'
import { fmtMs, fmtNumber, fmtRatio, medianOf } from './stats.js'

export interface StoreOptions {
  /** Keys in the large store. */
  keys: number
  /** Keys set to expire, at distinct deadlines 1 ms apart, per expiry measurement. */
  expiring: number
  reps: number
}

type Start = Extract<StoreChildResult, { job: 'start' }>
type Expiry = Extract<StoreChildResult, { job: 'expiry' }>

export interface StoreRep {
  emptyStart: Start
  fullStart: Start
  expiryEmpty: Expiry
  expiryFull: Expiry
}

export interface StoreRun {
  options: StoreOptions
  populateMs: number
  /** The first start on the large store builds the whole retained mirror (for information). */
  firstStart: Start
  reps: StoreRep[]
}

/** Ready within this with the large store (issue #10). */
export const START_TARGET_MS = 3000
/** CPU per expired key with the large store ÷ with an empty one: flat means about 1. */
export const EXPIRY_FLAT_RATIO = 1.5

const CHILD = fileURLToPath(new URL('./store-child.js', import.meta.url))

function child<T extends StoreChildResult>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', CHILD, ...args],
      { timeout: 180_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`store-child ${args[0]} failed: ${err.message}\n${stderr}`))
        else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T)
      },
    )
  })
}

export async function runStoreScenario(
  options: StoreOptions,
  log: (what: string) => void = () => undefined,
): Promise<StoreRun> {
  const empty = await mkdtemp(join(tmpdir(), 'sensebus-bench-store-empty-'))
  const full = await mkdtemp(join(tmpdir(), 'sensebus-bench-store-full-'))
  try {
    log(`store: writing ${options.keys} keys`)
    const populated = await child<Extract<StoreChildResult, { job: 'populate' }>>([
      'populate',
      full,
      String(options.keys),
    ])
    log('store: first start (builds the retained mirror)')
    const firstStart = await child<Start>(['start', full])
    const reps: StoreRep[] = []
    for (let r = 0; r < options.reps; r++) {
      log(`store: rep ${r + 1}/${options.reps}`)
      // Alternate the order so drift in the machine's load hits subject and baseline alike.
      const pair = async (a: () => Promise<Start>, b: () => Promise<Start>) =>
        r % 2 === 0 ? [await a(), await b()] : [await b(), await a()].reverse()
      const [emptyStart, fullStart] = (await pair(
        () => child<Start>(['start', empty]),
        () => child<Start>(['start', full]),
      )) as [Start, Start]
      const expiryEmpty = await child<Expiry>(['expiry', empty, String(options.expiring)])
      const expiryFull = await child<Expiry>(['expiry', full, String(options.expiring)])
      reps.push({ emptyStart, fullStart, expiryEmpty, expiryFull })
    }
    return { options, populateMs: populated.ms, firstStart, reps }
  } finally {
    await rm(empty, { recursive: true, force: true })
    await rm(full, { recursive: true, force: true })
  }
}

const pass = (ok: boolean) => (ok ? 'PASS' : '**FAIL**')

export function renderStore(run: StoreRun): string {
  const { reps, options } = run
  const med = (f: (r: StoreRep) => number) => medianOf(reps.map(f))
  const perRep = (f: (r: StoreRep) => number, digits = 2) => reps.map((r) => f(r).toFixed(digits)).join(' / ')
  const expiryRatio = (r: StoreRep) => r.expiryFull.cpuUsPerKey / r.expiryEmpty.cpuUsPerKey
  const growth = (s: Start) => s.dirBytesAfter - s.dirBytesBefore
  const n = fmtNumber(options.keys)
  const out: string[] = []
  out.push(`## Store: start-up with ${n} keys, expiry`)
  out.push('')
  out.push(
    `${n} keys of 64 bytes in ${fmtNumber(options.keys / 1000)} namespaces, written straight into the store ` +
      `(${fmtMs(run.populateMs)}), then started once (first start ${fmtMs(run.firstStart.readyMs)}). ` +
      'At each start the retained mirror is set in memory from the store. Each start below is a fresh ' +
      'process; the time is `startApp` until ready (module loading excluded), CPU is the same span.',
  )
  out.push('')
  out.push('| | empty data dir (baseline) | with the keys | ratio | per repetition |')
  out.push('|---|---|---|---|---|')
  out.push(
    `| ready | ${fmtMs(med((r) => r.emptyStart.readyMs))} | ${fmtMs(med((r) => r.fullStart.readyMs))} | ` +
      `${fmtRatio(med((r) => r.fullStart.readyMs / r.emptyStart.readyMs))} | ` +
      `${perRep((r) => r.fullStart.readyMs, 0)} ms |`,
  )
  out.push(
    `| CPU to ready | ${fmtMs(med((r) => r.emptyStart.cpuMs))} | ${fmtMs(med((r) => r.fullStart.cpuMs))} | ` +
      `${fmtRatio(med((r) => r.fullStart.cpuMs / r.emptyStart.cpuMs))} | ${perRep((r) => r.fullStart.cpuMs, 0)} ms |`,
  )
  out.push(
    `| RSS when ready (after a GC) | ${med((r) => r.emptyStart.rssMb).toFixed(0)} MB | ` +
      `${med((r) => r.fullStart.rssMb).toFixed(0)} MB | ` +
      `${fmtRatio(med((r) => r.fullStart.rssMb / r.emptyStart.rssMb))} | ` +
      `${perRep((r) => r.fullStart.rssMb, 0)} MB |`,
  )
  out.push(
    `| data dir growth per restart | ${fmtNumber(med((r) => growth(r.emptyStart)))} B | ` +
      `${fmtNumber(med((r) => growth(r.fullStart)))} B | | ${perRep((r) => growth(r.fullStart), 0)} B |`,
  )
  out.push('')
  out.push(
    `Expiry: ${fmtNumber(options.expiring)} keys set with deadlines 1 ms apart; CPU of the whole process from the ` +
      'first deadline until the last retained mirror copy is cleared, per key.',
  )
  out.push('')
  out.push('| stored keys besides | CPU per expired key | lag after the last deadline |')
  out.push('|---|---|---|')
  out.push(
    `| 0 (baseline) | ${med((r) => r.expiryEmpty.cpuUsPerKey).toFixed(0)} µs | ` +
      `${fmtMs(med((r) => r.expiryEmpty.lagMs))} |`,
  )
  out.push(
    `| ${n} | ${med((r) => r.expiryFull.cpuUsPerKey).toFixed(0)} µs | ${fmtMs(med((r) => r.expiryFull.lagMs))} |`,
  )
  out.push('')
  const ready = med((r) => r.fullStart.readyMs)
  const ratio = med(expiryRatio)
  out.push('| target | measured | per repetition | verdict |')
  out.push('|---|---|---|---|')
  out.push(
    `| ready with ${n} keys < ${fmtMs(START_TARGET_MS)} | ${fmtMs(ready)} | ` +
      `${perRep((r) => r.fullStart.readyMs, 0)} | ` +
      `${pass(ready < START_TARGET_MS)} |`,
  )
  out.push(
    `| CPU per expired key, ${n} ÷ 0 stored ≤ ${EXPIRY_FLAT_RATIO} | ${fmtRatio(ratio)} | ${perRep(expiryRatio)} | ` +
      `${pass(ratio <= EXPIRY_FLAT_RATIO)} |`,
  )
  return out.join('\n')
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const repsAt = argv.indexOf('--reps')
  const options: StoreOptions = {
    keys: quick ? 10_000 : 100_000,
    expiring: quick ? 500 : 2000,
    reps: repsAt >= 0 ? Math.max(1, Number(argv[repsAt + 1])) : quick ? 1 : 3,
  }
  const run = await runStoreScenario(options, (what) => console.error(`[bench] ${what}`))
  process.stdout.write(`${renderStore(run)}\n`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message)
    process.exit(1)
  })
}
