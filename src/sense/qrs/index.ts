/** Public surface of the QRS client. */
export { createQrsClient, type QrsClient, type QrsClientDeps } from './client.js'
export { SCRIPT_LOG_DEFAULTS, type ScriptLogOptions, type ScriptLogRef } from './script-log.js'
export { EXPECTED_STATUS } from './expected-status.js'
export { qlikUserHeader } from './endpoint.js'
export {
  isGuid,
  quoteString,
  taskFilter,
  appFilter,
  type TaskQuery,
  type AppQuery,
  type ExecutionResultQuery,
} from './filter.js'
export { newXrfkey, XRFKEY_PATTERN } from './xrfkey.js'
export * from './types.js'
