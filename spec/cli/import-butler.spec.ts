import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { preflight } from '../../src/startup/preflight.js'
import type { TestApp } from '../helpers/app.js'
import { runCli } from '../helpers/process.js'
import { ManualClock, startScheduleApp } from '../schedule/schedule-harness.js'

const TEMPLATE = new URL('../fixtures/butler/production_template.yaml', import.meta.url).pathname

const tempDir = () => mkdtempSync(join(tmpdir(), 'sensebus-importbutler-'))

/** What `sensebus config check` runs, in-process, on the file alone. */
function check(file: string): Config {
  const config = loadConfig(modules, { file, env: {} })
  preflight(config, modules)
  return config
}

/** The "Not carried over:" lines of the report, as setting → reason. */
function notCarried(stdout: string): Map<string, string> {
  const section = stdout.split('Not carried over:\n')[1] ?? ''
  const lines = section.split('\n').filter((l) => l.startsWith('  - '))
  return new Map(
    lines.map(
      (l) =>
        l
          .slice(4)
          .split(/: (.*)/s)
          .slice(0, 2) as [string, string],
    ),
  )
}

describe('sensebus config import-butler', { timeout: 120_000 }, () => {
  it("imports Butler's own shipped template into a config that passes the check", async () => {
    const dir = tempDir()
    const out = join(dir, 'sensebus.yaml')
    const run = await runCli(['config', 'import-butler', TEMPLATE, '--out', out])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`Wrote ${out}`)

    const config = check(out)
    // The template's Sense host, the user from its X-Qlik-User header and its self-signed-certificate choice.
    expect(config.sense.host).toBe('10.11.12.13')
    expect(config.sense.user).toEqual({ directory: 'INTERNAL', id: 'sa_repository' })
    expect(config.sense.rejectUnauthorized).toBe(false)
    // Its REST server is off, every endpoint flag is false and so is the key-value store.
    expect(config.http.enabled).toBe(false)
    expect(config.capabilities.disabled).toEqual(
      expect.arrayContaining(['kv/*', 'util/*', 'file/copy', 'file/move', 'file/delete', 'app/reload', 'task/start']),
    )
    const alert = config.capabilities.alert as { udp: { enabled: boolean; port: number }; links: { qmc: string } }
    expect(alert.udp).toMatchObject({ enabled: false, port: 9998 })
    expect(alert.links.qmc).toBe('https://my.qliksense.net/qmc')

    const skipped = notCarried(run.stdout)
    expect(skipped.get('Butler.influxDb')).toMatch(/InfluxDB is not offered/)
    expect(skipped.get('Butler.uptimeMonitor')).toMatch(/not offered/)
    expect(skipped.get('Butler.heartbeat')).toMatch(/not offered/)
    expect(skipped.get('Butler.anonTelemetry')).toMatch(/no telemetry/)
    expect(skipped.get('Butler.qlikSenseCloud')).toMatch(/Qlik Sense Cloud is not offered/)
    expect(skipped.get('Butler.restServerEndpointsEnable.newRelic.postNewRelicEvent')).toMatch(/not offered/)
    expect(skipped.get('Butler.cert.clientCert')).toMatch(/placeholder/)
    // Nothing the importer does not know about goes unmentioned.
    expect([...skipped.values()].some((r) => r.includes('not known to the importer'))).toBe(false)
    // The written file says the same at its top.
    expect(readFileSync(out, 'utf8')).toContain('#   Butler.influxDb: InfluxDB is not offered')

    // A second run does not overwrite the file unless told to.
    const again = await runCli(['config', 'import-butler', TEMPLATE, '--out', out])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('exists already')
    expect((await runCli(['config', 'import-butler', TEMPLATE, '--out', out, '--force'])).code).toBe(0)
  })

  it('maps every alert destination, the approved directories and the start-task filter', async () => {
    const dir = tempDir()
    const butler = join(dir, 'production.yaml')
    writeFileSync(butler, stringify({ Butler: everythingOn() }))
    const out = join(dir, 'sensebus.yaml')
    const run = await runCli(['config', 'import-butler', butler, '--out', out])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    check(out)

    const written = parse(readFileSync(out, 'utf8'))
    expect(written.sense).toMatchObject({
      host: 'sense.example.com',
      certs: { clientCert: 'C:/certs/client.pem', clientKey: 'C:/certs/client_key.pem', rootCa: 'C:/certs/root.pem' },
      user: { directory: 'INTERNAL', id: 'sa_repository' },
    })
    expect(written.sense.rejectUnauthorized).toBeUndefined()
    expect(written.http).toEqual({ host: '0.0.0.0', port: 8081 })
    // Butler's REST API had no login: anonymous callers get the load-script role, not admin.
    expect(written.security).toEqual({ allowAnonymous: true, anonymousRoles: ['loadscript'] })
    // Only the endpoints Butler had off are switched off.
    expect(written.capabilities.disabled).toEqual(['app/dump'])
    expect(written.capabilities.kv).toEqual({ maxKeysPerNamespace: 250 })

    expect(written.capabilities.file).toEqual({
      fileCopyApprovedDirectories: [{ fromDirectory: 'C:/qvd/in', toDirectory: 'C:/qvd/out' }],
      fileMoveApprovedDirectories: [{ fromDirectory: '//server/share/a', toDirectory: '//server/share/b' }],
      fileDeleteApprovedDirectories: ['C:/qvd/tmp'],
      qvdPath: 'C:/qvd',
    })
    expect(written.capabilities.task).toEqual({
      allow: {
        enable: true,
        taskIds: ['e3b27f50-b1c0-4879-88fc-c7cdd9c1cf3e'],
        tags: ['startTask1'],
        customProperties: [{ name: 'taskGroup', value: 'tasks1' }],
      },
      startTopic: { enable: true, topic: 'butler/start_task' },
    })

    const alert = written.capabilities.alert
    expect(alert.udp).toEqual({ enabled: true, host: '0.0.0.0', port: 9997 })
    expect(alert.mqtt).toEqual({
      butlerTopics: true,
      failureTopic: 'butler/task_failure',
      failureFullTopic: 'butler/task_failure_full',
      abortedTopic: 'butler/task_aborted',
      abortedFullTopic: 'butler/task_aborted_full',
    })
    expect(alert.email['reload/failed']).toEqual({
      enabled: true,
      recipients: ['ops@example.com'],
      enableByCustomProperty: { enabled: true, name: 'Butler_FailedAlertEnableEmail', value: 'Yes' },
      sendToCustomProperty: 'Butler_FailedAlertSendToEmail',
      appOwner: {
        enabled: true,
        includeAll: false,
        include: [{ directory: 'CORP', userId: 'anna' }],
        exclude: [],
      },
      from: 'Qlik Sense <noreply@example.com>',
      priority: 'normal',
      subject: 'Reload failed: "<%= it.taskName %>" on <%= it.hostName %>',
      rateLimitMs: 600_000,
    })
    expect(alert.email['reload/aborted']).toMatchObject({ enabled: true, recipients: ['ops@example.com'] })
    expect(alert.email['reload/succeeded']).toBeUndefined()
    expect(alert.enrichment).toEqual({ scriptLogHeadLines: 20, scriptLogTailLines: 30 })
    expect(alert.destinations).toEqual({
      'slack-reload-failed': {
        type: 'slack',
        url: 'https://hooks.slack.com/services/T0/B0/failed',
        format: 'formatted',
        rateLimitMs: 300_000,
      },
      'teams-reload-aborted': {
        type: 'teams',
        url: 'https://example.logic.azure.com/workflows/aborted',
        format: 'basic',
        rateLimitMs: 60_000,
      },
      'webhook-reload-failed-1': {
        type: 'webhook',
        url: 'https://hooks.example.com/failed?key=hook-secret',
        method: 'PUT',
        caFile: 'C:/certs/hook-ca.pem',
        rejectUnauthorized: true,
        rateLimitMs: 120_000,
      },
      'webhook-reload-aborted-1': { type: 'webhook', url: 'http://hooks.example.com/aborted', method: 'GET' },
    })
    expect(alert.rules).toEqual([
      {
        name: 'reload/failed (from Butler)',
        events: ['reload/failed'],
        destinations: ['slack-reload-failed', 'webhook-reload-failed-1'],
      },
      {
        name: 'reload/aborted (from Butler)',
        events: ['reload/aborted'],
        destinations: ['teams-reload-aborted', 'webhook-reload-aborted-1'],
      },
    ])
    expect(alert.links).toMatchObject({ appBase: 'https://sense.example.com/sense/app' })

    expect(written.mail.smtp).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      requireTLS: true,
      rejectUnauthorized: true,
      user: 'butler@example.com',
      password: 'smtp-secret',
    })
    expect(written.chat).toEqual({
      slack: {
        username: 'Qlik Sense',
        iconEmoji: ':ghost:',
        webhooks: { default: 'https://hooks.slack.com/services/T0/B0/rest' },
      },
    })
    expect(written.log).toEqual({ level: 'debug', file: { enabled: true, dir: 'C:/butler/log' } })

    // Secrets reach the written file only, never the report.
    const printed = await runCli(['config', 'print', '--config', out])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toContain('smtp.example.com')
    for (const secret of ['smtp-secret', 'hook-secret', 'hooks.slack.com', 'logic.azure.com']) {
      expect(run.stdout).not.toContain(secret)
      expect(printed.stdout).not.toContain(secret)
    }
    const skipped = notCarried(run.stdout)
    expect(skipped.get('Butler.mqttConfig.brokerHost')).toMatch(/broker.url: mqtt:\/\/mqtt.example.com:1884/)
    expect(skipped.get('Butler.slackNotification.reloadTaskFailure.channel')).toMatch(/channel it was created for/)
    expect(skipped.get('Butler.emailNotification.reloadTaskFailure.htmlTemplateFile')).toMatch(/Handlebars/)
    expect(skipped.get('Butler.configEngine.host')).toMatch(/one host/)
    expect(skipped.get('Butler.someFutureSetting')).toMatch(/not known to the importer/)
  })

  describe('--schedules', () => {
    let app: TestApp | undefined
    afterEach(async () => {
      await app?.stop({ clean: true })
      app = undefined
    })

    it("writes Butler's schedules as a schedule/import request that a running sensebus accepts", async () => {
      const dir = tempDir()
      const butler = join(dir, 'production.yaml')
      writeFileSync(butler, stringify({ Butler: { scheduler: { enable: true, configfile: 'config/schedule.yaml' } } }))
      const schedules = join(dir, 'schedule.yaml')
      writeFileSync(schedules, stringify({ butlerSchedule: BUTLER_SCHEDULES }))
      const out = join(dir, 'imported.yaml')
      const run = await runCli(['config', 'import-butler', butler, '--schedules', schedules, '--out', out])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      check(out)
      const request = join(dir, 'imported.schedules.json')
      expect(run.stdout).toContain(`sensebus request schedule/import @${request}`)
      const skipped = notCarried(run.stdout)
      expect(skipped.get('butlerSchedule[2] (Broken)')).toMatch(/cronSchedule 'every hour'/)
      const body = JSON.parse(readFileSync(request, 'utf8'))
      expect(body.butlerSchedule.map((e: { name: string }) => e.name)).toEqual(['Hourly sales', 'Nightly finance'])

      // The printed command, against a real sensebus.
      app = await startScheduleApp(new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
      const imported = await runCli(['request', 'schedule/import', `@${request}`, '--url', app.mqttUrl])
      expect(imported.stderr).toBe('')
      expect(imported.code).toBe(0)
      expect(JSON.parse(imported.stdout).data.created).toEqual([BUTLER_SCHEDULES[0]?.id, BUTLER_SCHEDULES[1]?.id])
      const listed = await (await fetch(`${app.httpUrl}/v4/schedules`)).json()
      expect(listed.map((s: { name: string; lastKnownState: string }) => [s.name, s.lastKnownState])).toEqual([
        ['Hourly sales', 'started'],
        ['Nightly finance', 'stopped'],
      ])
    })

    it("imports schedules stopped when Butler's scheduler was off, and rejects a file that is not one", async () => {
      const dir = tempDir()
      const schedules = join(dir, 'schedule.yaml')
      writeFileSync(schedules, stringify({ butlerSchedule: BUTLER_SCHEDULES.slice(0, 1) }))
      const out = join(dir, 'sensebus.yaml')
      const run = await runCli(['config', 'import-butler', TEMPLATE, '--schedules', schedules, '--out', out])
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/Butler.scheduler.enable: Butler's scheduler was off/)
      const body = JSON.parse(readFileSync(join(dir, 'sensebus.schedules.json'), 'utf8'))
      expect(body.butlerSchedule[0].lastKnownState).toBe('stopped')

      const notSchedules = join(dir, 'not.yaml')
      writeFileSync(notSchedules, stringify({ schedules: [] }))
      const bad = await runCli([
        'config',
        'import-butler',
        TEMPLATE,
        '--schedules',
        notSchedules,
        '--out',
        join(dir, 'b.yaml'),
      ])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toMatch(/not\.yaml: The schedule file is invalid/)
      expect(bad.stderr).not.toMatch(/\n\s+at /)
      expect(existsSync(join(dir, 'b.yaml'))).toBe(false)
    })
  })

  it('reports a file that is not a Butler config in one line', async () => {
    const dir = tempDir()
    const file = join(dir, 'other.yaml')
    writeFileSync(file, 'broker:\n  mqtt: {}\n')
    const run = await runCli(['config', 'import-butler', file, '--out', join(dir, 'x.yaml')])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("has no 'Butler:' mapping")
    expect(existsSync(join(dir, 'x.yaml'))).toBe(false)
  })
})

