import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { closed } from '../../core/schema.js'
import type { SlackMessage } from '../../services/chat/index.js'
import { idempotencyKey, webhookName } from '../chat-posts/deliveries.js'

/** Slack's own ceilings (api.slack.com/reference/block-kit): longer posts are refused or cut by Slack. */
export const SLACK_MAX_TEXT = 40_000
const SLACK_MAX_BLOCKS = 50
const SECTION_MAX_TEXT = 3000

const optional = Type.Optional

export const slackPostRequest = closed({
  webhook: optional(webhookName),
  text: optional(
    Type.String({
      minLength: 1,
      maxLength: SLACK_MAX_TEXT,
      description: 'The message; Slack mrkdwn (`*bold*`, `<https://x|link>`, `<@U123>`) unless format is plain',
    }),
  ),
  format: optional(
    Type.Union([Type.Literal('mrkdwn'), Type.Literal('plain')], {
      description: 'mrkdwn (default): text is Slack markup. plain: shown exactly as written (what Butler sent)',
    }),
  ),
  blocks: optional(
    Type.Array(Type.Object({ type: Type.String({ minLength: 1 }) }), {
      maxItems: SLACK_MAX_BLOCKS,
      description: 'Block Kit blocks, posted as given after the text; text is then the notification fallback',
    }),
  ),
  mentions: optional(
    Type.Array(Type.String({ pattern: '^([UW][A-Z0-9]{2,20}|here|channel|everyone)$' }), {
      maxItems: 50,
      uniqueItems: true,
      description: 'Slack member ids (U…, W…) or here/channel/everyone, mentioned before the text',
    }),
  ),
  channel: optional(
    Type.String({ maxLength: 100, description: '#channel or @user; only legacy webhooks honour it; empty: none' }),
  ),
  username: optional(Type.String({ maxLength: 80, description: 'Sender name; empty or absent: chat.slack.username' })),
  iconEmoji: optional(
    Type.String({
      pattern: "^(:?[a-z0-9_+'-]+:?)?$",
      maxLength: 100,
      description: 'thumbsup or :thumbsup:; empty or absent: chat.slack.iconEmoji',
    }),
  ),
  key: optional(idempotencyKey),
})
export type SlackPostRequest = Static<typeof slackPostRequest>

/** mrkdwn's three control characters, so plain text shows as written (api.slack.com: escaping text). */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

function mentionOf(who: string): string {
  return /^[UW]/.test(who) ? `<@${who}>` : `<!${who}>`
}

/** Slack wants `:name:`; Butler's scripts often pass the bare name. */
export function emojiOf(emoji: string): string {
  return `:${emoji.replace(/^:|:$/g, '')}:`
}

function chunks(text: string, size: number): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

const section = (type: 'mrkdwn' | 'plain_text', text: string) => ({
  type: 'section',
  text: type === 'plain_text' ? { type, text, emoji: true } : { type, text },
})

/**
 * The incoming-webhook body for a slack/post request. Plain text goes into plain_text sections (as
 * Butler posted it) with an escaped fallback; mentions need mrkdwn, so they get a section of their own
 * whenever the message has blocks (a mention only in the fallback text would not show).
 */
export function slackMessage(req: SlackPostRequest): SlackMessage {
  if (req.text === undefined && req.blocks === undefined) {
    throw new CapabilityError('VALIDATION_FAILED', 'A Slack post needs text or blocks', {
      details: [{ path: '/text', message: 'is required when there are no blocks' }],
    })
  }
  const mentions = (req.mentions ?? []).map(mentionOf).join(' ')
  const plain = req.format === 'plain'
  const text = req.text ?? ''
  const blocks: unknown[] = []
  if (mentions && (plain || req.blocks)) blocks.push(section('mrkdwn', mentions))
  if (plain) for (const part of chunks(text, SECTION_MAX_TEXT)) blocks.push(section('plain_text', part))
  blocks.push(...(req.blocks ?? []))
  if (blocks.length > SLACK_MAX_BLOCKS) {
    throw new CapabilityError('VALIDATION_FAILED', `The post would have ${blocks.length} blocks; Slack takes 50`, {
      details: [{ path: '/blocks', message: `must make at most ${SLACK_MAX_BLOCKS} blocks with the text` }],
    })
  }
  const fallback = [mentions, plain ? escapeMrkdwn(text) : text].filter(Boolean).join(' ')
  return {
    ...(fallback ? { text: fallback } : {}),
    ...(blocks.length ? { blocks } : {}),
    ...(req.channel ? { channel: req.channel } : {}),
    ...(req.username ? { username: req.username } : {}),
    ...(req.iconEmoji ? { icon_emoji: emojiOf(req.iconEmoji) } : {}),
  }
}
