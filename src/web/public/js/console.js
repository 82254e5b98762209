import { $, h, toast } from './dom.js'

const RESERVED = new Set(['transaction', 'replyTo'])

/** The input a property gets: a choice for enums and booleans, a number, a line of text, or JSON. */
function fieldKind(schema) {
  const options = schema.enum ?? (schema.anyOf?.every((s) => 'const' in s) ? schema.anyOf.map((s) => s.const) : null)
  if (options) return { kind: 'choice', options }
  if (schema.type === 'boolean') return { kind: 'choice', options: [true, false] }
  if (schema.type === 'integer' || schema.type === 'number') return { kind: 'number' }
  if (schema.type === 'string') return { kind: 'text' }
  return { kind: 'json' }
}

function field(name, schema, required) {
  const { kind, options } = fieldKind(schema)
  const id = `console-field-${name}`
  const common = { id, name, 'data-kind': kind, 'aria-describedby': schema.description ? `${id}-help` : undefined }
  let input
  if (kind === 'choice') {
    input = h(
      'select',
      common,
      h('option', { value: '' }, required ? '(choose)' : '(leave out)'),
      options.map((o) => h('option', { value: JSON.stringify(o) }, String(o))),
    )
  } else if (kind === 'json') {
    input = h('textarea', { ...common, rows: 3, placeholder: 'JSON, e.g. ["…"]', spellcheck: 'false' })
  } else {
    input = h('input', { ...common, type: kind === 'number' ? 'number' : 'text', required })
  }
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, name, required ? ' *' : ''),
    input,
    schema.description ? h('small', { id: `${id}-help` }, schema.description) : null,
  )
}

/** The request body from the form: empty fields are left out, JSON fields parsed. */
function bodyOf(form) {
  const body = {}
  for (const el of form.querySelectorAll('[data-kind]')) {
    const raw = el.value.trim()
    if (raw === '') continue
    if (el.dataset.kind === 'number') body[el.name] = Number(raw)
    else if (el.dataset.kind === 'text') body[el.name] = el.value
    else {
      try {
        body[el.name] = JSON.parse(raw)
      } catch {
        throw new Error(`${el.name}: not valid JSON`)
      }
    }
  }
  return body
}

/**
 * A form per capability, built from the catalogue's request schemas; the envelope is shown as it will
 * be published, and the answer as it comes back. The broker and the dispatcher decide what is allowed.
 */
export async function mountConsole(bus) {
  const select = $('#console-cap')
  const form = $('#console-form')
  const envelope = $('#console-envelope')
  const response = $('#console-response')
  let catalogue = []
  try {
    catalogue = await (await fetch('/web/catalogue.json')).json()
  } catch {
    toast('Could not load the request catalogue', 'error')
  }
  select.replaceChildren(...catalogue.map((c) => h('option', { value: c.capability }, c.capability)))
  const current = () => catalogue.find((c) => c.capability === select.value)
  const preview = () => {
    try {
      envelope.textContent = JSON.stringify(bus.envelope(select.value, bodyOf(form)), null, 2)
    } catch (err) {
      envelope.textContent = err.message
    }
  }
  const build = () => {
    const entry = current()
    if (!entry) return
    $('#console-summary').textContent = entry.summary
    const props = Object.entries(entry.schema.properties ?? {}).filter(([k]) => !RESERVED.has(k))
    const required = new Set(entry.schema.required ?? [])
    form.replaceChildren(
      ...props.map(([name, schema]) => field(name, schema, required.has(name))),
      h('button', { type: 'submit' }, `Send ${entry.capability}`),
    )
    response.textContent = ''
    preview()
  }
  select.addEventListener('change', build)
  form.addEventListener('input', preview)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    let body
    try {
      body = bodyOf(form)
    } catch (err) {
      response.textContent = err.message
      return
    }
    response.textContent = 'waiting…'
    const env = await bus.request(select.value, body)
    response.textContent = JSON.stringify(env, null, 2)
    response.dataset.status = env.status
  })
  build()
}
