import type { YAMLError } from 'yaml'

/** The offending line with the one before it, numbered, and a caret under the column. */
export function codeFrame(text: string, line: number, col: number): string {
  const lines = text.split(/\r?\n/)
  const width = String(line).length
  const gutter = (n: number | '') => `${String(n).padStart(width)} | `
  const show = (n: number) => (lines[n - 1] ?? '').replaceAll('\t', ' ')
  const out: string[] = []
  if (line > 1) out.push(`  ${gutter(line - 1)}${show(line - 1)}`)
  out.push(`> ${gutter(line)}${show(line)}`)
  out.push(`  ${gutter('')}${' '.repeat(Math.max(0, col - 1))}^`)
  return out.join('\n')
}

/**
 * One problem per YAML error: `line L, column C: what`, then the frame. The yaml library's own message
 * repeats the position and a frame of its own; only its first sentence is kept.
 */
export function describeYamlError(text: string, err: YAMLError): string {
  const what = err.message.split(/ at line \d+, column \d+/)[0]?.trim() ?? err.message
  const pos = err.linePos?.[0]
  if (!pos) return what
  return `line ${pos.line}, column ${pos.col}: ${what}\n${codeFrame(text, pos.line, pos.col).replace(/^/gm, '      ')}`
}
