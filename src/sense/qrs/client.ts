import type { Logger } from '../../log.js'
import type { SenseConfig } from '../config.js'
import { qrsEndpoint } from './endpoint.js'
import { entityOperations, type QrsEntityOperations } from './entities.js'
import { getEntity, getList } from './read.js'
import { SCRIPT_LOG_DEFAULTS, scriptLogReader, type ScriptLogOptions, type ScriptLogRef } from './script-log.js'
import { taskOperations, type QrsTaskOperations } from './tasks.js'
import { createQrsTransport, type Query } from './transport.js'

/** The Repository API as sensebus uses it. Every method throws CapabilityError (see ../errors.ts). */
export interface QrsClient extends QrsTaskOperations, QrsEntityOperations {
  /** The reload script log of one run, CRLF text; see script-log.ts for the routes and retries. */
  getScriptLog(taskId: string, lastExecutionResult?: ScriptLogRef): Promise<string>
  /** Escape hatch: `GET /qrs/<path>` answering one JSON object (path relative to /qrs/, already encoded). */
  get<T>(path: string, query?: Query): Promise<T>
  /** Escape hatch: `GET /qrs/<path>?filter=…` answering a JSON array. */
  getList<T>(path: string, filter?: string): Promise<T[]>
  /** Closes the pooled keep-alive sockets. */
  close(): void
}

export interface QrsClientDeps {
  log: Logger
  /** Folder relative certificate paths resolve against (the config file's); defaults to the cwd. */
  baseDir?: string
  /** Script log retries; Butler's values by default. */
  scriptLog?: Partial<ScriptLogOptions>
  /** Upper bound of the pause between GET retries; got's backoff is 1 s, 2 s, 4 s… Default 4 s. */
  maxRetryDelayMs?: number
}

/**
 * @example
 * const qrs = createQrsClient(config.sense, { log })
 * const task = await qrs.getReloadTask(taskId)
 * qrs.close()
 */
export function createQrsClient(config: SenseConfig, deps: QrsClientDeps): QrsClient {
  const log = deps.log.child({ area: 'qrs' })
  const endpoint = qrsEndpoint(config, { baseDir: deps.baseDir, maxRetryDelayMs: deps.maxRetryDelayMs ?? 4_000 })
  const transport = createQrsTransport(endpoint, log)
  const tasks = taskOperations(transport)
  const scriptLog = { ...SCRIPT_LOG_DEFAULTS, ...deps.scriptLog }
  return {
    ...tasks,
    ...entityOperations(transport),
    getScriptLog: scriptLogReader(transport, tasks.getReloadTask, scriptLog, log),
    get: (path, query) => getEntity(transport, path, query),
    getList: (path, filter) => getList(transport, path, filter),
    close: () => transport.close(),
  }
}
