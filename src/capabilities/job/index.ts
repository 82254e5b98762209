import { Type } from '@sinclair/typebox'
import { defineCapability, defineModule } from '../../core/capability.js'
import type { JobRecord } from '../../core/jobs.js'
import { closed, isoDateTime, section } from '../../core/schema.js'

const jobId = Type.String({ format: 'uuid', description: 'The id a long-running request answered with' })
const state = Type.Union(['running', 'completed', 'failed', 'cancelled', 'interrupted'].map((s) => Type.Literal(s)))

/** What `<base>/state/job/<id>` holds and `job/status` answers. */
export const jobRecord = Type.Object({
  id: jobId,
  capability: Type.String(),
  state,
  startedAt: isoDateTime(),
  endedAt: Type.Optional(isoDateTime()),
  owner: Type.Object({
    via: Type.String(),
    user: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    tokenName: Type.Optional(Type.String()),
  }),
  transaction: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  progress: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), details: Type.Unknown() })),
})

const example: JobRecord = {
  id: '0b6f1f0e-8b1e-4a43-9b0a-51d5c3c0c0de',
  capability: 'app/reload',
  state: 'running',
  startedAt: '2026-11-28T03:00:00.000Z',
  owner: { via: 'http', user: 'load-scripts' },
  progress: { line: 'Sales << sales_transactions' },
}

const jobStatus = defineCapability({
  name: 'job/status',
  summary: "A job's latest state: running, completed (with its result), failed, cancelled or interrupted",
  description: 'Callers see their own jobs; admins see every job. Finished jobs are kept for jobs.retainMs.',
  request: closed({ jobId }),
  result: jobRecord,
  roles: ['loadscript'],
  example: { request: { jobId: example.id }, result: example as never },
  async handle(req, { jobs, identity }) {
    return jobs.get(req.jobId, identity) as never
  },
})

const jobCancel = defineCapability({
  name: 'job/cancel',
  summary: 'Stop a running job (your own, or any as admin); it ends cancelled',
  request: closed({ jobId }),
  result: closed({ jobId, state }),
  roles: ['loadscript'],
  example: { request: { jobId: example.id }, result: { jobId: example.id, state: 'running' } },
  async handle(req, { jobs, identity }) {
    const record = jobs.cancel(req.jobId, identity)
    return { jobId: record.id, state: record.state }
  },
})

const jobList = defineCapability({
  name: 'job/list',
  summary: 'Running and recently finished jobs: your own, or all of them as admin',
  request: closed({ state: Type.Optional(state), capability: Type.Optional(Type.String()) }),
  result: closed({ jobs: Type.Array(jobRecord) }),
  roles: ['loadscript'],
  example: { request: { state: 'running' }, result: { jobs: [example as never] } },
  async handle(req, { jobs, identity }) {
    const all = jobs
      .list(identity)
      .filter(
        (j) =>
          (req.state === undefined || j.state === req.state) &&
          (req.capability === undefined || j.capability === req.capability),
      )
    return { jobs: all as never[] }
  },
})

export default defineModule({
  area: 'job',
  summary: 'Long-running requests (reloads, task runs, dumps): their state, and cancelling them',
  configSchema: section({}),
  capabilities: [jobStatus, jobCancel, jobList],
  publishes: [
    {
      topic: 'state/job/{jobId}',
      kind: 'state',
      summary: "A job's latest state (retained; cleared jobs.retainMs " + 'after it ends)',
      schema: jobRecord,
      example,
    },
    {
      topic: 'event/job/{jobId}/progress',
      kind: 'event',
      summary: 'Progress of a running job (what the capability reports, e.g. reload log lines)',
      schema: Type.Object({ jobId, capability: Type.String() }, { additionalProperties: true }),
    },
    {
      topic: 'event/job/{jobId}/completed',
      kind: 'event',
      summary: 'A job finished; data.result is what wait: true would have answered',
      schema: Type.Object({
        jobId,
        capability: Type.String(),
        state,
        durationMs: Type.Number(),
        result: Type.Unknown(),
      }),
    },
    {
      topic: 'event/job/{jobId}/failed',
      kind: 'event',
      summary: 'A job failed (timeout, error, interrupted by shutdown); data.error has the code',
      schema: Type.Object({
        jobId,
        capability: Type.String(),
        state,
        durationMs: Type.Number(),
        error: Type.Unknown(),
      }),
    },
    {
      topic: 'event/job/{jobId}/cancelled',
      kind: 'event',
      summary: 'A job was cancelled with job/cancel',
      schema: Type.Object({
        jobId,
        capability: Type.String(),
        state,
        durationMs: Type.Number(),
        error: Type.Unknown(),
      }),
    },
  ],
})
