import { describe, expect, it } from 'vitest'
import { topicMatches } from '../../src/core/topics.js'

/** The definition, level by level, as MQTT 3.1.1 §4.7 states it: what the fast matcher must agree with. */
function byLevels(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

describe('topic filter matching', () => {
  it('follows the examples of MQTT 3.1.1 §4.7', () => {
    expect(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1')).toBe(true)
    expect(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1/ranking')).toBe(true)
    expect(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon')).toBe(true)
    expect(topicMatches('sport/#', 'sport')).toBe(true)
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1')).toBe(true)
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1/ranking')).toBe(false)
    expect(topicMatches('sport/+', 'sport')).toBe(false)
    expect(topicMatches('sport/+', 'sport/')).toBe(true)
    expect(topicMatches('+/+', '/finance')).toBe(true)
    expect(topicMatches('/+', '/finance')).toBe(true)
    expect(topicMatches('+', '/finance')).toBe(false)
    expect(topicMatches('#', '$SYS/broker')).toBe(false)
    expect(topicMatches('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false)
    expect(topicMatches('$SYS/#', '$SYS/monitor/Clients')).toBe(true)
    expect(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true)
    expect(topicMatches('sense/state/kv/a', 'sense/state/kv/ab')).toBe(false)
    expect(topicMatches('sense/state/kv/ab', 'sense/state/kv/a')).toBe(false)
  })

  it('agrees with the level-by-level definition on 20,000 random filters and topics', () => {
    // A tiny alphabet makes empty levels, repeated levels and near-misses common.
    const levels = ['', 'a', 'b', 'ab', '$x', '+', '#']
    let seed = 7
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    const build = (wild: boolean) =>
      Array.from({ length: 1 + rnd(4) }, () => levels[rnd(wild ? levels.length : levels.length - 2)]).join('/')
    for (let i = 0; i < 20_000; i++) {
      const filter = build(true)
      const topic = build(false)
      expect(topicMatches(filter, topic), `${filter} vs ${topic}`).toBe(byLevels(filter, topic))
    }
  })
})
