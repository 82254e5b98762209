import type { ValidateFunction } from 'ajv'
import type { Bus, BusMessage, Sender } from '../broker/bus.js'
import type { Logger } from '../log.js'
import type { AppInfo, Capability } from './capability.js'
import { event, fail, ok, pickTransaction, type Envelope } from './envelope.js'
import { CapabilityError, toCapabilityError, type ErrorCode } from './errors.js'
import { isValidPublishTopic, type Topics } from './topics.js'
import { assertValid, createAjv } from './validate.js'

/** A capability ready to run: its module state and config slice already bound. */
export interface MountedCapability {
  capability: Capability
  state: unknown
  config: unknown
}

export interface DispatcherOptions {
  bus: Bus
  topics: Topics
  capabilities: MountedCapability[]
  app: AppInfo
  log: Logger
  maxInFlight: number
  /** Requests one client (by MQTT client id) may have in flight; unlimited when unset. */
  maxInFlightPerClient?: number
  defaultTimeoutMs: number
  /** Share the request subscription with other sensebus instances on one external broker. */
  sharedGroup?: string
  /** May this sender call this capability? Undefined sender = sensebus itself (shim, scheduler). */
  authorize?: (sender: Sender | undefined, capability: string) => boolean
  /** One structured record per answered request. */
  audit?: (record: AuditRecord) => void
}

export interface AuditRecord {
  capability: string
  transaction: string | undefined
  clientId: string | undefined
  username: string | undefined
  roles?: readonly string[] | undefined
  transport?: Sender['transport'] | undefined
  outcome: 'ok' | ErrorCode
  durationMs: number
}

export interface Dispatcher {
  inFlight(): number
  /** Stops taking requests and waits (up to `graceMs`) for those in flight to answer. */
  stop(graceMs?: number): Promise<void>
}

/** Topics a requester may name as replyTo: anything but sensebus' own request/event/state/bridge trees. */
function replyToAllowed(topics: Topics, replyTo: string): boolean {
  if (!isValidPublishTopic(replyTo)) return false
  return !['request', 'event', 'state', 'bridge'].some(
    (area) => replyTo === `${topics.base}/${area}` || replyTo.startsWith(`${topics.base}/${area}/`),
  )
}

/**
 * The only place a request can fail, so every request gets exactly one answer: parse → find →
 * authorize → admit → validate → handle → respond.
 */
