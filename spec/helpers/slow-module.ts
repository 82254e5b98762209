import { defineCapability, defineModule } from '../../src/core/capability.js'
import { CapabilityError } from '../../src/core/errors.js'

/** A test-only module: sleeps on request, throws on request, and reports progress. */
export const testModule = defineModule({
  area: 'test',
  summary: 'test helpers',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  capabilities: [
    defineCapability<{ ms: number }, { slept: number }>({
      name: 'test/sleep',
      summary: 'sleep',
      request: {
        type: 'object',
        additionalProperties: false,
        required: ['ms'],
        properties: { ms: { type: 'integer', minimum: 0 } },
      },
      result: { type: 'object' },
      timeoutMs: 1500,
      async handle(req, ctx) {
        ctx.progress({ phase: 'sleeping' })
        await new Promise((r) => setTimeout(r, req.ms))
        return { slept: req.ms }
      },
    }),
    defineCapability<{ kind: string }, never>({
      name: 'test/throw',
      summary: 'throw',
      request: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: { kind: { enum: ['coded', 'bug'] } },
      },
      result: { type: 'object' },
      async handle(req) {
        if (req.kind === 'coded') throw new CapabilityError('CONFLICT', 'a coded failure', { details: { why: 'test' } })
        throw new Error('secret internal detail')
      },
    }),
  ],
})
