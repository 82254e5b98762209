import { randomUUID } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { type FileHandle, link, lstat, open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { CapabilityError } from '../../core/errors.js'
import type { DirHandle } from '../../services/files/index.js'

/**
 * The file system steps of the file capabilities. Every name is reached through a held directory
 * (`DirHandle.at`), the last name is never followed when it is a symlink (O_NOFOLLOW, lstat, unlink,
 * rename and link act on the link itself), and writes go to a fresh temporary file that is renamed
 * into place, so an existing destination that is a hard link to a file elsewhere is replaced, not
 * written through.
 */
export interface Entry {
  dir: DirHandle
  name: string
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0
const CHUNK = 1024 * 1024

const code = (err: unknown) => (err as NodeJS.ErrnoException).code
export const where = (e: Entry) => join(e.dir.path, e.name)

/** File system errors a caller can act on, as capability errors; the rest stay internal. */
export function fsError(err: unknown, path: string): unknown {
  switch (code(err)) {
    case 'ENOENT':
      return new CapabilityError('NOT_FOUND', `${path} does not exist`, { cause: err })
    case 'ELOOP':
      return new CapabilityError('FORBIDDEN', `${path} is a symbolic link; links are not followed`, { cause: err })
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new CapabilityError('FORBIDDEN', `sensebus may not change ${path} (file system permissions)`, {
        cause: err,
      })
    case 'ENAMETOOLONG':
      return new CapabilityError('VALIDATION_FAILED', `${path} is too long for the file system`, { cause: err })
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EBUSY':
      return new CapabilityError('CONFLICT', `${path}: ${(err as Error).message}`, { cause: err })
    default:
      return err
  }
}

export async function inspect(e: Entry): Promise<Stats | undefined> {
  try {
    return await lstat(e.dir.at(e.name))
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined
    throw fsError(err, where(e))
  }
}

async function pump(from: FileHandle, to: FileHandle, maxBytes: number, signal: AbortSignal): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK)
  let total = 0
  for (;;) {
    signal.throwIfAborted()
    const { bytesRead } = await from.read(buf, 0, CHUNK, null)
    if (bytesRead === 0) return total
    total += bytesRead
    // The size was checked before; a file that grows meanwhile is still not copied past the limit.
    if (total > maxBytes) throw new CapabilityError('LIMIT_EXCEEDED', `The file is larger than ${maxBytes} bytes`)
    let off = 0
    while (off < bytesRead) off += (await to.write(buf, off, bytesRead - off)).bytesWritten
  }
}

/** Places a finished temporary file at `dst`: replacing (rename) or only when nothing is there (link). */
async function place(tmp: string, dst: Entry, replace: boolean): Promise<'placed' | 'exists'> {
  const target = dst.dir.at(dst.name)
  await dst.dir.verify()
  if (replace) {
    await rename(tmp, target)
    return 'placed'
  }
  try {
    await link(tmp, target)
  } catch (err) {
    if (code(err) === 'EEXIST') return 'exists'
    // File systems without hard links: check, then rename (a narrow window, but never a followed link).
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(code(err) ?? '')) throw err
    if (await inspect(dst)) return 'exists'
    await rename(tmp, target)
    return 'placed'
  }
  await unlink(tmp)
  return 'placed'
}

export interface CopyOptions {
  overwrite: boolean
  preserveTimestamp: boolean
  dryRun: boolean
  maxBytes: number
  signal: AbortSignal
}

export interface CopyOutcome {
  outcome: 'done' | 'skipped' | 'dry-run'
  replaced: boolean
  bytes: number
  /** The destination exists and overwrite is off, so it stays as it is. */
  kept: boolean
}

