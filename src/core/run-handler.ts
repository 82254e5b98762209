import type { Logger } from '../log.js'
import type { Bus } from './bus.js'
import type { AppInfo, Capability, HandlerContext, TopicAccess } from './capability.js'
import { event, type Transaction } from './envelope.js'
import { CapabilityError } from './errors.js'
import type { Identity } from './identity.js'
import type { Jobs } from './jobs.js'
import type { Services } from './services.js'
import type { Topics } from './topics.js'

/** A capability ready to run: its module state, config slice and services already bound. */
export interface MountedCapability {
  capability: Capability
  state: unknown
  config: unknown
  services: Services
}

export interface RunDeps {
  /** The caller's topic rights (from its roles). */
  accessOf(identity: Identity): TopicAccess
  bus: Bus
  jobs: Jobs
  topics: Topics
  app: AppInfo
  log: Logger
}

export interface RunInput {
  mounted: MountedCapability
  request: unknown
  transaction: Transaction | undefined
  identity: Identity
  /** The signal, or how to make it when the handler first asks (most never do). */
  signal: AbortSignal | (() => AbortSignal)
  /** The caller's `wait: true`. */
  wait?: boolean
  job?: { id: string; progress(data: Record<string, unknown>): void }
  accept?(data: Record<string, unknown>): void
}

/** The handler's context, built only from what the request and its capability need. */
export function handlerContext(deps: RunDeps, input: RunInput): HandlerContext {
  const { mounted, transaction } = input
  const name = mounted.capability.name
  // A child logger costs an allocation and a serialisation of its bindings: only made when used.
  let clog: Logger | undefined
  return {
    state: mounted.state,
    config: mounted.config,
    get log() {
      clog ??= deps.log.child({ cap: name, transaction, ...(input.job ? { jobId: input.job.id } : {}) })
      return clog
    },
    bus: deps.bus,
    topics: deps.topics,
    app: deps.app,
    services: mounted.services,
    jobs: deps.jobs,
    transaction: transaction === undefined ? undefined : String(transaction),
    identity: input.identity,
    access: deps.accessOf(input.identity),
    get signal() {
      return typeof input.signal === 'function' ? input.signal() : input.signal
    },
    wait: input.wait === true,
    progress:
      input.job?.progress ??
      ((info) => {
        const payload = event('sense.request.progress', `sensebus/${deps.bus.id}`, {
          capability: name,
          transaction,
          ...info,
        })
        deps.bus.publish(deps.topics.event('request', 'progress'), payload, { qos: 0 }).catch((err: unknown) => {
          deps.log.debug({ err }, 'could not publish request progress')
        })
      }),
    ...(input.job ? { job: { id: input.job.id } } : {}),
    accept: input.accept ?? (() => undefined),
  }
}

/** Runs a short request: the handler races its timeout, and the signal tells it when to give up. */
export async function runWithTimeout(
  deps: RunDeps,
  input: Omit<RunInput, 'signal'>,
  timeoutMs: number,
  shutdown: AbortSignal,
) {
  const name = input.mounted.capability.name
  // Per request on the hot path: the AbortController exists only if the handler reads its signal,
  // and shutdown is one listener for all requests (EventTarget listeners cost more than the handler).
  let abort: AbortController | undefined
  let reason: CapabilityError | undefined
  let rejectRace: (err: CapabilityError) => void = () => undefined
  const aborted = new Promise<never>((_, reject) => (rejectRace = reject))
  const fail = (err: CapabilityError) => {
    if (reason) return
    reason = err
    abort?.abort(err)
    rejectRace(err)
  }
  const signal = () => {
    if (!abort) {
      abort = new AbortController()
      if (reason) abort.abort(reason)
    }
    return abort.signal
  }
  const stopWatching = onAbort(shutdown, () =>
    fail(new CapabilityError('SHUTTING_DOWN', 'sensebus is shutting down; retry later')),
  )
  const timer = setTimeout(
    () => fail(new CapabilityError('TIMEOUT', `'${name}' did not finish within ${timeoutMs} ms`)),
    timeoutMs,
  )
  try {
    const handling = input.mounted.capability.handle(input.request, handlerContext(deps, { ...input, signal }))
    return await Promise.race([handling, aborted])
  } finally {
    clearTimeout(timer)
    stopWatching()
  }
}

const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>()

/** Calls `fn` when `signal` aborts (at once if it has); the result stops watching. */
function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn()
    return () => undefined
  }
  let watchers = abortWatchers.get(signal)
  if (!watchers) {
    const all = new Set<() => void>()
    signal.addEventListener(
      'abort',
      () => {
        for (const watcher of [...all]) watcher()
      },
      { once: true },
    )
    abortWatchers.set(signal, all)
    watchers = all
  }
  watchers.add(fn)
  const set = watchers
  return () => set.delete(fn)
}
