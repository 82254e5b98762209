import type { CapabilityModule } from '../core/capability.js'
import job from './job/index.js'
import kv from './kv/index.js'
import util from './util/index.js'
import alert from './alert/index.js'

/** The registry: one line per capability folder. Order is the order of the topic catalogue. */
export const modules: CapabilityModule[] = [kv, job, util, alert]
