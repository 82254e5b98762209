import { $, formatTime, h } from './dom.js'

const MAX_EVENTS = 500

/** One line saying what happened, from the fields the catalogue's event schemas carry. */
export function describe(domain, data = {}) {
  const d = data ?? {}
  switch (domain) {
    case 'alert':
      return [d.destination, d.recipient, d.error].filter(Boolean).join(' → ')
    case 'job':
      return [d.capability, d.taskName, d.status, d.lines ? `${d.lines.length} log lines` : '']
        .filter(Boolean)
        .join(' ')
    case 'schedule':
      return [d.name ?? d.id, d.status, d.reason].filter(Boolean).join(' ')
    case 'audit':
      return `${d.username ?? 'anonymous'} ${d.capability} → ${d.outcome}`
    default:
      return [d.taskName, d.appName, d.status, d.logMessage].filter(Boolean).join(' · ')
  }
}

/** Which kind filter an event passes; `failed` gathers every failure, abort and dead letter. */
function kindOf(domain, what, type) {
  const kinds = new Set([domain])
  if (['reload', 'preload', 'external-program', 'user-sync', 'distribute', 'unknown-task'].includes(domain))
    kinds.add('reload')
  if (/failed|aborted|dead/.test(`${what} ${type}`)) kinds.add('failed')
  return kinds
}

/** The live event stream: newest first, filterable, each entry expandable to its JSON. */
export function mountEvents(bus) {
  const list = $('#events')
  const filter = $('#event-filter')
  const kind = $('#event-kind')
  const visible = (li) => {
    const text = filter.value.trim().toLowerCase()
    const k = kind.value
    return (!k || li.dataset.kinds.split(' ').includes(k)) && (!text || li.dataset.search.includes(text))
  }
  const refilter = () => {
    for (const li of list.children) li.hidden = !visible(li)
  }
  filter.addEventListener('input', refilter)
  kind.addEventListener('change', refilter)
  $('#event-clear').addEventListener('click', () => list.replaceChildren())

  bus.on(`${bus.base}/event/#`, (topic, message) => {
    const rest = topic.slice(`${bus.base}/event/`.length).split('/')
    const domain = rest[0]
    const what = rest.at(-1)
    const type = message?.type ?? `${domain}.${what}`
    const summary = describe(domain, message?.data)
    const li = h(
      'li',
      { class: `event ${/failed|aborted|dead/.test(what) ? 'bad' : ''}`, 'data-type': type },
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('time', { datetime: message?.time ?? '' }, formatTime(message?.time ?? new Date().toISOString())),
          h('span', { class: 'type' }, type),
          h('span', { class: 'what' }, summary),
        ),
        h('p', { class: 'topic' }, topic),
        h('pre', {}, JSON.stringify(message, null, 2)),
      ),
    )
    li.dataset.kinds = [...kindOf(domain, what, type)].join(' ')
    li.dataset.search = `${topic} ${type} ${summary}`.toLowerCase()
    li.hidden = !visible(li)
    list.prepend(li)
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove()
  })
}
