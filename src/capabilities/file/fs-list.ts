import { lstat, opendir } from 'node:fs/promises'
import type { DirHandle } from '../../services/files/index.js'

export interface ListedEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  modifiedAt: string
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'is')
}

export async function listSafely(
  dir: DirHandle,
  opts: { pattern: string | undefined; limit: number },
): Promise<{ entries: ListedEntry[]; truncated: boolean }> {
  const match = opts.pattern ? globToRegExp(opts.pattern) : undefined
  const names: string[] = []
  let truncated = false
  // Streamed, so a huge directory costs at most `limit` names of memory.
  for await (const e of await opendir(dir.at('.'))) {
    if (match && !match.test(e.name)) continue
    if (names.length >= opts.limit) {
      truncated = true
      break
    }
    names.push(e.name)
  }
  names.sort()
  const entries: ListedEntry[] = []
  for (const name of names) {
    const st = await lstat(dir.at(name)).catch(() => undefined)
    if (!st) continue
    const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other'
    entries.push({ name, type, size: st.isFile() ? st.size : 0, modifiedAt: st.mtime.toISOString() })
  }
  return { entries, truncated }
}
