import { idKey } from '../ids.js'
import type {
  SimApp,
  SimCustomPropertyDefinition,
  SimExecutionResult,
  SimExecutionSession,
  SimNode,
  SimSiteInfo,
  SimStream,
  SimTag,
  SimTask,
  SimUser,
} from './types.js'

/** A map keyed by lower-cased GUID, because QRS compares ids case-insensitively (§1.5.1). */
export class IdMap<T extends { id: string }> {
  private readonly items = new Map<string, T>()

  get(id: string): T | undefined {
    return this.items.get(idKey(id))
  }

  has(id: string): boolean {
    return this.items.has(idKey(id))
  }

  set(item: T): void {
    this.items.set(idKey(item.id), item)
  }

  delete(id: string): boolean {
    return this.items.delete(idKey(id))
  }

  values(): T[] {
    return [...this.items.values()]
  }

  clear(): void {
    this.items.clear()
  }

  get size(): number {
    return this.items.size
  }
}

/** The contents a fixture produces; `SimModel.replaceContents` swaps them in place on reset. */
export interface SimModelContents {
  site: SimSiteInfo
  nodes: SimNode[]
  users: SimUser[]
  tags: SimTag[]
  customPropertyDefinitions: SimCustomPropertyDefinition[]
  streams: SimStream[]
  apps: SimApp[]
  tasks: SimTask[]
  executionResults?: SimExecutionResult[]
}

/**
 * The one shared state store (QLIK-PROTOCOLS §4.1). It is deliberately a plain container: the QRS
 * serialisers, the state machine and the engine adapter all read and write the same objects.
 */
export class SimModel {
  site: SimSiteInfo = { engineVersion: '12.612.0', processId: 4940, missingFiles: [] }
  readonly nodes = new IdMap<SimNode>()
  readonly users = new IdMap<SimUser>()
  readonly tags = new IdMap<SimTag>()
  readonly customPropertyDefinitions = new IdMap<SimCustomPropertyDefinition>()
  readonly streams = new IdMap<SimStream>()
  readonly apps = new IdMap<SimApp>()
  readonly tasks = new IdMap<SimTask>()
  readonly executionResults = new IdMap<SimExecutionResult>()
  readonly executionSessions = new IdMap<SimExecutionSession>()
  /** Script-log download references (§1.8): ref → execution result id. */
  readonly downloadRefs = new Map<string, string>()

  constructor(contents?: SimModelContents) {
    if (contents) this.replaceContents(contents)
  }

  /** Reset (control API `POST /__sim/reset`): same object, fresh contents, so references stay valid. */
  replaceContents(contents: SimModelContents): void {
    for (const map of [
      this.nodes,
      this.users,
      this.tags,
      this.customPropertyDefinitions,
      this.streams,
      this.apps,
      this.tasks,
      this.executionResults,
      this.executionSessions,
    ])
      map.clear()
    this.downloadRefs.clear()
    this.site = { ...contents.site }
    contents.nodes.forEach((n) => this.nodes.set(n))
    contents.users.forEach((u) => this.users.set(u))
    contents.tags.forEach((t) => this.tags.set(t))
    contents.customPropertyDefinitions.forEach((d) => this.customPropertyDefinitions.set(d))
    contents.streams.forEach((s) => this.streams.set(s))
    contents.apps.forEach((a) => this.apps.set(a))
    contents.tasks.forEach((t) => this.tasks.set(t))
    contents.executionResults?.forEach((r) => this.executionResults.set(r))
  }

  /** The node that executes tasks: the central node, else the first one. */
  executingNode(): SimNode {
    const nodes = this.nodes.values()
    const node = nodes.find((n) => n.isCentral) ?? nodes[0]
    if (!node) throw new Error('The simulator model has no nodes')
    return node
  }

  findTaskByName(name: string): SimTask | undefined {
    const wanted = name.toLowerCase()
    return this.tasks.values().find((t) => t.name.toLowerCase() === wanted)
  }

  /**
   * A user as QRS stores it: directory and user id match case-insensitively (Windows directories and
   * Sense itself do), so `UserDirectory=Internal; UserId=SA_Repository` is the stored `INTERNAL\sa_repository`.
   */
  findUser(directory: string, userId: string): SimUser | undefined {
    const dir = directory.toLowerCase()
    const id = userId.toLowerCase()
    return this.users.values().find((u) => u.userDirectory.toLowerCase() === dir && u.userId.toLowerCase() === id)
  }

  lastResultOf(task: SimTask): SimExecutionResult | undefined {
    return task.lastExecutionResultId ? this.executionResults.get(task.lastExecutionResultId) : undefined
  }

  /** The running session of a task, if any. */
  runningSessionOf(taskId: string): SimExecutionSession | undefined {
    const key = idKey(taskId)
    return this.executionSessions.values().find((s) => idKey(s.taskId) === key)
  }
}
