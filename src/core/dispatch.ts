import type { ValidateFunction } from 'ajv'
import type { Logger } from '../log.js'
import { Admission } from './admission.js'
import type { Bus, BusMessage } from './bus.js'
import type { AppInfo, TopicAccess } from './capability.js'
import { type Envelope, fail, ok, type Transaction } from './envelope.js'
import { type ErrorCode, toCapabilityError } from './errors.js'
import { callerKey, type Identity } from './identity.js'
import type { Jobs } from './jobs.js'
import {
  DEFAULT_REQUEST_LIMITS,
  type ParsedRequest,
  parseRequest,
  type ReplyToCheck,
  type RequestLimits,
} from './request.js'
import { handlerContext, type MountedCapability, type RunDeps, runWithTimeout } from './run-handler.js'
import type { Topics } from './topics.js'
import { assertValid, compileOnce, type JsonSchema } from './validate.js'

export type { MountedCapability } from './run-handler.js'

export interface DispatcherOptions {
  bus: Bus
  topics: Topics
  capabilities: MountedCapability[]
  app: AppInfo
  log: Logger
  jobs: Jobs
  maxInFlight: number
  /** Requests one caller may have in flight; unlimited when unset. */
  maxInFlightPerClient?: number
  defaultTimeoutMs: number
  /** Share the request subscription with other sensebus instances on one external broker. */
  sharedGroup?: string
  /** May this caller use this capability? The one place grants are decided, for every door. */
  authorize(identity: Identity, capability: string): boolean
  /** A stored caller acting later gets the roles the current settings give it (Security.refresh). */
  refresh?(identity: Identity): Identity
  mayReplyTo: ReplyToCheck
  /** A caller's topic rights, handed to capabilities that act on topics. */
  accessOf(identity: Identity): TopicAccess
  /** Who sent a message the bus cannot attribute (an external broker's clients); undefined: refuse it. */
  unknownSender?: Identity
  /** One structured record per answered request. */
  audit?: (record: AuditRecord) => void
  limits?: RequestLimits
}

export interface AuditRecord {
  capability: string
  transaction: Transaction | undefined
  identity: Identity | undefined
  outcome: 'ok' | ErrorCode
  durationMs: number
  jobId?: string
}

export interface Dispatcher {
  inFlight(): number
  /** Stops taking requests, answers those in flight (SHUTTING_DOWN at worst) and ends running jobs. */
  stop(graceMs?: number): Promise<void>
}

/** An error answer never grows without bound: details are a sample, not the whole list. */
const MAX_DETAILS = 20

function bounded(env: Envelope): Envelope {
  if (env.status === 'ok' || !Array.isArray(env.error.details) || env.error.details.length <= MAX_DETAILS) return env
  const details = env.error.details
  return {
    ...env,
    error: {
      ...env.error,
      details: [...details.slice(0, MAX_DETAILS), { path: '…', message: `${details.length - MAX_DETAILS} more` }],
    },
  }
}

/**
 * The only place a request can fail, so every request gets exactly one answer: parse → find →
 * authorize → admit → validate → handle (or start a job) → respond → audit.
 */