/** `dst` undefined: its directory does not exist yet, which only a dry run may ask about. */
export async function copyFileSafely(src: Entry, dst: Entry | undefined, opts: CopyOptions): Promise<CopyOutcome> {
  let input: FileHandle
  try {
    input = await open(src.dir.at(src.name), constants.O_RDONLY | NOFOLLOW)
  } catch (err) {
    throw fsError(err, where(src))
  }
  try {
    const st = await input.stat()
    if (st.isDirectory())
      throw new CapabilityError('VALIDATION_FAILED', `${where(src)} is a directory; file/copy copies files`)
    if (!st.isFile()) throw new CapabilityError('FORBIDDEN', `${where(src)} is not a regular file`)
    // Another name of the same file may lie outside every approved directory: reading it would leak it.
    if (st.nlink > 1)
      throw new CapabilityError('FORBIDDEN', `${where(src)} has other hard links; such files are not copied`)
    if (st.size > opts.maxBytes)
      throw new CapabilityError('LIMIT_EXCEEDED', `${where(src)} is larger than ${opts.maxBytes} bytes`)
    // The opened file must be the one at the confined name, not one a swapped link led to.
    await src.dir.verify()
    const now = await inspect(src)
    if (!now || now.ino !== st.ino || now.dev !== st.dev)
      throw new CapabilityError('FORBIDDEN', `${where(src)} changed during the operation`)
    const existing = dst && (await inspect(dst))
    if (dst && existing?.isDirectory()) throw new CapabilityError('CONFLICT', `${where(dst)} is a directory`)
    if (existing && !opts.overwrite)
      return { outcome: opts.dryRun ? 'dry-run' : 'skipped', replaced: false, bytes: 0, kept: true }
    if (opts.dryRun || !dst) return { outcome: 'dry-run', replaced: !!existing, bytes: st.size, kept: false }
    const tmp = dst.dir.at(`.sensebus-${randomUUID()}.tmp`)
    // O_EXCL with O_CREAT never follows a link; the name is fresh, so nothing can be written through.
    const output = await open(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
      st.mode & 0o777,
    )
    let tmpExists = true
    try {
      const bytes = await pump(input, output, opts.maxBytes, opts.signal)
      if (opts.preserveTimestamp) await output.utimes(st.atime, st.mtime)
      await output.close()
      const placed = await place(tmp, dst, opts.overwrite)
      // A rename or a link (whose extra name place() removes) leaves no temporary file behind.
      tmpExists = placed === 'exists'
      if (placed === 'exists') return { outcome: 'skipped', replaced: false, bytes: 0, kept: true }
      return { outcome: 'done', replaced: !!existing, bytes, kept: false }
    } finally {
      await output.close().catch(() => {})
      if (tmpExists) await unlink(tmp).catch(() => {})
    }
  } catch (err) {
    throw fsError(err, dst ? where(dst) : where(src))
  } finally {
    await input.close()
  }
}

export interface MoveOutcome {
  outcome: 'done' | 'dry-run'
  replaced: boolean
}

export async function moveSafely(
  src: Entry,
  dst: Entry | undefined,
  opts: Omit<CopyOptions, 'preserveTimestamp'>,
): Promise<MoveOutcome> {
  const st = await inspect(src)
  if (!st) throw new CapabilityError('NOT_FOUND', `${where(src)} does not exist`)
  if (st.isSymbolicLink())
    throw new CapabilityError('FORBIDDEN', `${where(src)} is a symbolic link; links are not moved`)
  if (!st.isFile() && !st.isDirectory())
    throw new CapabilityError('FORBIDDEN', `${where(src)} is not a regular file or directory`)
  const existing = dst && (await inspect(dst))
  if (dst && existing && !opts.overwrite)
    throw new CapabilityError('CONFLICT', `${where(dst)} exists; send overwrite: true to replace it`)
  if (dst && existing && (existing.isDirectory() || st.isDirectory()))
    throw new CapabilityError('CONFLICT', `${where(dst)} exists; overwrite replaces files, not directories`)
  if (opts.dryRun || !dst) return { outcome: 'dry-run', replaced: !!existing }
  await src.dir.verify()
  await dst.dir.verify()
  const from = src.dir.at(src.name)
  const to = dst.dir.at(dst.name)
  try {
    // A link fails when the destination exists, so a file that appeared meanwhile is never replaced.
    if (!existing && st.isFile()) {
      await link(from, to)
      await unlink(from)
    } else await rename(from, to)
  } catch (err) {
    if (code(err) === 'EXDEV' || (code(err) === 'EPERM' && st.isFile())) {
      if (!st.isFile()) throw new CapabilityError('CONFLICT', 'A directory cannot be moved to another file system')
      if (code(err) === 'EPERM' && !existing && !(await inspect(dst))) {
        await rename(from, to)
        return { outcome: 'done', replaced: false }
      }
      // Across file systems: a safe copy, then the source goes.
      const copied = await copyFileSafely(src, dst, { ...opts, preserveTimestamp: true })
      if (copied.outcome !== 'done') throw new CapabilityError('CONFLICT', `${where(dst)} exists`)
      await unlink(from)
      return { outcome: 'done', replaced: !!existing }
    }
    if (code(err) === 'EINVAL')
      throw new CapabilityError('VALIDATION_FAILED', 'A directory cannot be moved into itself', { cause: err })
    throw fsError(err, where(dst))
  }
  return { outcome: 'done', replaced: !!existing }
}
