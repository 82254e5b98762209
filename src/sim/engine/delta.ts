/**
 * Delta-encoded results, emitted only under the `deltaResponses` fault (QLIK-PROTOCOLS §2.3.4):
 * with top-level `delta: true`, enigma requires every key of `result` to be a JSON-Patch array, so
 * each value becomes one full replacement at the root.
 */
export function deltaEncode(result: Record<string, unknown>): Record<string, unknown> {
  const encoded: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(result)) {
    encoded[key] = [{ op: 'add', path: '/', value }]
  }
  return encoded
}
