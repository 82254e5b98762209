import { randomUUID } from 'node:crypto'
import { Command } from 'commander'
import type { MqttBus } from '../../broker/mqtt-bus.js'
import { type Envelope, pickTransaction } from '../../core/envelope.js'
import { createTopics, isValidPublishTopic } from '../../core/topics.js'
import { connectBus, type ConnectionFlags, withConnection } from '../connection.js'
import { CliError, EXIT, integer, usage } from '../exit.js'
import { readRequestBody } from '../payload.js'
import { followProgress, type Progress } from '../progress.js'

const TIMED_OUT = Symbol('timed out')
/** --wait without --timeout: long enough for a reload or a task chain, short of hanging forever. */
const WAIT_TIMEOUT_MS = 3_600_000

/** What `<base>/bridge/state` says, or undefined when nothing is retained there (no sensebus). */
async function bridgeState(bus: MqttBus): Promise<string | undefined> {
  const read = bus.retained(bus.topics.bridgeState, 300).then(([msg]) => {
    if (!msg) return undefined
    try {
      return String((JSON.parse(msg.payload.toString('utf8')) as { state?: unknown }).state)
    } catch {
      return msg.payload.toString('utf8')
    }
  })
  return Promise.race([read, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref())])
}

/**
 * No answer in time. Whether anyone was there to answer is the useful part: the broker may be up with
 * no sensebus behind it (stopped, or another base topic), which a TIMEOUT envelope would hide.
 */
async function explainSilence(bus: MqttBus, capability: string, timeoutMs: number): Promise<CliError> {
  if (!bus.connected)
    return new CliError(`No answer to '${capability}': the broker closed the connection`, EXIT.CONNECT)
  const state = await bridgeState(bus)
  const base = bus.topics.base
  if (state === undefined)
    return new CliError(
      `No answer to '${capability}' within ${timeoutMs} ms: the broker is up, but no sensebus is on it ` +
        `(nothing retained on ${bus.topics.bridgeState}; is sensebus running, with base topic '${base}'?)`,
      EXIT.CONNECT,
    )
  if (state === 'offline')
    return new CliError(
      `No answer to '${capability}': sensebus is offline (${bus.topics.bridgeState} says so)`,
      EXIT.CONNECT,
    )
  return new CliError(`No answer to '${capability}' within ${timeoutMs} ms (sensebus is ${state})`, EXIT.TIMEOUT)
}

type RequestFlags = ConnectionFlags & { timeout?: number; wait?: boolean }

export function requestCommand(): Command {
  return withConnection(new Command('request'))
    .description('Send a request to a capability and print its response envelope')
    .argument('<capability>', 'capability name, e.g. kv/get')
    .argument('[payload]', "request body: JSON object text, '-' to read stdin, or @file; none is {}")
    .option('--timeout <ms>', 'how long to wait for the response (default 10000; 3600000 with --wait)', integer(1))
    .option(
      '--wait',
      'long-running capabilities (task/start, app/reload, …): answer when the job ends (sends "wait": true) ' +
        'and show its progress on stderr meanwhile',
    )
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus request kv/set '{"namespace":"etl","key":"lastRun","value":"ok","ttl":60000}'\n  ` +
        `$ sensebus request kv/get @request.json --url mqtt://127.0.0.1:1883\n  ` +
        `$ echo '{"namespace":"etl"}' | sensebus request kv/keys -\n  ` +
        `$ sensebus request task/start '{"taskNames":["Reload sales"]}' --wait\n\n` +
        `Exit codes: 0 status "ok", 1 an error envelope, 2 usage error (bad JSON, bad option), 3 cannot connect ` +
        `or no sensebus on the broker, 4 no answer within --timeout.`,
    )
    .action(async (capability: string, payload: string | undefined, flags: RequestFlags) => {
      const topics = createTopics(flags.baseTopic)
      if (!/^[^/+#]/.test(capability) || !isValidPublishTopic(topics.request(capability)))
        throw usage(`'${capability}' is not a capability name (area/verb, no + or # wildcards)`)
      const body = await readRequestBody(payload)
      const timeoutMs = flags.timeout ?? (flags.wait ? WAIT_TIMEOUT_MS : 10_000)
      if (flags.wait) body.wait ??= true
      // The caller's own transaction is kept, so the printed envelope echoes it (a number stays a number);
      // with --wait one is made up here, as the progress of the job is found by it.
      const transaction = pickTransaction(body) ?? (flags.wait ? `cli-${randomUUID()}` : undefined)
      const bus = await connectBus(flags, timeoutMs)
      let timer: NodeJS.Timeout | undefined
      let progress: Progress | undefined
      try {
        if (flags.wait && transaction !== undefined)
          progress = await followProgress(bus, transaction, (line) => process.stderr.write(`${line}\n`))
        // The bus' own deadline is pushed past ours, so a TIMEOUT envelope here is one sensebus sent.
        const answer = await Promise.race([
          bus.request(capability, body, {
            timeoutMs: timeoutMs + 60_000,
            ...(transaction !== undefined ? { transaction } : {}),
          }),
          new Promise<typeof TIMED_OUT>((r) => (timer = setTimeout(r, timeoutMs, TIMED_OUT))),
        ])
        if (answer === TIMED_OUT) throw await explainSilence(bus, capability, timeoutMs)
        const env = answer as Envelope
        progress?.finish(env)
        process.stdout.write(`${JSON.stringify(env, null, 2)}\n`)
        process.exitCode = env.status === 'ok' ? EXIT.OK : EXIT.ERROR
      } finally {
        clearTimeout(timer)
        await progress?.stop()
        await bus.close()
      }
    })
}
