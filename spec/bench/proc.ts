/** CPU of other processes from /proc, for benches that compare against a broker they do not host (Mosquitto). */
import { readdirSync, readFileSync } from 'node:fs'
import type { CpuSample } from './ipc.js'

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICK_US = 10_000

/** user + system CPU of these processes, from /proc (10 ms resolution; windows are seconds long). */
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

/** The pid of this process' child with that command name (the helper does not expose Mosquitto's). */
export function childNamed(comm: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (name === comm && ppid === process.pid) return Number(entry)
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error(`no child process named ${comm}`)
}
