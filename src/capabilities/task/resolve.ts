import { isGuid, quoteString, type QrsClient, type Task } from '../../sense/qrs/index.js'
import type { AllowList } from './allow-list.js'
import type { SelectorKind, StartItem, StartRequest } from './schema.js'

/** A selector value and what it resolved to: one task to start, or an outcome already decided. */
export interface Candidate {
  item: StartItem
  task?: Task
}

const IDS_PER_QUERY = 25

/**
 * Turns the request's selectors into per-item candidates (QLIK-PROTOCOLS §1.6 Q2-Q4 filters), with the
 * allow-list and allTaskIdsMustExist already applied. Reads only; nothing starts here.
 */
export async function resolveCandidates(req: StartRequest, qrs: QrsClient, allow: AllowList): Promise<Candidate[]> {
  const [byId, byName, byTag, byCp] = await Promise.all([
    resolveIds(req.taskIds ?? [], qrs),
    Promise.all((req.taskNames ?? []).map((name) => resolveOne('taskName', { taskName: name }, qrs))),
    Promise.all(
      (req.tags ?? []).map((tag) =>
        allow.tagSelector(tag)
          ? resolveOne('tag', { tag }, qrs)
          : [deny({ status: 'denied', by: 'tag', tag, reason: 'tag is not in the allow-list' })],
      ),
    ),
    Promise.all(
      (req.customProperties ?? []).map((cp) =>
        allow.customPropertySelector(cp.name, cp.value)
          ? resolveOne('customProperty', { customProperty: cp }, qrs)
          : [
              deny({
                status: 'denied',
                by: 'customProperty',
                customProperty: cp,
                reason: 'custom property is not in the allow-list',
              }),
            ],
      ),
    ),
  ])
  // Tasks named by id or name must pass the allow-list themselves; tag and property selectors did already.
  const direct = [...byId, ...byName.flat()].map((c) => {
    if (!c.task || allow.task(c.task)) return c
    return deny({ ...c.item, status: 'denied', reason: 'task is not in the allow-list' })
  })
  if (req.allTaskIdsMustExist && direct.some((c) => c.item.status === 'invalid' || c.item.status === 'not-found')) {
    // Butler: nothing named by id starts, and the would-be starts are reported as denied.
    for (const c of direct) {
      if (!c.task) continue
      c.item = { ...c.item, status: 'denied', reason: 'allTaskIdsMustExist: another task id is invalid or missing' }
      delete c.task
    }
  }
  return [...direct, ...byTag.flat(), ...byCp.flat()]
}

function deny(item: StartItem): Candidate {
  return { item }
}

/** Ids in any case; malformed ones are `invalid` (Butler), the rest are looked up 25 per query. */
async function resolveIds(ids: string[], qrs: QrsClient): Promise<Candidate[]> {
  const wellFormed = [...new Set(ids.filter(isGuid).map((id) => id.toLowerCase()))]
  const found = new Map<string, Task>()
  for (let i = 0; i < wellFormed.length; i += IDS_PER_QUERY) {
    const filter = wellFormed
      .slice(i, i + IDS_PER_QUERY)
      .map((id) => `id eq ${id}`)
      .join(' or ')
    for (const task of await qrs.getList<Task>('task/full', filter)) found.set(task.id.toLowerCase(), task)
  }
  return ids.map((id): Candidate => {
    if (!isGuid(id)) return { item: { status: 'invalid', by: 'taskId', taskId: id, reason: 'not a GUID' } }
    const task = found.get(id.toLowerCase())
    if (!task) return { item: { status: 'not-found', by: 'taskId', taskId: id.toLowerCase() } }
    return { item: { status: 'started', by: 'taskId', taskId: task.id, taskName: task.name }, task }
  })
}

type Selector = Pick<StartItem, 'taskName' | 'tag' | 'customProperty'>

/** A name, tag or custom property: every task it matches, or one `not-found` item. */
async function resolveOne(by: SelectorKind, selector: Selector, qrs: QrsClient): Promise<Candidate[]> {
  const tasks = await qrs.getList<Task>('task/full', filterFor(selector))
  if (tasks.length === 0) return [{ item: { status: 'not-found', by, ...selector } }]
  return tasks.map((task) => ({
    item: { status: 'started', by, ...selector, taskId: task.id, taskName: task.name },
    task,
  }))
}

/** The filters Butler sends (QLIK-PROTOCOLS §1.6 Q3, Q4), with quotes doubled. */
function filterFor(selector: Selector): string {
  if (selector.taskName !== undefined) return `name eq ${quoteString(selector.taskName)}`
  if (selector.tag !== undefined) return `tags.name eq ${quoteString(selector.tag)}`
  const cp = selector.customProperty as { name: string; value: string }
  const name = `customProperties.definition.name eq ${quoteString(cp.name)}`
  return `(${name}) and (customProperties.value eq ${quoteString(cp.value)})`
}
