import { readFileSync } from 'node:fs'
import type { CpuSample } from './ipc.js'

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICK_US = 10_000

/**
 * user + system CPU of these processes, read from /proc (10 ms resolution; the windows are seconds long),
 * for servers that are not Node processes of the bench (Mosquitto) or that should not be asked over IPC.
 */
export function procProbe(pids: number[]): () => Promise<CpuSample> {
  return async () => {
    let ticks = 0
    for (const pid of pids) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
      ticks += Number(fields[11]) + Number(fields[12])
    }
    return { cpuUs: ticks * TICK_US, elu: Number.NaN }
  }
}
