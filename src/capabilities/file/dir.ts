import { lstat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { BUTLER_FILE_ERRORS, bodyObject, present } from './butler.js'
import { audited, type FileContext, fileCapability } from './context.js'
import { approvedRoots } from './delete.js'
import { fsError } from './fs-ops.js'
import * as s from './schema.js'

/** The directories a create would make, outermost first, without touching anything. */
async function missingDirs(root: string, path: string): Promise<string[]> {
  const segments = relative(root, path).split(sep).filter(Boolean)
  let at = root
  for (const [i, name] of segments.entries()) {
    const next = join(at, name)
    try {
      const st = await lstat(next)
      if (st.isSymbolicLink())
        throw new CapabilityError('FORBIDDEN', `${next} is a symbolic link; links are not followed`)
      if (!st.isDirectory()) throw new CapabilityError('CONFLICT', `${next} exists and is not a directory`)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, next)
      const missing: string[] = []
      for (const rest of segments.slice(i)) missing.push((at = join(at, rest)))
      return missing
    }
    at = next
  }
  return []
}

async function createIn(ctx: FileContext, directory: string, path: string, root: string, dryRun: boolean) {
  const created = dryRun ? await missingDirs(root, path) : await hold(ctx, path, root)
  const outcome = dryRun ? ('dry-run' as const) : created.length === 0 ? ('skipped' as const) : ('done' as const)
  const message =
    created.length === 0 ? `${path} exists already` : `${dryRun ? 'Would create' : 'Created'} ${created.join(', ')}`
  return { directory, path, dryRun, outcome, created, message }
}

async function hold(ctx: FileContext, path: string, root: string): Promise<string[]> {
  const { dir, created } = await ctx.services.files.hold(path, root, true)
  await dir.close()
  return created
}

export const dirCreate = fileCapability({
  name: 'dir/create',
  summary: 'Create a directory (and missing parents) inside an approved directory; dryRun',
  description:
    'Unlike Butler, confined: the real path must lie in capabilities.file.dirCreateApprovedDirectories. ' +
    'Levels are created one at a time and a symlink on the way is refused, never followed.',
  roles: ['loadscript'],
  request: s.createDirRequest,
  result: s.createDirResult,
  example: {
    request: { directory: '/data/qvd/2026/11' },
    result: {
      directory: '/data/qvd/2026/11',
      path: '/data/qvd/2026/11',
      dryRun: false,
      outcome: 'done',
      created: ['/data/qvd/2026', '/data/qvd/2026/11'],
      message: 'Created /data/qvd/2026, /data/qvd/2026/11',
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/v4/createdir',
      butlerFlag: 'createDir',
      summary: 'Create a directory (Butler); confined to the approved directories',
      toRequest: ({ body }) => present({ directory: bodyObject(body).directory }) as Static<typeof s.createDirRequest>,
      status: 201,
      response: Type.Object({ directory: Type.String() }),
      toBody: (d) => ({ directory: d.directory }),
      errorStatus: BUTLER_FILE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    return audited(ctx, 'dir/create', { directory: req.directory }, async (real) => {
      const cfg = ctx.state.config
      const roots = await approvedRoots(
        ctx,
        'dir/create',
        'dirCreateApprovedDirectories',
        cfg.dirCreateApprovedDirectories,
      )
      const { path, root } = await ctx.services.files.confine(req.directory, roots, 'dir')
      real.path = path
      return createIn(ctx, req.directory, path, root, req.dryRun ?? false)
    })
  },
})

export const dirCreateQvd = fileCapability({
  name: 'dir/create-qvd',
  summary: 'Create a directory relative to the QVD root (capabilities.file.qvdPath); dryRun',
  description: 'The directory is joined to the QVD root, as in Butler; a result outside it (`..`, links) is FORBIDDEN.',
  roles: ['loadscript'],
  request: s.createQvdDirRequest,
  result: s.createDirResult,
  example: {
    request: { directory: 'sales/2026' },
    result: {
      directory: 'sales/2026',
      path: '/data/qvd/sales/2026',
      dryRun: false,
      outcome: 'done',
      created: ['/data/qvd/sales', '/data/qvd/sales/2026'],
      message: 'Created /data/qvd/sales, /data/qvd/sales/2026',
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/v4/createdirqvd',
      butlerFlag: 'createDirQVD',
      summary: 'Create a directory under the QVD folder (Butler)',
      toRequest: ({ body }) =>
        present({ directory: bodyObject(body).directory }) as Static<typeof s.createQvdDirRequest>,
      status: 201,
      response: Type.Object({ directory: Type.String() }),
      toBody: (d) => ({ directory: d.directory }),
      errorStatus: BUTLER_FILE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    return audited(ctx, 'dir/create-qvd', { directory: req.directory }, async (real) => {
      const qvd = ctx.state.config.qvdPath
      const [root] = qvd === '' ? [] : await approvedRoots(ctx, 'dir/create-qvd', 'qvdPath', [qvd])
      if (root === undefined)
        throw new CapabilityError('NOT_CONFIGURED', 'dir/create-qvd is off: no QVD root (capabilities.file.qvdPath)')
      const files = ctx.services.files
      // Joined as Butler did: a leading separator still means "below the QVD root".
      const path = await files.resolve(`${root}/${req.directory.replace(/^[\\/]+/, '')}`, 'dir')
      real.path = path
      if (!files.within(path, [root], 'dir'))
        throw new CapabilityError('FORBIDDEN', 'Directory must be within the QVD folder')
      return createIn(ctx, req.directory, path, root, req.dryRun ?? false)
    })
  },
})
