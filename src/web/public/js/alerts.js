import { $, formatTime, h, report, table, throttled } from './dom.js'

const SHOWN = 50

/** Recent alerts with each delivery's state, and dead letters with a retry button (admin). */
export function mountAlerts(bus) {
  const alerts = new Map()
  const deliveryCell = (d) =>
    h(
      'span',
      { class: `delivery ${d.state}`, 'data-state': d.state, title: d.lastError ?? '' },
      `${d.destination} → ${d.recipient}: ${d.state}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}`,
    )
  const retry = async (body, label) => {
    const env = await bus.request('alert/retry', body)
    if (report(env, `${label}: ${env.data?.retried?.length ?? 0} sent again`)) await refresh()
  }
  const draw = throttled(() => {
    const recent = [...alerts.values()].sort((a, b) => (b.receivedAt ?? '').localeCompare(a.receivedAt ?? ''))
    $('#alerts').replaceChildren(
      table(
        ['Received', 'Event', 'Task', 'Deliveries'],
        recent
          .slice(0, SHOWN)
          .map((a) => [
            formatTime(a.receivedAt),
            a.eventType,
            a.taskName || a.appName || a.id,
            h('div', { class: 'deliveries', 'data-alert': a.id }, (a.deliveries ?? []).map(deliveryCell)),
          ]),
        'No alerts yet.',
      ),
    )
    const dead = recent.flatMap((a) => (a.deliveries ?? []).filter((d) => d.state === 'dead').map((d) => [a, d]))
    $('#dead').replaceChildren(
      table(
        ['Alert', 'Destination', 'Last error', ''],
        dead.map(([a, d]) => [
          a.taskName || a.id,
          `${d.destination} → ${d.recipient}`,
          d.lastError ?? '',
          d.itemId
            ? h('button', { type: 'button', onclick: () => retry({ deliveryId: d.itemId }, 'Retry') }, 'Retry')
            : '',
        ]),
        'No dead letters.',
      ),
    )
  })
  const refresh = async () => {
    const env = await bus.request('alert/list', { limit: SHOWN })
    if (env.status !== 'ok') return
    for (const a of env.data.alerts) alerts.set(a.id, a)
    draw()
  }
  bus.on(`${bus.base}/state/alert/+`, (topic, summary) => {
    const id = decodeURIComponent(topic.split('/').at(-1))
    if (summary === null) alerts.delete(id)
    else alerts.set(id, summary)
    draw()
  })
  $('#alerts-refresh').addEventListener('click', refresh)
  $('#alerts-retry-all').addEventListener('click', () => retry({}, 'Retry all'))
  void refresh()
  draw()
}
