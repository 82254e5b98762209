import { type Static, Type } from '@sinclair/typebox'
import { basename, dirname } from 'node:path'
import { CapabilityError } from '../../core/errors.js'
import type { DirHandle } from '../../services/files/index.js'
import { butlerForm } from '../../services/files/paths.js'
import { BUTLER_FILE_ERRORS, bodyObject, butlerFlag, present } from './butler.js'
import { audited, type FileContext, fileCapability } from './context.js'
import { copyFileSafely, type Entry, inspect, moveSafely } from './fs-ops.js'
import * as s from './schema.js'

type Pairs = ReadonlyArray<{ fromDirectory: string; toDirectory: string }>

/** Both real paths, and the first approved pair holding them (FORBIDDEN when none does). */
async function confinePair(ctx: FileContext, op: string, key: string, pairs: Pairs, fromFile: string, toFile: string) {
  if (pairs.length === 0)
    throw new CapabilityError('NOT_CONFIGURED', `${op} is off: no approved directories (capabilities.file.${key})`)
  const files = ctx.services.files
  const from = await files.resolve(fromFile, 'file')
  const to = await files.resolve(toFile, 'file')
  for (const pair of pairs) {
    const [fromRoot] = await files.roots([pair.fromDirectory])
    const [toRoot] = await files.roots([pair.toDirectory])
    if (fromRoot === undefined || toRoot === undefined) continue
    if (files.within(from, [fromRoot], 'file') && files.within(to, [toRoot], 'file'))
      return { from, to, fromRoot, toRoot }
  }
  throw new CapabilityError(
    'FORBIDDEN',
    `No approved fromDirectory/toDirectory pair for ${op} of ${fromFile} to ${toFile}`,
  )
}

/**
 * Holds the directories of both ends (the destination's created as needed), runs `work`, releases
 * them. In a dry run a destination directory that does not exist yet is reported, not created.
 */
async function withEnds<T>(
  ctx: FileContext,
  ends: { from: string; to: string; fromRoot: string; toRoot: string },
  dryRun: boolean,
  work: (src: Entry, dst: Entry | undefined) => Promise<T>,
): Promise<T> {
  const files = ctx.services.files
  const held: DirHandle[] = []
  try {
    const src = await files.hold(dirname(ends.from), ends.fromRoot, false)
    held.push(src.dir)
    const source = { dir: src.dir, name: basename(ends.from) }
    // Before any destination directory is made: a failed call leaves nothing behind.
    if (!(await inspect(source))) throw new CapabilityError('NOT_FOUND', `${ends.from} does not exist`)
    let dst: Entry | undefined
    try {
      const d = await files.hold(dirname(ends.to), ends.toRoot, !dryRun)
      held.push(d.dir)
      dst = { dir: d.dir, name: basename(ends.to) }
    } catch (err) {
      if (!dryRun || (err as CapabilityError).code !== 'NOT_FOUND') throw err
    }
    return await work(source, dst)
  } finally {
    for (const h of held) await h.close()
  }
}

const replacing = (replaced: boolean) => (replaced ? ', replacing the existing file' : '')

