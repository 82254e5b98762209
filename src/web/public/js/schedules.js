import { $, formatTime, h, report, table, throttled } from './dom.js'

/** Each schedule from its retained state: next run in its own time zone, last result, actions (admin). */
export function mountSchedules(bus) {
  const schedules = new Map()
  const act = async (capability, s, label) => report(await bus.request(capability, { id: s.id }), `${label}: ${s.name}`)
  const lastResult = (r) => {
    if (!r) return '—'
    const code = r.status === 'error' ? ` ${r.error?.code ?? r.code ?? ''}` : ''
    return h('span', { class: r.status === 'ok' ? 'ok' : 'bad' }, `${r.status}${code}`)
  }
  const draw = throttled(() => {
    const rows = [...schedules.values()]
      .sort((a, b) => (a.nextRun ?? '~').localeCompare(b.nextRun ?? '~'))
      .map((s) => [
        h('span', { title: s.id }, s.name),
        h('code', {}, s.cron),
        s.timezone,
        s.enabled ? formatTime(s.nextRun, s.timezone) : 'stopped',
        formatTime(s.lastRun, s.timezone),
        lastResult(s.lastResult),
        h(
          'div',
          { class: 'actions' },
          s.enabled
            ? h('button', { type: 'button', onclick: () => act('schedule/stop', s, 'Stopped') }, 'Stop')
            : h('button', { type: 'button', onclick: () => act('schedule/start', s, 'Started') }, 'Start'),
          h('button', { type: 'button', onclick: () => act('schedule/run-now', s, 'Running') }, 'Run now'),
        ),
      ])
    $('#schedules').replaceChildren(
      table(['Schedule', 'Cron', 'Time zone', 'Next run', 'Last run', 'Last result', ''], rows, 'No schedules.'),
    )
  })
  bus.on(`${bus.base}/state/schedule/+`, (topic, s) => {
    const id = decodeURIComponent(topic.split('/').at(-1))
    if (s === null) schedules.delete(id)
    else schedules.set(id, s)
    draw()
  })
  draw()
}
