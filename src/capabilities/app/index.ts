import { defineModule } from '../../core/capability.js'
import { appConfigSchema, type AppConfig } from './config.js'
import { appDump } from './dump.js'
import { appList } from './list.js'
import { appReload } from './reload.js'

export default defineModule<unknown, AppConfig>({
  area: 'app',
  summary: 'Sense apps: list, reload (full or partial, with follow-up tasks) and dump their metadata',
  configSchema: appConfigSchema,
  needs: ['sense'],
  capabilities: [appList, appReload, appDump],
})
