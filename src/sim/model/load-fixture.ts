import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { NEVER, idKey, isGuid, stableGuid } from '../ids.js'
import { deriveLineage, expandAppObjects } from './expand-objects.js'
import type { FixtureAudit, FixtureCustomProperties, FixtureFile, FixtureTaskType } from './fixture-types.js'
import type { SimModelContents } from './store.js'
import type {
  Audit,
  SimApp,
  SimCustomPropertyDefinition,
  SimCustomPropertyValue,
  SimNode,
  SimStream,
  SimTag,
  SimTask,
  SimUser,
  TaskType,
} from './types.js'

const TASK_TYPES: Record<FixtureTaskType, TaskType> = {
  reload: 0,
  externalProgram: 1,
  userSync: 2,
  distribute: 3,
  preload: 4,
}
const DEFAULT_DATE = '2024-01-15T10:30:00.000Z'
const DEFAULT_MODIFIER = 'INTERNAL\\sa_repository'

export class FixtureError extends Error {
  constructor(message: string) {
    super(`Fixture: ${message}`)
    this.name = 'FixtureError'
  }
}

/** Looks entities up by id or (case-insensitive) name, with a readable error for a dangling reference. */
function resolver<T extends { id: string }>(kind: string, items: T[], nameOf: (item: T) => string[]) {
  return (ref: string, where: string): T => {
    const key = ref.toLowerCase()
    const found = items.find((i) => idKey(i.id) === key || nameOf(i).some((n) => n.toLowerCase() === key))
    if (!found) throw new FixtureError(`${where}: unknown ${kind} '${ref}'`)
    return found
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null || value === '') throw new FixtureError(`${what} is required`)
  return value
}

