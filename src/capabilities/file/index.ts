import { defineModule } from '../../core/capability.js'
import { FileAudit } from './audit.js'
import { fileCapability, type FileState } from './context.js'
import { fileCopy, fileMove } from './copy-move.js'
import { fileDelete } from './delete.js'
import { dirCreate, dirCreateQvd } from './dir.js'
import { fileList } from './list.js'
import { type AuditRecord, auditRecord, auditRequest, auditResult, type FileConfig, configSchema } from './schema.js'

const fileAudit = fileCapability({
  name: 'file/audit',
  summary: 'The latest file-operation audit records, newest first (allowed, refused and failed alike)',
  roles: ['observer'],
  request: auditRequest,
  result: auditResult,
  async handle(req, { state }) {
    return { records: await state.audit.recent(req.limit ?? 100) }
  },
})

const event = (what: string, summary: string) => ({
  topic: `event/file/${what}`,
  kind: 'event' as const,
  summary,
  schema: auditRecord,
})

/**
 * Files and directories in approved places, for load scripts (Butler's file endpoints): one module
 * for the `file/` and `dir/` topics, since they share the sandbox, the approvals and the audit.
 */
export default defineModule<FileState, FileConfig>({
  area: 'file',
  summary: 'Copy, move, delete and list files and create directories, only inside approved directories',
  configSchema,
  needs: ['files', 'store'],
  async setup({ config, services, bus, topics, log }) {
    const records = services.store.collection<AuditRecord>('file-audit')
    const audit = new FileAudit(records, bus, topics, log, {
      maxRecords: config.auditMaxRecords,
      retentionDays: config.auditRetentionDays,
    })
    const stopAudit = await audit.open()
    return { config, files: services.files, audit, stopAudit }
  },
  async teardown(state) {
    state.stopAudit()
  },
  capabilities: [fileCopy, fileMove, fileDelete, fileList, dirCreate, dirCreateQvd, fileAudit],
  publishes: [
    event('copied', 'A file was copied (also dry runs and skips: see result)'),
    event('moved', 'A file or directory was moved (also dry runs)'),
    event('deleted', 'A file or directory tree was deleted (also dry runs)'),
    event('dir-created', 'dir/create or dir/create-qvd ran (result skipped when it existed)'),
    event('listed', 'A directory was listed'),
    event('refused', 'A file operation was refused: outside the approved directories, invalid path, not configured'),
    event('failed', 'A file operation failed (missing source, conflict, file system error)'),
  ],
})
