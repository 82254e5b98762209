import { startMosquitto, type Mosquitto } from './mosquitto.js'
import { startTestApp, type TestApp, type TestAppOptions } from './app.js'

export const BUS_MODES = ['embedded', 'external (mosquitto)'] as const
export type BusMode = (typeof BUS_MODES)[number]

export interface ModeApp extends TestApp {
  mosquitto?: Mosquitto
}

/** sensebus on its embedded broker, or on a real Mosquitto it connects to as an ordinary client. */
export async function startInMode(mode: BusMode, opts: TestAppOptions = {}): Promise<ModeApp> {
  if (mode === 'embedded') return startTestApp(opts)
  const mosquitto = await startMosquitto()
  const app = await startTestApp({ ...opts, brokerUrl: mosquitto.url })
  return {
    ...app,
    mosquitto,
    async stop(o) {
      await app.stop(o)
      await mosquitto.stop()
    },
  }
}
