import type { Static } from '@sinclair/typebox'
import { limit, section } from '../../core/schema.js'

export const appConfigSchema = section({
  reloadTimeoutMs: limit(3_600_000, 'How long an app/reload may run before sensebus cancels it (CancelReload)'),
  progressPollMs: limit(1_000, 'How often a running reload is asked for its progress (GetProgress)', 50),
  logTailLines: limit(30, 'Progress lines kept as the log tail of a failed reload'),
})

export type AppConfig = Static<typeof appConfigSchema>
