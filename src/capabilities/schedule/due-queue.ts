interface Entry {
  at: number
  id: string
}

/**
 * Which schedule runs next: a binary min-heap on the due instant, so ten thousand schedules need
 * one timer, not ten thousand. Rescheduling leaves the old entry in the heap; it is recognised as
 * stale (its instant is no longer the schedule's) and dropped when it reaches the top.
 */
export class DueQueue {
  private readonly heap: Entry[] = []
  private readonly due = new Map<string, number>()

  set(id: string, at: number): void {
    if (this.due.get(id) === at) return
    this.due.set(id, at)
    this.heap.push({ at, id })
    this.up(this.heap.length - 1)
    if (this.heap.length > 2 * this.due.size + 1024) this.compact()
  }

  remove(id: string): void {
    this.due.delete(id)
  }

  /** The earliest live due instant. */
  peek(): number | undefined {
    this.dropStale()
    return this.heap[0]?.at
  }

  /** Removes and returns the schedules due at or before `now`, earliest first. */
  popDue(now: number): Array<{ id: string; at: number }> {
    const out: Array<{ id: string; at: number }> = []
    for (;;) {
      this.dropStale()
      const top = this.heap[0]
      if (!top || top.at > now) return out
      this.pop()
      this.due.delete(top.id)
      out.push(top)
    }
  }

  get size(): number {
    return this.due.size
  }

  /** Many reschedules leave many stale entries: rebuild from the live ones. */
  private compact(): void {
    this.heap.length = 0
    for (const [id, at] of this.due) {
      this.heap.push({ at, id })
      this.up(this.heap.length - 1)
    }
  }

  private dropStale(): void {
    while (this.heap[0] && this.due.get(this.heap[0].id) !== this.heap[0].at) this.pop()
  }

  private pop(): void {
    const last = this.heap.pop()
    if (last && this.heap.length > 0) {
      this.heap[0] = last
      this.down(0)
    }
  }

  private up(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as Entry).at <= (heap[i] as Entry).at) return
      ;[heap[parent], heap[i]] = [heap[i] as Entry, heap[parent] as Entry]
      i = parent
    }
  }

  private down(i: number): void {
    const heap = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < heap.length && (heap[l] as Entry).at < (heap[min] as Entry).at) min = l
      if (r < heap.length && (heap[r] as Entry).at < (heap[min] as Entry).at) min = r
      if (min === i) return
      ;[heap[min], heap[i]] = [heap[i] as Entry, heap[min] as Entry]
      i = min
    }
  }
}
