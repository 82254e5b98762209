import { parse, stringify } from 'yaml'
import { CapabilityError } from '../../core/errors.js'
import { assertValid, createAjv } from '../../core/validate.js'
import { DEFAULT_CAPABILITY, type Definition } from './define.js'
import type { ButlerEntry, ScheduleView } from './schema.js'
import { butlerEntry } from './schema.js'
import { Type } from '@sinclair/typebox'

/**
 * Butler's schedule file and REST bodies (`butlerSchedule:` entries). Butler could only start one
 * Sense task per schedule; such schedules map both ways, others have no Butler form.
 */

/** The one task id of a schedule Butler can express, or undefined. */
export function butlerTaskId(view: Pick<ScheduleView, 'target'>): string | undefined {
  const { capability, request } = view.target
  const keys = Object.keys(request)
  const ids = request.taskIds
  if (capability !== DEFAULT_CAPABILITY || keys.length !== 1 || !Array.isArray(ids) || ids.length !== 1)
    return undefined
  return typeof ids[0] === 'string' ? ids[0] : undefined
}

/** What `toButler` returns, for the OpenAPI document. */
export const butlerScheduleSchema = Type.Object({
  name: Type.String(),
  cronSchedule: Type.String(),
  timezone: Type.String(),
  qlikSenseTaskId: Type.Optional(Type.String()),
  target: Type.Optional(Type.Object({}, { additionalProperties: true })),
  startupState: Type.String(),
  tags: Type.Array(Type.String()),
  id: Type.String(),
  created: Type.String(),
  lastKnownState: Type.Union([Type.Literal('started'), Type.Literal('stopped')]),
})

/** A schedule as Butler's API and file show it; other targets are added as `target`. */
export function toButler(view: ScheduleView): Record<string, unknown> {
  const taskId = butlerTaskId(view)
  return {
    name: view.name,
    cronSchedule: view.cron,
    timezone: view.timezone,
    ...(taskId !== undefined ? { qlikSenseTaskId: taskId } : { target: view.target }),
    startupState: view.startupState,
    tags: view.tags,
    id: view.id,
    created: view.created,
    lastKnownState: view.enabled ? 'started' : 'stopped',
  }
}

/** Butler's body fields (POST and the update route) as a definition. */
export function fromButlerBody(body: Record<string, unknown>): Definition {
  const def: Record<string, unknown> = {}
  const copy = (from: string, to: string) => {
    if (body[from] !== undefined) def[to] = body[from]
  }
  copy('name', 'name')
  copy('cronSchedule', 'cron')
  copy('timezone', 'timezone')
  copy('qlikSenseTaskId', 'qlikSenseTaskId')
  copy('startupState', 'startupState')
  copy('tags', 'tags')
  copy('target', 'target')
  return def as Definition
}

/** What POST /v4/schedules requires, as Butler checked it. */
export const BUTLER_REQUIRED = ['name', 'cronSchedule', 'timezone', 'qlikSenseTaskId', 'startupState'] as const

export function requireButlerFields(body: unknown): Record<string, unknown> {
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  const missing = BUTLER_REQUIRED.filter((f) => fields[f] === undefined || fields[f] === '')
  if (missing.length > 0)
    throw new CapabilityError('VALIDATION_FAILED', `Required properties missing: ${missing.join(', ')}`, {
      details: missing.map((f) => ({ path: `/${f}`, message: 'is required' })),
    })
  return fields
}

/** One imported entry: the id Butler gave it, its creation time, and the state it was last in. */
export function fromButlerEntry(entry: ButlerEntry): { id?: string; created?: string; definition: Definition } {
  const definition: Definition = {
    name: entry.name,
    cron: entry.cronSchedule,
    qlikSenseTaskId: entry.qlikSenseTaskId,
    ...(entry.timezone !== undefined ? { timezone: entry.timezone } : {}),
    ...(entry.tags !== undefined ? { tags: entry.tags } : {}),
    ...(entry.startupState !== undefined ? { startupState: entry.startupState } : {}),
  }
  // The last known state wins over startupState: a restart resumes a schedule as it was.
  if (entry.lastKnownState !== undefined) definition.enabled = entry.lastKnownState === 'started'
  return {
    ...(entry.id !== undefined ? { id: entry.id } : {}),
    ...(entry.created !== undefined ? { created: entry.created } : {}),
    definition,
  }
}

const fileSchema = Type.Object({ butlerSchedule: Type.Array(butlerEntry) })
const validateFile = createAjv({ useDefaults: false }).compile(fileSchema)

/** Butler's schedule file (YAML, so JSON too) to its entries; VALIDATION_FAILED names what is wrong. */
export function parseButlerFile(text: string): ButlerEntry[] {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (err) {
    throw new CapabilityError('VALIDATION_FAILED', `The schedule file is not YAML: ${(err as Error).message}`, {
      details: [{ path: '/yaml', message: 'is not YAML' }],
    })
  }
  return assertValid<{ butlerSchedule: ButlerEntry[] }>(validateFile, doc, 'The schedule file').butlerSchedule
}

export function butlerFile(entries: ButlerEntry[]): string {
  return stringify({ butlerSchedule: entries })
}
