import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'

export const SIM_CONFIG_FILE = 'sensebus.sim.yaml'

export interface SimConfigTarget {
  host: string
  qrsPort: number
  enginePort: number
  certDir: string
}

/**
 * A ready-to-use sensebus config pointing at the simulator, in the shape agreed with the config schema
 * owner. It holds only what a real site's config holds (host, ports, the QMC certificate folder and the
 * X-Qlik-User identity): no simulator-specific settings on the client side.
 */
export function simConfigDocument(t: SimConfigTarget): Record<string, unknown> {
  return {
    version: 1,
    sense: {
      host: t.host,
      qrs: { port: t.qrsPort },
      engine: { port: t.enginePort },
      certs: { dir: t.certDir },
      user: { directory: 'INTERNAL', id: 'sa_repository' },
    },
  }
}

export async function writeSimConfig(t: SimConfigTarget): Promise<string> {
  const path = join(t.certDir, SIM_CONFIG_FILE)
  const header = '# Written by `sensebus sim`: points sensebus at the simulator. Regenerated on every start.\n'
  await writeFile(path, header + stringify(simConfigDocument(t)))
  return path
}
