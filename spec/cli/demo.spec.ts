import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import { silentLogger } from '../../src/log.js'
import { createQrsClient } from '../../src/sense/qrs/index.js'
import { CLI } from '../helpers/process.js'

interface DemoReady {
  simulator: { qrs: string; control: string; certs: string }
  sensebus: { http: { port: number }; mqtt: { port: number } }
  config: string
}

const FAILING_TASK = 'dec2a02a-1680-44ef-8dc2-e2bfb180af87'

describe('sensebus demo (npm run demo)', () => {
  const udp = createSocket('udp4')
  const datagrams: string[] = []
  let dir: string
  let child: ReturnType<typeof spawn>
  let ready: DemoReady

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sensebus-demo-'))
    udp.on('message', (m) => datagrams.push(m.toString('utf8')))
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()))
    const ports = ['--qrs-port', '--engine-port', '--control-port', '--mqtt-port', '--ws-port', '--http-port'].flatMap(
      (f) => [f, '0'],
    )
    child = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        '--cert-dir',
        join(dir, 'certs'),
        '--data-dir',
        join(dir, 'data'),
        '--udp-port',
        String(udp.address().port),
        ...ports,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    ready = await new Promise<DemoReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('demo did not become ready')), 60_000)
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.includes('demo ready')) return
        clearTimeout(timer)
        resolve(JSON.parse(line) as DemoReady)
      })
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}`)))
    })
  }, 90_000)
  afterAll(async () => {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    udp.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves sensebus (HTTP and MQTT) next to the simulator', async () => {
    const res = await fetch(`http://127.0.0.1:${ready.sensebus.http.port}/v4/butlerping`)
    expect(res.status).toBe(200)
  })

  it(
    'writes a config with which a QRS client reaches the simulated site, and the site sends datagrams where the ' +
      'demo said',
    async () => {
      const config = loadConfig(modules, { file: ready.config })
      const qrs = createQrsClient(config.sense, { log: silentLogger() })
      try {
        const [task] = await qrs.findTasks({ id: FAILING_TASK })
        expect(task?.name).toBe('Manually triggered reload of Test failing reloads 2')
        await fetch(`${ready.simulator.control}/tasks/${FAILING_TASK}/behaviour`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ durationMs: 50 }),
        })
        await qrs.startTask(FAILING_TASK)
        await expect
          .poll(() => datagrams.find((d) => d.startsWith('/scheduler-task-failed/')), { timeout: 10_000 })
          .toBeDefined()
        expect(datagrams.find((d) => d.startsWith('/scheduler-task-failed/'))).toContain(`;${FAILING_TASK};`)
      } finally {
        qrs.close()
      }
    },
  )
})
