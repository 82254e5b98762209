import type { CapabilityModule } from '../../core/capability.js'
import { isLoopback } from '../../security/exposure.js'
import type { ButlerSource } from './source.js'
import type { SensebusTarget } from './target.js'

/** Butler's endpoint flags as leaves: `scheduler.createNewSchedule` → `createNewSchedule`. */
function endpointFlags(src: ButlerSource): Map<string, { path: string; enabled: boolean }> {
  const flags = new Map<string, { path: string; enabled: boolean }>()
  const walk = (path: string) => {
    const node = src.map(path)
    if (!node) return
    for (const key of Object.keys(node)) {
      const sub = `${path}.${key}`
      const flag = src.flag(sub)
      if (flag !== undefined) flags.set(key, { path: sub, enabled: flag })
      else walk(sub)
    }
  }
  walk('restServerEndpointsEnable')
  return flags
}

/**
 * Capabilities to switch off: those whose every Butler route belongs to an endpoint Butler had off.
 * The routes declare their Butler flag (`butlerFlag`), so the registry is the one source of the mapping.
 * A whole area goes as `area/*` when all of its capabilities go.
 */
function disabledCapabilities(
  modules: CapabilityModule[],
  isOff: (flag: string) => boolean,
  keep: ReadonlySet<string>,
): string[] {
  const out: string[] = []
  for (const m of modules) {
    const off = m.capabilities.filter((c) => {
      const flags = (c.routes ?? []).map((r) => r.butlerFlag).filter((f): f is string => f !== undefined)
      return flags.length > 0 && flags.every(isOff) && !keep.has(c.name)
    })
    if (off.length === 0) continue
    // `<module area>/*` covers every capability of the module, whatever its name (file/* includes dir/create).
    if (off.length === m.capabilities.length) out.push(`${m.area}/*`)
    else out.push(...off.map((c) => c.name))
  }
  return out
}

/** The REST server, its endpoint switches and the key-value store. */
export function mapRest(src: ButlerSource, out: SensebusTarget, modules: CapabilityModule[]): void {
  const restOn = src.flag('restServerConfig.enable')
  if (restOn === false) {
    out.set('http.enabled', false)
    src.note(
      'restServerConfig.enable',
      'carried over as http.enabled: false (the capabilities stay reachable over MQTT; see capabilities.disabled)',
    )
  }
  const host = src.string('restServerConfig.serverHost')
  if (host) out.set('http.host', host)
  const port = src.number('restServerConfig.serverPort')
  if (port !== undefined) out.set('http.port', port)
  if (src.has('restServerConfig.backgroundServerPort'))
    src.skip('restServerConfig.backgroundServerPort', 'not needed: sensebus serves HTTP from one listener')
  if (restOn !== false && host && !isLoopback(host)) {
    // Butler's REST API has no authentication; load scripts call it from other machines.
    out.set('security.allowAnonymous', true)
    out.set('security.anonymousRoles', ['loadscript'])
    src.note(
      'restServerConfig.serverHost',
      "Butler's REST API has no login: carried over as security.allowAnonymous: true with role loadscript " +
        "(Butler's endpoints). Add security.users or security.tokens and set allowAnonymous: false when you can",
    )
  }

  const flags = endpointFlags(src)
  const known = new Set(
    modules.flatMap((m) => m.capabilities.flatMap((c) => (c.routes ?? []).map((r) => r.butlerFlag))),
  )
  for (const [flag, { path }] of flags) if (!known.has(flag)) src.skip(path, 'this endpoint is not offered by sensebus')

  const kvOn = src.flag('keyValueStore.enable')
  const isOff = (flag: string) => flags.get(flag)?.enabled === false || (flag === 'keyValueStore' && kvOn === false)
  // Butler's scheduler and MQTT start topic start tasks whatever senseStartTask says; so do sensebus'.
  const keep = new Set<string>()
  const startsTasks = src.flag('scheduler.enable') === true || src.flag('mqttConfig.enable') === true
  if (startsTasks && isOff('senseStartTask')) {
    keep.add('task/start')
    src.note(
      'restServerEndpointsEnable.senseStartTask',
      'task/start stays on: schedules and the MQTT start topic go through it. Restrict who may call it with ' +
        'security roles',
    )
  }
  const disabled = disabledCapabilities(modules, isOff, keep)
  if (disabled.length > 0) out.set('capabilities.disabled', disabled)

  const maxKeys = src.number('keyValueStore.maxKeysPerNamespace')
  if (maxKeys !== undefined && maxKeys >= 1) out.set('capabilities.kv.maxKeysPerNamespace', Math.floor(maxKeys))
  if (kvOn === false) src.note('keyValueStore.enable', 'carried over as capabilities.disabled: kv/*')

  if (src.has('restServerEndpointsConfig'))
    src.skip('restServerEndpointsConfig', 'New Relic endpoints are not offered by sensebus')
  if (src.has('restServerApiDocGenerate'))
    src.skip('restServerApiDocGenerate', 'not needed: sensebus serves its API description at GET /api/docs')
  if (src.has('dockerHealthCheck'))
    src.note('dockerHealthCheck', 'carried over as GET /health on the HTTP listener (http.health), no own port')
  if (src.has('configVisualisation'))
    src.skip(
      'configVisualisation',
      'no config web page: `sensebus config print` shows the effective config with secrets redacted',
    )
}
