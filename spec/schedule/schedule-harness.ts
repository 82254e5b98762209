import { Type } from '@sinclair/typebox'
import { modules as registry } from '../../src/capabilities/index.js'
import { createScheduleModule } from '../../src/capabilities/schedule/index.js'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { closed, section } from '../../src/core/schema.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { testModule } from '../helpers/slow-module.js'
import { ManualClock } from './manual-clock.js'

/** Stands in for the real task/start (built elsewhere): records what it was asked. */
export function fakeTaskModule(calls: unknown[]) {
  return defineModule({
    area: 'task',
    summary: 'fake task/start',
    configSchema: section({}),
    capabilities: [
      defineCapability({
        name: 'task/start',
        summary: 'fake',
        request: Type.Object({ taskIds: Type.Optional(Type.Array(Type.String())) }),
        result: closed({ started: Type.Integer() }),
        async handle(req) {
          calls.push(req)
          return { started: req.taskIds?.length ?? 0 }
        },
      }),
    ],
  })
}

export async function startScheduleApp(
  clock: ManualClock,
  opts: { dataDir?: string; overrides?: Record<string, unknown>; taskCalls?: unknown[] } = {},
): Promise<TestApp> {
  const modules = [
    ...registry.filter((m) => m.area !== 'schedule' && m.area !== 'task'),
    createScheduleModule({ clock }),
    testModule,
    fakeTaskModule(opts.taskCalls ?? []),
  ]
  return startTestApp({
    modules,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    overrides: { 'capabilities.schedule.defaultTimezone': 'Europe/Stockholm', ...opts.overrides },
  })
}

export { ManualClock }