export async function mountDispatcher(opts: DispatcherOptions): Promise<Dispatcher> {
  const { bus, topics, log, jobs } = opts
  const byName = new Map<string, MountedCapability & { validate: ValidateFunction }>()
  for (const m of opts.capabilities)
    byName.set(m.capability.name, { ...m, validate: compileOnce(m.capability.request as JsonSchema) })
  const admission = new Admission(opts.maxInFlight, opts.maxInFlightPerClient)
  const limits = opts.limits ?? DEFAULT_REQUEST_LIMITS
  const shutdown = new AbortController()
  const deps: RunDeps = { bus, jobs, topics, app: opts.app, log, accessOf: opts.accessOf }
  let stopping = false

  const respond = async (topic: string, env: Envelope): Promise<void> => {
    try {
      await bus.publish(topic, bounded(env), { qos: 1 })
    } catch (err) {
      log.error({ err, topic }, 'could not publish a response')
    }
  }

  /**
   * `settled` is called once the request no longer weighs on its sender's share: answered, or
   * started as a job (a job may run for an hour; its caller must not be held back meanwhile).
   */
  const onRequest = async (msg: BusMessage, settled: () => void): Promise<void> => {
    const started = performance.now()
    const sender = msg.identity ?? opts.unknownSender
    const identity = sender && opts.refresh ? opts.refresh(sender) : sender
    let capability = topics.capabilityOf(msg.topic) ?? ''
    let transaction: Transaction | undefined
    let jobId: string | undefined
    const finish = async (topic: string | undefined, env: Envelope) => {
      if (topic !== undefined) await respond(topic, env)
      else log.warn({ capability: capability.slice(0, 200) }, 'request dropped: no valid topic to answer on')
      const outcome = env.status === 'ok' ? 'ok' : env.error.code
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000
      opts.audit?.({ capability, transaction, identity, outcome, durationMs, ...(jobId ? { jobId } : {}) })
    }

    const parsed = parseRequest(topics, msg.topic, msg.payload, identity, limits, opts.mayReplyTo)
    if (!parsed.ok) return finish(parsed.replyTopic, parsed.answer)
    const req = parsed.request
    capability = req.name
    transaction = req.transaction
    const answer = (env: Envelope) => finish(req.replyTopic, env)
    const refuse = (code: ErrorCode, message: string) => answer(fail(transaction, code, message))

    const mounted = byName.get(req.name)
    if (!mounted) return refuse('NOT_FOUND', `No capability '${req.name}'`)
    if (!identity) return refuse('FORBIDDEN', 'The request has no identity')
    if (!opts.authorize(identity, req.name)) return refuse('FORBIDDEN', `Not allowed to call '${req.name}'`)
    if (stopping) return refuse('SHUTTING_DOWN', 'sensebus is shutting down; retry later')
    let release: () => void
    try {
      release = await admission.admit(callerKey(identity))
    } catch (err) {
      return refuse('BUSY', (err as Error).message)
    }
    let env: Envelope
    try {
      const request = assertValid<Record<string, unknown>>(mounted.validate, req.body)
      if (mounted.capability.job) {
        const started = startJob(mounted, req, request, identity)
        jobId = started.jobId
        settled()
        env = await started.answer
      } else {
        const timeoutMs = mounted.capability.timeoutMs ?? opts.defaultTimeoutMs
        const input = { mounted, request, transaction, identity, wait: req.wait }
        env = ok(transaction, await runWithTimeout(deps, input, timeoutMs, shutdown.signal))
      }
    } catch (err) {
      env = failure(err, req.name, transaction)
    } finally {
      // Released before the answer is published: a slow PUBACK from the broker is not the handler's work.
      release()
    }
    await answer(env)
  }

  const failure = (err: unknown, name: string, transaction: Transaction | undefined): Envelope => {
    const e = toCapabilityError(err)
    if (e.code === 'INTERNAL') log.child({ cap: name, transaction }).error({ err: e.cause ?? err }, 'handler failed')
    else if (log.isLevelEnabled('debug')) log.debug({ cap: name, code: e.code }, e.message)
    return fail(transaction, e.code, e.message, e.details)
  }

  /**
   * A long-running request: the answer is the job id at once, the accepted data once the handler is
   * under way (`job.accepts`), or the final result with `wait: true`. The job runs on regardless.
   */
  const startJob = (mounted: MountedCapability, req: ParsedRequest, request: unknown, identity: Identity) => {
    const { capability } = mounted
    let accepted: (data: Record<string, unknown>) => void = () => undefined
    const acceptance = new Promise<Record<string, unknown>>((resolve) => (accepted = resolve))
    const job = jobs.start({
      capability: capability.name,
      identity,
      transaction: req.transaction,
      timeoutMs: capability.timeoutMs ?? opts.defaultTimeoutMs,
      run: (jctx) =>
        capability.handle(
          request,
          handlerContext(deps, {
            mounted,
            request,
            transaction: req.transaction,
            identity,
            signal: jctx.signal,
            wait: req.wait,
            job: { id: jctx.id, progress: jctx.progress },
            accept: (data) => accepted(data),
          }),
        ),
    })
    const final = job.done.then((outcome): Envelope => {
      if (!outcome.ok) return failure(outcome.error, capability.name, req.transaction)
      const data = outcome.data && typeof outcome.data === 'object' ? outcome.data : { result: outcome.data }
      return ok(req.transaction, { ...data, jobId: job.id, state: 'completed' })
    })
    const running = (data: Record<string, unknown> = {}) =>
      ok(req.transaction, { ...data, jobId: job.id, state: 'running' })
    let answer: Promise<Envelope>
    if (req.wait) answer = final
    else if (capability.job?.accepts) answer = Promise.race([acceptance.then((d) => running(d)), final])
    else answer = Promise.resolve(running())
    return { jobId: job.id, answer }
  }

  const filter = opts.sharedGroup ? `$share/${opts.sharedGroup}/${topics.requestFilter}` : topics.requestFilter
  // Every request from arrival until its answer is out, refusals included: stop() waits for all of them.
  const answering = new Set<Promise<void>>()
  const unsubscribe = await bus.subscribe(filter, (msg) => {
    let settled: () => void = () => undefined
    const whenSettled = new Promise<void>((resolve) => (settled = resolve))
    const done = onRequest(msg, settled)
      .catch((err) => log.error({ err }, 'dispatcher failure'))
      .finally(settled)
    answering.add(done)
    void done.then(() => answering.delete(done))
    return whenSettled
  })

  return {
    inFlight: () => admission.inFlight(),
    async stop(graceMs = 10_000) {
      stopping = true
      await unsubscribe()
      // Messages the bus matched before the unsubscribe reach their handler on the next turn.
      await new Promise((resolve) => setImmediate(resolve))
      await jobs.stop()
      const grace = setTimeout(() => shutdown.abort(), graceMs)
      await admission.drained()
      clearTimeout(grace)
      // Refusals (SHUTTING_DOWN, BUSY, …) are not admitted, but their answers must go out too.
      await Promise.race([Promise.all([...answering]), new Promise((resolve) => setTimeout(resolve, graceMs))])
    },
  }
}
