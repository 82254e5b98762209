import type { SimContext } from '../../context.js'
import type { SimTask } from '../../model/types.js'
import { appCondensed, appFull } from '../entities/app.js'
import { tagCondensed, userCondensed, streamCondensed, type Json } from '../entities/common.js'
import { executionResultCondensed, executionResultFull, executionSessionJson } from '../entities/execution.js'
import {
  customPropertyDefinitionCondensed,
  customPropertyDefinitionFull,
  nodeCondensed,
  nodeFull,
  streamFull,
  tagFull,
  userFull,
} from '../entities/misc.js'
import { taskCondensed, taskFull } from '../entities/task.js'
import { matchesFilter } from '../filter/evaluate.js'
import { FilterParseError, parseFilter } from '../filter/parse.js'
import { json, text, type QrsResponse } from '../http-util.js'
import { route, type QrsRequest, type QrsRoute } from '../router.js'

/**
 * One QRS entity type: how to list it and how to serialise it condensed and full (QLIK-PROTOCOLS §1.5:
 * `GET /<type>` condensed, `/<type>/full` full, `/<type>/{id}` one full entity, `/count` → `{value}`).
 */
interface Collection<T> {
  name: string
  list(ctx: SimContext): T[]
  /** Lookup for `/{id}`; defaults to the listed items. */
  byId?(ctx: SimContext, id: string): T | undefined
  condensed(ctx: SimContext, item: T): Json
  full(ctx: SimContext, item: T): Json
}

function taskCollection(name: string, types: number[], byIdTypes: (ctx: SimContext) => number[]): Collection<SimTask> {
  const ofTypes = (ctx: SimContext, wanted: number[]): SimTask[] =>
    ctx.model.tasks.values().filter((t) => wanted.includes(t.taskType))
  return {
    name,
    list: (ctx) => ofTypes(ctx, types),
    byId: (ctx, id) => {
      const task = ctx.model.tasks.get(id)
      return task && byIdTypes(ctx).includes(task.taskType) ? task : undefined
    },
    condensed: (_ctx, t) => taskCondensed(t),
    full: (ctx, t) => taskFull(ctx.model, t, ctx.texts.qrs),
  }
}

const COLLECTIONS: Array<Collection<never>> = [
  taskCollection('task', [0, 1, 2, 3, 4], () => [0, 1, 2, 3, 4]),
  // §4.2: Butler reads preload and distribute results through reloadtask/{id} (unconfirmed, tolerant).
  taskCollection('reloadtask', [0], (ctx) => (ctx.texts.qrs.reloadTaskResolvesPreloadAndDistribute ? [0, 3, 4] : [0])),
  taskCollection('externalprogramtask', [1], () => [1]),
  taskCollection('usersynctask', [2], () => [2]),
  {
    name: 'app',
    list: (ctx) => ctx.model.apps.values(),
    condensed: (ctx, a) => appCondensed(ctx.model, a),
    full: (ctx, a) => appFull(ctx.model, a),
  },
  {
    name: 'user',
    list: (ctx) => ctx.model.users.values(),
    condensed: (_ctx, u) => userCondensed(u),
    full: (ctx, u) => userFull(ctx.model, u),
  },
  {
    name: 'tag',
    list: (ctx) => ctx.model.tags.values(),
    condensed: (_ctx, t) => tagCondensed(t),
    full: (_ctx, t) => tagFull(t),
  },
  {
    name: 'custompropertydefinition',
    list: (ctx) => ctx.model.customPropertyDefinitions.values(),
    condensed: (_ctx, d) => customPropertyDefinitionCondensed(d),
    full: (_ctx, d) => customPropertyDefinitionFull(d),
  },
  {
    name: 'stream',
    list: (ctx) => ctx.model.streams.values(),
    condensed: (_ctx, s) => streamCondensed(s),
    full: (ctx, s) => streamFull(ctx.model, s),
  },
  {
    name: 'servernodeconfiguration',
    list: (ctx) => ctx.model.nodes.values(),
    condensed: (_ctx, n) => nodeCondensed(n),
    full: (_ctx, n) => nodeFull(n),
  },
  {
    name: 'executionresult',
    list: (ctx) => ctx.model.executionResults.values(),
    condensed: (ctx, r) => executionResultCondensed(r, ctx.texts.qrs),
    full: (ctx, r) => executionResultFull(r, ctx.texts.qrs),
  },
  {
    // §1.7: a session exists only while the task runs; 404 afterwards.
    name: 'executionsession',
    list: (ctx) => ctx.model.executionSessions.values(),
    condensed: (ctx, s) => executionSessionJson(ctx.model, s, ctx.texts.qrs),
    full: (ctx, s) => executionSessionJson(ctx.model, s, ctx.texts.qrs),
  },
] as Array<Collection<never>>

