import { $, throttled } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'
const HOURS = 12

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

/** Bars for a few series over the same labels; an accessible title lists the numbers. */
function bars(container, labels, series) {
  const width = 320
  const height = 120
  const max = Math.max(1, ...series.flatMap((s) => s.values))
  const slot = width / labels.length
  const barWidth = Math.max(2, (slot - 4) / series.length)
  const root = svg('svg', { viewBox: `0 0 ${width} ${height + 16}`, role: 'img', class: 'bars' })
  const title = svg('title', {})
  title.textContent = series.map((s) => `${s.name}: ${s.values.join(', ')}`).join('; ')
  root.append(title)
  labels.forEach((label, i) => {
    series.forEach((s, j) => {
      const v = s.values[i]
      const barHeight = (v / max) * (height - 4)
      root.append(
        svg('rect', {
          x: i * slot + 2 + j * barWidth,
          y: height - barHeight,
          width: barWidth - 1,
          height: barHeight,
          class: s.className,
        }),
      )
    })
    if (i % 2 === 0) {
      const text = svg('text', { x: i * slot + slot / 2, y: height + 13, 'text-anchor': 'middle' })
      text.textContent = label
      root.append(text)
    }
  })
  const legend = document.createElement('p')
  legend.className = 'legend'
  for (const s of series) {
    const span = document.createElement('span')
    span.className = `key ${s.className}`
    span.textContent = s.name
    legend.append(span)
  }
  container.replaceChildren(root, legend)
}

/**
 * Reloads and failures per hour, and how long alerts took to reach their receivers, from what this
 * page has seen since it connected (the bus keeps no history to ask for).
 */
export function mountCharts(bus) {
  const perHour = new Map()
  const latencies = []
  const receivedAt = new Map()
  const hourOf = (iso) => new Date(iso).setMinutes(0, 0, 0)
  const draw = throttled(() => {
    const now = new Date().setMinutes(0, 0, 0)
    const hours = Array.from({ length: HOURS }, (_, i) => now - (HOURS - 1 - i) * 3_600_000)
    bars(
      $('#chart-reloads'),
      hours.map((t) => `${new Date(t).getHours()}h`),
      [
        { name: 'reloads', className: 'ok', values: hours.map((t) => perHour.get(t)?.total ?? 0) },
        { name: 'failed', className: 'bad', values: hours.map((t) => perHour.get(t)?.failed ?? 0) },
      ],
    )
    const recent = latencies.slice(-HOURS)
    bars(
      $('#chart-latency'),
      recent.map((_, i) => `#${i + 1}`),
      [{ name: 'seconds to delivery', className: 'info', values: recent.map((ms) => Math.round(ms / 100) / 10) }],
    )
  })
  bus.on(`${bus.base}/event/+/+`, (topic, message) => {
    const [domain, what] = topic.slice(`${bus.base}/event/`.length).split('/')
    if (!['reload', 'preload'].includes(domain) || !message?.time) return
    const hour = hourOf(message.time)
    const slot = perHour.get(hour) ?? { total: 0, failed: 0 }
    slot.total++
    if (what !== 'succeeded') slot.failed++
    perHour.set(hour, slot)
    draw()
  })
  bus.on(`${bus.base}/state/alert/+`, (_t, alert) => {
    if (alert?.id && alert.receivedAt) receivedAt.set(alert.id, Date.parse(alert.receivedAt))
  })
  bus.on(`${bus.base}/event/alert/+/delivered`, (_t, message) => {
    const from = receivedAt.get(message?.data?.alertId)
    if (from && message.time) latencies.push(Math.max(0, Date.parse(message.time) - from))
    draw()
  })
  draw()
}
