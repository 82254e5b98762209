import { Type } from '@sinclair/typebox'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { CapabilityError } from '../../src/core/errors.js'
import { closed, section } from '../../src/core/schema.js'

/** A test-only module: sleeps on request, throws on request, and reports progress. */
export const testModule = defineModule({
  area: 'test',
  summary: 'test helpers',
  configSchema: section({}),
  capabilities: [
    defineCapability({
      name: 'test/sleep',
      summary: 'sleep',
      request: closed({ ms: Type.Integer({ minimum: 0 }) }),
      result: Type.Object({ slept: Type.Integer() }),
      timeoutMs: 1500,
      async handle(req, ctx) {
        ctx.progress({ phase: 'sleeping' })
        await new Promise((r) => setTimeout(r, req.ms))
        return { slept: req.ms }
      },
    }),
    defineCapability({
      name: 'test/wait-abort',
      summary: 'waits for its signal, then tells what aborted it on sense/event/test/aborted',
      request: closed({}),
      result: Type.Object({}),
      timeoutMs: 300,
      async handle(_req, ctx) {
        const signal = ctx.signal
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        const code = (signal.reason as { code?: string } | undefined)?.code
        await ctx.bus.publish(ctx.topics.event('test', 'aborted'), { code, transaction: ctx.transaction })
        return {}
      },
    }),
    defineCapability({
      name: 'test/throw',
      summary: 'throw',
      request: closed({ kind: Type.Union([Type.Literal('coded'), Type.Literal('bug')]) }),
      result: Type.Object({}),
      async handle(req) {
        if (req.kind === 'coded') throw new CapabilityError('CONFLICT', 'a coded failure', { details: { why: 'test' } })
        throw new Error('secret internal detail')
      },
    }),
  ],
})
