/**
 * QRS filter parser, grammar of QLIK-PROTOCOLS §1.5.1:
 *   orExpr := andExpr ("or" andExpr)* ; andExpr := primary ("and" primary)*
 *   primary := "(" orExpr ")" | path op value
 * Keywords and operators are case-insensitive; `''` inside a quoted value is one quote.
 */

export type FilterOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'sw' | 'ew' | 'so'

export type FilterValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  /** Unquoted GUIDs and enum names (`id eq 3fa8…`, `ServiceType eq Engine`). */
  | { kind: 'bare'; value: string }

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'compare'; path: string[]; op: FilterOp; value: FilterValue }

const OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sw', 'ew', 'so'])

export class FilterParseError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FilterParseError'
  }
}

type Token = { kind: 'lparen' | 'rparen' } | { kind: 'word'; text: string } | { kind: 'string'; text: string }

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    const ch = input[i] as string
    if (/\s/.test(ch)) {
      i++
      continue
    }
    if (ch === '(') {
      tokens.push({ kind: 'lparen' })
      i++
      continue
    }
    if (ch === ')') {
      tokens.push({ kind: 'rparen' })
      i++
      continue
    }
    if (ch === "'") {
      let text = ''
      i++
      for (;;) {
        if (i >= input.length) throw new FilterParseError('unterminated string')
        const c = input[i] as string
        if (c === "'") {
          if (input[i + 1] === "'") {
            text += "'"
            i += 2
            continue
          }
          i++
          break
        }
        text += c
        i++
      }
      tokens.push({ kind: 'string', text })
      continue
    }
    let word = ''
    while (i < input.length && !/[\s()']/.test(input[i] as string)) word += input[i++]
    tokens.push({ kind: 'word', text: word })
  }
  return tokens
}

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

function toValue(token: Token | undefined): FilterValue {
  if (!token) throw new FilterParseError('value expected')
  if (token.kind === 'string') return { kind: 'string', value: token.text }
  if (token.kind !== 'word') throw new FilterParseError('value expected')
  const lower = token.text.toLowerCase()
  if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true' }
  if (lower === 'null') return { kind: 'null' }
  if (/^-?\d+(\.\d+)?$/.test(token.text)) return { kind: 'number', value: Number(token.text) }
  if (/^[A-Za-z0-9_-]+$/.test(token.text)) return { kind: 'bare', value: token.text }
  throw new FilterParseError(`unexpected value '${token.text}'`)
}

export function parseFilter(input: string): FilterNode {
  const tokens = tokenize(input)
  let pos = 0
  const peekWord = (): string | undefined => {
    const t = tokens[pos]
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined
  }

  const primary = (): FilterNode => {
    const t = tokens[pos]
    if (!t) throw new FilterParseError('expression expected')
    if (t.kind === 'lparen') {
      pos++
      const inner = orExpr()
      if (tokens[pos]?.kind !== 'rparen') throw new FilterParseError("')' expected")
      pos++
      return inner
    }
    if (t.kind !== 'word' || !PATH_RE.test(t.text)) throw new FilterParseError('property name expected')
    pos++
    const opToken = tokens[pos]
    const op = opToken?.kind === 'word' ? opToken.text.toLowerCase() : ''
    if (!OPS.has(op)) throw new FilterParseError(`relational operator expected after '${t.text}'`)
    pos++
    const value = toValue(tokens[pos])
    pos++
    return { kind: 'compare', path: t.text.split('.'), op: op as FilterOp, value }
  }

  const andExpr = (): FilterNode => {
    let left = primary()
    while (peekWord() === 'and') {
      pos++
      left = { kind: 'and', left, right: primary() }
    }
    return left
  }

  const orExpr = (): FilterNode => {
    let left = andExpr()
    while (peekWord() === 'or') {
      pos++
      left = { kind: 'or', left, right: andExpr() }
    }
    return left
  }

  const tree = orExpr()
  if (pos < tokens.length) throw new FilterParseError('unexpected text after the expression')
  return tree
}
