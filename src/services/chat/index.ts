import { randomUUID } from 'node:crypto'
import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { limit, section } from '../../core/schema.js'
import { defineService } from '../define.js'
import { DeliveryError } from '../outbox/errors.js'
import type { OutboxItem } from '../outbox/types.js'
import { postWebhook } from './post-webhook.js'
import type { ChatKind, ChatMeta, ChatService, ChatTarget, SlackPayload, TeamsPayload } from './types.js'

export type {
  AdaptiveCard,
  ChatKind,
  ChatMeta,
  ChatService,
  ChatTarget,
  SlackMessage,
  SlackPayload,
  TeamsPayload,
} from './types.js'

declare module '../../core/services.js' {
  interface Services {
    chat: ChatService
  }
}

const webhooks = (what: string) =>
  Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
    default: {},
    description: `Named ${what} webhook URLs (secrets: never logged); \`default\` is used when a post names none`,
  })

export const chatConfigSchema = section({
  timeoutMs: limit(10_000, 'How long one webhook call may take'),
  maxAttempts: Type.Optional(limit(10, 'Attempts per post before it moves to dead letters (default: outbox)')),
  slack: section({
    webhooks: webhooks('Slack incoming-'),
    username: Type.Optional(Type.String({ minLength: 1, description: 'Sender name when a post gives none' })),
    iconEmoji: Type.Optional(
      Type.String({ minLength: 1, description: 'Icon (`:robot_face:`) when a post gives none' }),
    ),
  }),
  teams: section({ webhooks: webhooks('Teams Workflows') }),
})
export type ChatConfig = Static<typeof chatConfigSchema>

/** The Workflows "post to a channel when a webhook request is received" envelope around an Adaptive Card. */
export function teamsEnvelope(card: Record<string, unknown>) {
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  }
}

/**
 * Slack and Teams posts through the durable outbox: a post is stored before the call returns, retried
 * with backoff while the receiver is down or throttling, and dead-lettered when it refuses the post.
 */
export const chatService = defineService<'chat', ChatConfig>({
  name: 'chat',
  configSchema: chatConfigSchema,
  needs: ['outbox'],
  async create({ config, services }) {
    const { outbox } = services
    const configured = { slack: config.slack.webhooks, teams: config.teams.webhooks }
    // Own keys only: a name like `constructor` or `__proto__` must not find something on Object.prototype.
    const urlOf = (kind: ChatKind, target: ChatTarget): string | undefined => {
      const name = target.webhook ?? 'default'
      return target.url ?? (Object.hasOwn(configured[kind], name) ? configured[kind][name] : undefined)
    }
    const requireUrl = (kind: ChatKind, target: ChatTarget): string => {
      const url = urlOf(kind, target)
      if (url === undefined)
        throw new DeliveryError(`${kind}: no webhook '${target.webhook ?? 'default'}' is configured`, {
          permanent: true,
        })
      return url
    }
    const kindOptions = {
      timeoutMs: config.timeoutMs + 1000,
      ...(config.maxAttempts !== undefined ? { maxAttempts: config.maxAttempts } : {}),
    }

    outbox.register<SlackPayload>(
      'slack',
      async (item, signal) => {
        const { slack } = config
        const body = {
          ...(slack.username ? { username: slack.username } : {}),
          ...(slack.iconEmoji ? { icon_emoji: slack.iconEmoji } : {}),
          ...item.payload.message,
        }
        const res = await postWebhook('Slack', requireUrl('slack', item.payload.target), body, signal, config.timeoutMs)
        return { status: res.status, response: res.response }
      },
      kindOptions,
    )
    outbox.register<TeamsPayload>(
      'teams',
      async (item, signal) => {
        const url = requireUrl('teams', item.payload.target)
        const res = await postWebhook('Teams', url, teamsEnvelope(item.payload.card), signal, config.timeoutMs)
        return { status: res.status }
      },
      kindOptions,
    )

    async function post<P>(kind: ChatKind, target: ChatTarget, payload: P, meta: ChatMeta = {}) {
      const name = target.webhook ?? 'default'
      if (urlOf(kind, target) === undefined)
        throw new CapabilityError('NOT_CONFIGURED', `No ${kind} webhook '${name}': set chat.${kind}.webhooks.${name}`)
      const { key, ...rest } = meta
      const [item] = await outbox.enqueue<P>([{ kind, key: `${kind}:${key ?? randomUUID()}`, payload, meta: rest }])
      if (!item) throw new CapabilityError('INTERNAL', 'The outbox did not keep the post')
      return item
    }

    return {
      postSlack: (target, message, meta) => post<SlackPayload>('slack', target, { target, message }, meta),
      postTeams: (target, card, meta) => post<TeamsPayload>('teams', target, { target, card }, meta),
      resolvable: (kind, target) => urlOf(kind, target) !== undefined,
      onOutcome: (listener) =>
        outbox.onOutcome((item: OutboxItem, outcome) => {
          if (item.kind === 'slack' || item.kind === 'teams') listener(item, outcome)
        }),
    }
  },
})
