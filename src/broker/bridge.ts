import type { Capability } from '../core/capability.js'
import type { Topics } from '../core/topics.js'
import type { Bus } from '../core/bus.js'

export type BridgeState = 'online' | 'offline' | 'degraded'

export const bridgeStatePayload = (state: BridgeState) => JSON.stringify({ state })

export interface BridgeInfo {
  version: string
  instance: string
  baseTopic: string
  capabilities: string[]
  topics: { request: string; response: string; events: string; state: string }
  startedAt: string
}

export function bridgeInfo(
  bus: Bus,
  topics: Topics,
  version: string,
  capabilities: Capability[],
  startedAt: Date,
): BridgeInfo {
  return {
    version,
    instance: bus.id,
    baseTopic: topics.base,
    capabilities: capabilities.map((c) => c.name),
    topics: {
      request: topics.request('<capability>'),
      response: topics.response('<capability>'),
      events: topics.area('event', '#'),
      state: topics.area('state', '#'),
    },
    startedAt: startedAt.toISOString(),
  }
}

/**
 * Retained service availability and description, so late subscribers see them at once. With
 * `shared` (several instances on one broker) each instance's own state goes to
 * `bridge/instance/<id>` (its last will too), and the site's state only ever says what a live
 * instance reports: one instance stopping does not mark the whole site offline.
 */
export async function publishBridge(
  bus: Bus,
  topics: Topics,
  state: BridgeState,
  info?: BridgeInfo,
  shared = false,
): Promise<void> {
  if (shared) await bus.publish(topics.bridgeInstance(bus.id), bridgeStatePayload(state), { qos: 1, retain: true })
  if (!shared || state !== 'offline')
    await bus.publish(topics.bridgeState, bridgeStatePayload(state), { qos: 1, retain: true })
  if (info) await bus.publish(topics.bridgeInfo, info, { qos: 1, retain: true })
}
