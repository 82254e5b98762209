import type { TopicEntry } from '../catalogue/generate.js'

/**
 * `GET /api/docs`: the HTTP operations and MQTT topics on one page, rendered on the server. No
 * script and nothing from a CDN (sensebus often runs where there is no internet), so the strict CSP
 * of ./endpoints.ts holds.
 */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

interface Operation {
  summary?: string
  operationId?: string
  tags?: string[]
}

export function renderDocsPage(opts: {
  title: string
  version: string
  openapi: { paths: Record<string, Record<string, Operation>> }
  topics: TopicEntry[]
}): string {
  const rows = Object.entries(opts.openapi.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(
      ([method, op]) =>
        `<tr><td class="m ${escape(method)}">${escape(method.toUpperCase())}</td>` +
        `<td><code>${escape(path)}</code></td><td>${escape(op.summary ?? '')}</td></tr>`,
    ),
  )
  const topics = opts.topics.map(
    (t) =>
      `<tr><td>${escape(t.kind)}${t.retained ? ' (retained)' : ''}</td><td><code>${escape(t.topic)}</code></td>` +
      `<td>${escape(t.summary)}</td></tr>`,
  )
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(opts.title)}</title>
<link rel="stylesheet" href="/api/docs/style.css">
</head>
<body>
<h1>${escape(opts.title)} <small>${escape(opts.version)}</small></h1>
<p>Machine-readable: <a href="/api/openapi.json">OpenAPI (HTTP)</a> · <a href="/api/asyncapi.json">AsyncAPI (MQTT)</a>.
Every HTTP call becomes one MQTT request; <code>/v4</code> paths speak Butler's dialect.</p>
<nav><a href="#http">HTTP operations</a> · <a href="#mqtt">MQTT topics</a></nav>
<h2 id="http">HTTP operations (${rows.length})</h2>
<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<h2 id="mqtt">MQTT topics (${topics.length})</h2>
<table><thead><tr><th>Kind</th><th>Topic</th><th>Summary</th></tr></thead><tbody>
${topics.join('\n')}
</tbody></table>
</body>
</html>
`
}

export const DOCS_STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem}
body{color:#222}
h1 small{font-size:.55em;color:#666}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
code{font-size:.92em}
td.m{font-weight:600;font-family:monospace}
td.get{color:#1a6}td.post{color:#16a}td.put{color:#a61}td.delete{color:#b22}
`
