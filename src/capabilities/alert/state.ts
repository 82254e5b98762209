import type { Outbox } from '../../services/outbox/index.js'
import type { AlertHistory } from './history.js'
import type { Intake } from './intake.js'
import type { AlertPipeline } from './pipeline.js'
import type { TaskEventReceiver } from './receiver.js'

export interface AlertState {
  pipeline: AlertPipeline
  history: AlertHistory
  intake: Intake
  receiver?: TaskEventReceiver
  outbox: Outbox
  /** Where the UDP receiver listens (port 0 in tests picks one). */
  udp?: { host: string; port: number }
  stop(): Promise<void>
}
