import { createHash } from 'node:crypto'
import { copyFile, link, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Snapshot folders are named by their start time, so names sort in time order. */
const SNAPSHOT_NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/

export function snapshotName(at: Date): string {
  return at.toISOString().replace(/[:.]/g, '-')
}

export async function writeJson(path: string, value: unknown): Promise<{ sha256: string; bytes: number }> {
  const text = `${JSON.stringify(value, null, 2)}\n`
  await writeFile(path, text, 'utf8')
  return { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) }
}

/**
 * An unchanged app's file from the previous snapshot, carried into this one. A hard link costs no
 * space and keeps every snapshot complete on its own, so pruning an old one never loses an app.
 */
export async function carryOver(from: string, to: string): Promise<boolean> {
  try {
    await stat(from)
  } catch {
    return false
  }
  try {
    await link(from, to)
  } catch {
    await copyFile(from, to)
  }
  return true
}

/** Deletes all but the newest `keep` snapshot folders; returns the names it removed. */
export async function prune(dir: string, keep: number): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const names = (await readdir(dir)).filter((n) => SNAPSHOT_NAME.test(n)).sort()
  const old = names.slice(0, Math.max(0, names.length - keep))
  for (const name of old) await rm(join(dir, name), { recursive: true, force: true })
  return old
}
