import { Type } from '@sinclair/typebox'
import { capabilityWith } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { isObject, POST_TIMEOUT_MS, type PostConfig } from '../chat-posts/config.js'
import { postResult } from '../chat-posts/deliveries.js'
import { type ChatPostState, chatPostModule } from '../chat-posts/module.js'
import { type SlackPostRequest, slackMessage, slackPostRequest } from './message.js'

/** Butler's body fields that must be there (its handler answered 400 without them). */
const BUTLER_REQUIRED = ['channel', 'from_user', 'msg'] as const

/**
 * Butler's `PUT /v4/slackpostmessage` body → a slack/post request, in Butler's terms: the message as
 * plain text (Butler posted a plain_text section), empty sender and emoji meaning none.
 */
function fromButler(body: unknown): SlackPostRequest {
  const b = isObject(body) ? body : {}
  const missing = BUTLER_REQUIRED.filter((k) => b[k] === undefined)
  if (missing.length > 0) {
    throw new CapabilityError('VALIDATION_FAILED', 'Required parameter(s) missing', {
      details: missing.map((k) => ({ path: `/${k}`, message: 'is required' })),
    })
  }
  return {
    channel: b.channel,
    username: b.from_user,
    text: b.msg,
    format: 'plain',
    ...(b.emoji !== undefined ? { iconEmoji: b.emoji } : {}),
  } as SlackPostRequest
}

const post = capabilityWith<ChatPostState, PostConfig>()({
  name: 'slack/post',
  summary: 'Post to Slack through a configured incoming webhook, durably (retried until delivered)',
  description:
    'Answers once the post is queued in the outbox (state pending), or with `wait: true` once it is delivered ' +
    '(DELIVERY_FAILED when Slack refuses it). Every attempt publishes a receipt on event/slack/<deliveryId>/….',
  request: slackPostRequest,
  result: postResult,
  roles: ['loadscript'],
  timeoutMs: POST_TIMEOUT_MS,
  example: {
    request: { text: 'Reload of *Sales* failed', mentions: ['U024BE7LH'], channel: '#ops' },
    result: { deliveryId: '4c9a2d1e-7b1f-4a53-9d5e-2f1c3b7a8e90', webhook: 'default', state: 'pending', attempts: 0 },
  },
  routes: [
    {
      method: 'PUT',
      path: '/v4/slackpostmessage',
      butlerFlag: 'slackPostMessage',
      summary: "Butler's Slack post: {channel, from_user, msg, emoji}, posted as plain text to the default webhook",
      toRequest: ({ body }) => fromButler(body),
      status: 201,
      response: Type.Object({
        channel: Type.Optional(Type.String()),
        from_user: Type.Optional(Type.String()),
        msg: Type.String(),
        emoji: Type.Optional(Type.String()),
      }),
      // Butler echoed the four fields it knows, as it got them.
      toBody: (_d, req) => ({
        channel: req.channel,
        from_user: req.username,
        msg: req.text,
        ...(req.iconEmoji !== undefined ? { emoji: req.iconEmoji } : {}),
      }),
    },
  ],
  async handle(req, ctx) {
    const { state, config } = ctx
    const message = slackMessage(req)
    return state.posts.post(
      (meta) => ctx.services.chat.postSlack({ webhook: req.webhook ?? 'default' }, message, meta),
      {
        webhook: req.webhook,
        transaction: ctx.transaction,
        key: req.key,
        wait: ctx.wait,
        waitMs: config.waitMs,
        signal: ctx.signal,
      },
    )
  },
})

export default chatPostModule(
  'slack',
  'Slack posts (Butler slackpostmessage): mrkdwn or plain text, blocks, mentions; outbox delivery, receipts',
  post,
)
