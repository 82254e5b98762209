import { defineModule } from '../../core/capability.js'
import { appConfigSchema, type AppConfig } from './config.js'
import { appDump } from './dump.js'
import { appDumpAll, type AppState, type DumpMark } from './dump-all.js'
import { appList } from './list.js'
import { appReload } from './reload.js'

export default defineModule<AppState, AppConfig>({
  area: 'app',
  summary: 'Sense apps: list, reload (full or partial, with follow-up tasks) and dump their metadata',
  configSchema: appConfigSchema,
  needs: ['sense', 'store'],
  async setup({ dataDir, services }) {
    return { dataDir, marks: services.store.collection<DumpMark>('app-dumps') }
  },
  capabilities: [appList, appReload, appDump, appDumpAll],
})
