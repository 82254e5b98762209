import { isLoopback } from '../../security/exposure.js'
import { asMap, type ButlerSource, isPlaceholder } from './source.js'
import type { SensebusTarget } from './target.js'

const NOT_OFFERED: Record<string, string> = {
  taskFailureServerStatusTopic: 'server status on task failure is not published by sensebus',
  serviceRunningTopic: 'Windows service monitoring is not offered by sensebus',
  serviceStoppedTopic: 'Windows service monitoring is not offered by sensebus',
  serviceStatusTopic: 'Windows service monitoring is not offered by sensebus',
  qlikSenseServerLicenseTopic: 'licence monitoring is not offered by sensebus',
  qlikSenseServerLicenseExpireTopic: 'licence monitoring is not offered by sensebus',
  azureEventGrid: 'not offered: sensebus runs its own broker (or uses one given as broker.url)',
  qlikSenseCloud: 'Qlik Sense Cloud is not offered: sensebus serves Qlik Sense Enterprise on Windows',
}

/**
 * `mqttConfig` → Butler's alert topics (`capabilities.alert.mqtt`) and start topic
 * (`capabilities.task.startTopic`).
 */
export function mapMqtt(src: ButlerSource, out: SensebusTarget): void {
  const root = 'mqttConfig'
  if (!src.has(root)) return
  for (const [key, reason] of Object.entries(NOT_OFFERED))
    if (src.has(`${root}.${key}`)) src.skip(`${root}.${key}`, reason)
  if (src.flag(`${root}.enable`) !== true) {
    src.note(root, "off in Butler: Butler's MQTT topics stay off in sensebus too")
    return
  }
  out.set('capabilities.alert.mqtt.butlerTopics', true)
  const topics: Array<[string, string]> = [
    ['taskFailureTopic', 'failureTopic'],
    ['taskFailureFullTopic', 'failureFullTopic'],
    ['taskAbortedTopic', 'abortedTopic'],
    ['taskAbortedFullTopic', 'abortedFullTopic'],
  ]
  for (const [from, to] of topics) {
    const topic = src.string(`${root}.${from}`)
    if (topic) out.set(`capabilities.alert.mqtt.${to}`, topic)
  }
  for (const key of ['taskFailureSendFull', 'taskAbortedSendFull'])
    if (src.flag(`${root}.${key}`) === false)
      src.skip(`${root}.${key}`, 'sensebus always publishes the _full topic as well; subscribers may ignore it')
  const start = src.string(`${root}.taskStartTopic`)
  if (start) out.set('capabilities.task.startTopic', { enable: true, topic: start })
  if (src.has(`${root}.subscriptionRootTopic`))
    src.note(`${root}.subscriptionRootTopic`, 'not needed: sensebus subscribes to the start topic itself')
  const host = src.string(`${root}.brokerHost`)
  if (host) {
    const port = src.number(`${root}.brokerPort`) ?? 1883
    src.skip(
      `${root}.brokerHost`,
      `sensebus is the MQTT broker (broker.mqtt, port 1883): point Butler's subscribers at it, or set ` +
        `broker.url: mqtt://${host}:${port} to keep using that broker`,
    )
  }
}

/** `udpServerConfig` → the alert receiver for the Sense scheduler's log appender (`capabilities.alert.udp`). */
export function mapUdp(src: ButlerSource, out: SensebusTarget): void {
  const root = 'udpServerConfig'
  if (!src.has(root)) return
  const on = src.flag(`${root}.enable`)
  if (on !== undefined) out.set('capabilities.alert.udp.enabled', on)
  const host = src.string(`${root}.serverHost`)
  if (host) out.set('capabilities.alert.udp.host', host)
  const port = src.number(`${root}.portTaskFailure`)
  if (port !== undefined) out.set('capabilities.alert.udp.port', port)
  if (on !== false && host && !isLoopback(host))
    src.note(
      `${root}.serverHost`,
      'list the Sense scheduler nodes under capabilities.alert.udp.allowedSources (Butler accepted any sender)',
    )
}

/** `qlikSenseUrls` and `genericUrls` → links offered to alert templates (`capabilities.alert.links`). */
export function mapLinks(src: ButlerSource, out: SensebusTarget): void {
  const urls: Array<[string, string]> = [
    ['qlikSenseUrls.qmc', 'qmc'],
    ['qlikSenseUrls.hub', 'hub'],
    ['qlikSenseUrls.appBaseUrl', 'appBase'],
  ]
  for (const [from, to] of urls) {
    const url = src.string(from)
    if (url) out.set(`capabilities.alert.links.${to}`, url)
  }
  const generic = src
    .list('genericUrls')
    .map(asMap)
    .filter((l) => l && typeof l.id === 'string' && typeof l.url === 'string' && !isPlaceholder(l.url))
    .map((l) => ({
      id: String(l?.id),
      linkText: String(l?.linkText ?? l?.id),
      comment: String(l?.comment ?? ''),
      url: String(l?.url),
    }))
  if (generic.length > 0) out.set('capabilities.alert.links.generic', generic)
}
