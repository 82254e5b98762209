import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { parseUdpTarget } from '../../src/sim/cli.js'
import type { RunningSimulator, SimSettings } from '../../src/sim/index.js'
import { qrs, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

const entry = fileURLToPath(new URL('./sim-cli-entry.mjs', import.meta.url))

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.on('exit', (code) => reject(new Error(`exited ${code} before printing settings: ${err}`)))
  })
}

let udp: UdpReceiver | undefined
afterAll(async () => {
  await udp?.close()
})

describe('sensebus sim (process level)', () => {
  it('prints one JSON settings line once listening, serves QRS, writes the config, stops on SIGTERM', async () => {
    udp = await udpReceiver()
    const certDir = tempCertDir('cli')
    const child = spawn(process.execPath, [
      entry,
      'sim',
      '--qrs-port',
      '0',
      '--engine-port',
      '0',
      '--control-port',
      '0',
      '--cert-dir',
      certDir,
      '--udp-target',
      `127.0.0.1:${udp.port}`,
      '--json',
      '--log-level',
      'warn',
    ])
    const settings = JSON.parse(await firstLine(child)) as SimSettings
    expect(settings).toMatchObject({ host: '127.0.0.1', certDir, udpTarget: { host: '127.0.0.1', port: udp.port } })
    expect(settings.qrsPort).toBeGreaterThan(0)

    const about = await qrs({ settings } as RunningSimulator, '/qrs/about')
    expect(about.status).toBe(200)
    expect(parseYaml(readFileSync(settings.configFile, 'utf8'))).toEqual({
      version: 1,
      sense: {
        host: '127.0.0.1',
        qrs: { port: settings.qrsPort },
        engine: { port: settings.enginePort },
        certs: { dir: certDir },
        user: { directory: 'INTERNAL', id: 'sa_repository' },
      },
    })

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('parses --udp-target', () => {
    expect(parseUdpTarget('10.0.0.5:9998')).toEqual({ host: '10.0.0.5', port: 9998 })
    expect(parseUdpTarget('[::1]:9998')).toEqual({ host: '::1', port: 9998 })
    expect(() => parseUdpTarget('nope')).toThrow()
  })
})
