import { capabilityWith } from '../../core/capability.js'
import { POST_TIMEOUT_MS, type PostConfig } from '../chat-posts/config.js'
import { postResult } from '../chat-posts/deliveries.js'
import { type ChatPostState, chatPostModule } from '../chat-posts/module.js'
import { teamsCard, teamsPostRequest } from './card.js'

const post = capabilityWith<ChatPostState, PostConfig>()({
  name: 'teams/post',
  summary: 'Post an Adaptive Card to Teams through a configured Workflows webhook, durably (retried until delivered)',
  description:
    'Text alone is a basic post; title, facts, links and mentions make a formatted card; `card` posts one as ' +
    'given. Answers once queued, or with `wait: true` once delivered. Receipts on event/teams/<deliveryId>/….',
  request: teamsPostRequest,
  result: postResult,
  roles: ['loadscript'],
  timeoutMs: POST_TIMEOUT_MS,
  example: {
    request: {
      title: 'Reload failed',
      text: 'The **Sales** app did not reload.',
      facts: [{ title: 'Task', value: 'Reload Sales' }],
      links: [{ title: 'Open QMC', url: 'https://sense.example.com/qmc' }],
    },
    result: { deliveryId: '4c9a2d1e-7b1f-4a53-9d5e-2f1c3b7a8e90', webhook: 'default', state: 'pending', attempts: 0 },
  },
  async handle(req, ctx) {
    const { state, config } = ctx
    const card = teamsCard(req)
    return state.posts.post((meta) => ctx.services.chat.postTeams({ webhook: req.webhook ?? 'default' }, card, meta), {
      webhook: req.webhook,
      transaction: ctx.transaction,
      key: req.key,
      wait: ctx.wait,
      waitMs: config.waitMs,
      signal: ctx.signal,
    })
  },
})

export default chatPostModule(
  'teams',
  'Teams posts: Adaptive Cards (text, title, facts, links, mentions) through Workflows webhooks; receipts',
  post,
)
