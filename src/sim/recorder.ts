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

export interface RecordedEngineCall {
  face: 'engine'
  seq: number
  time: string
  method: string
  handle: number
  params: unknown
  /** JSON-RPC id, per-socket session id and upgrade path, as the Engine face reports them. */
  id: number | string | null
  session: string
  path: string
  user?: string
  /** The app the socket has open, if any. */
  appId?: string | null
  at?: string
}

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
