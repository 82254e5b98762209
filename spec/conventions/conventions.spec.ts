import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { generateTopicFiles } from '../../src/catalogue/generate.js'
import { createAjv } from '../../src/core/validate.js'
import { VERSION } from '../../src/version.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'

/** The published response schema of a capability, as topics/ ships it. */
function responseSchema(capability: string): object {
  const text = generateTopicFiles(modules, VERSION).get(`schemas/${capability.replace('/', '.')}.response.json`)
  if (!text) throw new Error(`no response schema for ${capability}`)
  return JSON.parse(text) as object
}

describe('MQTT conventions (Zigbee2MQTT habits)', () => {
  let sb: TestApp
  let client: TestClient

  beforeAll(async () => {
    sb = await startTestApp()
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  it('answers an empty payload as the empty request {}', async () => {
    const env = await client.raw('util/ping', '')
    expect(env).toMatchObject({ status: 'ok', data: { response: 'Butler reporting for duty' } })
    expect(createAjv().validate(responseSchema('util/ping'), env)).toBe(true)
  })

  it('echoes a numeric transaction as a number, and the published response schema allows it', async () => {
    const answer = await client.raw('util/ping', '{"transaction":42}')
    expect(answer.transaction).toBe(42)
    const ajv = createAjv()
    expect(ajv.validate(responseSchema('util/ping'), answer), ajv.errorsText()).toBe(true)
    const failure = await client.raw('kv/get', '{"transaction":7}')
    expect(failure).toMatchObject({ transaction: 7, status: 'error', error: { code: 'VALIDATION_FAILED' } })
    expect(ajv.validate(responseSchema('kv/get'), failure), ajv.errorsText()).toBe(true)
  })

  it('echoes a string transaction as the same string, not a number', async () => {
    expect((await client.raw('util/ping', '{"transaction":"42"}')).transaction).toBe('42')
  })
})
