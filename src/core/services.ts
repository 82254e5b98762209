/**
 * The long-lived services the app builds once from config and hands to the modules that declare
 * them (`needs: ['sense', 'outbox']`). Each service file adds its entry to this interface with a
 * module augmentation, so core names no implementation and no folder depends on core circularly:
 *
 * @example
 * declare module '../core/services.js' {
 *   interface Services { mail: MailService }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging, one service at a time
export interface Services {}

export type ServiceName = keyof Services

/**
 * Services a module did not declare are not reachable from it: a missing `needs` entry fails at
 * the first use with a message that names the module and the service, not with `undefined`.
 */
export function restrictServices(all: Partial<Services>, allowed: readonly string[], owner: string): Services {
  return new Proxy(all, {
    get(target, name) {
      if (typeof name !== 'string') return undefined
      if (!allowed.includes(name))
        throw new Error(`Module '${owner}' uses the '${name}' service without declaring it in needs`)
      const service = (target as Record<string, unknown>)[name]
      if (service === undefined) throw new Error(`The '${name}' service was not built`)
      return service
    },
  }) as Services
}
