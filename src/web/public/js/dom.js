/**
 * A few DOM helpers. Everything from the bus is shown as text (never innerHTML), so a task name or
 * a key value cannot inject markup.
 */

/** `h('button', { class: 'x', onclick: fn }, 'Label')`: attributes, listeners and text or node children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : String(c))
  }
  return el
}

export const $ = (selector, root = document) => root.querySelector(selector)

/** A table from column titles and rows of cells (text or nodes). */
export function table(headers, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty)
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((c) => h('td', {}, c ?? '')),
        ),
      ),
    ),
  )
}

/** A time in the given IANA zone (or the browser's), short and unambiguous. */
export function formatTime(iso, timeZone) {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  try {
    return new Intl.DateTimeFormat(undefined, {
      dateStyle: 'short',
      timeStyle: 'medium',
      ...(timeZone ? { timeZone, timeZoneName: 'short' } : {}),
    }).format(d)
  } catch {
    return d.toISOString()
  }
}

let toastTimer
/** A short message in the live region; errors stay until the next message. */
export function toast(message, kind = 'info') {
  const el = $('#toast')
  el.textContent = message
  el.dataset.kind = kind
  el.classList.add('show')
  clearTimeout(toastTimer)
  if (kind !== 'error') toastTimer = setTimeout(() => el.classList.remove('show'), 4000)
}

/** Shows a request's outcome: ok quietly, errors with their code (FORBIDDEN for an observer, say). */
export function report(env, okMessage) {
  if (env.status === 'ok') {
    if (okMessage) toast(okMessage)
    return true
  }
  toast(`${env.error.code}: ${env.error.message}`, 'error')
  return false
}

/** Calls `fn` at most once per animation frame (bursts of events redraw once). */
export function throttled(fn) {
  let queued = false
  return () => {
    if (queued) return
    queued = true
    requestAnimationFrame(() => {
      queued = false
      fn()
    })
  }
}
