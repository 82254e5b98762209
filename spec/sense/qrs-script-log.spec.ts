import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/log.js'
import { createQrsClient, EMPTY_GUID, type QrsClient } from '../../src/sense/qrs/index.js'
import {
  FILE_REF_ID,
  RESULT_ID,
  TASK_ID,
  makeTestPki,
  startFakeQrs,
  testSenseConfig,
  type FakeQrs,
  type FakeReply,
  type RecordedRequest,
} from './qrs-helpers.js'

/** Script log retrieval by both routes, with Butler's retry shape (QLIK-PROTOCOLS §0.9, §1.8). */

const LOG_TEXT = '20210216T092455.512+0100 Execution started.\r\n20210216T092458.987+0100 Error: Cannot open file\r\n'
const OLD_REF = '9f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f'
const NEW_REF = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'
const RUN = { id: RESULT_ID, fileReferenceID: FILE_REF_ID }

let server: FakeQrs
let qrs: QrsClient
/** Knobs the fake honours, reset before each test. */
let oldRouteGone: boolean
let downloadsNotReady: number
let downloadStatus: number

function fakeQrs(req: RecordedRequest): FakeReply {
  const p = req.pathname
  if (p === `/qrs/reloadtask/${TASK_ID}`) {
    return { status: 200, body: { id: TASK_ID, name: 't', operational: { lastExecutionResult: RUN } } }
  }
  if (p === `/qrs/reloadtask/${TASK_ID}/scriptlog` && req.query.fileReferenceId === FILE_REF_ID) {
    return oldRouteGone ? { status: 404 } : { status: 200, body: { value: OLD_REF } }
  }
  if (p === `/qrs/ReloadTask/${TASK_ID}/scriptlogfile` && req.query.executionResultId === RESULT_ID) {
    return { status: 200, body: { value: NEW_REF } }
  }
  if (
    p === `/qrs/download/reloadtask/${OLD_REF}/scriptlog.txt` ||
    p === `/qrs/download/reloadtask/${NEW_REF}/scriptlog.txt`
  ) {
    if (downloadsNotReady > 0) {
      downloadsNotReady--
      return { status: 404, body: 'not ready', contentType: 'text/plain' }
    }
    if (downloadStatus !== 200) return { status: downloadStatus, body: 'nope', contentType: 'text/plain' }
    return { status: 200, body: LOG_TEXT, contentType: 'text/plain; charset=utf-8' }
  }
  return { status: 404 }
}

function calls(): string[] {
  return server.requests.map((r) => r.pathname.replace('/qrs/', '').replace(TASK_ID, 'T'))
}

beforeAll(async () => {
  const pki = makeTestPki()
  server = await startFakeQrs(pki, fakeQrs)
  qrs = createQrsClient(testSenseConfig(pki, server.port), {
    log: silentLogger(),
    scriptLog: { attempts: 3, retryDelayMs: 30, downloadPauseMs: 40 },
  })
})

afterAll(async () => {
  qrs.close()
  await server.close()
})

beforeEach(() => {
  server.requests.length = 0
  oldRouteGone = false
  downloadsNotReady = 0
  downloadStatus = 200
})

describe('getScriptLog', () => {
  it('uses the old fileReferenceId route first and returns the CRLF text untouched', async () => {
    const started = Date.now()
    expect(await qrs.getScriptLog(TASK_ID, RUN)).toBe(LOG_TEXT)
    expect(calls()).toEqual(['reloadtask/T/scriptlog', `download/reloadtask/${OLD_REF}/scriptlog.txt`])
    // The pause before the download (Butler: 500 ms; 40 ms here).
    expect(Date.now() - started).toBeGreaterThanOrEqual(35)
  })

  it('falls back to the new executionResultId route when the old one is gone', async () => {
    oldRouteGone = true
    expect(await qrs.getScriptLog(TASK_ID, RUN)).toBe(LOG_TEXT)
    expect(calls()).toEqual([
      'reloadtask/T/scriptlog',
      'ReloadTask/T/scriptlogfile',
      `download/reloadtask/${NEW_REF}/scriptlog.txt`,
    ])
  })

  it('skips the old route when there is no file reference (empty GUID)', async () => {
    expect(await qrs.getScriptLog(TASK_ID, { id: RESULT_ID, fileReferenceID: EMPTY_GUID })).toBe(LOG_TEXT)
    expect(calls()).toEqual(['ReloadTask/T/scriptlogfile', `download/reloadtask/${NEW_REF}/scriptlog.txt`])
  })

  it('retries a log that is not ready yet, asking for a fresh reference each time', async () => {
    downloadsNotReady = 3
    expect(await qrs.getScriptLog(TASK_ID, RUN)).toBe(LOG_TEXT)
    expect(calls()).toEqual([
      'reloadtask/T/scriptlog',
      `download/reloadtask/${OLD_REF}/scriptlog.txt`,
      'ReloadTask/T/scriptlogfile',
      `download/reloadtask/${NEW_REF}/scriptlog.txt`,
      'reloadtask/T/scriptlog',
      `download/reloadtask/${OLD_REF}/scriptlog.txt`,
      'ReloadTask/T/scriptlogfile',
      `download/reloadtask/${NEW_REF}/scriptlog.txt`,
    ])
  })

  it('gives up after the configured attempts with NOT_FOUND', async () => {
    downloadsNotReady = 100
    const err = await qrs.getScriptLog(TASK_ID, RUN).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CapabilityError)
    expect((err as CapabilityError).code).toBe('NOT_FOUND')
    expect((err as CapabilityError).message).toMatch(/after 3 attempts/)
    expect(calls().filter((c) => c.startsWith('download/'))).toHaveLength(6)
  })

  it('stops at once on an authentication failure', async () => {
    downloadStatus = 403
    const err = await qrs.getScriptLog(TASK_ID, RUN).catch((e: unknown) => e)
    expect((err as CapabilityError).code).toBe('SENSE_AUTH')
    expect(calls()).toHaveLength(2)
  })

  it('without a run, re-reads the reload task for its last execution result on each attempt', async () => {
    downloadsNotReady = 2
    expect(await qrs.getScriptLog(TASK_ID)).toBe(LOG_TEXT)
    expect(calls().filter((c) => c === 'reloadtask/T')).toHaveLength(2)
    expect(calls()[0]).toBe('reloadtask/T')
  })

  it('a run with neither reference is NOT_FOUND without any log request', async () => {
    const err = await qrs
      .getScriptLog(TASK_ID, { id: EMPTY_GUID, fileReferenceID: EMPTY_GUID })
      .catch((e: unknown) => e)
    expect((err as CapabilityError).code).toBe('NOT_FOUND')
    expect(calls()).toEqual([])
  })
})
