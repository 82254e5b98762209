import type { Logger } from '../log.js'
import type { SimFaults } from './faults.js'
import type { SimModel } from './model/store.js'
import type { CallRecorder } from './recorder.js'
import type { TaskExecutor } from './tasks/executor.js'
import type { DatagramSender } from './udp/sender.js'
import type { UnconfirmedDetails } from './unconfirmed.js'

/** Everything the faces share (QLIK-PROTOCOLS §4.1: one model, three faces). */
export interface SimContext {
  model: SimModel
  texts: UnconfirmedDetails
  faults: SimFaults
  executor: TaskExecutor
  recorder: CallRecorder
  sender: DatagramSender
  log: Logger
}
