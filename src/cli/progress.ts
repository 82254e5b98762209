import type { MqttBus } from '../broker/mqtt-bus.js'
import type { Envelope, Transaction } from '../core/envelope.js'

export interface Progress {
  /** The final lines from the answer: each run's end (progress stops before it) and how the job ended. */
  finish(env: Envelope): void
  stop(): Promise<void>
}

/** Progress events that arrive before their job is known are held, at most this many. */
const MAX_EARLY = 200

/**
 * Follows the job a `--wait` request starts and prints its progress on stderr, one human-readable line
 * per step, so stdout keeps only the final envelope (pipes and exit codes stay as without --wait).
 * The job is found by the request's transaction in its retained record (`<base>/state/job/<id>`);
 * progress events carry only the job id, so those that come first are held until the record arrives.
 * Progress is a courtesy: a broker that refuses the subscriptions just means no progress lines.
 */
export async function followProgress(
  bus: MqttBus,
  transaction: Transaction,
  write: (line: string) => void,
): Promise<Progress> {
  let jobId: string | undefined
  const early: { jobId: string; data: Record<string, unknown> }[] = []
  const last = new Map<string, string>()
  const show = (data: Record<string, unknown>) => {
    for (const line of describe(data, last)) write(`${clock()} ${line}`)
  }
  const stops: (() => Promise<void>)[] = []
  const on = async (filter: string, handle: (topic: string, body: Record<string, unknown>) => void) => {
    try {
      stops.push(
        await bus.subscribe(filter, (msg) => {
          if (msg.payload.length === 0) return
          try {
            handle(msg.topic, JSON.parse(msg.payload.toString('utf8')) as Record<string, unknown>)
          } catch {
            // Not JSON: nothing of ours.
          }
        }),
      )
    } catch {
      // Refused by the broker's policy: run without progress lines.
    }
  }
  await on(bus.topics.jobEvent('+', 'progress'), (_topic, event) => {
    const data = (event.data ?? {}) as Record<string, unknown>
    if (typeof data.jobId !== 'string') return
    if (jobId === undefined) {
      if (early.length < MAX_EARLY) early.push({ jobId: data.jobId, data })
    } else if (data.jobId === jobId) show(data)
  })
  await on(bus.topics.jobState('+'), (_topic, record) => {
    if (jobId !== undefined || record.transaction !== transaction || typeof record.id !== 'string') return
    jobId = record.id
    write(`${clock()} job ${jobId} (${String(record.capability)}) is running`)
    for (const e of early.splice(0)) if (e.jobId === jobId) show(e.data)
  })
  return {
    finish(env) {
      const data = (env.status === 'ok' ? env.data : env.error.details) as Record<string, unknown> | undefined
      const runs = data && Array.isArray(data.executions) ? (data.executions as Record<string, unknown>[]) : []
      for (const run of runs) show(run)
      const how = env.status === 'ok' ? `completed${verdict(data)}` : `failed: ${env.error.code} ${env.error.message}`
      // A capability that ran no job (util/ping --wait) has nothing to close.
      if (jobId !== undefined) write(`${clock()} job ${jobId} ${how}`)
    },
    async stop() {
      for (const stop of stops) await stop().catch(() => undefined)
    },
  }
}

const clock = () => new Date().toISOString().slice(11, 19)

/**
 * One progress report as lines: task runs (task/start) by task and status, printed when the status
 * changes; reload lines (app/reload) as the engine wrote them; anything else as compact JSON.
 */
function describe(data: Record<string, unknown>, last: Map<string, string>): string[] {
  const { jobId: _job, capability: _cap, ...rest } = data
  if (typeof rest.executionId === 'string' && typeof rest.status === 'string') {
    if (last.get(rest.executionId) === rest.status) return []
    last.set(rest.executionId, rest.status)
    const took = typeof rest.durationMs === 'number' ? ` after ${(rest.durationMs / 1000).toFixed(1)} s` : ''
    const tail = Array.isArray(rest.scriptLogTail) ? rest.scriptLogTail.slice(-3).map((l) => `    ${l}`) : []
    return [`task '${String(rest.taskName ?? rest.taskId)}': ${rest.status}${took}`, ...tail]
  }
  if (Array.isArray(rest.lines)) return rest.lines.map((l) => `reload: ${String(l)}`)
  return [`progress: ${JSON.stringify(rest)}`]
}

/** A job can complete while its work failed (a task run ended FinishedFail, a reload hit a script error). */
function verdict(data: Record<string, unknown> | undefined): string {
  if (typeof data?.allSucceeded === 'boolean') return data.allSucceeded ? ', every run succeeded' : ', a run failed'
  if (typeof data?.success === 'boolean') return data.success ? ', the reload succeeded' : ', the reload failed'
  return ''
}