const BUTLER_SCHEDULES = [
  {
    name: 'Hourly sales',
    cronSchedule: '0 * * * *',
    timezone: 'Europe/Stockholm',
    qlikSenseTaskId: 'e3b27f50-b1c0-4c52-a6ea-6e1e5a4b1c2d',
    startupState: 'started',
    tags: ['sales'],
    id: '3702f4b6-b0f0-4c49-b3a6-0a9d1b9c2f11',
    created: '2026-01-10T10:00:00.000Z',
    lastKnownState: 'started',
  },
  {
    name: 'Nightly finance',
    cronSchedule: '30 2 * * 1-5',
    timezone: 'Europe/London',
    qlikSenseTaskId: 'fb0f317d-da91-4b86-aafa-0174ae1e8c8f',
    startupState: 'started',
    tags: [],
    id: '7552d9fc-d1bb-4975-9a38-18357de531ea',
    created: '2026-01-11T10:00:00.000Z',
    lastKnownState: 'stopped',
  },
  {
    name: 'Broken',
    cronSchedule: 'every hour',
    timezone: 'Europe/Stockholm',
    qlikSenseTaskId: '47d38f73-628f-44e1-a62c-841604b123ff',
    startupState: 'started',
  },
]

/** A Butler config with every destination on, approved directories and a start-task filter. */
function everythingOn() {
  const chatEvent = (url: string, extra: object) => ({
    enable: true,
    webhookURL: url,
    messageType: 'formatted',
    basicMsgTemplate: 'Qlik Sense reload failed: "{{taskName}}"',
    rateLimit: 300,
    headScriptLogLines: 10,
    tailScriptLogLines: 10,
    templateFile: 'C:/butler/templates/failed.handlebars',
    ...extra,
  })
  const mailEvent = (extra: object) => ({
    enable: true,
    alertEnableByCustomProperty: {
      enable: true,
      customPropertyName: 'Butler_FailedAlertEnableEmail',
      enabledValue: 'Yes',
    },
    alertEnabledByEmailAddress: { customPropertyName: 'Butler_FailedAlertSendToEmail' },
    rateLimit: 600,
    headScriptLogLines: 20,
    tailScriptLogLines: 30,
    priority: 'normal',
    subject: 'Reload failed: "{{taskName}}" on {{ hostName }}',
    bodyFileDirectory: 'C:/butler/email_templates',
    htmlTemplateFile: 'failed-reload',
    fromAddress: 'Qlik Sense <noreply@example.com>',
    recipients: ['ops@example.com', '<Email address 2>'],
    ...extra,
  })
  return {
    logLevel: 'verbose',
    fileLogging: true,
    logDirectory: 'C:/butler/log',
    someFutureSetting: { enable: true },
    qlikSenseUrls: {
      qmc: 'https://sense.example.com/qmc',
      hub: 'https://sense.example.com/hub',
      appBaseUrl: 'https://sense.example.com/sense/app',
    },
    teamsNotification: {
      enable: true,
      reloadTaskFailure: { enable: false, webhookURL: 'https://example.logic.azure.com/workflows/failed' },
      reloadTaskAborted: chatEvent('https://example.logic.azure.com/workflows/aborted', {
        messageType: 'basic',
        rateLimit: 60,
      }),
    },
    slackNotification: {
      enable: true,
      restMessage: { webhookURL: 'https://hooks.slack.com/services/T0/B0/rest' },
      reloadTaskFailure: chatEvent('https://hooks.slack.com/services/T0/B0/failed', {
        channel: 'sense-task-failure',
        fromUser: 'Qlik Sense',
        iconEmoji: ':ghost:',
      }),
    },
    emailNotification: {
      enable: true,
      reloadTaskFailure: mailEvent({
        appOwnerAlert: {
          enable: true,
          includeOwner: { includeAll: false, user: [{ directory: 'CORP', userId: 'anna' }] },
          excludeOwner: { user: null },
        },
      }),
      reloadTaskAborted: mailEvent({}),
      reloadTaskSuccess: mailEvent({ enable: false }),
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        secure: false,
        tls: { serverName: null, ignoreTLS: false, requireTLS: true, rejectUnauthorized: true },
        auth: { enable: true, user: 'butler@example.com', password: 'smtp-secret' },
      },
    },
    webhookNotification: {
      enable: true,
      reloadTaskFailure: {
        rateLimit: 120,
        webhooks: [
          {
            description: 'incident tool',
            webhookURL: 'https://hooks.example.com/failed?key=hook-secret',
            httpMethod: 'put',
            cert: { enable: true, rejectUnauthorized: true, certCA: 'C:/certs/hook-ca.pem' },
          },
        ],
      },
      reloadTaskAborted: { webhooks: [{ webhookURL: 'http://hooks.example.com/aborted', httpMethod: 'GET' }] },
    },
    keyValueStore: { enable: true, maxKeysPerNamespace: 250 },
    mqttConfig: {
      enable: true,
      brokerHost: 'mqtt.example.com',
      brokerPort: 1884,
      taskFailureSendFull: true,
      taskAbortedSendFull: true,
      subscriptionRootTopic: 'butler/#',
      taskStartTopic: 'butler/start_task',
      taskFailureTopic: 'butler/task_failure',
      taskFailureFullTopic: 'butler/task_failure_full',
      taskAbortedTopic: 'butler/task_aborted',
      taskAbortedFullTopic: 'butler/task_aborted_full',
    },
    udpServerConfig: { enable: true, serverHost: '0.0.0.0', portTaskFailure: 9997 },
    restServerConfig: { enable: true, serverHost: '0.0.0.0', serverPort: 8081, backgroundServerPort: 8082 },
    fileCopyApprovedDirectories: [{ fromDirectory: 'C:/qvd/in', toDirectory: 'C:/qvd/out' }],
    fileMoveApprovedDirectories: [{ fromDirectory: '//server/share/a', toDirectory: '//server/share/b' }],
    fileDeleteApprovedDirectories: ['C:/qvd/tmp'],
    restServerEndpointsEnable: {
      apiListEnabledEndpoints: true,
      base62ToBase16: true,
      base16ToBase62: true,
      butlerping: true,
      createDir: true,
      createDirQVD: true,
      fileDelete: true,
      fileMove: true,
      fileCopy: true,
      keyValueStore: true,
      mqttPublishMessage: true,
      scheduler: {
        createNewSchedule: true,
        getSchedule: true,
        getScheduleStatusAll: true,
        updateSchedule: true,
        deleteSchedule: true,
        startSchedule: true,
        stopSchedule: true,
      },
      senseAppReload: true,
      senseAppDump: false,
      senseListApps: true,
      senseStartTask: true,
      slackPostMessage: true,
    },
    startTaskFilter: {
      enable: true,
      allowTask: {
        taskId: ['e3b27f50-b1c0-4879-88fc-c7cdd9c1cf3e'],
        tag: ['startTask1'],
        customProperty: [{ name: 'taskGroup', value: 'tasks1' }],
      },
    },
    cert: {
      clientCert: 'C:/certs/client.pem',
      clientCertKey: 'C:/certs/client_key.pem',
      clientCertCA: 'C:/certs/root.pem',
    },
    configEngine: {
      engineVersion: '12.612.0',
      host: 'engine.example.com',
      port: 4747,
      headers: { static: [{ name: 'X-Qlik-User', value: 'UserDirectory=Internal;UserId=sa_repository' }] },
      rejectUnauthorized: true,
    },
    configQRS: {
      authentication: 'certificates',
      host: 'sense.example.com',
      port: 4242,
      headers: { static: [{ name: 'X-Qlik-User', value: 'UserDirectory=Internal;UserId=sa_repository' }] },
      rejectUnauthorized: true,
    },
    configDirectories: { qvdPath: 'C:/qvd' },
  }
}
