/**
 * What sensebus knows about the health of the parts it depends on. Services report here (the Sense
 * probe, the store); the app turns the overall picture into `<base>/bridge/state` and `GET /health`.
 */
export type HealthStatus = 'ok' | 'degraded' | 'unconfigured'

export interface HealthEntry {
  component: string
  status: HealthStatus
  detail?: string | undefined
  since: string
}

export class Health {
  private readonly entries = new Map<string, HealthEntry>()
  private readonly listeners = new Set<() => void>()

  report(component: string, status: HealthStatus, detail?: string): void {
    const old = this.entries.get(component)
    if (old && old.status === status && old.detail === detail) return
    this.entries.set(component, { component, status, detail, since: new Date().toISOString() })
    for (const l of this.listeners) l()
  }

  snapshot(): HealthEntry[] {
    return [...this.entries.values()]
  }

  /** Degraded as soon as one component is: what a monitor or a client needs to know at a glance. */
  overall(): 'online' | 'degraded' {
    return [...this.entries.values()].some((e) => e.status === 'degraded') ? 'degraded' : 'online'
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
