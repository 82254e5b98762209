import { describe, expect, it } from 'vitest'
import { DueQueue } from '../../src/capabilities/schedule/due-queue.js'
import { cronProblem, nextRunAfter } from '../../src/capabilities/schedule/next-run.js'

function runs(cron: string, timezone: string, from: string, n: number, extra = {}): string[] {
  const out: string[] = []
  let t = Date.parse(from)
  for (let i = 0; i < n; i++) {
    const next = nextRunAfter({ cron, timezone, ...extra }, t)
    if (next === undefined) break
    out.push(new Date(next).toISOString())
    t = next
  }
  return out
}

describe('next runs across daylight saving', () => {
  it('Europe/Stockholm spring forward: 02:30 (in the gap) runs once, at 03:00 CEST', () => {
    expect(runs('30 2 * * *', 'Europe/Stockholm', '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ])
  })

  it('Europe/Stockholm spring forward: a half-hourly schedule fires once for the whole gap', () => {
    expect(runs('*/30 * * * *', 'Europe/Stockholm', '2026-03-29T00:00:00Z', 4)).toEqual([
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T02:00:00.000Z',
    ])
  })

  it('Europe/Stockholm fall back: the repeated hour runs once, at its first occurrence', () => {
    expect(runs('30 2 * * *', 'Europe/Stockholm', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ])
    expect(runs('*/30 * * * *', 'Europe/Stockholm', '2026-10-25T00:00:00Z', 3)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ])
  })

  it('America/New_York: gap at 02:00 and repeated 01:00 hour', () => {
    expect(runs('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ])
    expect(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ])
  })

  it('restarting inside a repeated hour does not run an already passed wall time again', () => {
    // 01:10 EST, the second 01:xx; 01:30 EDT already happened.
    expect(runs('30 1 * * *', 'America/New_York', '2026-11-01T06:10:00Z', 1)).toEqual(['2026-11-02T06:30:00.000Z'])
  })

  it('a zone without daylight saving (Asia/Tokyo) keeps a fixed offset', () => {
    expect(runs('0 9 * * *', 'Asia/Tokyo', '2026-03-07T12:00:00Z', 2)).toEqual([
      '2026-03-08T00:00:00.000Z',
      '2026-03-09T00:00:00.000Z',
    ])
  })

  it('6 fields have seconds first; start and end dates bound the runs', () => {
    expect(runs('*/20 * * * * *', 'UTC', '2026-03-07T00:00:00Z', 2)).toEqual([
      '2026-03-07T00:00:20.000Z',
      '2026-03-07T00:00:40.000Z',
    ])
    const bounds = { startAt: Date.parse('2026-03-10T00:00:00Z'), endAt: Date.parse('2026-03-11T00:00:00Z') }
    expect(runs('0 0 * * *', 'UTC', '2026-03-07T00:00:00Z', 5, bounds)).toEqual([
      '2026-03-10T00:00:00.000Z',
      '2026-03-11T00:00:00.000Z',
    ])
  })

  it('refuses bad expressions with a reason', () => {
    expect(cronProblem('0 2 * * *')).toBeUndefined()
    expect(cronProblem('* * *')).toMatch(/5 fields/)
    expect(cronProblem('* * * * * * *')).toMatch(/not 7/)
    expect(cronProblem('61 * * * *')).toMatch(/minute/)
    expect(cronProblem('0 0 30 2 *')).toMatch(/never/)
  })
})

describe('due queue', () => {
  it('pops due schedules earliest first and ignores rescheduled entries', () => {
    const q = new DueQueue()
    q.set('a', 30)
    q.set('b', 10)
    q.set('c', 20)
    q.set('b', 40)
    q.remove('c')
    expect(q.peek()).toBe(30)
    expect(q.popDue(35)).toEqual([{ id: 'a', at: 30 }])
    expect(q.popDue(100)).toEqual([{ id: 'b', at: 40 }])
    expect(q.peek()).toBeUndefined()
  })
})
