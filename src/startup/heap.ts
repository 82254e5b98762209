import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'

export type HeapMode = 'auto' | 'lean' | 'fast'

/** What `sensebus start` runs with unless `runtime.heap` says otherwise. */
export const DEFAULT_HEAP_MODE: HeapMode = 'auto'

/** How often `auto` looks at the event loop. */
const SAMPLE_MS = 250
/**
 * Event-loop utilisation above which a sample counts as busy (switch to fast at once). Low on purpose: one
 * MQTT client with one request in flight keeps the loop about half busy, and lean costs it already.
 */
const BUSY = 0.25
/** Below this a sample counts as quiet; quiet for `QUIET_MS` in a row switches back to lean. */
const QUIET = 0.05
const QUIET_MS = 5_000

/**
 * sensebus usually runs on the Sense server itself, next to an Engine that wants all the memory it can get.
 * In `lean`, V8 is told to favour size over speed: its collector compacts the old generation instead of
 * keeping fragmented pages, grows the heap in smaller steps and keeps a small young generation. With 10,000
 * idle MQTT connections that is ~170–185 MB RSS instead of ~250 MB (spec/bench/idle.ts). Under load the
 * same settings cost CPU: more frequent young-generation collections, measured at up to a quarter more CPU
 * per MQTT request at 64 in flight. `fast` keeps V8's defaults. `auto` (the default) is lean while the
 * process is quiet and fast from the first busy quarter second, back to lean after 5 quiet seconds, much as
 * a browser treats a background tab.
 *
 * The collector reads the flag at each decision, so it takes effect when set at run time; set it as early as
 * possible (before the modules load) so that the start-up allocations do not grow the heap first.
 * Process-wide: the last call wins.
 */
export function applyHeapMode(mode: HeapMode): void {
  governor?.stop()
  governor = undefined
  if (mode === 'auto') governor = new Governor()
  else setLean(mode === 'lean')
}

let governor: Governor | undefined
let lean: boolean | undefined

/** Whether V8 is told to favour memory right now (undefined until a mode was applied). */
export function heapIsLean(): boolean | undefined {
  return lean
}

function setLean(on: boolean): void {
  if (lean === on) return
  lean = on
  setFlagsFromString(on ? '--optimize-for-size' : '--no-optimize-for-size')
}

/** `auto`: samples the event loop's utilisation and switches between lean and fast. */
class Governor {
  private last = performance.eventLoopUtilization()
  private quietSince: number | undefined = performance.now()
  private readonly timer: NodeJS.Timeout

  constructor() {
    setLean(true)
    // unref: the sampling never keeps a process alive that has nothing else to do.
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref()
  }

  private sample(): void {
    const now = performance.eventLoopUtilization()
    const { utilization } = performance.eventLoopUtilization(now, this.last)
    this.last = now
    if (utilization > BUSY) {
      this.quietSince = undefined
      setLean(false)
    } else if (utilization < QUIET) {
      const at = performance.now()
      this.quietSince ??= at
      if (at - this.quietSince >= QUIET_MS) setLean(true)
    } else {
      this.quietSince = undefined
    }
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
