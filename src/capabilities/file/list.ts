import { audited, fileCapability } from './context.js'
import { approvedRoots } from './delete.js'
import { listSafely } from './fs-list.js'
import * as s from './schema.js'

export const fileList = fileCapability({
  name: 'file/list',
  summary: 'List a directory inside an approved directory: names, types, sizes, modified times',
  description:
    'Confined to capabilities.file.fileListApprovedDirectories. Links are reported as symlink and never ' +
    'followed; at most maxListEntries entries (truncated says when more matched), sorted by name.',
  roles: ['loadscript'],
  request: s.listRequest,
  result: s.listResult,
  example: {
    request: { directory: '/data/qvd', pattern: '*.qvd' },
    result: {
      directory: '/data/qvd',
      path: '/data/qvd',
      entries: [{ name: 'sales.qvd', type: 'file', size: 10485760, modifiedAt: '2026-11-28T03:00:00.000Z' }],
      truncated: false,
    },
  },
  async handle(req, ctx) {
    const {
      outcome: _o,
      message: _m,
      ...listing
    } = await audited(ctx, 'file/list', { directory: req.directory }, async (real) => {
      const cfg = ctx.state.config
      const roots = await approvedRoots(
        ctx,
        'file/list',
        'fileListApprovedDirectories',
        cfg.fileListApprovedDirectories,
      )
      const files = ctx.services.files
      const { path, root } = await files.confine(req.directory, roots, 'dir')
      real.path = path
      const { dir } = await files.hold(path, root, false)
      try {
        const limit = Math.min(req.limit ?? cfg.maxListEntries, cfg.maxListEntries)
        const listed = await listSafely(dir, { pattern: req.pattern, limit })
        const more = listed.truncated ? ` (truncated at ${limit})` : ''
        return {
          directory: req.directory,
          path,
          ...listed,
          outcome: 'done' as const,
          message: `Listed ${listed.entries.length} entries of ${path}${more}`,
        }
      } finally {
        await dir.close()
      }
    })
    return listing
  },
})
