import type { EngineProperties } from '../backend.js'

/**
 * Evaluates a list definition's `qData` against one object's properties: every string value that
 * is a JSON pointer (`"/qInfo/qId"`) is replaced by what it points at; nested objects recurse.
 * `/qDimInfos` is computed, as the engine does for library dimensions (QLIK-PROTOCOLS §2.5.2 step 3).
 */
export function evaluateQData(qData: unknown, props: EngineProperties): Record<string, unknown> {
  if (typeof qData !== 'object' || qData === null || Array.isArray(qData)) return {}
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(qData)) {
    const evaluated = evaluate(value, props)
    if (evaluated !== undefined) out[key] = evaluated
  }
  return out
}

function evaluate(value: unknown, props: EngineProperties): unknown {
  if (typeof value === 'string') return value.startsWith('/') ? resolvePointer(props, value) : value
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return evaluateQData(value, props)
  return value
}

function resolvePointer(props: EngineProperties, pointer: string): unknown {
  if (pointer === '/qDimInfos') return dimInfos(props)
  let node: unknown = props
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

function dimInfos(props: EngineProperties): { qName: string; qTags: string[] }[] {
  const qDim = props['qDim'] as { qFieldDefs?: unknown } | undefined
  const defs = Array.isArray(qDim?.qFieldDefs) ? qDim.qFieldDefs : []
  return defs.filter((d): d is string => typeof d === 'string').map((qName) => ({ qName, qTags: [] }))
}
