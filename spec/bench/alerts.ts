/**
 * `npm run bench` (after flood.ts), or alone:
 * `node dist-bench/spec/bench/alerts.js [--quick] [--no-write] [--outage-ms N] [--outage-refuse] [--no-pool]`.
 *
 * Task alerts end to end (issue #12): task-failure datagrams in the Sense log appender's format, sent
 * over UDP to sensebus, come out as emails accepted by a local SMTP server. Two phases:
 * 1. 1,000 datagrams: latency from sending a datagram to the SMTP server accepting its mail (p50, p99),
 *    throughput (mails accepted per second over the whole burst) and the SMTP connections it took.
 * 2. An SMTP outage of 60 s (`--outage-ms N` sets another length, 5 s with `--quick`) while another 1,000
 *    datagrams arrive: the server is down (open connections cut, new ones refused), or with `--outage-refuse`
 *    it answers 451 (try later) to every mail. Then it is back. Lost alerts (target 0), duplicates (same
 *    Message-ID twice) and the time from the end of the outage until the last mail was accepted.
 * `--no-pool` runs sensebus with `mail.smtp.pool: false` (one connection per mail), for comparison.
 * Two processes: sensebus (forked, its own event loop) and this one (the UDP sender and the SMTP server).
 * No Sense: enrichment is off, so QRS latency is not part of the numbers.
 */
import { fork } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { SMTPServer } from 'smtp-server'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { silentLogger } from '../../src/log.js'
import { taskFailureDatagram } from '../../src/sim/udp/datagram.js'
import { fmtMs, fmtNumber, quantile } from './stats.js'
import { benchConfig } from './bench-config.js'

