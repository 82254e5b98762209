import { Parser } from '@asyncapi/parser'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import { Ajv } from 'ajv'
import * as addFormatsModule from 'ajv-formats'
import type { FormatsPlugin } from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { generateTopicFiles } from '../../src/catalogue/generate.js'
import { allCapabilities } from '../../src/core/registry.js'
import { buildOpenApi } from '../../src/http/openapi.js'

const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }
type OpenApi = { servers: unknown[]; paths: Record<string, Record<string, Operation>>; components: Record<string, any> }

const openapi = buildOpenApi(allCapabilities(modules), '0.1.0') as unknown as OpenApi
const files = generateTopicFiles(modules, '0.1.0')
const asyncapi = JSON.parse(files.get('asyncapi.json') as string)

describe('OpenAPI document', () => {
  it("passes Redocly's recommended ruleset with no errors and no warnings", async () => {
    const config = await createConfig({ extends: ['recommended'] })
    const problems = await lintFromString({ source: JSON.stringify(openapi), absoluteRef: 'openapi.json', config })
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([])
  })

  it('declares the bearer scheme and a server', () => {
    expect(openapi.components.securitySchemes.bearerToken).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(openapi.servers.length).toBeGreaterThan(0)
  })

  it('gives every /v4 success response with a body a schema that says something', () => {
    const v4 = Object.entries(openapi.paths).filter(([path]) => path.startsWith('/v4/'))
    expect(v4.length).toBeGreaterThan(10)
    for (const [path, ops] of v4)
      for (const [method, op] of Object.entries(ops))
        for (const [status, response] of Object.entries(op.responses)) {
          if (!/^2\d\d$/.test(status) || status === '204') continue
          const schema = response.content?.['application/json']?.schema as Record<string, unknown> | undefined
          expect(schema && Object.keys(schema).length, `${method} ${path} ${status}`).toBeTruthy()
        }
  })
})

describe('AsyncAPI document', () => {
  it('validates with the AsyncAPI parser without being told where it came from', async () => {
    const { diagnostics } = await new Parser().parse(files.get('asyncapi.json') as string)
    // Severity 0 is an error; the parser also warns that 3.1 exists, which is not a defect of the document.
    expect(
      diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path.join('/')}`),
    ).toEqual([])
  })

  it('has a servers block', () => {
    expect(Object.keys(asyncapi.servers).length).toBeGreaterThan(0)
    expect(asyncapi.servers.mqtt).toMatchObject({ protocol: 'mqtt', host: 'localhost:1883' })
  })

  it('keeps operation ids when a capability is added: they come from topic names, not positions', () => {
    const withoutFirst = JSON.parse(generateTopicFiles(modules.slice(1), '0.1.0').get('asyncapi.json') as string)
    const fewer = Object.keys(withoutFirst.operations)
    const all = Object.keys(asyncapi.operations)
    expect(fewer.length).toBeLessThan(all.length)
    for (const id of fewer) expect(all).toContain(id)
    expect(all).toContain('receive.kv.set.request')
    expect(all).toContain('send.kv.set.response')
    expect(asyncapi.operations['receive.kv.set.request'].channel.$ref).toBe('#/channels/kv.set.request')
    expect(asyncapi.channels['kv.set.request'].address).toBe('sense/request/kv/set')
  })
})

describe('JSON Schemas', () => {
  const strictAjv = () => {
    const ajv = new Ajv({ strict: true, allErrors: true })
    addFormats(ajv)
    return ajv
  }

  it('every topics/schemas file compiles under ajv strict mode', () => {
    const schemaFiles = [...files.entries()].filter(([name]) => name.startsWith('schemas/'))
    expect(schemaFiles.length).toBeGreaterThan(50)
    const failures: string[] = []
    for (const [name, text] of schemaFiles) {
      try {
        strictAjv().compile(JSON.parse(text))
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('every OpenAPI request and response schema compiles under ajv strict mode', () => {
    const failures: string[] = []
    for (const [path, ops] of Object.entries(openapi.paths))
      for (const [method, op] of Object.entries(ops)) {
        const o = op as Operation & { requestBody?: { content: Record<string, { schema: unknown }> } }
        const schemas = [
          o.requestBody?.content['application/json']?.schema,
          ...Object.values(o.responses).map((r) => r.content?.['application/json']?.schema),
        ]
        for (const schema of schemas) {
          if (schema === undefined) continue
          try {
            strictAjv().compile(schema as object)
          } catch (err) {
            failures.push(`${method} ${path}: ${(err as Error).message}`)
          }
        }
      }
    expect(failures).toEqual([])
  })
})
