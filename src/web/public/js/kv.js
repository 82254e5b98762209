import { $, h, report, table, throttled } from './dom.js'

/** Seconds left as `1h 02m 05s`, or `expired`. */
function remaining(expiresAt) {
  const ms = Date.parse(expiresAt) - Date.now()
  if (!(ms > 0)) return 'expired'
  const s = Math.ceil(ms / 1000)
  const parts = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
  return parts[0] > 0
    ? `${parts[0]}h ${String(parts[1]).padStart(2, '0')}m`
    : `${parts[1]}m ${String(parts[2]).padStart(2, '0')}s`
}

/**
 * The key-value store from its retained mirror (`state/kv/<ns>/<key>`): values, a TTL counting down,
 * edit (fills the form) and delete. Writes go through kv/set and kv/delete, so roles apply.
 */
export function mountKv(bus) {
  const keys = new Map()
  const form = $('#kv-form')
  const edit = (entry) => {
    $('#kv-ns').value = entry.namespace
    $('#kv-key').value = entry.key
    $('#kv-value').value = entry.value
    $('#kv-ttl').value = entry.expiresAt
      ? Math.max(1, Math.round((Date.parse(entry.expiresAt) - Date.now()) / 1000))
      : ''
    $('#kv-value').focus()
  }
  const remove = async (entry) =>
    report(
      await bus.request('kv/delete', { namespace: entry.namespace, key: entry.key }),
      `Deleted ${entry.namespace}/${entry.key}`,
    )
  const draw = throttled(() => {
    const sorted = [...keys.values()].sort((a, b) => `${a.namespace}/${a.key}`.localeCompare(`${b.namespace}/${b.key}`))
    $('#kv').replaceChildren(
      table(
        ['Namespace', 'Key', 'Value', 'TTL', ''],
        sorted.map((e) => [
          e.namespace,
          e.key,
          h('span', { class: 'value', 'data-kv': `${e.namespace}/${e.key}` }, e.value + (e.truncated ? ' …' : '')),
          e.expiresAt ? h('span', { class: 'ttl', 'data-expires': e.expiresAt }, remaining(e.expiresAt)) : '—',
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', onclick: () => edit(e), 'aria-label': `Edit ${e.namespace}/${e.key}` },
              'Edit',
            ),
            h(
              'button',
              { type: 'button', onclick: () => remove(e), 'aria-label': `Delete ${e.namespace}/${e.key}` },
              'Delete',
            ),
          ),
        ]),
        'No keys.',
      ),
    )
  })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const ttl = $('#kv-ttl').value.trim()
    const body = { namespace: $('#kv-ns').value, key: $('#kv-key').value, value: $('#kv-value').value }
    if (ttl) body.ttl = Math.round(Number(ttl) * 1000)
    report(await bus.request('kv/set', body), `Saved ${body.namespace}/${body.key}`)
  })
  bus.on(`${bus.base}/state/kv/+/+`, (topic, entry) => {
    const id = topic.slice(`${bus.base}/state/kv/`.length)
    if (entry === null) keys.delete(id)
    else keys.set(id, entry)
    draw()
  })
  // The countdown: only the TTL cells change, once a second.
  setInterval(() => {
    for (const cell of document.querySelectorAll('#kv .ttl')) cell.textContent = remaining(cell.dataset.expires)
  }, 1000)
  draw()
}
