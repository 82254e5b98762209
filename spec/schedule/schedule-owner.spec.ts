import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/security/hash.js'
import { connect, type TestClient } from '../helpers/client.js'
import { PASSWORDS, securityOverrides, startSecureApp, TEST_COST } from '../security/harness.js'

type View = Record<string, any>
const PLANNER_PASSWORD = 'plan-pw-31c9'

/** The harness' users plus `planner`, with the roles this start gives it (none: not configured at all). */
async function overrides(plannerRoles: string[] | undefined): Promise<Record<string, unknown>> {
  const base = await securityOverrides()
  const users = [...(base['security.users'] as unknown[])]
  if (plannerRoles) {
    users.push({
      username: 'planner',
      passwordHash: await hashPassword(PLANNER_PASSWORD, TEST_COST),
      roles: plannerRoles,
    })
  }
  return { ...base, 'security.users': users }
}

async function viewOf(admin: TestClient, id: string): Promise<View> {
  const env = await admin.request<View>('schedule/get', { id })
  return env.status === 'ok' ? env.data : {}
}

async function lastResultAfterRunNow(admin: TestClient, id: string): Promise<View> {
  const before = (await viewOf(admin, id)).lastResult?.at ?? null
  expect((await admin.request('schedule/run-now', { id })).status).toBe('ok')
  let view: View = {}
  await expect
    .poll(async () => {
      view = await viewOf(admin, id)
      return view.lastResult && view.lastResult.at !== before
    })
    .toBe(true)
  return view.lastResult
}

describe("a schedule's runs use its owner's current rights", () => {
  it('after a restart that narrows or removes the owner, its runs are refused, and never run as before', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-sched-owner-'))
    try {
      const first = await startSecureApp({ dataDir, overrides: await overrides(['admin']) })
      const planner = await connect(first.mqttUrl, { username: 'planner', password: PLANNER_PASSWORD })
      let admin = await connect(first.mqttUrl, { username: 'admin', password: PASSWORDS.admin })
      const created = await planner.request<View>('schedule/create', {
        name: 'nightly note',
        cron: '0 3 * * *',
        timezone: 'UTC',
        target: { capability: 'kv/set', request: { namespace: 'owner-spec', key: 'ran', value: 'yes' } },
      })
      if (created.status !== 'ok') throw new Error(JSON.stringify(created))
      const id = created.data.id as string
      // With its owner's rights as configured, the run goes through.
      expect(await lastResultAfterRunNow(admin, id)).toMatchObject({ status: 'ok' })
      await planner.end()
      await admin.end()
      await first.app.stop()

      // The planner is an observer now: kv/set is not among its rights.
      const narrowed = await startSecureApp({ dataDir, overrides: await overrides(['observer']) })
      admin = await connect(narrowed.mqttUrl, { username: 'admin', password: PASSWORDS.admin })
      expect((await admin.request('kv/delete', { namespace: 'owner-spec', key: 'ran' })).status).toBe('ok')
      expect(await lastResultAfterRunNow(admin, id)).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
      expect((await admin.request<View>('kv/get', { namespace: 'owner-spec', key: 'ran' })).status).toBe('error')
      await admin.end()
      await narrowed.app.stop()

      // The planner is gone from the settings altogether.
      const removed = await startSecureApp({ dataDir, overrides: await overrides(undefined) })
      admin = await connect(removed.mqttUrl, { username: 'admin', password: PASSWORDS.admin })
      expect(await lastResultAfterRunNow(admin, id)).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
      await admin.end()
      await removed.app.stop()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
