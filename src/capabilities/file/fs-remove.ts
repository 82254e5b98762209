import { opendir, rmdir, unlink, lstat } from 'node:fs/promises'
import { CapabilityError } from '../../core/errors.js'
import { type DirHandle, holdChild } from '../../services/files/index.js'
import { type Entry, fsError, inspect, where } from './fs-ops.js'

/**
 * Deletion: a file or link is unlinked (a link goes, never its target); a tree is counted first (so a
 * tree past the limit is left whole) and then removed level by level through held directories.
 */
/** Counts a directory tree without following links; LIMIT_EXCEEDED past `max`. */
// Each level of a tree being walked holds two descriptors (the directory and its listing).
const MAX_DEPTH = 128

async function countTree(dir: DirHandle, max: number, seen = { n: 0 }, depth = 1): Promise<number> {
  if (depth > MAX_DEPTH)
    throw new CapabilityError('LIMIT_EXCEEDED', `The tree is more than ${MAX_DEPTH} directories deep`)
  for await (const e of await opendir(dir.at('.'))) {
    if (++seen.n > max)
      throw new CapabilityError(
        'LIMIT_EXCEEDED',
        `More than ${max} entries to delete (capabilities.file.maxDeleteEntries)`,
      )
    if (e.isDirectory()) await withChild(dir, e.name, (child) => countTree(child, max, seen, depth + 1))
  }
  return seen.n
}

async function removeTree(dir: DirHandle): Promise<void> {
  const names: string[] = []
  for await (const e of await opendir(dir.at('.'))) names.push(e.name)
  for (const name of names) {
    const st = await lstat(dir.at(name))
    await dir.verify()
    if (st.isDirectory()) {
      await withChild(dir, name, removeTree)
      await rmdir(dir.at(name))
    } else await unlink(dir.at(name))
  }
}

async function withChild<T>(dir: DirHandle, name: string, fn: (child: DirHandle) => Promise<T>): Promise<T> {
  const child = await holdChild(dir, name)
  try {
    return await fn(child)
  } finally {
    await child.close()
  }
}

export async function removeSafely(
  e: Entry,
  opts: { recursive: boolean; dryRun: boolean; maxEntries: number },
): Promise<number> {
  const st = await inspect(e)
  if (!st) throw new CapabilityError('NOT_FOUND', `${where(e)} does not exist`)
  try {
    if (!st.isDirectory()) {
      if (opts.dryRun) return 1
      await e.dir.verify()
      // unlink removes a symlink itself, never its target.
      await unlink(e.dir.at(e.name))
      return 1
    }
    if (!opts.recursive) {
      const empty = await withChild(e.dir, e.name, async (d) => {
        for await (const _ of await opendir(d.at('.'))) return false
        return true
      })
      if (!empty) throw new CapabilityError('CONFLICT', `${where(e)} is not empty; send recursive: true to delete it`)
      if (opts.dryRun) return 1
      await e.dir.verify()
      await rmdir(e.dir.at(e.name))
      return 1
    }
    const count = 1 + (await withChild(e.dir, e.name, (d) => countTree(d, opts.maxEntries - 1)))
    if (opts.dryRun) return count
    await withChild(e.dir, e.name, removeTree)
    await e.dir.verify()
    await rmdir(e.dir.at(e.name))
    return count
  } catch (err) {
    throw fsError(err, where(e))
  }
}