/** `orderby=name` or `orderby=name desc` on top-level members. */
function sortBy(items: Json[], orderBy: string | undefined): Json[] {
  if (!orderBy) return items
  const [field = '', direction = 'asc'] = orderBy.trim().split(/\s+/)
  const key = field.toLowerCase()
  const pick = (j: Json): string => {
    const k = Object.keys(j).find((name) => name.toLowerCase() === key)
    return k === undefined ? '' : String(j[k] ?? '')
  }
  const sign = direction.toLowerCase() === 'desc' ? -1 : 1
  return [...items].sort((a, b) => sign * pick(a).localeCompare(pick(b), 'en', { sensitivity: 'base', numeric: true }))
}

/** Applies `filter` against the FULL entity (condensed lists still filter on tags etc.), then projects. */
function select<T>(c: Collection<T>, ctx: SimContext, req: QrsRequest, full: boolean): QrsResponse | Json[] {
  const filterText = req.query.get('filter')
  let keep: (j: Json) => boolean = () => true
  if (filterText !== undefined && filterText.trim() !== '') {
    try {
      const tree = parseFilter(filterText)
      keep = (j) => matchesFilter(j, tree)
    } catch (err) {
      if (err instanceof FilterParseError) return text(`${ctx.texts.qrs.filterParseErrorPrefix}${filterText}`, 400)
      throw err
    }
  }
  const rows = c
    .list(ctx)
    .map((item) => ({ item, fullJson: c.full(ctx, item) }))
    .filter((r) => keep(r.fullJson))
  const projected = rows.map((r) => (full ? r.fullJson : c.condensed(ctx, r.item)))
  return sortBy(projected, req.query.get('orderby'))
}

function listHandler<T>(c: Collection<T>, full: boolean, count: boolean) {
  return (req: QrsRequest, ctx: SimContext): QrsResponse => {
    const selected = select(c, ctx, req, full)
    if (!Array.isArray(selected)) return selected
    return json(count ? { value: selected.length } : selected)
  }
}

function byIdHandler<T>(c: Collection<T>) {
  return (req: QrsRequest, ctx: SimContext): QrsResponse => {
    const id = req.params.id ?? ''
    const item = c.byId
      ? c.byId(ctx, id)
      : c.list(ctx).find((i) => (i as { id?: string }).id?.toLowerCase() === id.toLowerCase())
    if (!item) return text(ctx.texts.qrs.notFoundBody, 404)
    return json(c.full(ctx, item))
  }
}

/** Literal routes first so `task/full` never reads as `task/{id}`. */
export function collectionRoutes(): QrsRoute[] {
  const literal: QrsRoute[] = []
  const byId: QrsRoute[] = []
  for (const c of COLLECTIONS) {
    literal.push(
      route('GET', c.name, listHandler(c, false, false)),
      route('GET', `${c.name}/count`, listHandler(c, false, true)),
      route('GET', `${c.name}/full`, listHandler(c, true, false)),
      route('GET', `${c.name}/full/count`, listHandler(c, true, true)),
    )
    byId.push(route('GET', `${c.name}/:id`, byIdHandler(c)))
  }
  return [...literal, ...byId]
}
