import { realpath } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { Static } from '@sinclair/typebox'
import { CapabilityError } from '../core/errors.js'
import { section } from '../core/schema.js'
import { defineService } from './define.js'

/**
 * The sandbox file operations run in: a path is usable only if, once every symlink, `..` and
 * relative step is resolved on the real file system, it lies inside one of the roots the caller
 * names. Capabilities never touch a path this service has not confined.
 */
export interface FileSandbox {
  /**
   * The real absolute path of `path` if it lies inside one of `roots`, or FORBIDDEN. A path that does
   * not exist yet is confined through its nearest existing ancestor, so it cannot be created outside.
   */
  confine(path: string, roots: readonly string[]): Promise<string>
  /** Resolves a configured root (relative to the config file's folder) to its real path. */
  root(path: string): Promise<string>
}

declare module '../core/services.js' {
  interface Services {
    files: FileSandbox
  }
}

export const filesConfigSchema = section({})
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
      return missing.length === 0 ? real : resolve(real, ...missing.reverse())
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      const parent = dirname(at)
      if (parent === at) throw err
      missing.push(at.slice(parent.length).replace(/^[\\/]+/, ''))
      at = parent
    }
  }
}

export function createSandbox(baseDir: string): FileSandbox {
  const root = async (path: string) => realOrNearest(resolve(baseDir, path))
  return {
    root,
    async confine(path, roots) {
      if (path.includes('\u0000')) throw new CapabilityError('VALIDATION_FAILED', 'A path may not contain NUL')
      if (!isAbsolute(path)) throw new CapabilityError('VALIDATION_FAILED', `The path must be absolute: ${path}`)
      const real = await realOrNearest(resolve(path))
      for (const r of roots) if (isInside(await root(r), real)) return real
      throw new CapabilityError('FORBIDDEN', `${path} is not inside an approved directory`)
    },
  }
}

export const filesService = defineService<'files', FilesConfig>({
  name: 'files',
  configSchema: filesConfigSchema,
  async create({ baseDir }) {
    return createSandbox(baseDir)
  },
})
