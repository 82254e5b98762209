import { entityNotFound, unexpectedResponse, type SenseCallContext } from '../errors.js'
import type { Query, QrsTransport } from './transport.js'

/**
 * Typed reads on top of the transport. The checks are structural only (an object where one entity is
 * expected, an array for a list, a string `value`): enough to turn a proxy's HTML page or a changed API
 * into SENSE_ERROR instead of a TypeError three calls later.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `GET /qrs/<path>` answering one entity; 404 → NOT_FOUND (QLIK-PROTOCOLS §1.5.2). */
export async function getEntity<T>(qrs: QrsTransport, path: string, query?: Query): Promise<T> {
  const { data, ctx, status } = await qrs.sendJson({ method: 'GET', path, query, expect: 'read' })
  if (!isRecord(data)) throw unexpectedResponse(ctx, status, 'expected a JSON object')
  return data as T
}

/** `GET /qrs/<type>[/full]?filter=…` answering an array; no match is `[]` (QLIK-PROTOCOLS §1.5.2). */
export async function getList<T>(qrs: QrsTransport, path: string, filter?: string): Promise<T[]> {
  return (await listWithContext<T>(qrs, path, filter)).items
}

/** A filter meant to match one entity: `[]` becomes NOT_FOUND, as a 404 would. */
export async function getOneByFilter<T>(qrs: QrsTransport, path: string, filter: string, what: string): Promise<T> {
  const { items, ctx } = await listWithContext<T>(qrs, path, filter)
  const first = items[0]
  if (first === undefined) throw entityNotFound(ctx, what)
  return first
}

async function listWithContext<T>(
  qrs: QrsTransport,
  path: string,
  filter?: string,
): Promise<{ items: T[]; ctx: SenseCallContext }> {
  const { data, ctx, status } = await qrs.sendJson({ method: 'GET', path, query: { filter }, expect: 'read' })
  if (!Array.isArray(data) || !data.every(isRecord))
    throw unexpectedResponse(ctx, status, 'expected a JSON array of objects')
  return { items: data as T[], ctx }
}

/** Pulls the string out of QRS's `{"value": "…"}` wrapper (QLIK-PROTOCOLS §1.7, §1.8). */
export function valueOf(data: unknown, onBad: () => Error): string {
  if (isRecord(data) && typeof data.value === 'string') return data.value
  throw onBad()
}
