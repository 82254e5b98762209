import type { ButlerSource } from './source.js'
import type { SensebusTarget } from './target.js'

/** Butler features sensebus does not offer, each with what to use instead. */
const NOT_OFFERED: Record<string, string> = {
  anonTelemetry: 'sensebus sends no telemetry',
  systemInfo: 'not offered: sensebus collects no system information',
  heartbeat: 'not offered: have the monitoring tool poll GET /health instead',
  uptimeMonitor: 'not offered: GET /metrics (Prometheus) reports uptime and memory',
  thirdPartyToolsCredentials: 'New Relic is not offered by sensebus',
  influxDb: 'InfluxDB is not offered by sensebus: scrape GET /metrics (Prometheus) instead',
  scriptLog: "not offered: failed reloads' script logs are not stored on disk; alerts carry their head and tail",
  qlikSenseVersion: 'Qlik Sense version monitoring is not offered by sensebus',
  qlikSenseLicense: 'licence monitoring and release are not offered by sensebus',
  incidentTool:
    'Signl4 and New Relic incidents are not offered; a webhook destination (capabilities.alert.destinations) can ' +
    'call an incident tool',
  serviceMonitor: 'Windows service monitoring is not offered by sensebus',
  qlikSenseCloud: 'Qlik Sense Cloud is not offered: sensebus serves Qlik Sense Enterprise on Windows',
}

const LEVELS: Record<string, string> = {
  silly: 'trace',
  debug: 'debug',
  verbose: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
}

/** Logging, and the features sensebus leaves out. */
export function mapGeneral(src: ButlerSource, out: SensebusTarget): void {
  for (const [key, reason] of Object.entries(NOT_OFFERED)) if (src.has(key)) src.skip(key, reason)
  const level = src.string('logLevel')
  if (level) {
    const mapped = LEVELS[level.toLowerCase()]
    if (mapped) out.set('log.level', mapped)
    else src.skip('logLevel', `'${level}' is not a Butler log level`)
  }
  if (src.flag('fileLogging') === true) out.set('log.file.enabled', true)
  const dir = src.string('logDirectory')
  if (dir) out.set('log.file.dir', dir)
}
