import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { closed, section } from '../../src/core/schema.js'

/**
 * A test-only capability module, as a contributor would add one: its own folder's worth of code,
 * needing the sense and outbox services, long-running (a job), a 5 s timeout and a default role.
 */
export function probeModule() {
  const delivered: Array<{ note: string; by: string | null }> = []
  return {
    delivered,
    module: defineModule({
      area: 'probe',
      summary: 'platform probe',
      configSchema: section({}),
      needs: ['sense', 'outbox'],
      async setup({ services }) {
        services.outbox.register<{ note: string; by: string | null }>('probe', async (item) => {
          delivered.push(item.payload)
          return { accepted: true }
        })
        return {}
      },
      capabilities: [
        defineCapability({
          name: 'probe/run',
          summary: 'reports who asked, through which door, and what the services say',
          request: closed({ ms: Type.Integer({ minimum: 0 }), note: Type.String() }),
          result: Type.Object({}, { additionalProperties: true }),
          roles: ['loadscript'],
          timeoutMs: 5_000,
          job: {},
          async handle(req, ctx) {
            ctx.progress({ step: 'started', note: req.note })
            await sleep(req.ms, undefined, { signal: ctx.signal })
            const [item] = await ctx.services.outbox.enqueue([
              {
                kind: 'probe',
                key: `probe-${ctx.job?.id}`,
                payload: { note: req.note, by: ctx.identity.user ?? null },
              },
            ])
            return {
              via: ctx.identity.via,
              user: ctx.identity.user ?? null,
              sense: ctx.services.sense.state(),
              outboxItem: item?.id,
            }
          },
        }),
        defineCapability({
          name: 'probe/admin-only',
          summary: 'no grantable role: admins only',
          request: closed({}),
          result: closed({ ok: Type.Boolean() }),
          async handle() {
            return { ok: true }
          },
        }),
        defineCapability({
          name: 'probe/slow',
          summary: 'declares 1.5 s, longer than the bus default the test sets',
          request: closed({ ms: Type.Integer({ minimum: 0 }) }),
          result: closed({ slept: Type.Integer() }),
          timeoutMs: 1_500,
          async handle(req, { signal }) {
            await sleep(req.ms, undefined, { signal })
            return { slept: req.ms }
          },
        }),
      ],
    }),
  }
}
