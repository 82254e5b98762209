import { rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { BatchOp, Collection } from '../../core/store.js'
import type { Logger } from '../../log.js'
import { pairKey } from './keys.js'
import type { KvValue } from './store.js'

/** Entries copied per durable batch. */
const BATCH = 1000

/**
 * Earlier builds kept the key-value store in a LevelDB of its own, `<dataDir>/kv` (`n\0<ns>` →
 * `{createdAt}`, `k\0<ns>\0<key>` → `{value, expiresAt?, updatedAt}`), and found deadlines by scanning
 * every key. Its entries move into the platform store once, deadlines included (so they are indexed
 * and expire on time); keys already expired stay behind. The old folder is kept, renamed, not deleted.
 */
export async function importLegacyKv(
  dataDir: string,
  pairs: Collection<KvValue>,
  spaces: Collection<{ createdAt: number }>,
  log: Logger,
): Promise<void> {
  const dir = join(dataDir, 'kv')
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8', createIfMissing: false })
  try {
    await db.open()
  } catch (err) {
    throw new Error(`Cannot read the old key-value store in ${dir} to import it: ${(err as Error).message}`, {
      cause: err,
    })
  }
  let keys = 0
  try {
    const namespaces: Array<BatchOp<{ createdAt: number }>> = []
    for await (const [k, v] of db.iterator({ gte: 'n\u0000', lt: 'n\u0001' })) {
      namespaces.push({ type: 'set', key: k.slice(2), value: JSON.parse(v) as { createdAt: number } })
    }
    await spaces.batch(namespaces)
    const now = Date.now()
    let ops: Array<BatchOp<KvValue>> = []
    for await (const [k, v] of db.iterator({ gte: 'k\u0000', lt: 'k\u0001' })) {
      const rest = k.slice(2)
      const sep = rest.indexOf('\u0000')
      const old = JSON.parse(v) as { value: string; expiresAt?: number; updatedAt: number }
      if (old.expiresAt !== undefined && old.expiresAt <= now) continue
      const key = pairKey(rest.slice(0, sep), rest.slice(sep + 1))
      ops.push({ type: 'set', key, value: { value: old.value, updatedAt: old.updatedAt }, expiresAt: old.expiresAt })
      keys++
      if (ops.length >= BATCH) {
        await pairs.batch(ops)
        ops = []
      }
    }
    await pairs.batch(ops)
  } finally {
    await db.close()
  }
  // Only once everything is durable in the new store: a crash before this imports again, harmlessly.
  const done = join(dataDir, `kv.imported-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  await rename(dir, done)
  log.info({ keys, from: dir, keptAs: done }, 'kv: imported the key-value store of an earlier build')
}
