import type { EngineCallRecord } from './engine/backend.js'

/**
 * Recorded calls (QLIK-PROTOCOLS §4.7 `GET /__sim/requests`): every QRS request and every engine
 * method call, in arrival order, so tests can assert the exact sequence of §1.6.
 */
export interface RecordedQrsCall {
  face: 'qrs'
  seq: number
  time: string
  method: string
  /** Path without the query string, as sent (case kept). */
  path: string
  /** Query parameters, names lower-cased, values decoded. */
  query: Record<string, string>
  user: string | null
  status: number
}

/** An Engine face call record (its own type, src/sim/engine/backend.ts) plus our sequence and time. */
export type RecordedEngineCall = EngineCallRecord & { seq: number; time: string }

export type RecordedCall = RecordedQrsCall | RecordedEngineCall

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq' | 'time'> : never

export class CallRecorder {
  private calls: RecordedCall[] = []
  private seq = 0

  constructor(private readonly limit = 5000) {}

  record(call: WithoutSeq<RecordedCall>): void {
    this.seq += 1
    this.calls.push({ ...call, seq: this.seq, time: new Date().toISOString() } as RecordedCall)
    if (this.calls.length > this.limit) this.calls.splice(0, this.calls.length - this.limit)
  }

  list(face: 'qrs'): RecordedQrsCall[]
  list(face: 'engine'): RecordedEngineCall[]
  list(face?: 'qrs' | 'engine'): RecordedCall[]
  list(face?: 'qrs' | 'engine'): RecordedCall[] {
    return face ? this.calls.filter((c) => c.face === face) : [...this.calls]
  }

  clear(): void {
    this.calls = []
  }
}
