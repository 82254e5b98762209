import { setFlagsFromString } from 'node:v8'

export type HeapMode = 'lean' | 'fast'

/** What `sensebus start` runs with unless `runtime.heap` says otherwise. */
export const DEFAULT_HEAP_MODE: HeapMode = 'lean'

/**
 * sensebus usually runs on the Sense server itself, next to an Engine that wants all the memory it can get,
 * so by default V8 is told to favour size over speed. Its garbage collector then compacts the old generation
 * instead of keeping fragmented pages, grows the heap in smaller steps and gives back young-generation
 * space it does not use: with 10,000 idle MQTT connections that is ~170 MB RSS instead of ~250 MB
 * (spec/bench/idle.ts). 'fast' keeps V8's defaults, for an instance with memory to spare and high request
 * rates.
 *
 * The collector reads this flag at each decision, so it takes effect when set at run time; set it as early as
 * possible (before the modules load) so that the start-up allocations do not grow the heap first.
 * It is process-wide: the last call wins.
 */
export function applyHeapMode(mode: HeapMode): void {
  setFlagsFromString(mode === 'lean' ? '--optimize-for-size' : '--no-optimize-for-size')
}
