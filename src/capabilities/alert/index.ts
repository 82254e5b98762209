import { Type } from '@sinclair/typebox'
import { defineModule, type PublishedTopic } from '../../core/capability.js'
import { alertList, alertRetry, alertTest } from './capabilities.js'
import { type AlertConfig, configSchema } from './config.js'
import { chatPlanner } from './deliver/chat.js'
import { registerEmail } from './deliver/email.js'
import { registerMqtt } from './deliver/mqtt.js'
import { registerWebhook } from './deliver/webhook.js'
import { AlertHistory } from './history.js'
import { Intake } from './intake.js'
import { AlertPipeline } from './pipeline.js'
import { RateLimiter } from './rate-limit.js'
import { TaskEventReceiver } from './receiver.js'
import type { AlertState } from './state.js'

const alertData = Type.Object(
  {
    alertId: Type.String(),
    eventType: Type.String(),
    incomplete: Type.Boolean(),
    problems: Type.Array(Type.String()),
    taskId: Type.String(),
    taskName: Type.String(),
    appId: Type.String(),
    appName: Type.String(),
    executionId: Type.String(),
    logMessage: Type.String(),
  },
  { description: "Every template field (Butler's names); see templates/README.md" },
)

function eventSummary(domain: string, what: string): string {
  if (domain === 'unknown-task')
    return `A task ${what} and QRS could not say which type it is (the alert is incomplete)`
  const outcome = what === 'unknown' ? 'finished without a final status in QRS' : what
  return `A ${domain} task ${outcome} (from the log appender, enriched from QRS)`
}

const taskEvents: PublishedTopic[] = [
  ['reload', ['failed', 'aborted', 'succeeded']],
  ['preload', ['failed', 'aborted', 'succeeded']],
  ['external-program', ['failed', 'aborted', 'succeeded']],
  ['user-sync', ['failed', 'succeeded']],
  ['distribute', ['failed', 'succeeded', 'unknown']],
  ['unknown-task', ['failed', 'aborted', 'succeeded']],
].flatMap(([domain, whats]) =>
  (whats as string[]).map((what) => ({
    topic: `event/${domain}/${what}`,
    kind: 'event' as const,
    summary: eventSummary(domain as string, what),
    schema: alertData,
  })),
)

const receipt = Type.Object({
  alertId: Type.String(),
  deliveryId: Type.String(),
  kind: Type.String(),
  destination: Type.String(),
  recipient: Type.String(),
  attempts: Type.Integer(),
  error: Type.Optional(Type.String()),
})

export default defineModule<AlertState, AlertConfig>({
  area: 'alert',
  summary: 'Task alerts: the Sense log appender over UDP, QRS enrichment, durable email/webhook/MQTT/chat delivery',
  configSchema,
  needs: ['store', 'sense', 'mail', 'templates', 'outbox', 'chat'],
  async setup({ config, services, bus, topics, log, baseDir }) {
    // The module log already carries area: alert.
    const alog = log
    const { store, outbox } = services
    registerEmail(outbox, services.mail)
    registerWebhook(outbox)
    registerMqtt(outbox, bus)
    const history = new AlertHistory(
      store.collection('alert'),
      bus,
      topics,
      alog,
      config.historyLimit,
      store.shared ? store.collection<string>('alert-lock') : undefined,
    )
    const unfollow = history.follow(outbox)
    const pipeline = new AlertPipeline({
      config,
      sense: services.sense,
      outbox,
      templates: services.templates,
      bus,
      topics,
      log: alog,
      history,
      limiter: new RateLimiter(
        store.collection('alert-rate'),
        undefined,
        store.shared ? store.collection('alert-rate-lock') : undefined,
      ),
      baseDir,
      chat: chatPlanner(services.templates),
    })
    const shared = store.shared
      ? { claims: store.collection<string>('alert-claim'), instance: bus.id, claimMs: config.udp.sharedClaimMs }
      : undefined
    const intake = new Intake(
      store.collection('alert-intake'),
      config.udp,
      alog,
      (d, id, at) => pipeline.run(d, id, at),
      shared,
    )
    await intake.recover()
    intake.watch()
    const state: AlertState = {
      pipeline,
      history,
      intake,
      outbox,
      async stop() {
        await state.receiver?.close()
        intake.close()
        unfollow()
      },
    }
    if (config.udp.enabled) {
      const receiver = new TaskEventReceiver(config.udp, alog, (d) => {
        void intake.accept(d).catch((err: unknown) => alog.error({ err }, 'could not note a task event'))
      })
      try {
        state.udp = await receiver.start()
        state.receiver = receiver
        alog.info({ udp: state.udp }, 'listening for the Sense log appender')
      } catch (err) {
        // The rest of sensebus stays useful; alert/list shows port 0 and the log says why.
        alog.error({ err }, 'the task-event UDP port cannot be opened: no task alerts until it can')
      }
    }
    return state
  },
  async teardown(state) {
    await state.stop()
  },
  capabilities: [alertList, alertTest, alertRetry],
  publishes: [
    ...taskEvents,
    {
      topic: 'event/alert/{alertId}/delivered',
      kind: 'event',
      summary: 'One delivery of an alert (destination × recipient) was accepted by the receiver',
      schema: receipt,
    },
    {
      topic: 'event/alert/{alertId}/failed',
      kind: 'event',
      summary: 'One delivery attempt failed; it is retried with backoff unless it went to dead letters',
      schema: receipt,
    },
    {
      topic: 'event/alert/dead',
      kind: 'event',
      summary: 'A delivery ran out of attempts or was refused for good; alert/retry sends it again',
      schema: receipt,
    },
    {
      topic: 'event/alert/template-failed',
      kind: 'event',
      summary: 'A template did not render; the built-in basic message went out instead',
      schema: Type.Object({ alertId: Type.String(), errors: Type.Array(Type.String()) }),
    },
    {
      topic: 'state/alert/{alertId}',
      kind: 'state',
      summary: 'Retained summary of one alert and the state of each delivery',
      schema: Type.Object({ id: Type.String(), eventType: Type.String(), counts: Type.Object({}) }),
    },
  ],
})
