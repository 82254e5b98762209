import type { CapabilityModule } from '../core/capability.js'
import alert from './alert/index.js'
import app from './app/index.js'
import file from './file/index.js'
import job from './job/index.js'
import kv from './kv/index.js'
import mqtt from './mqtt/index.js'
import schedule from './schedule/index.js'
import slack from './slack/index.js'
import task from './task/index.js'
import teams from './teams/index.js'
import util from './util/index.js'

/** The registry: one line per capability folder. Order is the order of the topic catalogue. */
export const modules: CapabilityModule[] = [kv, job, util, task, app, schedule, alert, file, slack, teams, mqtt]
