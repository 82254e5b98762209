import { type Capability, type CapabilityModule, defineModule } from '../../core/capability.js'
import type { ChatKind } from '../../services/chat/index.js'
import { type PostConfig, postConfigSchema } from './config.js'
import { ChatPosts, receiptTopics } from './deliveries.js'

/** What a chat-post capability keeps: the outbox deliveries it follows for receipts. */
export interface ChatPostState {
  posts: ChatPosts
  stop(): void
}

/** A chat-post module (slack, teams): one capability `<kind>/post`, delivered through the outbox with receipts. */
export function chatPostModule(
  kind: ChatKind,
  summary: string,
  post: Capability,
): CapabilityModule<ChatPostState, PostConfig> {
  return defineModule<ChatPostState, PostConfig>({
    area: kind,
    summary,
    configSchema: postConfigSchema,
    needs: ['chat', 'outbox'],
    async setup({ services, bus, topics, log }) {
      const posts = new ChatPosts({
        kind,
        capability: `${kind}/post`,
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
    publishes: receiptTopics(kind),
  })
}
