import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { capabilityWith } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { closed } from '../../core/schema.js'
import type { AlertConfig, Destination } from './config.js'
import { buildFields } from './fields.js'
import { summary } from './history.js'
import type { AlertState } from './state.js'

const alertCapability = capabilityWith<AlertState, AlertConfig>()

const delivery = Type.Object({
  itemId: Type.Optional(Type.String()),
  kind: Type.String(),
  destination: Type.String(),
  recipient: Type.String(),
  state: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Optional(Type.String()),
})

const alertSummary = Type.Object({
  id: Type.String(),
  eventType: Type.String(),
  taskId: Type.String(),
  taskName: Type.String(),
  appName: Type.String(),
  receivedAt: Type.String(),
  incomplete: Type.Boolean(),
  problems: Type.Array(Type.String()),
  templateErrors: Type.Array(Type.String()),
  deliveries: Type.Array(delivery),
  counts: Type.Object({
    total: Type.Integer(),
    delivered: Type.Integer(),
    pending: Type.Integer(),
    dead: Type.Integer(),
    suppressed: Type.Integer(),
  }),
})

export const alertList = alertCapability({
  name: 'alert/list',
  summary: 'Recent alerts with the state of every delivery, and the UDP receiver counters',
  request: closed({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }),
  result: closed({
    alerts: Type.Array(alertSummary),
    receiver: Type.Record(Type.String(), Type.Integer()),
  }),
  roles: ['observer'],
  async handle(req, { state }) {
    const alerts = (await state.history.list(req.limit ?? 50)).map(summary)
    const receiver = {
      ...(state.receiver?.stats ?? {}),
      port: state.udp?.port ?? 0,
      duplicates: state.intake.duplicates,
      failures: state.intake.failures,
    }
    return { alerts, receiver }
  },
})

const SAMPLE = {
  hostName: 'sense-node-1',
  taskName: 'Reload of Sample app',
  appName: 'Sample app',
  user: 'INTERNAL\\sa_scheduler',
  taskId: '00000000-0000-4000-8000-000000000001',
  appId: '00000000-0000-4000-8000-000000000002',
  logLevel: 'INFO',
  logMessage: 'Max retries reached',
}

export const alertTest = alertCapability({
  name: 'alert/test',
  summary: 'Send a sample alert through one configured destination, or an email to one address',
  request: closed({
    destination: Type.Optional(Type.String({ minLength: 1, description: 'A name under destinations' })),
    to: Type.Optional(Type.String({ minLength: 3, description: 'An email address (instead of a destination)' })),
    eventType: Type.String({ pattern: '^[a-z-]+/[a-z]+$', default: 'reload/failed' }),
  }),
  result: alertSummary,
  example: {
    request: { destination: 'ops-webhook', eventType: 'reload/failed' },
    result: {
      id: 'test-1d7f…',
      eventType: 'reload/failed',
      taskId: SAMPLE.taskId,
      taskName: SAMPLE.taskName,
      appName: SAMPLE.appName,
      receivedAt: '2026-12-01T10:00:00.000Z',
      incomplete: false,
      problems: [],
      templateErrors: [],
      deliveries: [
        {
          itemId: '9b…',
          kind: 'alert-webhook',
          destination: 'ops-webhook',
          recipient: 'https://…',
          state: 'pending',
          attempts: 0,
        },
      ],
      counts: { total: 1, delivered: 0, pending: 1, dead: 0, suppressed: 0 },
    },
  },
  async handle(req, { state, config }) {
    let only: { name: string; destination: Destination }
    if (req.to) only = { name: 'test-email', destination: { type: 'email', to: [req.to] } }
    else if (req.destination) {
      const d = config.destinations[req.destination]
      if (!d) throw new CapabilityError('NOT_FOUND', `No destination '${req.destination}' in capabilities.alert`)
      only = { name: req.destination, destination: d }
    } else throw new CapabilityError('VALIDATION_FAILED', 'Give a destination or an email address (to)')
    const eventType = req.eventType ?? 'reload/failed'
    const alertId = `test-${randomUUID()}`
    const now = new Date()
    const datagram = {
      kind: 'failed' as const,
      typeString: 'test',
      ...SAMPLE,
      logTimeStamp: now.toISOString().replace('T', ' ').replace('Z', '').replace('.', ','),
      executionId: randomUUID(),
    }
    const fields = buildFields(
      { alertId, eventType, receivedAt: now.toISOString() },
      datagram,
      { problems: [] },
      config,
    )
    const [domain = '', what = ''] = eventType.split('/')
    const data = { ...fields, eventTitle: `Test alert: ${domain} ${what}` }
    // A test must arrive: no rate limit for it.
    const record = await state.pipeline.dispatch(
      data,
      { problems: [] },
      { ...only, destination: { ...only.destination, rateLimitMs: 0 } },
    )
    return summary(record)
  },
})

export const alertRetry = alertCapability({
  name: 'alert/retry',
  summary: 'Send dead-lettered alert deliveries again: one delivery, one alert, or all of them',
  request: closed({
    alertId: Type.Optional(Type.String({ minLength: 1 })),
    deliveryId: Type.Optional(Type.String({ minLength: 1 })),
  }),
  result: closed({ retried: Type.Array(Type.String()) }),
  example: { request: { alertId: '14a81bf5-f81c-4047-b1a1-193b0920de28' }, result: { retried: ['9b2c…'] } },
  async handle(req, { state }) {
    let ids: string[]
    if (req.deliveryId) ids = [req.deliveryId]
    else if (req.alertId) {
      const record = await state.history.get(req.alertId)
      if (!record) throw new CapabilityError('NOT_FOUND', `No alert '${req.alertId}'`)
      ids = record.deliveries.filter((d) => d.state === 'dead' && d.itemId).map((d) => d.itemId as string)
    } else {
      const dead = await state.outbox.list({ state: 'dead', limit: 10_000 })
      ids = dead.filter((i) => typeof i.meta.alertId === 'string').map((i) => i.id)
    }
    const retried: string[] = []
    for (const id of ids) {
      const item = await state.outbox.get(id)
      if (!item || typeof item.meta.alertId !== 'string') {
        if (req.deliveryId) throw new CapabilityError('NOT_FOUND', `No alert delivery '${id}'`)
        continue
      }
      if (item.state === 'delivered') continue
      await state.outbox.retry(id)
      retried.push(id)
    }
    return { retried }
  },
})
