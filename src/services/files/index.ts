import { realpath } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { closed, limit, section } from '../../core/schema.js'
import { defineService } from '../define.js'
import { type DirHandle, descend, holdDir } from './dir-handle.js'
import { type PathRules, toLocalPath } from './paths.js'

export type { DirHandle } from './dir-handle.js'

/** Holds subdirectory `name` of a held directory, refusing a symlink there. */
export async function holdChild(dir: DirHandle, name: string): Promise<DirHandle> {
  return (await descend(dir, [name], false)).dir
}

/**
 * The sandbox file operations run in: a path is usable only if, once every symlink, `..`, Windows
 * form and relative step is resolved on the real file system, it lies inside one of the roots the
 * caller names. Capabilities never touch a path this service has not confined, and they reach it
 * through a held directory (`hold`), so a symlink swapped in after the check does not redirect them.
 */
export interface FileSandbox {
  /** A request path as a native absolute path (Windows forms mapped), or VALIDATION_FAILED. */
  localPath(path: string): string
  /**
   * The real path a request names. `file`: the parent is resolved and the last name kept as given,
   * so a symlink there is acted on, never followed. `dir`: the whole path is resolved. A path that
   * does not exist yet resolves through its nearest existing ancestor.
   */
  resolve(path: string, kind: 'file' | 'dir'): Promise<string>
  /** The real paths of the configured directories that exist (relative ones from the config's folder). */
  roots(dirs: readonly string[]): Promise<string[]>
  /** The root `real` lies in (strictly below it for files), or undefined. */
  within(real: string, roots: readonly string[], kind: 'file' | 'dir'): string | undefined
  /** `resolve` + `within`, FORBIDDEN outside every root. */
  confine(path: string, roots: readonly string[], kind?: 'file' | 'dir'): Promise<{ path: string; root: string }>
  /**
   * Holds directory `dir` (a confined real path below or at `root`), walking down from the root one
   * level at a time without following symlinks; `create` makes missing levels.
   */
  hold(dir: string, root: string, create: boolean): Promise<{ dir: DirHandle; created: string[] }>
}

declare module '../../core/services.js' {
  interface Services {
    files: FileSandbox
  }
}

export const filesConfigSchema = section({
  pathMappings: Type.Array(
    closed({
      from: Type.String({ minLength: 3, description: 'A Windows prefix: C:\\QVD, or a UNC share \\\\server\\share' }),
      to: Type.String({ minLength: 1, description: 'The local directory it stands for' }),
    }),
    {
      default: [],
      description: 'Windows drive-letter and UNC prefixes in requests, mapped to local directories (checked first)',
    },
  ),
  maxPathLength: limit(1024, 'Longest path a request may name, in characters'),
  maxNameLength: limit(255, 'Longest single name in a path, in bytes'),
})
export type FilesConfig = Static<typeof filesConfigSchema>

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/** The real path of the deepest existing ancestor, with the rest appended as given. */
async function realOrNearest(path: string): Promise<string> {
  const missing: string[] = []
  let at = path
  for (;;) {
    try {
      const real = await realpath(at)
      return missing.length === 0 ? real : join(real, ...missing.reverse())
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // ENOTDIR: a file where a directory is named; the rest cannot exist either.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
      const parent = dirname(at)
      if (parent === at) throw err
      missing.push(basename(at))
      at = parent
    }
  }
}

/** Why a path could not be resolved, as the caller should hear it. */
function unresolvable(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ELOOP') return new CapabilityError('FORBIDDEN', `${path} runs into a loop of symbolic links`)
  if (code === 'ENAMETOOLONG')
    return new CapabilityError('VALIDATION_FAILED', `${path} is too long for the file system`)
  if (code === 'EACCES' || code === 'EPERM')
    return new CapabilityError('FORBIDDEN', `sensebus may not look into ${path} (file system permissions)`)
  // Directories that vanish or turn into files between the check and the use (another process at work).
  if (code === 'ENOENT') return new CapabilityError('NOT_FOUND', `${path} vanished during the operation`)
  if (code === 'ENOTDIR') return new CapabilityError('CONFLICT', `${path} is no longer a directory`)
  return err
}

export function createSandbox(baseDir: string, config?: Partial<FilesConfig>): FileSandbox {
  const rules: PathRules = {
    platform: process.platform === 'win32' ? 'win32' : 'posix',
    mappings: (config?.pathMappings ?? []).map((m) => ({ from: m.from, to: resolve(baseDir, m.to) })),
    maxPathLength: config?.maxPathLength ?? 1024,
    maxNameLength: config?.maxNameLength ?? 255,
  }
  const localPath = (path: string) => toLocalPath(path, rules)
  const sandbox: FileSandbox = {
    localPath,
    async resolve(path, kind) {
      const local = localPath(path)
      const name = basename(local)
      if (kind === 'file' && (name === '' || dirname(local) === local))
        throw new CapabilityError('VALIDATION_FAILED', `${path} names no file`)
      try {
        return kind === 'dir' ? await realOrNearest(local) : join(await realOrNearest(dirname(local)), name)
      } catch (err) {
        throw unresolvable(err, path)
      }
    },
    async roots(dirs) {
      const out: string[] = []
      for (const d of dirs) {
        const local = /^([\\/]|[a-zA-Z]:)/.test(d) ? localPath(d) : resolve(baseDir, d)
        try {
          out.push(await realpath(local))
        } catch {
          // A configured directory that does not exist approves nothing until it does.
        }
      }
      return out
    },
    within(real, roots, kind) {
      return roots.find((r) => isInside(r, real) && (kind === 'dir' || real !== r))
    },
    async confine(path, roots, kind = 'file') {
      const real = await sandbox.resolve(path, kind)
      const root = sandbox.within(real, roots, kind)
      if (root === undefined) throw new CapabilityError('FORBIDDEN', `${path} is not inside an approved directory`)
      return { path: real, root }
    },
    async hold(dir, root, create) {
      if (!isInside(root, dir)) throw new CapabilityError('FORBIDDEN', `${dir} is not inside ${root}`)
      const top = await holdDir(root).catch((err: unknown) => {
        throw unresolvable(err, root)
      })
      try {
        const segments = relative(root, dir).split(sep).filter(Boolean)
        const held = await descend(top, segments, create)
        if (held.dir !== top) await top.close()
        return held
      } catch (err) {
        await top.close()
        throw unresolvable(err, dir)
      }
    },
  }
  return sandbox
}

export const filesService = defineService<'files', FilesConfig>({
  name: 'files',
  configSchema: filesConfigSchema,
  async create({ baseDir, config }) {
    return createSandbox(baseDir, config)
  },
})
