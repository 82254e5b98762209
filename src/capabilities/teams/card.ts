import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { closed } from '../../core/schema.js'
import type { AdaptiveCard } from '../../services/chat/index.js'
import { idempotencyKey, webhookName } from '../chat-posts/deliveries.js'

const optional = Type.Optional
const text = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description })

export const teamsPostRequest = closed({
  webhook: optional(webhookName),
  title: optional(text(500, 'A bold heading')),
  text: optional(text(20_000, 'The message; Teams renders its Markdown subset (**bold**, _italic_, lists, links)')),
  facts: optional(
    Type.Array(closed({ title: text(200, 'Label'), value: Type.String({ maxLength: 2000 }) }), {
      maxItems: 50,
      description: 'Label/value pairs shown as a table (an Adaptive Card FactSet)',
    }),
  ),
  links: optional(
    Type.Array(
      closed({ title: text(100, 'Button text'), url: Type.String({ pattern: '^https?://', maxLength: 2000 }) }),
      {
        maxItems: 6,
        description: 'Buttons that open a URL',
      },
    ),
  ),
  mentions: optional(
    Type.Array(
      closed({
        id: text(200, "The user's UPN (name@example.com) or Microsoft Entra object id"),
        name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^<>]+$', description: 'Name shown' }),
      }),
      { maxItems: 20, description: 'Users mentioned (notified) before the text' },
    ),
  ),
  card: optional(
    Type.Object(
      { type: Type.Literal('AdaptiveCard') },
      { description: 'A complete Adaptive Card, posted as given (instead of title, text, facts, links, mentions)' },
    ),
  ),
  key: optional(idempotencyKey),
})
export type TeamsPostRequest = Static<typeof teamsPostRequest>

const BUILT = ['title', 'text', 'facts', 'links', 'mentions'] as const

/**
 * The Adaptive Card for a teams/post request (the chat service wraps it in the Workflows envelope).
 * Mentions are `<at>name</at>` in a TextBlock plus an `msteams.entities` entry naming the user.
 */
export function teamsCard(req: TeamsPostRequest): AdaptiveCard {
  const given = BUILT.filter((k) => req[k] !== undefined)
  if (req.card) {
    if (given.length > 0)
      throw invalid(`card is posted as given: leave out ${given.join(', ')}`, `/${given[0]}`, 'must not go with card')
    return req.card
  }
  if (!req.title && !req.text && !req.facts?.length)
    throw invalid('A Teams post needs text, a title, facts or a card', '/text', 'is required')
  const mentions = req.mentions ?? []
  const lead = mentions.map((m) => `<at>${m.name}</at>`).join(' ')
  const body = [
    ...(req.title ? [{ type: 'TextBlock', text: req.title, weight: 'Bolder', size: 'Medium', wrap: true }] : []),
    ...(req.text || lead
      ? [{ type: 'TextBlock', text: [lead, req.text ?? ''].filter(Boolean).join(' '), wrap: true }]
      : []),
    ...(req.facts?.length ? [{ type: 'FactSet', facts: req.facts }] : []),
  ]
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(req.links?.length
      ? { actions: req.links.map((l) => ({ type: 'Action.OpenUrl', title: l.title, url: l.url })) }
      : {}),
    ...(mentions.length
      ? {
          msteams: {
            entities: mentions.map((m) => ({
              type: 'mention',
              text: `<at>${m.name}</at>`,
              mentioned: { id: m.id, name: m.name },
            })),
          },
        }
      : {}),
  }
}

function invalid(message: string, path: string, detail: string): CapabilityError {
  return new CapabilityError('VALIDATION_FAILED', message, { details: [{ path, message: detail }] })
}
