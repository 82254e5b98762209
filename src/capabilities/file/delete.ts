import type { Static } from '@sinclair/typebox'
import { basename, dirname } from 'node:path'
import { CapabilityError } from '../../core/errors.js'
import { BUTLER_FILE_ERRORS, bodyObject, present } from './butler.js'
import { audited, type FileContext, fileCapability } from './context.js'
import { removeSafely } from './fs-remove.js'
import * as s from './schema.js'

/** The real roots of a directory list; NOT_CONFIGURED when the list is empty or none of them exists. */
export async function approvedRoots(ctx: FileContext, op: string, key: string, dirs: readonly string[]) {
  if (dirs.length === 0)
    throw new CapabilityError('NOT_CONFIGURED', `${op} is off: no approved directories (capabilities.file.${key})`)
  const roots = await ctx.services.files.roots(dirs)
  if (roots.length === 0)
    throw new CapabilityError(
      'NOT_CONFIGURED',
      `${op}: none of the approved directories exists (capabilities.file.${key})`,
    )
  return roots
}

export const fileDelete = fileCapability({
  name: 'file/delete',
  summary: 'Delete a file (or, with recursive, a directory tree) inside an approved directory; dryRun',
  description:
    'Confined on the real path to capabilities.file.fileDeleteApprovedDirectories (an approved directory ' +
    'itself is never deleted). A symlink is removed itself, never its target; a tree is walked without ' +
    'following links, up to maxDeleteEntries.',
  roles: ['loadscript'],
  timeoutMs: 600_000,
  request: s.deleteRequest,
  result: s.deleteResult,
  example: {
    request: { file: 'C:\\data\\tmp\\old.qvd' },
    result: {
      file: 'C:\\data\\tmp\\old.qvd',
      path: 'C:\\data\\tmp\\old.qvd',
      dryRun: false,
      outcome: 'done',
      entries: 1,
      message: 'Deleted C:\\data\\tmp\\old.qvd',
    },
  },
  routes: [
    {
      method: 'DELETE',
      path: '/v4/filedelete',
      butlerFlag: 'fileDelete',
      summary: 'Delete a file (Butler); a directory goes with everything in it, as fs-extra removed it',
      toRequest: ({ body }) =>
        present({ file: bodyObject(body).deleteFile, recursive: true }) as Static<typeof s.deleteRequest>,
      status: 204,
      errorStatus: BUTLER_FILE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    const dryRun = req.dryRun ?? false
    return audited(ctx, 'file/delete', { file: req.file }, async (real) => {
      const cfg = ctx.state.config
      const roots = await approvedRoots(
        ctx,
        'file/delete',
        'fileDeleteApprovedDirectories',
        cfg.fileDeleteApprovedDirectories,
      )
      const files = ctx.services.files
      const { path, root } = await files.confine(req.file, roots, 'file')
      real.path = path
      const { dir } = await files.hold(dirname(path), root, false)
      let entries: number
      try {
        entries = await removeSafely(
          { dir, name: basename(path) },
          { recursive: req.recursive ?? false, dryRun, maxEntries: cfg.maxDeleteEntries },
        )
      } finally {
        await dir.close()
      }
      const what = entries === 1 ? path : `${path} (${entries} entries)`
      return {
        file: req.file,
        path,
        dryRun,
        outcome: dryRun ? ('dry-run' as const) : ('done' as const),
        entries,
        message: dryRun ? `Would delete ${what}` : `Deleted ${what}`,
      }
    })
  },
})
