import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { freeUdpPort, type HookReceiver, startHookReceiver } from '../alerts/harness.js'
import { connect, type TestClient } from '../helpers/client.js'
import { securityOverrides, startSecureApp, TOKENS, type SecureApp } from '../security/harness.js'
import { control, IDS, senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'
import { logIn, startBrowser, type TestBrowser } from './browser.js'

/**
 * The web view in a real headless Chromium against a real sensebus (users, tokens, roles), the Sense
 * simulator and a webhook receiver. One browser for the file; every wait is on a DOM condition.
 */
describe('the web view in a browser', () => {
  let sim: RunningSimulator
  let hook: HookReceiver
  /** A receiver that refuses for good (410): its deliveries go straight to dead letters. */
  let gone: HookReceiver
  let sb: SecureApp
  let browser: TestBrowser
  let admin: { page: Page; problems: string[] }
  let ops: TestClient

  beforeAll(async () => {
    const certDir = tempCertDir('webview')
    const udpPort = await freeUdpPort()
    sim = await startTestSim(certDir, udpPort)
    hook = await startHookReceiver()
    gone = await startHookReceiver()
    gone.otherwise = { status: 410 }
    sb = await startSecureApp({
      overrides: await securityOverrides({
        ...senseOverrides(sim, certDir),
        'capabilities.alert.udp.port': udpPort,
        'capabilities.alert.destinations': {
          ops: { type: 'webhook', url: hook.url },
          gone: { type: 'webhook', url: gone.url },
        },
        'capabilities.alert.rules': [{ events: ['reload/failed'], destinations: ['ops', 'gone'] }],
        'outbox.baseDelayMs': 50,
        'log.level': 'info',
      }),
    })
    ops = await connect(sb.mqttUrl, { username: 'token', password: TOKENS.admin })
    browser = await startBrowser('main')
    admin = await browser.page()
    await logIn(admin.page, `${sb.httpUrl}/`, TOKENS.admin)
  }, 60_000)

  afterAll(async () => {
    await ops?.end()
    await browser?.close()
    await sb?.stop()
    await hook?.close()
    await gone?.close()
    await sim?.close()
  })

  it('logs in with a token and shows the bridge and Sense health', async () => {
    const { page } = admin
    await page.waitForSelector('#bridge[data-state="online"]', { timeout: 15_000 })
    expect(await page.textContent('#sense')).toBe('Sense: reachable')
    expect(await page.textContent('#who')).toBe('logged in as token')
  })

  it('shows a simulated reload failure as it happens, with its delivery receipt', async () => {
    const { page } = admin
    const events = await ops.collect('sense/event/reload/failed')
    const started = await control(sim, 'POST', `tasks/${IDS.failingTask}/trigger`, {})
    expect(started.status).toBe(200)
    await expect.poll(() => events.length, { timeout: 30_000 }).toBe(1)
    // Live: on the page within a second of a plain MQTT client having it (the bar).
    const failed = page.locator('#events li[data-type="sense.reload.failed"]')
    await failed.first().waitFor({ timeout: 1_000 })
    // The page shows the same event a plain MQTT client saw, not a summary of its own.
    const sent = JSON.parse(events[0]?.payload ?? '{}') as { id: string; data: { taskName: string } }
    expect(await failed.first().textContent()).toContain(sent.data.taskName)
    await failed.first().locator('summary').click()
    expect(JSON.parse((await failed.first().locator('pre').textContent()) ?? '{}')).toMatchObject({ id: sent.id })
    await page.locator('#events li[data-type="sense.alert.delivered"]').first().waitFor({ timeout: 20_000 })
    expect(hook.calls.length).toBeGreaterThanOrEqual(1)
    await page.click('#tab-alerts')
    await page.locator('#alerts .delivery[data-state="delivered"]').first().waitFor({ timeout: 10_000 })
    expect(await page.textContent('#alerts')).toContain(`ops → ${hook.url}: delivered`)
  }, 60_000)

  it('lists the dead letter and sends it again with the retry button', async () => {
    const { page } = admin
    await page.click('#tab-alerts')
    const retry = page.locator('#dead').getByRole('button', { name: 'Retry' })
    await retry.first().waitFor({ timeout: 20_000 })
    expect(await page.textContent('#dead')).toContain(`gone → ${gone.url}`)
    const calls = gone.calls.length
    await retry.first().click()
    await page.locator('#toast', { hasText: 'Retry: 1 sent again' }).waitFor({ timeout: 10_000 })
    await expect.poll(() => gone.calls.length, { timeout: 10_000 }).toBeGreaterThan(calls)
  }, 40_000)

  it('starts a task and follows its progress to the end', async () => {
    const { page } = admin
    await page.click('#tab-tasks')
    const start = page.getByRole('button', { name: 'Start Reload Sales dashboard', exact: true })
    await start.waitFor({ timeout: 15_000 })
    await start.click()
    const job = page.locator('#jobs .job').first()
    await job.locator('.lines li').first().waitFor({ timeout: 15_000 })
    await job.locator('.state[data-state="completed"]').waitFor({ timeout: 30_000 })
    expect(await job.locator('.lines').textContent()).toMatch(/Reload Sales dashboard: \w+/)
    // The retained last run reached the table too.
    await page.locator(`#tasks [data-task-status="${IDS.salesTask}"]`, { hasText: /success/i }).waitFor()
  }, 60_000)

  it('edits a key through the form and sees the mirror update', async () => {
    const { page } = admin
    expect(
      (await ops.request('kv/set', { namespace: 'web', key: 'greeting', value: 'hello', ttl: 600_000 })).status,
    ).toBe('ok')
    await page.click('#tab-kv')
    const value = page.locator('#kv [data-kv="web/greeting"]')
    await value.waitFor({ timeout: 10_000 })
    expect(await value.textContent()).toBe('hello')
    expect(await page.locator('#kv .ttl').first().textContent()).toMatch(/^\d+m \d\ds$/)
    await page.getByRole('button', { name: 'Edit web/greeting' }).click()
    expect(await page.inputValue('#kv-ns')).toBe('web')
    await page.fill('#kv-value', 'bonjour')
    await page.click('#kv-form button[type="submit"]')
    await page.locator('#kv [data-kv="web/greeting"]', { hasText: 'bonjour' }).waitFor({ timeout: 10_000 })
    expect(await ops.request('kv/get', { namespace: 'web', key: 'greeting' })).toMatchObject({
      status: 'ok',
      data: { value: 'bonjour' },
    })
  }, 30_000)

  it('sends a request from the console form, showing the envelope and the answer', async () => {
    const { page } = admin
    await page.click('#tab-console')
    await page.selectOption('#console-cap', 'util/base16-to-base62')
    const base16 = await page.locator('#console-form input').first()
    await base16.fill('3199af08bfeeaf5d420f27ed9c01e59')
    expect(await page.textContent('#console-envelope')).toContain('"topic": "sense/request/util/base16-to-base62"')
    await page.click('#console-form button[type="submit"]')
    await page.locator('#console-response[data-status="ok"]').waitFor({ timeout: 10_000 })
  })

  it('refuses an admin action to an observer, who still sees the site', async () => {
    const { page, problems } = await browser.page()
    await logIn(page, `${sb.httpUrl}/`, TOKENS.watcher)
    await page.waitForSelector('#bridge[data-state="online"]', { timeout: 15_000 })
    await page.click('#tab-tasks')
    const start = page.getByRole('button', { name: 'Start Reload Sales dashboard', exact: true })
    await start.waitFor({ timeout: 15_000 })
    await start.click()
    await page.locator('#toast[data-kind="error"]', { hasText: 'FORBIDDEN' }).waitFor({ timeout: 10_000 })
    expect(await page.locator('#jobs .job').count()).toBe(0)
    await page.click('#tab-alerts')
    const retry = page.locator('#dead').getByRole('button', { name: 'Retry' })
    await retry.first().waitFor({ timeout: 20_000 })
    await retry.first().click()
    await page.locator('#toast', { hasText: "FORBIDDEN: Not allowed to call 'alert/retry'" }).waitFor()
    await page.click('#tab-kv')
    await page.getByRole('button', { name: 'Delete web/greeting' }).click()
    await page.locator('#toast', { hasText: "FORBIDDEN: Not allowed to call 'kv/delete'" }).waitFor({ timeout: 10_000 })
    expect((await ops.request('kv/get', { namespace: 'web', key: 'greeting' })).status).toBe('ok')
    expect(problems).toEqual([])
    await page.close()
  }, 40_000)

  it('refuses a wrong token at login', async () => {
    const { page } = await browser.page()
    await page.goto(`${sb.httpUrl}/`)
    await page.fill('#login-secret', 'sbt_wrong')
    await page.click('#login-form button[type="submit"]')
    await page.locator('#login-error', { hasText: 'Login refused' }).waitFor({ timeout: 10_000 })
    expect(await page.isVisible('#main')).toBe(false)
    await page.close()
  })

  it('raised no script error and no CSP refusal on the admin page', async () => {
    expect(admin.problems).toEqual([])
    const shot = process.env.SENSEBUS_SCREENSHOT
    if (shot) {
      await admin.page.click('#tab-events')
      await admin.page.screenshot({ path: shot, fullPage: false })
    }
  })
})
