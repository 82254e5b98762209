import { type Static, Type } from '@sinclair/typebox'
import { limit, section } from '../../core/schema.js'

export const appConfigSchema = section({
  reloadTimeoutMs: limit(3_600_000, 'How long an app/reload may run before sensebus cancels it (CancelReload)'),
  progressPollMs: limit(1_000, 'How often a running reload is asked for its progress (GetProgress)', 50),
  logTailLines: limit(30, 'Progress lines kept as the log tail of a failed reload'),
  dumpDir: Type.String({
    default: 'app-dumps',
    description: 'Where app/dump-all writes its dated snapshot folders; relative paths resolve against dataDir',
  }),
  dumpKeep: limit(7, 'Snapshots app/dump-all keeps; older ones are deleted after each run'),
  dumpConcurrency: limit(2, 'Apps app/dump-all dumps at once'),
})

export type AppConfig = Static<typeof appConfigSchema>
