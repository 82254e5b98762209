import { capabilityWith, type HandlerContext } from '../../core/capability.js'
import { toCapabilityError } from '../../core/errors.js'
import type { FileSandbox } from '../../services/files/index.js'
import type { FileAudit } from './audit.js'
import type { FileConfig } from './schema.js'

export interface FileState {
  config: FileConfig
  files: FileSandbox
  audit: FileAudit
  stopAudit: () => void
}

export const fileCapability = capabilityWith<FileState, FileConfig>()
export type FileContext = HandlerContext<FileState, FileConfig>

type Outcome = 'done' | 'skipped' | 'dry-run'

// What the caller asked for that sensebus will not do; anything else that stops an operation is a failure.
const REFUSALS = new Set(['FORBIDDEN', 'VALIDATION_FAILED', 'NOT_CONFIGURED'])

/**
 * Runs one file operation and audits it whatever happens. `work` fills `real` with the confined real
 * paths as it learns them, so a refusal halfway still records how far the request got.
 */
export async function audited<R extends { outcome: Outcome; message: string }>(
  ctx: FileContext,
  operation: string,
  paths: Record<string, string>,
  work: (real: Record<string, string>) => Promise<R>,
): Promise<R> {
  const real: Record<string, string> = {}
  const base = {
    operation,
    paths,
    real,
    user: ctx.identity.user ?? null,
    via: ctx.identity.via,
    transaction: ctx.transaction ?? null,
  }
  let result: R
  try {
    result = await work(real)
  } catch (err) {
    const e = toCapabilityError(err)
    const refused = REFUSALS.has(e.code)
    await ctx.state.audit.write({ ...base, result: refused ? 'refused' : 'failed', code: e.code, message: e.message })
    throw err
  }
  await ctx.state.audit.write({ ...base, result: result.outcome, message: result.message })
  return result
}
