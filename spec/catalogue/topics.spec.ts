import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAjv } from '../../src/core/validate.js'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { generateTopicFiles, topicEntries } from '../../src/catalogue/generate.js'
import { VERSION } from '../../src/version.js'
import { withCapabilityTable } from '../../src/catalogue/readme-table.js'

const topicsDir = fileURLToPath(new URL('../../topics/', import.meta.url))

describe('topics/ catalogue', () => {
  it('is current: regenerating from the registry changes nothing (run `npm run topics` if this fails)', async () => {
    const files = generateTopicFiles(modules, VERSION)
    for (const [path, content] of files) {
      expect(await readFile(join(topicsDir, path), 'utf8'), `topics/${path} is stale`).toBe(content)
    }
    const onDisk = await readdir(join(topicsDir, 'schemas'))
    const generated = [...files.keys()].filter((p) => p.startsWith('schemas/')).map((p) => p.slice('schemas/'.length))
    expect(onDisk.sort()).toEqual(generated.sort())
  })

  it("keeps the README's capability table current (run `npm run topics` if this fails)", async () => {
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    expect(readme).toBe(withCapabilityTable(readme, modules))
  })

  it('has a request and a response schema for every capability, and an AsyncAPI 3 document', async () => {
    const files = generateTopicFiles(modules, VERSION)
    for (const cap of modules.flatMap((m) => m.capabilities)) {
      expect(files.has(`schemas/${cap.name.replace('/', '.')}.request.json`)).toBe(true)
      expect(files.has(`schemas/${cap.name.replace('/', '.')}.response.json`)).toBe(true)
    }
    const asyncapi = JSON.parse(files.get('asyncapi.json')!)
    expect(asyncapi.asyncapi).toBe('3.0.0')
    expect(Object.keys(asyncapi.channels).length).toBe(topicEntries(modules).length)
  })

  it('every documented example validates against its own schema', () => {
    const ajv = createAjv({ useDefaults: false })
    for (const entry of topicEntries(modules)) {
      if (entry.example === undefined) continue
      const validate = ajv.compile(entry.schema)
      expect(validate(structuredClone(entry.example)), `${entry.topic}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
  })
})
