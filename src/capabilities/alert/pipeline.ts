import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { Outbox } from '../../services/outbox/index.js'
import type { SenseService } from '../../services/sense.js'
import type { TemplateService } from '../../services/templates.js'
import type { AlertConfig, Destination } from './config.js'
import type { TaskDatagram } from './datagram.js'
import { EMAIL_KIND } from './deliver/email.js'
import { MQTT_KIND, type MqttPayload } from './deliver/mqtt.js'
import { WEBHOOK_KIND, type WebhookPayload } from './deliver/webhook.js'
import { type Enrichment, enrich, waitForDistribute } from './enrich.js'
import { domainOf, eventTitle, outcomeOf } from './events.js'
import { buildFields } from './fields.js'
import type { AlertHistory, AlertRecord, DeliveryRecord } from './history.js'
import { type AlertData, butlerFullPayload, emailPayload, webhookBody } from './messages.js'
import type { RateLimiter } from './rate-limit.js'
import { emailRecipients, ruleDestinations } from './routing.js'

export interface PipelineDeps {
  config: AlertConfig
  sense: SenseService
  outbox: Outbox
  templates: TemplateService
  bus: Bus
  topics: Topics
  log: Logger
  history: AlertHistory
  limiter: RateLimiter
  /** The config file's folder: a webhook's relative caFile resolves against it. */
  baseDir: string
  /** Extra delivery kinds (Slack, Teams) plug in here: destination → payload. */
  chat?: ChatPlanner
}

export type ChatPlanner = (
  destination: Destination & { type: 'slack' | 'teams' },
  data: AlertData,
) => { kind: string; payload: unknown; templateErrors: string[] }

/** One delivery before it is enqueued: where, to whom, and how to build it once the rate limit allows. */
interface Planned {
  kind: string
  destination: string
  recipient: string
  rateLimitMs: number
  build(data: AlertData, key: string): { payload: unknown; templateErrors: string[] }
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16)

/**
 * One datagram → one alert: enrich from QRS, decide the deliveries, and write every one of them to the
 * durable outbox before returning. Idempotent per alert id, so a replay after a crash adds nothing the
 * first run already enqueued.
 */
