import { afterAll, describe, expect, it } from 'vitest'
import { applyHeapMode, heapIsLean } from '../../src/startup/heap.js'

/** Keeps the event loop busy for `ms` (the governor samples utilisation every 250 ms). */
function busy(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end);
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('runtime.heap', () => {
  afterAll(() => applyHeapMode('fast'))

  it('lean and fast set the mode for good', () => {
    applyHeapMode('lean')
    expect(heapIsLean()).toBe(true)
    applyHeapMode('fast')
    expect(heapIsLean()).toBe(false)
  })

  it('auto starts lean, turns fast while the process is busy, and lean again after 5 quiet seconds', async () => {
    applyHeapMode('auto')
    expect(heapIsLean()).toBe(true)
    // Busy across at least one whole sample, then let the sample run.
    busy(600)
    await tick(300)
    expect(heapIsLean()).toBe(false)
    await tick(3_000)
    expect(heapIsLean()).toBe(false)
    await expect.poll(() => heapIsLean(), { timeout: 5_000, interval: 100 }).toBe(true)
  }, 15_000)
})
