import { capabilityWith, defineModule } from '../../core/capability.js'
import { POST_TIMEOUT_MS, type PostConfig, postConfigSchema } from '../chat-posts/config.js'
import { ChatPosts, postResult, receiptTopics } from '../chat-posts/deliveries.js'
import { teamsCard, teamsPostRequest } from './card.js'

interface TeamsState {
  posts: ChatPosts
  stop(): void
}

const post = capabilityWith<TeamsState, PostConfig>()({
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

export default defineModule<TeamsState, PostConfig>({
  area: 'teams',
  summary: 'Teams posts: Adaptive Cards (text, title, facts, links, mentions) through Workflows webhooks; receipts',
  configSchema: postConfigSchema,
  needs: ['chat', 'outbox'],
  async setup({ services, bus, topics, log }) {
    const posts = new ChatPosts({
      kind: 'teams',
      capability: 'teams/post',
      chat: services.chat,
      outbox: services.outbox,
      bus,
      topics,
      log,
    })
    return { posts, stop: posts.follow() }
  },
  async teardown(state) {
    state.stop()
  },
  capabilities: [post],
  publishes: receiptTopics('teams'),
})
