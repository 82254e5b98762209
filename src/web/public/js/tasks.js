import { $, formatTime, h, report, table, throttled } from './dom.js'

const MAX_LINES = 200

/**
 * Tasks with their last execution (task/list, then the retained `state/task/<id>` as runs end), apps,
 * and the jobs started from here with their progress lines as they come.
 */
export function mountTasks(bus) {
  const tasks = new Map()
  const lastRuns = new Map()
  let apps = []

  const follow = (jobId, title) => {
    const lines = h('ol', { class: 'lines' })
    const state = h('span', { class: 'state', 'data-state': 'running' }, 'running')
    const box = h('article', { class: 'job card', 'data-job': jobId }, h('h3', {}, title, ' ', state), lines)
    $('#jobs').prepend(box)
    const add = (text) => {
      lines.append(h('li', {}, text))
      while (lines.children.length > MAX_LINES) lines.firstElementChild.remove()
    }
    bus.on(`${bus.base}/event/job/${jobId}/+`, (topic, message) => {
      const what = topic.split('/').at(-1)
      const d = message?.data ?? {}
      if (what === 'progress') {
        if (d.taskName || d.status) add(`${formatTime(message.time)} ${d.taskName ?? ''}: ${d.status ?? ''}`)
        for (const line of d.lines ?? []) add(line)
        if (d.transient) add(`… ${d.transient}`)
        return
      }
      state.textContent = what
      state.dataset.state = what
      if (d.error) add(`${d.error.code}: ${d.error.message}`)
      box.classList.add(what === 'completed' ? 'done' : 'bad')
    })
  }

  const start = async (capability, body, title) => {
    const env = await bus.request(capability, body)
    if (!report(env, `${title}: started`)) return
    follow(env.data.jobId, title)
  }

  const draw = throttled(() => {
    $('#tasks').replaceChildren(
      table(
        ['Task', 'Type', 'Last run', 'Result', ''],
        [...tasks.values()].map((t) => {
          const run = lastRuns.get(t.id)
          const status = run?.status ?? t.lastExecution?.status ?? '—'
          return [
            t.name,
            t.taskType,
            formatTime(run?.endedAt ?? run?.startedAt ?? t.lastExecution?.endedAt ?? t.lastExecution?.startedAt),
            h('span', { class: /fail|abort|error/i.test(status) ? 'bad' : '', 'data-task-status': t.id }, status),
            h(
              'button',
              {
                type: 'button',
                'aria-label': `Start ${t.name}`,
                onclick: () => start('task/start', { taskIds: [t.id] }, `Task ${t.name}`),
              },
              'Start',
            ),
          ]
        }),
        'Press “Load tasks and apps”.',
      ),
    )
    $('#apps').replaceChildren(
      table(
        ['App', 'Stream', ''],
        apps.map((a) => [
          a.name,
          a.stream ?? '—',
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Reload ${a.name}`,
              onclick: () => start('app/reload', { appId: a.id }, `Reload ${a.name}`),
            },
            'Reload',
          ),
        ]),
        'No apps loaded.',
      ),
    )
  })

  const load = async () => {
    const [t, a] = await Promise.all([bus.request('task/list', {}), bus.request('app/list', {})])
    if (report(t)) for (const task of t.data.tasks) tasks.set(task.id, task)
    if (report(a)) apps = a.data.apps
    draw()
  }
  bus.on(`${bus.base}/state/task/+`, (topic, run) => {
    const id = decodeURIComponent(topic.split('/').at(-1))
    if (run === null) lastRuns.delete(id)
    else {
      lastRuns.set(id, run)
      if (!tasks.has(id)) tasks.set(id, { id, name: run.taskName, taskType: 'reload' })
    }
    draw()
  })
  $('#tasks-refresh').addEventListener('click', load)
  void load()
}
