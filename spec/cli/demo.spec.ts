import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI } from '../helpers/process.js'

const FAILING_TASK = 'dec2a02a-1680-44ef-8dc2-e2bfb180af87'
const SUBJECT = 'Reload task failed: "Manually triggered reload of Test failing reloads 2"'

/** The text of one printed block: from its title line to the next block. */
function blockAfter(stdout: string, title: string): string {
  const at = stdout.indexOf(title)
  if (at < 0) return ''
  const next = stdout.indexOf('\n── ', at)
  return stdout.slice(at, next < 0 ? undefined : next)
}

describe('sensebus demo (npm run demo)', () => {
  let dir: string
  let child: ChildProcess
  let stdout = ''
  let control: string
  let httpPort: number

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sensebus-alerts-demo-'))
    const ports = ['--udp-port', '--qrs-port', '--engine-port', '--control-port', '--mqtt-port', '--ws-port']
    child = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        ...['--cert-dir', join(dir, 'certs'), '--data-dir', join(dir, 'data'), '--mail-dir', join(dir, 'mail')],
        ...['--log-file', join(dir, 'demo.log'), '--fail-every', '0'],
        ...[...ports, '--http-port'].flatMap((f) => [f, '0']),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not become ready: ${stdout}${stderr}`)), 60_000)
      child.stdout?.on('data', () => {
        if (!stdout.includes('Ctrl+C stops the demo')) return
        clearTimeout(timer)
        resolve()
      })
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${stderr}`)))
    })
    control = /control API\s+(http:\S+)/.exec(stdout)?.[1] ?? ''
    httpPort = Number(/HTTP http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1])
  }, 90_000)
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('says where everything is, serves sensebus, and keeps its log out of the terminal', async () => {
    expect(control).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim$/)
    expect(stdout).toContain(`curl -X POST ${control}/tasks/${FAILING_TASK}/trigger`)
    const res = await fetch(`http://127.0.0.1:${httpPort}/v4/butlerping`)
    expect(res.status).toBe(200)
    expect(stdout).not.toMatch(/^\{"level"/m)
    await expect.poll(() => readFileSync(join(dir, 'demo.log'), 'utf8'), { timeout: 5_000 }).toContain('"level"')
  })

  it('shows the alert in the local mailbox, Slack, Teams and webhook receivers when a task is failed', async () => {
    const res = await fetch(`${control}/tasks/${FAILING_TASK}/trigger`, { method: 'POST' })
    expect(res.status).toBe(200)
    await expect.poll(() => stdout, { timeout: 30_000 }).toContain('Email received by the local mail server')

    const mail = blockAfter(stdout, 'Email received by the local mail server')
    expect(mail).toContain('To:      qlik-admins@demo.local')
    expect(mail).toContain(`Subject: ${SUBJECT}`)
    // The text part, decoded: the script log's error line is in the fixture's failing script.
    expect(mail).toContain('Task:        Manually triggered reload of Test failing reloads 2')
    const eml = /Saved:\s+(\S+\.eml)/.exec(mail)?.[1] ?? ''
    expect(existsSync(eml)).toBe(true)
    // The saved file is the mail as received: a real MIME parser reads the same subject and text from it.
    const parsed = await simpleParser(readFileSync(eml))
    expect(parsed.subject).toBe(SUBJECT)
    expect(mail).toContain(parsed.text?.split('\n').slice(0, 5).join('\n  ').trimEnd())

    const titles = ['Slack message received', 'Teams card received', 'Webhook call received']
    await expect.poll(() => titles.every((t) => stdout.includes(t)), { timeout: 10_000 }).toBe(true)
    expect(blockAfter(stdout, 'Slack message received')).toContain(`*${SUBJECT}*`)
    expect(blockAfter(stdout, 'Teams card received')).toContain(SUBJECT)
    expect(blockAfter(stdout, 'Webhook call received')).toContain(`"taskId": "${FAILING_TASK}"`)
    expect(stdout).toContain('sensebus: MQTT event on sense/event/reload/failed')
    // --fail-every 0: no failure but the one asked for.
    expect(stdout.split('Email received by the local mail server').length - 1).toBe(1)
  }, 45_000)
})
