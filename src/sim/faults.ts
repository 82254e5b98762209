/**
 * Fault injection and protocol switches (QLIK-PROTOCOLS §4.7 `POST /__sim/faults`). One mutable
 * object shared by every face; the control API patches it, reset restores the start values.
 */
export interface SimFaults {
  /** Extra delay before every QRS answer. */
  qrsLatencyMs: number
  /** Share of QRS requests (0..1) answered with `qrs5xxStatus` instead of the real answer. */
  qrs5xxRate: number
  qrs5xxStatus: number
  /** §1.8 / butler#1499: a script-log download within this many ms after the run ended answers 404. */
  downloadTooEarlyMs: number
  /**
   * §1.8: the old script-log route (`scriptlog?fileReferenceId=`, deprecated May 2025) answers 404, as on
   * a site where it is gone; clients must fall back to `scriptlogfile?executionResultId=`.
   */
  scriptLogOldRouteBroken: boolean
  /** §0.6: `double` emits the shipped `/scheduler-task-success//`, `single` the form Butler routes. */
  successSlash: 'double' | 'single'
  /** §3.4 legacy type strings (`/scheduler-reload-failed/` ...). */
  legacyTypeNames: boolean
  /** §3.3: send every datagram twice (dedup tests). */
  udpDuplicate: boolean
  /** Do not send datagrams at all (lost packets). */
  udpDrop: boolean
  /** §3.7: delay between the final QRS update and the datagram. */
  udpLagMs: number
  /** §3.7 test knob: send the datagram first and update QRS `udpLagMs` later (QRS lags behind UDP). */
  qrsLagsBehindUdp: boolean
  /** §2.3.4: the Engine face delta-encodes its results (read by the engine backend). */
  engineDeltaResponses: boolean
  /** Extra delay before every Engine answer (read by the engine backend). */
  engineLatencyMs: number
  /** How long an engine-side reload takes; -1 keeps the configured duration (slow reloads for cancel tests). */
  engineReloadMs: number
}

export function defaultFaults(overrides: Partial<SimFaults> = {}): SimFaults {
  return {
    qrsLatencyMs: 0,
    qrs5xxRate: 0,
    qrs5xxStatus: 500,
    downloadTooEarlyMs: 0,
    scriptLogOldRouteBroken: false,
    successSlash: 'double',
    legacyTypeNames: false,
    udpDuplicate: false,
    udpDrop: false,
    udpLagMs: 50,
    qrsLagsBehindUdp: false,
    engineDeltaResponses: false,
    engineLatencyMs: 0,
    engineReloadMs: -1,
    ...overrides,
  }
}

/** Applies a control-API patch, ignoring unknown keys and values of the wrong type. */
export function patchFaults(faults: SimFaults, patch: Record<string, unknown>): string[] {
  const rejected: string[] = []
  const target = faults as unknown as Record<string, unknown>
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key]
    if (current === undefined || typeof current !== typeof value) {
      rejected.push(key)
      continue
    }
    if (key === 'successSlash' && value !== 'double' && value !== 'single') {
      rejected.push(key)
      continue
    }
    target[key] = value
  }
  return rejected
}