export const fileCopy = fileCapability({
  name: 'file/copy',
  summary: 'Copy a file between approved directory pairs; overwrite, preserveTimestamp, dryRun',
  description:
    'Both paths are confined on their real paths (symlinks, `..`, Windows forms resolved) to one pair of ' +
    'capabilities.file.fileCopyApprovedDirectories. A symlink or a file with other hard links is not copied. ' +
    'With overwrite off an existing destination is left alone (outcome skipped), as in Butler.',
  roles: ['loadscript'],
  timeoutMs: 600_000,
  request: s.copyRequest,
  result: s.copyResult,
  example: {
    request: { fromFile: 'C:\\data\\in\\sales.qvd', toFile: 'C:\\data\\archive\\sales.qvd', overwrite: true },
    result: {
      fromFile: 'C:\\data\\in\\sales.qvd',
      toFile: 'C:\\data\\archive\\sales.qvd',
      from: 'C:\\data\\in\\sales.qvd',
      to: 'C:\\data\\archive\\sales.qvd',
      overwrite: true,
      preserveTimestamp: false,
      dryRun: false,
      outcome: 'done',
      replaced: true,
      bytes: 10485760,
      message:
        'Copied C:\\data\\in\\sales.qvd to C:\\data\\archive\\sales.qvd (10485760 bytes), replacing the existing file',
    },
  },
  routes: [
    {
      method: 'PUT',
      path: '/v4/filecopy',
      butlerFlag: 'fileCopy',
      summary: 'Copy a file (Butler); "overwrite" and "preserveTimestamp" as true or "true"',
      toRequest: ({ body }) => {
        const b = bodyObject(body)
        return present({
          fromFile: b.fromFile,
          toFile: b.toFile,
          overwrite: butlerFlag(b.overwrite),
          preserveTimestamp: butlerFlag(b.preserveTimestamp),
        }) as Static<typeof s.copyRequest>
      },
      status: 201,
      response: Type.Object({
        fromFile: Type.String(),
        toFile: Type.String(),
        overwrite: Type.Boolean(),
        preserveTimestamp: Type.Boolean(),
      }),
      toBody: (d) => ({
        fromFile: butlerForm(d.fromFile),
        toFile: butlerForm(d.toFile),
        overwrite: d.overwrite,
        preserveTimestamp: d.preserveTimestamp,
      }),
      errorStatus: BUTLER_FILE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    const overwrite = req.overwrite ?? false
    const preserveTimestamp = req.preserveTimestamp ?? false
    const dryRun = req.dryRun ?? false
    return audited(ctx, 'file/copy', { fromFile: req.fromFile, toFile: req.toFile }, async (real) => {
      const cfg = ctx.state.config
      const ends = await confinePair(
        ctx,
        'file/copy',
        'fileCopyApprovedDirectories',
        cfg.fileCopyApprovedDirectories,
        req.fromFile,
        req.toFile,
      )
      Object.assign(real, { from: ends.from, to: ends.to })
      const opts = { overwrite, preserveTimestamp, dryRun, maxBytes: cfg.maxCopyBytes, signal: ctx.signal }
      const { kept, ...r } = await withEnds(ctx, ends, dryRun, (src, dst) => copyFileSafely(src, dst, opts))
      const message =
        r.outcome === 'done'
          ? `Copied ${ends.from} to ${ends.to} (${r.bytes} bytes)${replacing(r.replaced)}`
          : kept
            ? `${ends.to} exists and overwrite is off: ${dryRun ? 'nothing would be copied' : 'nothing copied'}`
            : `Would copy ${ends.from} to ${ends.to} (${r.bytes} bytes)${replacing(r.replaced)}`
      return {
        fromFile: req.fromFile,
        toFile: req.toFile,
        from: ends.from,
        to: ends.to,
        overwrite,
        preserveTimestamp,
        dryRun,
        ...r,
        message,
      }
    })
  },
})

export const fileMove = fileCapability({
  name: 'file/move',
  summary: 'Move a file or directory between approved directory pairs; overwrite, dryRun',
  description:
    'Confined like file/copy, to capabilities.file.fileMoveApprovedDirectories. An existing destination is ' +
    'replaced only with overwrite (files only); a symlink is not moved.',
  roles: ['loadscript'],
  timeoutMs: 600_000,
  request: s.moveRequest,
  result: s.moveResult,
  example: {
    request: { fromFile: '/data/in/sales.qvd', toFile: '/data/done/sales.qvd' },
    result: {
      fromFile: '/data/in/sales.qvd',
      toFile: '/data/done/sales.qvd',
      from: '/data/in/sales.qvd',
      to: '/data/done/sales.qvd',
      overwrite: false,
      dryRun: false,
      outcome: 'done',
      replaced: false,
      message: 'Moved /data/in/sales.qvd to /data/done/sales.qvd',
    },
  },
  routes: [
    {
      method: 'PUT',
      path: '/v4/filemove',
      butlerFlag: 'fileMove',
      summary: 'Move a file (Butler); "overwrite" as true or "true"',
      toRequest: ({ body }) => {
        const b = bodyObject(body)
        return present({ fromFile: b.fromFile, toFile: b.toFile, overwrite: butlerFlag(b.overwrite) }) as Static<
          typeof s.moveRequest
        >
      },
      status: 201,
      response: Type.Object({ fromFile: Type.String(), toFile: Type.String(), overwrite: Type.Boolean() }),
      toBody: (d) => ({ fromFile: butlerForm(d.fromFile), toFile: butlerForm(d.toFile), overwrite: d.overwrite }),
      errorStatus: BUTLER_FILE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    const overwrite = req.overwrite ?? false
    const dryRun = req.dryRun ?? false
    return audited(ctx, 'file/move', { fromFile: req.fromFile, toFile: req.toFile }, async (real) => {
      const cfg = ctx.state.config
      const ends = await confinePair(
        ctx,
        'file/move',
        'fileMoveApprovedDirectories',
        cfg.fileMoveApprovedDirectories,
        req.fromFile,
        req.toFile,
      )
      Object.assign(real, { from: ends.from, to: ends.to })
      const opts = { overwrite, dryRun, maxBytes: cfg.maxCopyBytes, signal: ctx.signal }
      const r = await withEnds(ctx, ends, dryRun, (src, dst) => moveSafely(src, dst, opts))
      const message =
        r.outcome === 'done'
          ? `Moved ${ends.from} to ${ends.to}${replacing(r.replaced)}`
          : `Would move ${ends.from} to ${ends.to}${replacing(r.replaced)}`
      return {
        fromFile: req.fromFile,
        toFile: req.toFile,
        from: ends.from,
        to: ends.to,
        overwrite,
        dryRun,
        ...r,
        message,
      }
    })
  },
})
