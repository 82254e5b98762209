import { constants, existsSync } from 'node:fs'
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { CapabilityError } from '../../core/errors.js'

/**
 * A directory held for the length of one operation. On Linux it is an open descriptor, and names are
 * reached through `/proc/self/fd/<fd>/<name>`, so the kernel resolves them in that very directory
 * (openat semantics): a parent swapped for a symlink after the check cannot redirect the operation.
 * Elsewhere it is the real path, checked again right before each use (a narrower window, not none).
 */
export interface DirHandle {
  /** The directory's real path, for results and messages. */
  readonly path: string
  /** A path naming `name` inside this directory. */
  at(name: string): string
  /** FORBIDDEN when the directory no longer lies at its confined path. */
  verify(): Promise<void>
  close(): Promise<void>
}

const PROC_FD = '/proc/self/fd'
export const PINNED = process.platform === 'linux' && existsSync(PROC_FD)
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0)

export const changed = (path: string) =>
  new CapabilityError('FORBIDDEN', `${path} changed during the operation (a symbolic link was swapped in)`)

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

/** Opens `openPath` (a real path, or a name under a held directory) and checks it is `path`. */
async function pinned(openPath: string, path: string): Promise<DirHandle> {
  let fh: FileHandle
  try {
    fh = await open(openPath, DIR_FLAGS)
  } catch (err) {
    // With O_DIRECTORY a symlink may answer ENOTDIR rather than ELOOP: look at what is there.
    if (code(err) === 'ELOOP' || code(err) === 'ENOTDIR') {
      const link = await lstat(openPath).then(
        (st) => st.isSymbolicLink(),
        () => false,
      )
      if (link || code(err) === 'ELOOP') throw new CapabilityError('FORBIDDEN', `${path} is a symbolic link`)
      throw new CapabilityError('CONFLICT', `${path} is not a directory`)
    }
    throw err
  }
  const self = `${PROC_FD}/${fh.fd}`
  const check = async () => {
    // The kernel's own name for the descriptor: where the directory really is now.
    if ((await readlink(self)) !== path) throw changed(path)
  }
  try {
    await check()
  } catch (err) {
    await fh.close()
    throw err
  }
  return { path, at: (name) => `${self}/${name}`, verify: check, close: () => fh.close() }
}

async function byPath(path: string): Promise<DirHandle> {
  const check = async () => {
    const st = await lstat(path)
    if (st.isSymbolicLink()) throw new CapabilityError('FORBIDDEN', `${path} is a symbolic link`)
    if (!st.isDirectory()) throw new CapabilityError('CONFLICT', `${path} is not a directory`)
    if ((await realpath(path)) !== path) throw changed(path)
  }
  await check()
  return { path, at: (name) => join(path, name), verify: check, close: async () => {} }
}

/** The portable variant (Windows, macOS), exported so every platform's specs exercise it. */
export const holdDirByPath = byPath

/** Holds an existing directory, given by its real path. */
export function holdDir(path: string): Promise<DirHandle> {
  return PINNED ? pinned(path, path) : byPath(path)
}

/**
 * Holds `segments` below an already held directory, one level at a time, never following a symlink;
 * missing levels are created when `create` is set (reported in `created`), else NOT_FOUND.
 */
export async function descend(
  start: DirHandle,
  segments: readonly string[],
  create: boolean,
): Promise<{ dir: DirHandle; created: string[] }> {
  let dir = start
  const created: string[] = []
  try {
    for (const name of segments) {
      const next = join(dir.path, name)
      if (create) {
        try {
          await dir.verify()
          await mkdir(dir.at(name))
          created.push(next)
        } catch (err) {
          if (code(err) !== 'EEXIST') throw err
        }
      }
      let held: DirHandle
      try {
        held = PINNED ? await pinned(dir.at(name), next) : await byPath(next)
      } catch (err) {
        if (code(err) === 'ENOENT') throw new CapabilityError('NOT_FOUND', `${next} does not exist`)
        throw err
      }
      if (dir !== start) await dir.close()
      dir = held
    }
    return { dir, created }
  } catch (err) {
    if (dir !== start) await dir.close()
    throw err
  }
}
