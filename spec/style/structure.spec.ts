import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

function files(dir: string, ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path, ext)
    return path.endsWith(ext) ? [path] : []
  })
}

/** The node a source file belongs to: its top folder under src/, or the file itself at the top. */
function nodeOf(file: string): string {
  const rel = relative(join(root, 'src'), file)
  return rel.includes('/') ? (rel.split('/')[0] as string) : rel
}

/** Folder-level import edges of src/, from relative imports (type-only imports count too). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const file of files(join(root, 'src'))) {
    const from = nodeOf(file)
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = nodeOf(resolve(dirname(file), m[1] as string).replace(/\.js$/, '.ts'))
      if (to === from) continue
      if (!graph.has(from)) graph.set(from, new Set())
      graph.get(from)?.add(to)
    }
  }
  return graph
}

function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = []
  const visit = (node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next)
      if (at >= 0) found.push([...path.slice(at), next])
      else visit(next, [...path, next])
    }
  }
  for (const node of graph.keys()) visit(node, [node])
  return found
}

describe('code structure', () => {
  it('has no import cycle between the folders of src/', () => {
    expect(cycles(folderGraph()).map((c) => c.join(' → '))).toEqual([])
  })

  it('keeps core free of every other folder (it is the contract the rest builds on)', () => {
    const fromCore = [...(folderGraph().get('core') ?? [])].filter((n) => n !== 'log.ts')
    expect(fromCore).toEqual([])
  })

  it('keeps lines of code at 120 characters or fewer', () => {
    const long = [...files(join(root, 'src')), ...files(join(root, 'spec'))].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 120 ? [`${relative(root, file)}:${i + 1} (${line.length})`] : [])),
    )
    expect(long).toEqual([])
  })
})
