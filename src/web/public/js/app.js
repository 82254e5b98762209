import { mountAlerts } from './alerts.js'
import { Bus } from './bus.js'
import { mountCharts } from './charts.js'
import { mountConsole } from './console.js'
import { $, toast } from './dom.js'
import { mountEvents } from './events.js'
import { mountKv } from './kv.js'
import { mountSchedules } from './schedules.js'
import { mountTasks } from './tasks.js'

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? ''
const base = meta('sensebus-base') || 'sense'

/** The broker URL sensebus suggests, on the host name this page came from. */
function defaultBrokerUrl() {
  const hint = meta('sensebus-broker')
  if (hint)
    return hint.replace('{host}', location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname)
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')]
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab
      t.setAttribute('aria-selected', String(on))
      t.tabIndex = on ? 0 : -1
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on
    }
    tab.focus()
    history.replaceState(null, '', `#${tab.id.slice(4)}`)
  }
  for (const [i, tab] of tabs.entries()) {
    tab.tabIndex = tab.getAttribute('aria-selected') === 'true' ? 0 : -1
    tab.addEventListener('click', () => select(tab))
    // The WAI-ARIA tabs pattern: arrows move between tabs, Home/End jump.
    tab.addEventListener('keydown', (e) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key]
      if (to === undefined) return
      e.preventDefault()
      select(tabs[(to + tabs.length) % tabs.length])
    })
  }
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`)
  if (wanted) select(wanted)
}

/** Bridge and Sense health from the retained bridge state: degraded means Sense is unreachable. */
function mountHealth(bus) {
  const bridge = $('#bridge')
  const sense = $('#sense')
  bus.on(`${base}/bridge/state`, (_t, msg) => {
    const state = msg?.state ?? 'unknown'
    bridge.dataset.state = state
    bridge.textContent = `bridge: ${state}`
    const senseState = state === 'online' ? 'reachable' : state === 'degraded' ? 'unreachable' : 'unknown'
    sense.dataset.state = senseState
    sense.textContent = `Sense: ${senseState}`
  })
  bus.on(`${base}/bridge/info`, (_t, msg) => {
    if (msg?.version) bridge.title = `sensebus ${msg.version}, ${msg.capabilities?.length ?? 0} capabilities`
  })
  bus.client.on('offline', () => {
    bridge.dataset.state = 'offline'
    bridge.textContent = 'bridge: connection lost, reconnecting'
  })
}

async function start(bus, user) {
  $('#login').hidden = true
  $('#tabs').hidden = false
  $('#main').hidden = false
  $('#logout').hidden = false
  $('#who').textContent = `logged in as ${user}`
  mountHealth(bus)
  mountEvents(bus)
  mountCharts(bus)
  mountAlerts(bus)
  mountSchedules(bus)
  mountTasks(bus)
  mountKv(bus)
  mountConsole(bus)
  // After the views listen, so the retained state arriving now reaches them.
  for (const f of ['event/#', 'state/#', 'bridge/#']) await bus.subscribe(`${base}/${f}`)
  document.body.dataset.ready = 'true'
}

function setupLogin() {
  const form = $('#login-form')
  $('#login-url').value = sessionStorage.getItem('sensebus.url') ?? defaultBrokerUrl()
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const url = $('#login-url').value.trim()
    const username = $('#login-user').value.trim()
    const password = $('#login-secret').value
    $('#login-error').textContent = ''
    form.querySelector('button').disabled = true
    try {
      // No secret: log in anonymously (admitted on loopback-only installs), whatever the name field says.
      const bus = await Bus.connect({ url, username: password ? username : '', password, base })
      sessionStorage.setItem('sensebus.url', url)
      $('#login-secret').value = ''
      await start(bus, (password && username) || 'anonymous')
      $('#logout').addEventListener('click', () => {
        bus.end()
        location.reload()
      })
    } catch (err) {
      const reason = String(err?.message ?? err)
      $('#login-error').textContent = /not authori[sz]ed|bad user/i.test(reason)
        ? 'Login refused: check the user name and the password or token.'
        : `Could not connect: ${reason}`
      toast('Login failed', 'error')
    } finally {
      form.querySelector('button').disabled = false
    }
  })
}

setupTabs()
setupLogin()
