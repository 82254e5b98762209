import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

/** A simulator, a sensebus pointed at it (fast polling) and an MQTT client: one per spec file. */
export interface TaskRig {
  sim: RunningSimulator
  sb: TestApp
  client: TestClient
  certDir: string
  stop(): Promise<void>
}

export async function startTaskRig(
  name: string,
  opts: { overrides?: Record<string, unknown>; durationMs?: number } = {},
): Promise<TaskRig> {
  const certDir = tempCertDir(name)
  const sim = await startTestSim(certDir, 9, {
    behaviours: { '*': { durationMs: opts.durationMs ?? 60, distributionQueueMs: 0 } },
  })
  const sb = await startTestApp({
    overrides: {
      ...senseOverrides(sim, certDir),
      'sense.qrs.retries': 0,
      'capabilities.task.pollIntervalMs': 25,
      ...opts.overrides,
    },
  })
  const client = await connect(sb.mqttUrl)
  return {
    sim,
    sb,
    client,
    certDir,
    async stop() {
      await client?.end()
      await sb?.stop({ clean: true })
      await sim?.close()
    },
  }
}

/** Task GUIDs and names of the bundled demo site (src/sim/fixtures/demo.yaml). */
export const TASKS = {
  salesEtl: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  salesDashboard: '5b6a3c2e-0d1f-4e8a-9b7c-6d5e4f3a2b1c',
  failing: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
  finance: '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7',
  retry: '4f5a6b7c-8d9e-4f0a-b1c2-d3e4f5a6b7c8',
  archive: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  disabled: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
  missing: '00000000-1111-4222-8333-444444444444',
} as const

export type Json = Record<string, any>