export async function mountDispatcher(opts: DispatcherOptions): Promise<Dispatcher> {
  const { bus, topics, log } = opts
  const ajv = createAjv()
  const byName = new Map<string, MountedCapability & { validate: ValidateFunction }>()
  for (const m of opts.capabilities)
    byName.set(m.capability.name, { ...m, validate: ajv.compile(m.capability.request) })

  let inFlight = 0
  const perClient = new Map<string, number>()
  let stopping = false
  const drained: Array<() => void> = []
  // The abort controllers of the requests in flight, so shutdown can cut them short.
  const running = new Set<AbortController>()

  const respond = async (topic: string, env: Envelope): Promise<void> => {
    try {
      await bus.publish(topic, env, { qos: 1 })
    } catch (err) {
      log.error({ err, topic }, 'could not publish a response')
    }
  }

  const onRequest = async (msg: BusMessage): Promise<void> => {
    const name = topics.capabilityOf(msg.topic) ?? ''
    const started = performance.now()
    let replyTopic = topics.response(name)
    let transaction: string | undefined
    const finish = (env: Envelope) => {
      const outcome = env.status === 'ok' ? 'ok' : env.error.code
      opts.audit?.({
        capability: name,
        transaction,
        clientId: msg.sender?.clientId,
        username: msg.sender?.username,
        roles: msg.sender?.roles,
        transport: msg.sender?.transport,
        outcome,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      })
      return respond(replyTopic, env)
    }

    let parsed: unknown
    try {
      parsed = JSON.parse(msg.payload.toString('utf8'))
    } catch {
      return finish(fail(undefined, 'BAD_JSON', 'Payload is not valid JSON'))
    }
    transaction = pickTransaction(parsed)
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return finish(
        fail(transaction, 'VALIDATION_FAILED', 'A request must be a JSON object', [
          { path: '/', message: 'must be object' },
        ]),
      )
    }
    const { replyTo, transaction: _t, ...body } = parsed as Record<string, unknown>
    if (replyTo !== undefined) {
      if (typeof replyTo !== 'string' || !replyToAllowed(topics, replyTo)) {
        return finish(
          fail(
            transaction,
            'VALIDATION_FAILED',
            `replyTo must be a topic outside ${topics.base}/{request,event,state,bridge}`,
            [{ path: '/replyTo', message: 'is not an allowed reply topic' }],
          ),
        )
      }
      replyTopic = replyTo
    }
    const mounted = byName.get(name)
    if (!mounted) return finish(fail(transaction, 'NOT_FOUND', `No capability '${name}'`))
    if (opts.authorize && !opts.authorize(msg.sender, name)) {
      return finish(fail(transaction, 'FORBIDDEN', `Not allowed to call '${name}'`))
    }
    if (stopping) return finish(fail(transaction, 'BUSY', 'sensebus is shutting down'))
    if (inFlight >= opts.maxInFlight)
      return finish(fail(transaction, 'BUSY', `Too many requests in flight (${opts.maxInFlight}); retry later`))
    // One chatty client must not use up the whole budget and starve everyone else.
    const clientKey = msg.sender?.clientId
    const clientInFlight = clientKey === undefined ? 0 : (perClient.get(clientKey) ?? 0)
    if (
      clientKey !== undefined &&
      opts.maxInFlightPerClient !== undefined &&
      clientInFlight >= opts.maxInFlightPerClient
    ) {
      return finish(
        fail(
          transaction,
          'BUSY',
          `Too many requests in flight from this client (${opts.maxInFlightPerClient}); retry later`,
        ),
      )
    }

    inFlight++
    if (clientKey !== undefined) perClient.set(clientKey, clientInFlight + 1)
    const env = await run(mounted, name, body, transaction, msg).finally(() => {
      // Released before the answer is published: a slow PUBACK from the broker is not the handler's work.
      inFlight--
      if (clientKey !== undefined) {
        const left = (perClient.get(clientKey) ?? 1) - 1
        if (left === 0) perClient.delete(clientKey)
        else perClient.set(clientKey, left)
      }
      if (inFlight === 0) drained.splice(0).forEach((fn) => fn())
    })
    await finish(env)
  }

  const run = async (
    mounted: MountedCapability & { validate: ValidateFunction },
    name: string,
    body: Record<string, unknown>,
    transaction: string | undefined,
    msg: BusMessage,
  ): Promise<Envelope> => {
    // A child logger costs an allocation and a serialisation of its bindings: only made when used.
    let clog: Logger | undefined
    const clogOf = () => (clog ??= log.child({ cap: name, transaction }))
    const timeoutMs = mounted.capability.timeoutMs ?? opts.defaultTimeoutMs
    const abort = new AbortController()
    running.add(abort)
    let timer: NodeJS.Timeout | undefined
    try {
      const req = assertValid<Record<string, unknown>>(mounted.validate, body)
      // Either a timeout or shutdown aborts the handler's signal, and the request is answered now.
      const timedOut = new Promise<never>((_, reject) => {
        abort.signal.addEventListener('abort', () => {
          const reason: unknown = abort.signal.reason
          reject(
            reason instanceof CapabilityError
              ? reason
              : new CapabilityError('BUSY', 'sensebus is shutting down; retry later'),
          )
        })
        timer = setTimeout(
          () => abort.abort(new CapabilityError('TIMEOUT', `'${name}' did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        )
      })
      const data = await Promise.race([
        mounted.capability.handle(req, {
          state: mounted.state,
          config: mounted.config,
          get log() {
            return clogOf()
          },
          bus,
          topics,
          app: opts.app,
          transaction,
          sender: msg.sender,
          signal: abort.signal,
          progress: (info) => {
            void bus
              .publish(
                topics.event('request', 'progress'),
                event('sense.request.progress', `sensebus/${bus.id}`, { capability: name, transaction, ...info }),
                { qos: 0 },
              )
              .catch(() => undefined)
          },
        }),
        timedOut,
      ])
      return ok(transaction, data)
    } catch (err) {
      const e = toCapabilityError(err)
      if (e.code === 'INTERNAL') clogOf().error({ err: e.cause ?? err }, 'handler failed')
      else if (log.isLevelEnabled('debug')) clogOf().debug({ code: e.code }, e.message)
      return fail(transaction, e.code, e.message, e.details)
    } finally {
      clearTimeout(timer)
      running.delete(abort)
    }
  }

  const filter = opts.sharedGroup ? `$share/${opts.sharedGroup}/${topics.requestFilter}` : topics.requestFilter
  const unsubscribe = await bus.subscribe(filter, (msg) => {
    void onRequest(msg).catch((err) => log.error({ err }, 'dispatcher failure'))
  })

  return {
    inFlight: () => inFlight,
    async stop(graceMs = 10_000) {
      stopping = true
      await unsubscribe()
      if (inFlight > 0) {
        const grace = setTimeout(() => running.forEach((a) => a.abort(new Error('shutdown'))), graceMs)
        await new Promise<void>((resolve) => drained.push(resolve))
        clearTimeout(grace)
      }
    },
  }
}
