/**
 * Every detail QLIK-PROTOCOLS.md marks "(unconfirmed)", in one place. When someone checks a real QSEoW
 * site, this is the only file to correct. Values are plain data; callers may override a copy through
 * `startSimulator({ unconfirmed })` (a shallow merge per section).
 */
export const UNCONFIRMED = {
  qrs: {
    /** §1.3: 403 body for a missing or mismatched xrfkey (plain text; JSON vs text is unconfirmed too). */
    xrfkeyFailedBody: 'XSRF prevention check failed. Possible XSRF discovered.',
    /** §1.5.2: 400 body prefix for a filter that does not parse. */
    filterParseErrorPrefix: 'Cannot parse the expression: ',
    /** §1.5.2: body of `GET /<type>/{id}` with an unknown id ("empty or short text"). */
    notFoundBody: '',
    /** §1.7: message that accompanies 404 from `POST /task/{id}/start` (QH: "status and message"). */
    taskNotFoundBody: (id: string): string => `Cannot find the item for the "Start" operation. Task ${id} not found.`,
    /** §1.7: status of `start/synchronous` (200 or 201). */
    syncStartStatus: 201,
    /** §1.7: status of `POST /task/start/many`. */
    startManyStatus: 204,
    /** §4.2: a start of a disabled task answers 204 but does not run it. */
    disabledTaskStartStatus: 204,
    /** §1.2: no X-Qlik-User header → 'reject' (403) or 'default' (run as INTERNAL\sa_repository). */
    missingUserBehaviour: 'reject' as 'reject' | 'default',
    missingUserBody: 'Missing X-Qlik-User header',
    /**
     * §1.2: how a TLS client without a certificate is refused. 'tls' ends the handshake (node:https
     * requestCert + rejectUnauthorized); 'http-403' completes TLS and answers 403.
     */
    noClientCertPolicy: 'tls' as 'tls' | 'http-403',
    noClientCertBody: 'Client certificate required',
    /** §1.8: content type of the script-log download. */
    scriptLogContentType: 'text/plain; charset=utf-8',
    /** §1.10(a): `scriptLogLocation` value. */
    scriptLogLocation: '',
    /** §1.10(b): schemaPath per task type (reload, external program, user sync, distribute, preload). */
    taskSchemaPath: ['ReloadTask', 'ExternalProgramTask', 'UserSyncTask', 'DistributionTask', 'PreloadTask'] as const,
    /** §1.5.1: `A and B` over collection paths is evaluated per condition, not per element. */
    collectionAndPerCondition: true,
    /** §4.2: `reloadtask/{id}` also resolves preload and distribute task ids. */
    reloadTaskResolvesPreloadAndDistribute: true,
    /** §1.4: a virtual-proxy request without the authentication header. */
    virtualProxyMissingHeaderStatus: 403,
    virtualProxyMissingHeaderBody: 'Missing authentication header',
    /** §1.4: dynamic user directory header pattern `$ud\$id` → value `DIR\userid`. */
    virtualProxyDynamicSeparator: '\\',
    /** Internal error body for injected 5xx faults. */
    serverErrorBody: 'Internal server error',
  },
  details: {
    /** §1.10(a) / §4.5 "Details text other than the success sequence is unconfirmed". */
    triggered: 'Changing task state to Triggered',
    /** Two spaces after "task." as in community #64373 (§1.10 notes); Butler never compares it. */
    sendingToSlave: 'Trying to start task.  Sending task to slave scheduler',
    started: 'Changing task state from Triggered to Started',
    scriptLogAdded: 'Reference to scriptlog added',
    finishedSuccess: 'Changing task state from Started to FinishedSuccess',
    finishedFail: 'Changing task state from Started to FinishedFail',
    finishedFailType: 0 as 0 | 1 | 2,
    retry: 'Changing task state from Started to Retry',
    retryTriggered: 'Changing task state from Retry to Triggered',
    abortInitiated: 'Changing task state from Started to AbortInitiated',
    aborting: 'Changing task state from AbortInitiated to Aborting',
    aborted: 'Changing task state from Aborting to Aborted',
    distributionQueue: 'Changing task state from Started to DistributionQueue',
    distributionRunning: 'Changing task state from DistributionQueue to DistributionRunning',
    distributionFinishedSuccess: 'Changing task state from DistributionRunning to FinishedSuccess',
    distributionFinishedFail: 'Changing task state from DistributionRunning to FinishedFail',
    preloadFailed: 'Failed to start session',
  },
  datagram: {
    /** §3.5: the `%message` texts; the appenders only match substrings, so the real lines may be longer. */
    failedMessage: 'Max retries reached',
    preloadFailedMessage: 'Failed to start session',
    abortedMessage: 'Execution State Change to Aborting',
    successMessage: 'Execution State Change to FinishedSuccess',
    distributeMessage: 'Exiting execute of Distribute task request.',
    /** §3.5: levels; preload failure uses ERROR (unconfirmed). */
    level: 'INFO',
    preloadFailedLevel: 'ERROR',
    /** §3.5: user on a scheduler-run task. */
    schedulerUser: 'INTERNAL\\sa_scheduler',
    /** §3.2 comments: only task types with retries report failures; user sync failures send nothing. */
    userSyncFailureSendsDatagram: false,
  },
  scriptLog: {
    /** §4.6 header block (padded columns). */
    serverVersion: '14.5.4',
    cpuTarget: 'x64',
    operatingSystem: 'Windows Server 2019 Datacenter  (64 bit edition)',
    wow64: 'Not using Wow64',
    mdacVersion: '6.3.9600.16384',
    preferredMemoryLocation: 'not set',
    processExecuting: 'Qlik Sense Server',
    /** §4.6 failure wording. */
    executionFailed: 'Execution Failed',
    executionAborted: 'Execution aborted by user',
    missingFileError: (path: string): string => `Cannot open file: '${path}' (Connector error: File not found)`,
    forcedError: 'Unknown statement: FAIL_SIM',
    genericError: 'General Script Error in statement handling',
    /** §4.6 success tail wording. */
    successTail: [
      'Creating search index',
      'Search index creation completed successfully',
      'App saved',
      '---',
      'Finished successfully',
      '0 forced error(s)',
      '0 synthetic key(s)',
    ],
    partialReload: 'Partial reload',
    /** §2.4 DoReloadEx qScriptLogFile path pattern. */
    scriptLogFilePath: (appId: string, stamp: string): string =>
      `C:\\ProgramData\\Qlik\\Sense\\Log\\Script\\${appId}.${stamp}.log`,
  },
}

export type UnconfirmedDetails = typeof UNCONFIRMED

export interface UnconfirmedOverrides {
  qrs?: Partial<UnconfirmedDetails['qrs']>
  details?: Partial<UnconfirmedDetails['details']>
  datagram?: Partial<UnconfirmedDetails['datagram']>
  scriptLog?: Partial<UnconfirmedDetails['scriptLog']>
}

/** A private copy with the caller's overrides applied, so tests never mutate the shared defaults. */
export function resolveUnconfirmed(overrides: UnconfirmedOverrides = {}): UnconfirmedDetails {
  return {
    qrs: { ...UNCONFIRMED.qrs, ...overrides.qrs },
    details: { ...UNCONFIRMED.details, ...overrides.details },
    datagram: { ...UNCONFIRMED.datagram, ...overrides.datagram },
    scriptLog: { ...UNCONFIRMED.scriptLog, ...overrides.scriptLog },
  }
}
