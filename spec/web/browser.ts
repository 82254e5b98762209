import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's Chromium, headless, in a fresh profile: playwright-core never downloads a browser. */
export interface TestBrowser {
  context: BrowserContext
  /** A page with browser console errors and refused CSP loads collected. */
  page(): Promise<{ page: Page; problems: string[] }>
  close(): Promise<void>
}

export async function startBrowser(name: string): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), `sensebus-webview-${name}-`))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  })
  return {
    context,
    async page() {
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text())
      })
      page.on('pageerror', (err) => problems.push(String(err)))
      return { page, problems }
    },
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}

/** Logs in on the page's form with a token and waits until the views are subscribed. */
export async function logIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url)
  await page.fill('#login-user', 'token')
  await page.fill('#login-secret', token)
  await page.click('#login-form button[type="submit"]')
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 })
}
