import { type Static, Type } from '@sinclair/typebox'
import { section } from '../../core/schema.js'

/** How long a post capability may run: the longest `wait: true` plus room to answer. */
export const POST_TIMEOUT_MS = 65_000

/** `capabilities.slack` and `capabilities.teams`: the webhooks themselves live under `chat.<kind>.webhooks`. */
export const postConfigSchema = section({
  waitMs: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 20_000,
    description: 'How long `wait: true` holds the answer for the delivery; after that it answers state pending',
  }),
})
export type PostConfig = Static<typeof postConfigSchema>

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
