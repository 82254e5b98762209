import { Command } from 'commander'
import { connectBus, fatal, withConnection, type ConnectionFlags } from '../connection.js'

export function requestCommand(): Command {
  return withConnection(new Command('request'))
    .description('Send a request to a capability and print its response envelope')
    .argument('<capability>', 'capability name, e.g. kv/get')
    .argument('[json]', 'request body as a JSON object', '{}')
    .option('--timeout <ms>', 'how long to wait for the response', '10000')
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus request kv/set '{"namespace":"etl","key":"lastRun","value":"ok","ttl":60000}'\n  ` +
        `$ sensebus request kv/get '{"namespace":"etl","key":"lastRun"}' --url mqtt://127.0.0.1:1883\n\nExits 0 ` +
        `on status "ok", 1 on an error envelope, 2 when the broker cannot be reached.`,
    )
    .action(async (capability: string, json: string, flags: ConnectionFlags & { timeout: string }) => {
      let body: unknown
      try {
        body = JSON.parse(json)
      } catch {
        fatal(`The request must be a JSON object: ${json}`, 1)
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) fatal('The request must be a JSON object', 1)
      const timeoutMs = Number(flags.timeout)
      let bus
      try {
        bus = await connectBus(flags, timeoutMs)
      } catch (err) {
        fatal(`Cannot connect to ${flags.url}: ${(err as Error).message}`)
      }
      const env = await bus.request(capability, body as Record<string, unknown>, { timeoutMs })
      process.stdout.write(`${JSON.stringify(env, null, 2)}\n`)
      await bus.close()
      process.exitCode = env.status === 'ok' ? 0 : 1
    })
}
