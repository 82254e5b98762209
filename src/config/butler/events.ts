import type { ButlerSource } from './source.js'
import type { SensebusTarget } from './target.js'

/** Butler's per-event sections and the sensebus event type each stands for. */
export const BUTLER_EVENTS: Record<string, string> = {
  reloadTaskFailure: 'reload/failed',
  reloadTaskAborted: 'reload/aborted',
  reloadTaskSuccess: 'reload/succeeded',
  distributeTaskFailure: 'distribute/failed',
  distributeTaskSuccess: 'distribute/succeeded',
  preloadTaskFailure: 'preload/failed',
  preloadTaskSuccess: 'preload/succeeded',
}

/** Butler's Windows-service and licence sections, which have no sensebus counterpart. */
export const SERVICE_EVENTS = ['serviceStopped', 'serviceStarted', 'serviceMonitor']
export const LICENSE_EVENTS = ['qlikSenseServerLicenseMonitor', 'qlikSenseServerLicenseExpiryAlert']

/** `reload/failed` → `reload-failed`, for destination names. */
export const slug = (eventType: string) => eventType.replace('/', '-')

/** Butler's rateLimit is in seconds. */
export function rateLimitMs(src: ButlerSource, path: string): number | undefined {
  const seconds = src.number(path)
  return seconds !== undefined && seconds >= 0 ? Math.round(seconds * 1000) : undefined
}

/** Routes an event to a destination: one rule per event type, listing its destinations. */
export function route(out: SensebusTarget, eventType: string, destination: string): void {
  const rules = (out.get('capabilities.alert.rules') as Array<{ events: string[]; destinations: string[] }>) ?? []
  const rule = rules.find((r) => r.events.length === 1 && r.events[0] === eventType)
  if (rule) rule.destinations.push(destination)
  else
    out.push('capabilities.alert.rules', {
      name: `${eventType} (from Butler)`,
      events: [eventType],
      destinations: [destination],
    })
}

/** sensebus keeps one script-log length for every destination: the longest any enabled Butler alert asked for. */
export function scriptLogLines(src: ButlerSource, out: SensebusTarget, section: string): void {
  for (const [butler, sensebus] of [
    ['headScriptLogLines', 'scriptLogHeadLines'],
    ['tailScriptLogLines', 'scriptLogTailLines'],
  ] as const) {
    const lines = src.number(`${section}.${butler}`)
    if (lines === undefined || lines < 0) continue
    const path = `capabilities.alert.enrichment.${sensebus}`
    const current = out.get(path)
    if (typeof current !== 'number' || lines > current) out.set(path, Math.floor(lines))
  }
}

/** Butler's Handlebars `{{taskName}}` placeholders as eta; undefined when the text uses more than plain fields. */
export function handlebarsToEta(text: string): string | undefined {
  if (/\{\{\s*[#/^>!{&]/.test(text)) return undefined
  const converted = text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => `<%= it.${name} %>`)
  return converted.includes('{{') ? undefined : converted
}