const SELF = fileURLToPath(import.meta.url)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Child mode: sensebus mailing every reload failure to one address through the given SMTP port. */
async function serve(smtpPort: number, pool: boolean): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-alerts-bench-'))
  const config = benchConfig(dataDir, {
    'mail.smtp': { host: '127.0.0.1', port: smtpPort, pool },
    // Retries stay at most 5 s apart, so the end of the outage is noticed within seconds; enough attempts
    // that a 60 s outage does not move deliveries to dead letters (alert/retry would be needed then).
    'outbox.maxDelayMs': 5_000,
    'outbox.maxAttempts': 100,
    'capabilities.alert.udp.port': 0,
    'capabilities.alert.udp.maxPerSourcePerMinute': 1_000_000,
    'capabilities.alert.enrichment.enabled': false,
    'capabilities.alert.rateLimitMs': 0,
    'capabilities.alert.email': { 'reload/failed': { recipients: ['ops@example.com'] } },
  })
  const app = await startApp({ config, log: silentLogger(), modules })
  const { default: mqtt } = await import('mqtt')
  // The receiver's port is chosen at start (port 0); alert/list reports it, and its counters at the end.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.endpoints.mqtt?.port}`, { reconnectPeriod: 0 })
  await client.subscribeAsync('sense/response/alert/list', { qos: 1 })
  const receiver = () =>
    new Promise<Record<string, number>>((res) => {
      client.once('message', (_t, payload) => res(JSON.parse(payload.toString()).data.receiver))
      client.publish('sense/request/alert/list', '{}', { qos: 1 })
    })
  process.send?.({ udpPort: (await receiver()).port })
  process.on('message', async (m: string) => {
    if (m === 'stats') {
      process.send?.({ receiver: await receiver() })
      return
    }
    await client.endAsync()
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

interface Mailbox {
  port: number
  /** Execution id (the X-Sensebus-Alert header) → accept times (performance.now()). */
  accepted: Map<string, number[]>
  messageIds: Map<string, number>
  refusing: boolean
  refused: number
  /** SMTP connections opened by sensebus: one per mail without pooling, a few with it. */
  connections: number
  /** The server goes away: open connections are cut, new ones refused (nothing listens on the port). */
  down(): Promise<void>
  /** Back on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

async function startMailbox(): Promise<Mailbox> {
  let stop: () => Promise<void> = async () => undefined
  const box: Mailbox = {
    port: 0,
    accepted: new Map(),
    messageIds: new Map(),
    refusing: false,
    refused: 0,
    connections: 0,
    down: () => stop(),
    up: async () => {
      stop = await listen(box.port)
    },
    close: () => stop(),
  }
  const listen = async (port: number): Promise<() => Promise<void>> => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // A reverse DNS lookup per connection would measure the resolver, not sensebus.
      disableReverseLookup: true,
      size: 1024 * 1024,
      maxClients: 1000,
      onConnect(_session, callback) {
        box.connections++
        callback()
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          if (box.refusing) {
            box.refused++
            callback(Object.assign(new Error('try again later'), { responseCode: 451 }))
            return
          }
          const raw = Buffer.concat(chunks).toString('utf8')
          const headerEnd = raw.indexOf('\r\n\r\n')
          const head = raw.slice(0, headerEnd < 0 ? raw.length : headerEnd)
          const alert = /^X-Sensebus-Alert:\s*(\S+)/im.exec(head)?.[1] ?? ''
          const messageId = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? ''
          const at = performance.now()
          box.accepted.set(alert, [...(box.accepted.get(alert) ?? []), at])
          box.messageIds.set(messageId, (box.messageIds.get(messageId) ?? 0) + 1)
          callback()
        })
      },
    })
    const sockets = new Set<Socket>()
    server.server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    await new Promise<void>((res) => server.listen(port, '127.0.0.1', () => res()))
    box.port = (server.server.address() as { port: number }).port
    return () =>
      new Promise((res) => {
        for (const socket of sockets) socket.destroy()
        server.server.close(() => res())
      })
  }
  stop = await listen(0)
  return box
}

/** Sends `count` failure datagrams, a few per millisecond; returns execution id → send time. */
async function burst(udpPort: number, count: number, label: string): Promise<Map<string, number>> {
  const sent = new Map<string, number>()
  const socket = createSocket('udp4')
  for (let i = 0; i < count; i++) {
    const executionId = crypto.randomUUID()
    const text = taskFailureDatagram(i, executionId, `${label} app`)
    sent.set(executionId, performance.now())
    await new Promise<void>((res) => socket.send(text, udpPort, '127.0.0.1', () => res()))
    // The kernel's receive buffer is finite: a datagram dropped there was never sensebus' to lose.
    if (i % 4 === 3) await sleep(1)
  }
  socket.close()
  return sent
}

/** Waits until every sent alert has a mail, or the deadline; true when all arrived. */
async function allAccepted(box: Mailbox, sent: Map<string, number>, deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs
  while (performance.now() < end) {
    if ([...sent.keys()].every((id) => box.accepted.has(id))) return true
    await sleep(100)
  }
  return false
}

/** `--outage-ms N` shortens (or lengthens) the SMTP outage of phase 2; the report states the length used. */
function outageFlag(): number | undefined {
  const at = process.argv.indexOf('--outage-ms')
  if (at < 0) return undefined
  const ms = Number(process.argv[at + 1])
  if (!Number.isInteger(ms) || ms < 0) throw new Error('--outage-ms needs a whole number of milliseconds')
  return ms
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  const count = quick ? 200 : 1_000
  const outageMs = outageFlag() ?? (quick ? 5_000 : 60_000)
  const outageKind = process.argv.includes('--outage-refuse') ? 'refuse' : 'down'
  const loadBefore = loadavg()[0] as number
  const box = await startMailbox()
  const pool = !process.argv.includes('--no-pool')
  const server = fork(SELF, ['--serve', String(box.port), pool ? 'pool' : 'no-pool'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let crashed = false
  server.on('exit', (code) => {
    if (code !== 0) crashed = true
  })
  const udpPort = await new Promise<number>((res, rej) => {
    server.once('message', (m: { udpPort: number }) => res(m.udpPort))
    server.once('exit', (code) => rej(new Error(`sensebus exited (${code})`)))
  })
  // Warm-up: a few alerts so connection set-up and JIT are not in the numbers.
  await allAccepted(box, await burst(udpPort, 20, 'warm-up'), 30_000)

  // Phase 1: latency and throughput.
  const connectionsBefore = box.connections
  const sent = await burst(udpPort, count, 'burst')
  const complete = await allAccepted(box, sent, 180_000)
  const latencies = [...sent].flatMap(([id, at]) => {
    const first = box.accepted.get(id)?.[0]
    return first === undefined ? [] : [first - at]
  })
  const firstSend = Math.min(...sent.values())
  const lastAccept = Math.max(...[...sent.keys()].map((id) => box.accepted.get(id)?.[0] ?? Number.NaN))
  const throughput = latencies.length / ((lastAccept - firstSend) / 1000)
  const burstConnections = box.connections - connectionsBefore

  // Phase 2: an SMTP outage during a burst: the server gone (down) or answering 451 to every mail (refuse).
  if (outageKind === 'down') await box.down()
  else box.refusing = true
  const outageStart = performance.now()
  const during = await burst(udpPort, count, 'outage')
  await sleep(Math.max(0, outageMs - (performance.now() - outageStart)))
  if (outageKind === 'down') await box.up()
  else box.refusing = false
  const outageEnd = performance.now()
  const recovered = await allAccepted(box, during, 180_000)
  const outageAccepts = [...during.keys()].flatMap((id) => box.accepted.get(id)?.slice(0, 1) ?? [])
  const lastOutageAccept = outageAccepts.length ? Math.max(...outageAccepts) : Number.NaN
  const lost = [...during.keys()].filter((id) => !box.accepted.has(id)).length
  const lostBurst = [...sent.keys()].filter((id) => !box.accepted.has(id)).length
  const duplicates = [...box.messageIds.values()].reduce((n, c) => n + c - 1, 0)

  // Datagrams sensebus took in: fewer than sent means the kernel dropped some before sensebus could read them.
  const received =
    server.exitCode === null
      ? await new Promise<number | undefined>((res) => {
          server.once('message', (m: { receiver?: { accepted?: number } }) => res(m.receiver?.accepted))
          server.send('stats')
        })
      : undefined
  if (server.exitCode === null) server.send('stop')
  await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(undefined)))
  await box.close()

  const lines = [
    '# Alerts benchmark (issue #12)',
    '',
    `Task-failure datagrams (the log appender's format) over UDP → sensebus → emails accepted by a local SMTP`,
    'server. sensebus runs in its own process with enrichment off (no Sense); outbox retries at most 5 s apart, ' +
      '100 attempts.',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| datagrams in the burst | ${fmtNumber(count)}${complete ? '' : ' (not all mailed in time)'} |`,
    `| **latency datagram → SMTP accept, p50** | **${fmtMs(quantile(latencies, 0.5))}** |`,
    `| **latency datagram → SMTP accept, p99** | **${fmtMs(quantile(latencies, 0.99))}** |`,
    `| **throughput** | **${fmtNumber(throughput, 1)} mails/s** (first datagram sent → last mail accepted) |`,
    `| lost in the burst | ${lostBurst} (target 0) |`,
    `| datagrams sensebus accepted, both phases | ${received === undefined ? 'n/a' : fmtNumber(received)} of ` +
      `${fmtNumber(sent.size + during.size + 20)} sent (warm-up included) |`,
    `| SMTP connections opened for the burst | ${fmtNumber(burstConnections)} ` +
      `(${pool ? 'pooled: mail.smtp defaults' : 'pool: false'}) |`,
    `| SMTP outage (${outageKind === 'down' ? 'server down: connections cut and refused' : '451 to every mail'}) | ` +
      `${fmtNumber(outageMs / 1000)} s, ${fmtNumber(count)} datagrams sent at its start |`,
    ...(outageKind === 'refuse' ? [`| mails refused during the outage | ${fmtNumber(box.refused)} (retries) |`] : []),
    `| **lost after the outage** | **${lost}** (target 0)${recovered ? '' : ' (deadline reached)'} |`,
    `| **duplicates (same Message-ID twice), both phases** | **${duplicates}** |`,
    `| last mail accepted after the outage ended | ${fmtMs(lastOutageAccept - outageEnd)} |`,
    `| crashes | ${crashed ? 1 : 0} (target 0) |`,
    `| load average before / after | ${loadBefore.toFixed(2)} / ${(loadavg()[0] as number).toFixed(2)} |`,
    '',
  ]
  const report = lines.join('\n')
  process.stdout.write(`${report}\n`)
  if (write) {
    const out = resolve(process.cwd(), 'spec/bench/results/alerts.md')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, report)
  }
  process.exit(crashed || lost > 0 || lostBurst > 0 ? 1 : 0)
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), process.argv[4] === 'pool')
else await main()
