import type { HandlerContext } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { butlerFile, butlerTaskId, fromButlerEntry, parseButlerFile, toButler } from './butler.js'
import { createSchedule, defineContextOf, type ScheduleState, scheduleCapability, updateSchedule } from './context.js'
import { defineSchedule } from './define.js'
import type { ButlerEntry, ScheduleConfig } from './schema.js'
import * as s from './schema.js'

const entry: ButlerEntry = {
  name: 'Reload sales',
  cronSchedule: '0 */2 * * *',
  timezone: 'Europe/Stockholm',
  qlikSenseTaskId: 'e3b27f50-b1c0-4c52-a6ea-6e1e5a4b1c2d',
  startupState: 'started',
  tags: ['sales'],
  id: '3702f4b6-b0f0-4c49-b3a6-0a9d1b9c2f11',
  created: '2026-11-28T10:00:00.000Z',
  lastKnownState: 'started',
}

type Ctx = HandlerContext<ScheduleState, ScheduleConfig>

const importSchedules = scheduleCapability({
  name: 'schedule/import',
  summary: "Import Butler's schedule file: entries with a known id are updated, the others created",
  description:
    'qlikSenseTaskId becomes a task/start target {taskIds: [id]}; lastKnownState (else startupState) decides ' +
    'whether the schedule starts. Every entry is checked before any is stored.',
  request: s.importRequest,
  result: s.importResult,
  example: { request: { butlerSchedule: [entry] }, result: { created: [entry.id as string], updated: [] } },
  async handle(req, ctx) {
    if ((req.yaml === undefined) === (req.butlerSchedule === undefined))
      throw new CapabilityError('VALIDATION_FAILED', 'Give yaml or butlerSchedule (one of them)', {
        details: [{ path: '/yaml', message: 'give yaml or butlerSchedule' }],
      })
    const entries = req.butlerSchedule ?? parseButlerFile(req.yaml as string)
    const fresh = entries.filter((e) => e.id === undefined || !ctx.state.scheduler.has(e.id)).length
    if (ctx.state.scheduler.size + fresh > ctx.state.config.maxSchedules)
      throw new CapabilityError('LIMIT_EXCEEDED', `At most ${ctx.state.config.maxSchedules} schedules`)
    return importEntries(ctx, entries)
  },
})

async function importEntries(ctx: Ctx, entries: ButlerEntry[]) {
  const items = entries.map(fromButlerEntry)
  const { scheduler } = ctx.state
  // Every entry is checked before any is stored, and a failure names the entry.
  for (const [index, { id, definition }] of items.entries()) {
    try {
      const base = id !== undefined && scheduler.has(id) ? scheduler.record(id) : undefined
      defineSchedule(id ?? `butlerSchedule[${index}]`, definition, defineContextOf(ctx), base)
    } catch (err) {
      if (!(err instanceof CapabilityError) || !Array.isArray(err.details)) throw err
      const details = (err.details as Array<{ path: string; message: string }>).map((d) => ({
        ...d,
        path: `/butlerSchedule/${index}${d.path}`,
      }))
      throw new CapabilityError(err.code, `butlerSchedule[${index}]: ${err.message}`, { details })
    }
  }
  const created: string[] = []
  const updated: string[] = []
  for (const { id, created: at, definition } of items) {
    if (id !== undefined && scheduler.has(id)) {
      await updateSchedule(ctx, id, definition)
      updated.push(id)
    } else {
      const options = { ...(id !== undefined ? { id } : {}), ...(at !== undefined ? { created: at } : {}) }
      created.push((await createSchedule(ctx, definition, options)).id)
    }
  }
  return { created, updated }
}

const exportSchedules = scheduleCapability({
  name: 'schedule/export',
  summary: "Every schedule as Butler's schedule file (those Butler can express: one task/start task id)",
  request: s.emptyRequest,
  result: s.exportResult,
  roles: ['observer'],
  example: {
    request: {},
    result: { butlerSchedule: [entry], yaml: butlerFile([entry]), skipped: [] },
  },
  async handle(_req, { state }) {
    const butlerSchedule: ButlerEntry[] = []
    const skipped: Array<{ id: string; reason: string }> = []
    for (const view of state.scheduler.views()) {
      if (butlerTaskId(view) === undefined)
        skipped.push({ id: view.id, reason: `target ${view.target.capability} has no Butler form` })
      else butlerSchedule.push(toButler(view) as ButlerEntry)
    }
    return { butlerSchedule, yaml: butlerFile(butlerSchedule), skipped }
  },
})

export const transferCapabilities = [importSchedules, exportSchedules]
