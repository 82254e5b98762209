import { type Static, Type } from '@sinclair/typebox'
import { closed, isoDateTime, limit, section } from '../../core/schema.js'

const dir = Type.String({ minLength: 1 })
const pairs = (what: string) =>
  Type.Array(closed({ fromDirectory: dir, toDirectory: dir }), {
    default: [],
    description: `Approved from → to directory pairs for ${what} (subdirectories included); none = ${what} is off`,
  })
const dirs = (what: string) =>
  Type.Array(dir, {
    default: [],
    description: `Approved directories for ${what} (subdirectories included); none = off`,
  })

export const configSchema = section({
  fileCopyApprovedDirectories: pairs('file/copy'),
  fileMoveApprovedDirectories: pairs('file/move'),
  fileDeleteApprovedDirectories: dirs('file/delete'),
  dirCreateApprovedDirectories: dirs('dir/create'),
  fileListApprovedDirectories: dirs('file/list'),
  qvdPath: Type.String({ default: '', description: 'Root of dir/create-qvd; empty = dir/create-qvd is off' }),
  maxListEntries: limit(1000, 'Entries file/list answers with at most'),
  maxDeleteEntries: limit(10_000, 'Files and directories one recursive file/delete may remove'),
  maxCopyBytes: limit(16 * 1024 ** 3, 'Largest file file/copy (and file/move across file systems) copies'),
  auditMaxRecords: limit(10_000, 'File-operation audit records kept (oldest go first)'),
  auditRetentionDays: limit(90, 'Days a file-operation audit record is kept'),
})
export type FileConfig = Static<typeof configSchema>

const path = (description: string) => Type.String({ minLength: 1, maxLength: 4096, description })
const dryRun = Type.Optional(
  Type.Boolean({ default: false, description: 'Check everything and say what would happen, change nothing' }),
)
const overwrite = Type.Optional(Type.Boolean({ default: false, description: 'Replace an existing destination file' }))
export const outcome = Type.Union([Type.Literal('done'), Type.Literal('skipped'), Type.Literal('dry-run')], {
  description: 'done; skipped (nothing to do, e.g. the destination exists and overwrite is off); dry-run',
})
const message = Type.String({ description: 'What happened, or with dryRun what would happen' })

export const copyRequest = closed({
  fromFile: path('The file to copy (absolute; C:\\… and \\\\server\\share\\… when mapped)'),
  toFile: path('Where the copy goes; missing directories are created'),
  overwrite,
  preserveTimestamp: Type.Optional(Type.Boolean({ default: false, description: "Keep the source's modified time" })),
  dryRun,
})
export const copyResult = closed({
  fromFile: Type.String(),
  toFile: Type.String(),
  from: Type.String({ description: 'The real source path' }),
  to: Type.String({ description: 'The real destination path' }),
  overwrite: Type.Boolean(),
  preserveTimestamp: Type.Boolean(),
  dryRun: Type.Boolean(),
  outcome,
  replaced: Type.Boolean({ description: 'An existing destination file was (or would be) replaced' }),
  bytes: Type.Integer({ minimum: 0 }),
  message,
})

export const moveRequest = closed({
  fromFile: path('The file or directory to move'),
  toFile: path('Its new path; missing directories are created'),
  overwrite,
  dryRun,
})
export const moveResult = closed({
  fromFile: Type.String(),
  toFile: Type.String(),
  from: Type.String(),
  to: Type.String(),
  overwrite: Type.Boolean(),
  dryRun: Type.Boolean(),
  outcome,
  replaced: Type.Boolean(),
  message,
})

export const deleteRequest = closed({
  file: path('The file (or, with recursive, directory) to delete'),
  recursive: Type.Optional(
    Type.Boolean({ default: false, description: 'Also delete a directory and everything in it (never through links)' }),
  ),
  dryRun,
})
export const deleteResult = closed({
  file: Type.String(),
  path: Type.String(),
  dryRun: Type.Boolean(),
  outcome,
  entries: Type.Integer({ minimum: 0, description: 'Files, links and directories removed (or to remove)' }),
  message,
})

export const createDirRequest = closed({
  directory: path('The directory to create, with any missing parents'),
  dryRun,
})
export const createQvdDirRequest = closed({
  directory: path('A directory relative to the QVD root (capabilities.file.qvdPath)'),
  dryRun,
})
export const createDirResult = closed({
  directory: Type.String(),
  path: Type.String({ description: 'The real path' }),
  dryRun: Type.Boolean(),
  outcome,
  created: Type.Array(Type.String(), { description: 'Directories created (or to create), outermost first' }),
  message,
})

export const listRequest = closed({
  directory: path('The directory to list'),
  pattern: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'Names matching this (* and ?; case-insensitive)' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'At most this many entries (and maxListEntries)' })),
})
const entryType = Type.Union(['file', 'directory', 'symlink', 'other'].map((t) => Type.Literal(t)))
export const listResult = closed({
  directory: Type.String(),
  path: Type.String(),
  entries: Type.Array(
    closed({
      name: Type.String(),
      type: entryType,
      size: Type.Integer({ minimum: 0 }),
      modifiedAt: isoDateTime(),
    }),
  ),
  truncated: Type.Boolean({ description: 'More entries matched than the limit' }),
})

export const auditRequest = closed({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
})

export const auditRecord = closed({
  id: Type.String(),
  time: isoDateTime(),
  operation: Type.String({ description: 'The capability: file/copy, dir/create, …' }),
  result: Type.Union(['done', 'skipped', 'dry-run', 'refused', 'failed'].map((r) => Type.Literal(r))),
  paths: Type.Record(Type.String(), Type.String(), { description: 'The paths as requested' }),
  real: Type.Record(Type.String(), Type.String(), { description: 'The real paths acted on, once confined' }),
  user: Type.Union([Type.String(), Type.Null()]),
  via: Type.String(),
  transaction: Type.Union([Type.String(), Type.Number(), Type.Null()]),
  code: Type.Optional(Type.String({ description: 'The error code, when refused or failed' })),
  message: Type.String(),
})
export type AuditRecord = Static<typeof auditRecord>
export const auditResult = closed({ records: Type.Array(auditRecord) })
