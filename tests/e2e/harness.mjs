// What every browser script shares: the server and browser settings from the environment, the artifacts folder,
// the step log, test-id selectors, launching Debian chromium headless, signing in through the login page, and the
// keyboard path through a filterable Element Plus cascader.
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8345').replace(/\/$/, '')
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
export const PASSWORD = process.env.HOTLINE_PASSWORD ?? 'Hotline@2026'
export const ARTIFACTS = process.env.ARTIFACTS ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'e2e')
export const STEP_TIMEOUT = 20_000
mkdirSync(ARTIFACTS, { recursive: true })

export const started = Date.now()
export const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a)

/** A data-testid selector. */
export const tid = (id) => `[data-testid="${id}"]`

/** An Element Plus input: the data-testid lands on the native element, or on a wrapper around it. */
export const field = (id, tag = 'input') => `${tag}${tid(id)}, ${tid(id)} ${tag}`

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** Opens a page in the context, signs in through the login page and waits for the role's landing page. */
export async function signIn(context, username, landing) {
  const page = await context.newPage()
  page.on('pageerror', (e) => log(`${username} page error:`, e.message))
  page.on('console', (m) => { if (m.type() === 'error') log(`${username} console:`, m.text()) })
  await page.goto(`${BASE_URL}/login`)
  await page.locator(field('login-username')).first().fill(username)
  await page.locator(field('login-password')).first().fill(PASSWORD)
  await page.locator(tid('login-submit')).click()
  await page.waitForURL((u) => u.pathname === landing, { timeout: STEP_TIMEOUT })
  return page
}

/** The cascaders are filterable: type a word, ↓, Enter (the keyboard path of the README). */
export async function pickInCascader(page, id, keyword) {
  const input = page.locator(`${tid(id)} input`).first()
  await input.click()
  await input.pressSequentially(keyword, { delay: 30 })
  await page.locator('.el-cascader__suggestion-item:visible').first().waitFor({ timeout: STEP_TIMEOUT })
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await page.locator('.el-cascader__suggestion-panel:visible').waitFor({ state: 'hidden', timeout: STEP_TIMEOUT }).catch(() => {})
}

/** A zh-CN context and its one page, with the step timeout and the page's errors in the log. */
export async function openPage(browser, contextOptions) {
  const context = await browser.newContext({ locale: 'zh-CN', ...contextOptions })
  const page = await context.newPage()
  page.setDefaultTimeout(STEP_TIMEOUT)
  page.on('pageerror', (e) => log('page error:', e.message))
  page.on('console', (m) => { if (m.type() === 'error') log('console:', m.text()) })
  return { context, page }
}
