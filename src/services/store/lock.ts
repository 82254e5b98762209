import { randomUUID } from 'node:crypto'
import type { Collection } from '../../core/store.js'

/**
 * Runs `fn` while holding a short lock on `key` in a shared store (an entry made with `create` and a
 * deadline, as Redis' `SET NX PX`), so instances sharing the store take turns on that key. A holder
 * that dies loses the lock at its deadline. For steps of a few store calls, not long work.
 */
export async function withStoreLock<T>(
  locks: Collection<string>,
  key: string,
  fn: () => Promise<T>,
  holdMs = 5000,
): Promise<T> {
  const token = randomUUID()
  const giveUpAt = Date.now() + holdMs * 2
  while (!(await locks.create(key, token, { expiresAt: Date.now() + holdMs }))) {
    if (Date.now() > giveUpAt) throw new Error(`The lock on '${key}' was not released within ${holdMs * 2} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
  try {
    return await fn()
  } finally {
    // Only our own lock: one that lapsed and was taken by another instance stays theirs.
    if ((await locks.get(key).catch(() => undefined))?.value === token) await locks.delete(key).catch(() => undefined)
  }
}
