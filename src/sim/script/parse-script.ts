/**
 * Just enough of Qlik load-script syntax to echo statements with their line numbers and to find the
 * data sources (QLIK-PROTOCOLS §4.6 and the lineage of §2.5.2). It is not a Qlik script parser.
 */

export interface ScriptLine {
  /** 1-based line number in the script, as the script log prints it (`0019`). */
  number: number
  text: string
}

export interface ScriptStatement {
  /** Lines that carry code (blank and comment-only lines left out). */
  lines: ScriptLine[]
  /** The statement text without comments, on one line. */
  text: string
  /** `Sales:` label in front of a LOAD, if any. */
  label: string | null
  /** `FROM [lib://...]` path, if any. */
  fromPath: string | null
  /** `LIB CONNECT TO 'x'` target, if this statement is one. */
  connectTo: string | null
  isLoad: boolean
  isInline: boolean
  isResident: boolean
  /** A `FAIL_SIM;` statement: the magic failure trigger of §4.6. */
  isForcedFailure: boolean
  /** `ADD`, `REPLACE` or `MERGE` in front of a LOAD/SELECT: the statements a partial reload runs. */
  partialPrefix: 'ADD' | 'REPLACE' | 'MERGE' | null
  /** `ADD ONLY` and friends: run in a partial reload only, skipped by a full one. */
  partialOnly: boolean
}

interface ScanState {
  quote: string | null
  blockComment: boolean
}

/** Removes comments from one line, carrying quote and block-comment state across lines. */
function stripComments(line: string, state: ScanState): { code: string; ends: number[] } {
  let code = ''
  const ends: number[] = []
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string
    const next = line[i + 1]
    if (state.blockComment) {
      if (ch === '*' && next === '/') {
        state.blockComment = false
        i++
      }
      continue
    }
    if (state.quote) {
      code += ch
      if (ch === state.quote) state.quote = null
      continue
    }
    if (ch === '/' && next === '/') break
    if (ch === '/' && next === '*') {
      state.blockComment = true
      i++
      continue
    }
    if (ch === "'" || ch === '"') state.quote = ch
    else if (ch === '[') state.quote = ']'
    else if (ch === ';') ends.push(code.length)
    code += ch
  }
  return { code, ends }
}

function describe(lines: ScriptLine[], code: string): ScriptStatement {
  const text = code.replace(/\s+/g, ' ').trim()
  const labelMatch = /^([A-Za-z_][\w ]*?)\s*:\s/.exec(`${text} `)
  const body = labelMatch ? text.slice(labelMatch[0].length - 1).trim() : text
  const upper = body.toUpperCase()
  const fromMatch = /\bFROM\s+\[([^\]]+)\]/i.exec(body) ?? /\bFROM\s+'([^']+)'/i.exec(body)
  const connectMatch = /^LIB\s+CONNECT\s+TO\s+'([^']+)'/i.exec(body)
  const prefixMatch = /^(ADD|REPLACE|MERGE)\b(\s+ONLY\b)?/i.exec(body)
  return {
    lines,
    text: text.replace(/;$/, ''),
    label: labelMatch ? (labelMatch[1] as string).trim() : null,
    fromPath: fromMatch ? (fromMatch[1] as string) : null,
    connectTo: connectMatch ? (connectMatch[1] as string) : null,
    isLoad: /\b(LOAD|SELECT)\b/.test(upper),
    isInline: /\bINLINE\b/.test(upper),
    isResident: /\bRESIDENT\b/.test(upper),
    isForcedFailure: /^FAIL_SIM\b/.test(upper),
    partialPrefix: prefixMatch ? ((prefixMatch[1] as string).toUpperCase() as 'ADD' | 'REPLACE' | 'MERGE') : null,
    partialOnly: prefixMatch?.[2] !== undefined,
  }
}

/** Splits a script into statements at `;` outside quotes, brackets and comments. */
export function parseScript(script: string): ScriptStatement[] {
  const statements: ScriptStatement[] = []
  const state: ScanState = { quote: null, blockComment: false }
  let lines: ScriptLine[] = []
  let code = ''
  script.split(/\r?\n/).forEach((raw, index) => {
    const { code: lineCode, ends } = stripComments(raw, state)
    let consumed = 0
    const hasCode = lineCode.trim().length > 0
    if (hasCode) lines.push({ number: index + 1, text: raw.replace(/\s+$/, '') })
    for (const end of ends) {
      code += `${lineCode.slice(consumed, end + 1)}\n`
      consumed = end + 1
      if (code.trim() !== ';') statements.push(describe(lines, code))
      code = ''
      lines = []
    }
    const rest = lineCode.slice(consumed)
    if (rest.trim()) {
      code += `${rest}\n`
      // The line holds the start of the next statement as well: keep it on the echo list.
      if (ends.length > 0) lines.push({ number: index + 1, text: raw.replace(/\s+$/, '') })
    }
  })
  if (code.trim()) statements.push(describe(lines, code))
  return statements
}
