import { createSocket } from 'node:dgram'
import { createWriteStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { startApp } from '../../app.js'
import { applyHeapMode } from '../../startup/heap.js'
import { modules } from '../../capabilities/index.js'
import { loadConfig } from '../../config/load.js'
import { createLogger } from '../../log.js'
import { startSimulator } from '../../sim/index.js'
import { viewMail } from './mime.js'
import { block, mailLines, slackLines, teamsLines, webhookLines } from './print.js'
import { startReceiver } from './receivers.js'
import { type SinkMail, startSmtpSink } from './smtp-sink.js'

/**
 * `sensebus demo`: the simulator fails a reload task now and then, sensebus turns the log appender's
 * datagram into alerts, and local stand-ins for a mail server, Slack, Teams and a webhook show what they
 * received. The terminal carries only those blocks; sensebus' and the simulator's log goes to a file.
 */

export interface DemoOptions {
  certDir: string
  dataDir: string
  mailDir: string
  logFile: string
  udpPort: number
  qrsPort: number
  enginePort: number
  controlPort: number
  mqttPort?: number | undefined
  wsPort?: number | undefined
  httpPort?: number | undefined
  /** Seconds between the simulator's failures; 0: only when asked through the control API. */
  failEverySec: number
  out: (text: string) => void
}

/** The fixture's task that fails on its own (its script reads a missing file). */
export const FAILING_TASK = 'dec2a02a-1680-44ef-8dc2-e2bfb180af87'
const FIRST_FAILURE_MS = 5_000
/** .eml files the demo keeps; older ones it wrote are deleted. */
const KEEP_MAILS = 50

function freeUdpPort(): Promise<number> {
  return new Promise((res) => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })
}

export async function runDemo(opts: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const { out } = opts
  const mailDir = resolve(opts.mailDir)
  const logFile = resolve(opts.logFile)
  await mkdir(mailDir, { recursive: true })
  await mkdir(dirname(logFile), { recursive: true })
  const logStream = createWriteStream(logFile, { flags: 'a' })
  const log = createLogger({ level: process.env.SENSEBUS_LOG__LEVEL ?? 'info', destination: logStream })
  const closers: Array<() => Promise<unknown>> = [() => new Promise((r) => logStream.end(r))]
  const stop = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined)
  }

  try {
    const saved: string[] = []
    const onMail = async (mail: SinkMail) => {
      const file = join(mailDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${saved.length}.eml`)
      await writeFile(file, mail.raw)
      saved.push(file)
      if (saved.length > KEEP_MAILS) await rm(saved.shift() ?? '', { force: true })
      out(block(`Email received by the local mail server`, mailLines(viewMail(mail.raw), mail.to, file)))
    }
    const sink = await startSmtpSink((m) => void onMail(m))
    closers.push(() => sink.close())
    const slack = await startReceiver((r) => out(block('Slack message received', slackLines(r))))
    closers.push(() => slack.close())
    const teams = await startReceiver((r) => out(block('Teams card received', teamsLines(r))))
    closers.push(() => teams.close())
    const hook = await startReceiver((r) => out(block('Webhook call received', webhookLines(r))))
    closers.push(() => hook.close())

    const udpPort = opts.udpPort || (await freeUdpPort())
    const sim = await startSimulator({
      certDir: opts.certDir,
      udpTarget: { host: '127.0.0.1', port: udpPort },
      qrsPort: opts.qrsPort,
      enginePort: opts.enginePort,
      controlPort: opts.controlPort,
      log,
    })
    closers.push(() => sim.close())
    // The simulator wrote this config: sensebus points at it exactly as it would at a real site. The rest
    // is what a user adds for alerts, aimed at the local receivers.
    const config = loadConfig(modules, {
      file: sim.settings.configFile,
      env: process.env,
      overrides: {
        dataDir: opts.dataDir,
        'broker.mqtt.port': opts.mqttPort,
        'broker.ws.port': opts.wsPort,
        'http.port': opts.httpPort,
        'mail.smtp': { host: '127.0.0.1', port: sink.port },
        'mail.from': 'sensebus demo <sensebus@demo.local>',
        'capabilities.alert.udp.port': udpPort,
        // Every failure alerts: the default (one per task per 5 minutes) would hide the repeats.
        'capabilities.alert.rateLimitMs': 0,
        'capabilities.alert.email': { 'reload/failed': { recipients: ['qlik-admins@demo.local'] } },
        'capabilities.alert.destinations': {
          slack: { type: 'slack', url: slack.url },
          teams: { type: 'teams', url: teams.url },
          webhook: { type: 'webhook', url: hook.url },
        },
        'capabilities.alert.rules': [{ events: ['reload/failed'], destinations: ['slack', 'teams', 'webhook'] }],
      },
    })
    applyHeapMode(config.runtime.heap)
    const app = await startApp({ config, log, modules })
    closers.push(() => app.stop())
    await app.bus.subscribe(`${config.baseTopic}/event/reload/failed`, (m) => {
      const data = (JSON.parse(m.payload.toString('utf8')) as { data?: Record<string, unknown> }).data ?? {}
      out(
        block(`sensebus: MQTT event on ${m.topic}`, [
          `task ${JSON.stringify(data.taskName)}, app ${JSON.stringify(data.appName)}`,
          'alerting: email, Slack, Teams, webhook',
        ]),
      )
    })

    const control = sim.settings.controlUrl
    const trigger = async () => {
      try {
        const res = await fetch(`${control}/tasks/${FAILING_TASK}/trigger`, { method: 'POST', body: '{}' })
        out(block('Simulator: reload task started (it will fail in a few seconds)', [`control API ${res.status}`]))
      } catch (err) {
        out(block('Simulator: could not start the task', [(err as Error).message]))
      }
    }
    if (opts.failEverySec > 0) {
      const first = setTimeout(() => void trigger(), FIRST_FAILURE_MS)
      const every = setInterval(() => void trigger(), opts.failEverySec * 1000)
      closers.push(async () => {
        clearTimeout(first)
        clearInterval(every)
      })
    }
    const http = app.endpoints.http
    const mqtt = app.endpoints.mqtt
    out(
      block('sensebus demo ready', [
        `Simulated Qlik Sense  QRS https://127.0.0.1:${sim.settings.qrsPort}/qrs, ` +
          `Engine wss://127.0.0.1:${sim.settings.enginePort}`,
        `  control API         ${control}`,
        `sensebus              MQTT mqtt://127.0.0.1:${mqtt?.port}, HTTP http://127.0.0.1:${http?.port}`,
        `  log file            ${logFile}`,
        `Local receivers       mail smtp://127.0.0.1:${sink.port} (saved in ${mailDir})`,
        `                      Slack ${slack.url}, Teams ${teams.url}, webhook ${hook.url}`,
        '',
        opts.failEverySec > 0
          ? `A reload task fails in ${FIRST_FAILURE_MS / 1000} s, then every ${opts.failEverySec} s. Fail it now:`
          : 'Fail a reload task:',
        `  curl -X POST ${control}/tasks/${FAILING_TASK}/trigger`,
        `Watch the topics: npx sensebus subscribe 'sense/#' --url mqtt://127.0.0.1:${mqtt?.port}`,
        'Ctrl+C stops the demo.',
      ]),
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { stop }
}