/** Turns a parsed fixture document into model contents; throws FixtureError on a bad reference. */
export function buildModelContents(doc: FixtureFile): SimModelContents {
  const defaultDate = doc.site?.defaultDate ?? DEFAULT_DATE
  const audit = (a: FixtureAudit): Audit => ({
    createdDate: a.createdDate ?? defaultDate,
    modifiedDate: a.modifiedDate ?? a.createdDate ?? defaultDate,
    modifiedByUserName: a.modifiedBy ?? DEFAULT_MODIFIER,
  })
  const idFor = (explicit: string | undefined, seed: string, where: string): string => {
    if (explicit !== undefined && !isGuid(explicit)) throw new FixtureError(`${where}: id '${explicit}' is not a GUID`)
    return explicit ?? stableGuid(seed)
  }

  const nodes: SimNode[] = (doc.nodes ?? [{ name: 'Central', hostName: 'pro2-win1', central: true }]).map((n, i) => ({
    ...audit(n),
    id: idFor(n.id, `node:${n.name}`, `nodes[${i}]`),
    name: need(n.name, `nodes[${i}].name`),
    hostName: need(n.hostName, `nodes[${i}].hostName`),
    isCentral: n.central ?? i === 0,
  }))

  const tags: SimTag[] = (doc.tags ?? []).map((t, i) => {
    const tag = typeof t === 'string' ? { name: t } : t
    return {
      ...audit(tag),
      id: idFor(tag.id, `tag:${tag.name}`, `tags[${i}]`),
      name: need(tag.name, `tags[${i}].name`),
    }
  })
  const tagRef = resolver('tag', tags, (t) => [t.name])

  const definitions: SimCustomPropertyDefinition[] = (doc.customPropertyDefinitions ?? []).map((d, i) => ({
    ...audit(d),
    id: idFor(d.id, `cpdef:${d.name}`, `customPropertyDefinitions[${i}]`),
    name: need(d.name, `customPropertyDefinitions[${i}].name`),
    valueType: d.valueType ?? 'Text',
    choiceValues: d.choiceValues ?? [],
    objectTypes: d.objectTypes ?? [],
    description: d.description ?? '',
  }))
  const definitionRef = resolver('custom property definition', definitions, (d) => [d.name])

  const customProperties = (
    ownerId: string,
    input: FixtureCustomProperties | undefined,
    a: Audit,
    where: string,
  ): SimCustomPropertyValue[] =>
    Object.entries(input ?? {}).flatMap(([defName, values]) => {
      const def = definitionRef(defName, where)
      return (Array.isArray(values) ? values : [values]).map((value) => ({
        ...a,
        id: stableGuid(`cpvalue:${ownerId}:${def.id}:${value}`),
        definitionId: def.id,
        value: String(value),
      }))
    })

  const users: SimUser[] = (doc.users ?? []).map((u, i) => {
    const where = `users[${i}]`
    const id = idFor(u.id, `user:${u.directory}\\${u.userId}`, where)
    const a = audit(u)
    const emails = u.email === undefined ? [] : Array.isArray(u.email) ? u.email : [u.email]
    const attrs = [...emails.map((value) => ({ type: 'Email', value })), ...(u.attributes ?? [])]
    return {
      ...a,
      id,
      userId: need(u.userId, `${where}.userId`),
      userDirectory: need(u.directory, `${where}.directory`),
      userDirectoryConnectorName: u.directory,
      name: u.name ?? u.userId,
      roles: u.roles ?? [],
      attributes: attrs.map((attr, j) => ({
        ...a,
        id: stableGuid(`attr:${id}:${j}:${attr.type}`),
        attributeType: attr.type,
        attributeValue: attr.value,
        externalId: '',
      })),
      inactive: false,
      removedExternally: false,
      blacklisted: false,
      deleteProhibited: false,
      tagIds: (u.tags ?? []).map((t) => tagRef(t, where).id),
      customProperties: customProperties(id, u.customProperties, a, where),
    }
  })
  const userRef = resolver('user', users, (u) => [`${u.userDirectory}\\${u.userId}`])

  const streams: SimStream[] = (doc.streams ?? []).map((s, i) => {
    const where = `streams[${i}]`
    const id = idFor(s.id, `stream:${s.name}`, where)
    const a = audit(s)
    return {
      ...a,
      id,
      name: need(s.name, `${where}.name`),
      ownerId: s.owner ? userRef(s.owner, where).id : null,
      tagIds: (s.tags ?? []).map((t) => tagRef(t, where).id),
      customProperties: customProperties(id, s.customProperties, a, where),
    }
  })
  const streamRef = resolver('stream', streams, (s) => [s.name])

  const firstUser = users[0]
  const apps: SimApp[] = (doc.apps ?? []).map((app, i) => {
    const where = `apps[${i}]`
    const id = idFor(app.id, `app:${app.name}`, where)
    const a = audit(app)
    const owner = app.owner ? userRef(app.owner, where) : firstUser
    if (!owner) throw new FixtureError(`${where}: an app needs an owner, and the fixture has no users`)
    const stream = app.stream ? streamRef(app.stream, where) : null
    const script = app.script ?? "///$tab Main\r\nSET ThousandSep=',';\r\n"
    return {
      ...a,
      id,
      name: need(app.name, `${where}.name`),
      description: app.description ?? '',
      ownerId: owner.id,
      streamId: stream?.id ?? null,
      publishTime: stream ? (app.publishTime ?? a.modifiedDate) : NEVER,
      fileSize: app.fileSize ?? 184320,
      lastReloadTime: app.lastReloadTime ?? a.modifiedDate,
      savedInProductVersion: doc.site?.engineVersion ?? '12.612.0',
      migrationHash: stableGuid(`hash:${id}`).replace(/-/g, '').slice(0, 40),
      thumbnail: '',
      dynamicColor: '',
      availabilityStatus: 0,
      tagIds: (app.tags ?? []).map((t) => tagRef(t, where).id),
      customProperties: customProperties(id, app.customProperties, a, where),
      script,
      hasSectionAccess: app.hasSectionAccess ?? false,
      objects: expandAppObjects(id, app.objects, a.createdDate),
      lineage: app.lineage
        ? app.lineage.map((l) => ({ discriminator: l.discriminator, statement: l.statement ?? '' }))
        : deriveLineage(script),
    }
  })
  const appRef = resolver('app', apps, (app) => [app.name])
  const nodeRef = resolver('node', nodes, (n) => [n.name, n.hostName])

  const tasks: SimTask[] = (doc.tasks ?? []).map((t, i) => {
    const where = `tasks[${i}]`
    const id = idFor(t.id, `task:${t.name}`, where)
    const a = audit(t)
    const taskType = TASK_TYPES[t.type ?? 'reload']
    if (taskType === undefined) throw new FixtureError(`${where}: unknown task type '${String(t.type)}'`)
    const needsApp = taskType === 0 || taskType === 4
    if (needsApp && !t.app) throw new FixtureError(`${where}: a ${t.type ?? 'reload'} task needs an app`)
    const b = t.behaviour ?? {}
    return {
      ...a,
      id,
      name: need(t.name, `${where}.name`),
      taskType,
      appId: t.app ? appRef(t.app, where).id : null,
      enabled: t.enabled ?? true,
      maxRetries: t.maxRetries ?? 0,
      taskSessionTimeout: t.taskSessionTimeout ?? 1440,
      isManuallyTriggered: t.isManuallyTriggered ?? false,
      isPartialReload: t.isPartialReload ?? false,
      timeToLive: t.timeToLive ?? 0,
      preloadNodeIds: (t.preloadNodes ?? []).map((n) => nodeRef(n, where).id),
      tagIds: (t.tags ?? []).map((tag) => tagRef(tag, where).id),
      customProperties: customProperties(id, t.customProperties, a, where),
      behaviour: {
        outcome: b.outcome ?? 'success',
        durationMs: b.durationMs ?? 2000,
        failLine: b.failLine,
        errorText: b.errorText,
        retriesBeforeSuccess: b.retriesBeforeSuccess,
        abortUser: b.abortUser,
        distributionQueueMs: b.distributionQueueMs,
      },
      startAfterSuccessOf: [],
      path: t.path ?? '',
      parameters: t.parameters ?? '',
      userDirectory: t.userDirectory ?? '',
      operationalId: stableGuid(`operational:${id}`),
      nextExecution: t.nextExecution ?? NEVER,
      lastExecutionResultId: null,
    }
  })
  // The chain refers to tasks by name, so it resolves after every task exists.
  const taskRef = resolver('task', tasks, (t) => [t.name])
  ;(doc.tasks ?? []).forEach((t, i) => {
    const task = tasks[i] as SimTask
    task.startAfterSuccessOf = (t.startAfterSuccessOf ?? []).map(
      (ref) => taskRef(ref, `tasks[${i}].startAfterSuccessOf`).id,
    )
  })

  return {
    site: {
      engineVersion: doc.site?.engineVersion ?? '12.612.0',
      processId: doc.site?.processId ?? 4940,
      missingFiles: doc.site?.missingFiles ?? [],
    },
    nodes,
    users,
    tags,
    customPropertyDefinitions: definitions,
    streams,
    apps,
    tasks,
  }
}

/** Reads a YAML (or JSON, which YAML accepts) fixture file. */
export async function loadFixtureFile(path: string): Promise<SimModelContents> {
  const text = await readFile(path, 'utf8')
  const doc = parseYaml(text) as FixtureFile | null
  if (!doc || typeof doc !== 'object') throw new FixtureError(`${path} is empty or not a mapping`)
  return buildModelContents(doc)
}
