import type { OutboxItem, Outcome } from '../outbox/types.js'

/**
 * Where a post goes: a webhook named in config (`chat.slack.webhooks.<name>`), or a URL given with
 * the call. A named webhook keeps the secret URL out of the outbox item; a given URL is stored in it.
 */
export interface ChatTarget {
  /** A configured webhook name; `default` when neither this nor `url` is given. */
  webhook?: string
  url?: string
}

/** A Slack incoming-webhook body (https://api.slack.com/messaging/webhooks). */
export interface SlackMessage {
  text?: string
  blocks?: unknown[]
  channel?: string
  username?: string
  icon_emoji?: string
}

/** A Microsoft Adaptive Card (https://adaptivecards.io), posted to a Teams Workflows webhook. */
export type AdaptiveCard = Record<string, unknown>

/**
 * What the owner of a post records with it (a capability name, an alert id). `key` is the idempotency
 * key: posting the same key twice keeps one delivery; without it every call is a new post.
 */
export type ChatMeta = Record<string, unknown> & { key?: string }

export type ChatKind = 'slack' | 'teams'

export interface SlackPayload {
  target: ChatTarget
  message: SlackMessage
}

export interface TeamsPayload {
  target: ChatTarget
  card: AdaptiveCard
}

export interface ChatService {
  /** Durable once it resolves; the item's id is the receipt id. */
  postSlack(target: ChatTarget, message: SlackMessage, meta?: ChatMeta): Promise<OutboxItem<SlackPayload>>
  postTeams(target: ChatTarget, card: AdaptiveCard, meta?: ChatMeta): Promise<OutboxItem<TeamsPayload>>
  /** Whether a target can be delivered to at all (a URL given, or the named webhook configured). */
  resolvable(kind: ChatKind, target: ChatTarget): boolean
  /** Outcomes of Slack and Teams deliveries only; items carry no webhook URL the caller did not give. */
  onOutcome(listener: (item: OutboxItem, outcome: Outcome) => void): () => void
}