export class AlertPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async run(d: TaskDatagram, alertId: string, receivedAt: string, signal?: AbortSignal): Promise<AlertRecord> {
    const { config, sense } = this.deps
    const failedOrAborted = d.kind === 'failed' || d.kind === 'aborted'
    const enrichment: Enrichment = await enrich(sense, d, {
      enabled: config.enrichment.enabled,
      wantScriptLog: (task) => failedOrAborted && (task?.taskType ?? 0) === 0,
    })
    let distribute: Awaited<ReturnType<typeof waitForDistribute>>['outcome'] | undefined
    if (d.kind === 'distribute' && enrichment.task) {
      try {
        const done = await waitForDistribute(sense, d.taskId, {
          pollMs: config.enrichment.distributePollMs,
          maxWaitMs: config.enrichment.distributeMaxWaitMs,
          ...(signal ? { signal } : {}),
        })
        distribute = done.outcome
        if (done.task) {
          enrichment.task = done.task
          enrichment.execution = done.task.operational?.lastExecutionResult
        }
      } catch (err) {
        enrichment.problems.push(`distribute result: ${(err as Error).message}`)
      }
    }
    const domain = domainOf(d.kind, enrichment.task?.taskType, d.appId)
    const what = outcomeOf(d.kind, distribute)
    const eventType = `${domain}/${what}`
    const base: AlertData = {
      ...buildFields({ alertId, eventType, receivedAt }, d, enrichment, config),
      eventTitle: eventTitle(domain, what),
    }
    return this.dispatch(base, enrichment)
  }

  /** Plans, rate-limits, renders and enqueues the deliveries of one alert; also used by alert/test. */
  async dispatch(
    base: AlertData,
    enrichment: Enrichment,
    only?: { name: string; destination: Destination },
  ): Promise<AlertRecord> {
    const { outbox, history, limiter, topics, bus } = this.deps
    const plans = only ? this.planDestination(only.name, only.destination) : this.plan(base, enrichment)
    const records: DeliveryRecord[] = []
    const batch: Array<{ kind: string; key: string; payload: unknown; meta: Record<string, unknown> }> = []
    const templateErrors = new Set<string>()
    for (const p of plans) {
      const key = `alert:${base.alertId}:${p.destination}:${hash(p.recipient)}`
      const decision = await limiter.decide(
        `${base.taskId}|${p.destination}|${p.recipient.toLowerCase()}`,
        base.alertId,
        p.rateLimitMs,
      )
      if (!decision.send) {
        records.push({
          kind: p.kind,
          destination: p.destination,
          recipient: p.recipient,
          state: 'suppressed',
          attempts: 0,
        })
        continue
      }
      const built = p.build({ ...base, suppressedCount: decision.suppressedBefore }, key)
      for (const e of built.templateErrors) templateErrors.add(`${p.destination}: ${e}`)
      batch.push({
        kind: p.kind,
        key,
        payload: built.payload,
        meta: { alertId: base.alertId, destination: p.destination, recipient: p.recipient },
      })
    }
    const items = await outbox.enqueue(batch)
    for (const [i, item] of items.entries()) {
      const b = batch[i]
      if (!b) continue
      records.push({
        itemId: item.id,
        kind: item.kind,
        destination: String(b.meta.destination),
        recipient: String(b.meta.recipient),
        state: item.state === 'delivered' ? 'delivered' : item.state === 'dead' ? 'dead' : 'pending',
        attempts: item.attempts,
      })
    }
    const record: AlertRecord = {
      id: base.alertId,
      eventType: base.eventType,
      taskId: base.taskId,
      taskName: base.taskName,
      appName: base.appName,
      receivedAt: base.receivedAt,
      incomplete: base.incomplete,
      problems: base.problems,
      templateErrors: [...templateErrors],
      deliveries: records,
    }
    if (templateErrors.size > 0) {
      this.deps.log.warn({ alertId: base.alertId, errors: [...templateErrors] }, 'alert template failed')
      const data = { alertId: base.alertId, errors: [...templateErrors] }
      await bus.publish(
        topics.event('alert', 'template-failed'),
        event('sense.alert.template-failed', `sensebus/${bus.id}`, data),
        {
          qos: 1,
        },
      )
    }
    await history.save(record)
    return record
  }

  private plan(data: AlertData, enrichment: Enrichment): Planned[] {
    const { config, topics, bus } = this.deps
    const plans: Planned[] = []
    const eventTopic = topics.event(...(data.eventType.split('/') as [string, string]))
    const envelope = event(`sense.${data.eventType.replace('/', '.')}`, `sensebus/${bus.id}`, data)
    plans.push(mqttPlan('event', eventTopic, envelope, false))
    if (config.mqtt.butlerTopics && (data.eventType === 'reload/failed' || data.eventType === 'reload/aborted')) {
      const failed = data.eventType === 'reload/failed'
      const full = butlerFullPayload(data, enrichment.task, enrichment.app, !failed)
      plans.push(mqttPlan('butler', failed ? config.mqtt.failureTopic : config.mqtt.abortedTopic, data.taskName, true))
      plans.push(
        mqttPlan('butler-full', failed ? config.mqtt.failureFullTopic : config.mqtt.abortedFullTopic, full, false),
      )
    }
    const emailCfg = config.email[data.eventType]
    if (emailCfg) {
      const { to, invalid } = emailRecipients(emailCfg, { ...data, eventType: data.eventType })
      if (invalid.length)
        this.deps.log.warn({ alertId: data.alertId, invalid }, 'invalid alert email addresses skipped')
      for (const address of to) {
        plans.push({
          kind: EMAIL_KIND,
          destination: 'email',
          recipient: address,
          rateLimitMs: emailCfg.rateLimitMs ?? config.rateLimitMs,
          build: (d, key) => emailPayload(this.deps.templates, emailCfg, d, address, messageId(key)),
        })
      }
    }
    for (const name of ruleDestinations(config.rules, data)) {
      const dest = config.destinations[name]
      if (dest) plans.push(...this.planDestination(name, dest))
      else this.deps.log.warn({ destination: name }, 'a rule names a destination that is not configured')
    }
    return plans
  }

  private planDestination(name: string, dest: Destination): Planned[] {
    const { config } = this.deps
    const rateLimitMs = dest.rateLimitMs ?? config.rateLimitMs
    if (dest.type === 'email') {
      return dest.to.map((address) => ({
        kind: EMAIL_KIND,
        destination: name,
        recipient: address,
        rateLimitMs,
        build: (d, key) => emailPayload(this.deps.templates, undefined, d, address, messageId(key)),
      }))
    }
    if (dest.type === 'webhook') {
      return [
        {
          kind: WEBHOOK_KIND,
          destination: name,
          recipient: dest.url,
          rateLimitMs,
          build: (d) => {
            const payload: WebhookPayload = {
              url: dest.url,
              method: dest.method ?? 'POST',
              headers: dest.headers ?? {},
              rejectUnauthorized: dest.rejectUnauthorized ?? true,
              ...(dest.caFile ? { caFile: resolve(this.deps.baseDir, dest.caFile) } : {}),
              body: webhookBody(d),
            }
            return { payload, templateErrors: [] }
          },
        },
      ]
    }
    const chat = this.deps.chat
    if (!chat) {
      this.deps.log.warn({ destination: name }, `${dest.type} delivery is not available in this build`)
      return []
    }
    const planned = (d: AlertData) => chat(dest, d)
    return [
      {
        // The chat service's outbox kinds are named after the service: slack, teams.
        kind: dest.type,
        destination: name,
        recipient: dest.url,
        rateLimitMs,
        build: (d) => {
          const p = planned(d)
          return { payload: p.payload, templateErrors: p.templateErrors }
        },
      },
    ]
  }
}

function mqttPlan(name: string, topic: string, message: unknown, text: boolean): Planned {
  return {
    kind: MQTT_KIND,
    destination: `mqtt-${name}`,
    recipient: topic,
    rateLimitMs: 0,
    build: () => ({ payload: { topic, message, text } satisfies MqttPayload, templateErrors: [] }),
  }
}

/** The Message-ID: derived from the idempotency key, so every attempt of one delivery carries the same. */
const messageId = (key: string) => `<${hash(key)}.${key.split(':')[1]}@sensebus.alert>`
