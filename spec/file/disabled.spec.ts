import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'

/** The file module serves file/* and dir/*: `capabilities.disabled: ['file/*']` switches off all of it. */
describe('capabilities.disabled and the file module', () => {
  const FILE_MODULE = [
    'file/copy',
    'file/move',
    'file/delete',
    'file/list',
    'file/audit',
    'dir/create',
    'dir/create-qvd',
  ]
  let apps: TestApp[] = []
  let clients: TestClient[] = []
  const start = async (disabled: string[]) => {
    const sb = await startTestApp({ overrides: { 'capabilities.disabled': disabled } })
    const client = await connect(sb.mqttUrl)
    apps.push(sb)
    clients.push(client)
    return { sb, client }
  }
  let allOff: { sb: TestApp; client: TestClient }
  let dirOff: { sb: TestApp; client: TestClient }
  beforeAll(async () => {
    allOff = await start(['file/*'])
    dirOff = await start(['dir/*'])
  })
  afterAll(async () => {
    for (const c of clients) await c.end()
    for (const a of apps) await a.stop({ clean: true })
    apps = []
    clients = []
  })

  const codeOf = async (client: TestClient, name: string) => {
    const env = await client.request(name, {})
    return env.status === 'ok' ? 'ok' : env.error.code
  }

  it("'file/*' answers NOT_FOUND for every capability of the module, dir/create included", async () => {
    for (const name of FILE_MODULE) expect(await codeOf(allOff.client, name), name).toBe('NOT_FOUND')
    const createdir = await fetch(`${allOff.sb.httpUrl}/v4/createdir`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ directory: '/tmp/x' }),
    })
    expect(createdir.status).toBe(404)
    const caps = await allOff.client.request<{ capabilities: string[] }>('util/capabilities', {})
    expect(caps.status === 'ok' && caps.data.capabilities.filter((c) => /^(file|dir)\//.test(c))).toEqual([])
  })

  it("'dir/*' switches off only the dir capabilities", async () => {
    expect(await codeOf(dirOff.client, 'dir/create')).toBe('NOT_FOUND')
    expect(await codeOf(dirOff.client, 'dir/create-qvd')).toBe('NOT_FOUND')
    // Still there: nothing is approved, so it answers NOT_CONFIGURED, not NOT_FOUND.
    expect(await codeOf(dirOff.client, 'file/list')).not.toBe('NOT_FOUND')
  })
})
