// The office's channel drafts screen (/drafts) in a real browser (Debian chromium, headless, driven by playwright-core)
// against a running server that holds an SMS draft whose acknowledgement could not be sent in time:
//
//   BASE_URL=… DRAFT_ID=<draft id> FROM=136… node tests/e2e/drafts-page.mjs
//
// agent1 signs in, opens 渠道草稿 from the menu, sees the draft in red (响应 已超时), opens 受理, checks the sender's
// number was filled in as the phone, picks the category and area with the filterable cascaders, submits, and reads
// the new ticket number from the success message (printed as NUMBER=…); the draft leaves the list.
//
// Exit code 0 = passed; otherwise the failing step is printed and a screenshot saved in tests/artifacts/e2e/.
import { ARTIFACTS, BASE_URL, field, launchBrowser, openPage, log, PASSWORD, pickInCascader, STEP_TIMEOUT, tid } from './harness.mjs'
import { join } from 'node:path'

const DRAFT_ID = process.env.DRAFT_ID ?? ''
const FROM = process.env.FROM ?? ''

let step = 'start'

const browser = await launchBrowser()
const { page } = await openPage(browser, { viewport: { width: 1440, height: 1000 } })

let failed = false
try {
  if (!DRAFT_ID) throw new Error('DRAFT_ID is required')

  step = 'agent1 signs in'
  await page.goto(`${BASE_URL}/login`)
  await page.locator(field('login-username')).first().fill('agent1')
  await page.locator(field('login-password')).first().fill(PASSWORD)
  await page.locator(tid('login-submit')).click()
  await page.waitForURL((u) => u.pathname === '/agent')

  step = 'opens 渠道草稿 from the menu'
  await page.locator(tid('menu-drafts')).click()
  await page.waitForURL((u) => u.pathname === '/drafts')
  await page.locator(tid(`draft-row-${DRAFT_ID}`)).waitFor()

  step = 'the draft shows red: its acknowledgement missed the SMS response limit'
  const status = page.locator(tid(`draft-status-${DRAFT_ID}`))
  const deadline = Date.now() + STEP_TIMEOUT
  while ((await status.getAttribute('data-status')) !== 'overdue') {
    if (Date.now() > deadline) throw new Error(`status stayed ${await status.getAttribute('data-status')}`)
    await page.locator(tid('drafts-refresh')).click()
    await page.waitForTimeout(500)
  }
  if ((await status.textContent())?.trim() !== '已超时') throw new Error(`status text is "${await status.textContent()}"`)
  await page.locator(tid('drafts-red-count')).waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'drafts-red.png'), fullPage: true })

  step = 'opens 受理: the SMS text and the sender are filled in'
  await page.locator(tid(`draft-complete-${DRAFT_ID}`)).click()
  const dialog = page.locator('.el-dialog:visible')
  await dialog.waitFor()
  const phone = await page.locator(field('draft-caller-phone')).first().inputValue()
  if (FROM && phone !== FROM) throw new Error(`caller phone is "${phone}", expected ${FROM}`)
  const content = await page.locator(field('draft-content', 'textarea')).first().inputValue()
  if (!content.trim()) throw new Error('content was not prefilled from the SMS')

  step = 'fills type, category, area, address and submits'
  await dialog.getByText('求助', { exact: true }).click()
  await pickInCascader(page, 'draft-category', '路灯')
  await pickInCascader(page, 'draft-area', '湖滨社区')
  await page.locator(field('draft-address')).first().fill('滨江路 100 号')
  await page.locator(field('draft-caller-name')).first().fill('市民')
  await page.locator(tid('draft-submit')).click()

  step = 'the ticket number is shown and the draft leaves the list'
  const message = page.locator('.el-message--success').first()
  await message.waitFor()
  const text = (await message.textContent()) ?? ''
  const number = /(\d{8}-\d{6})/.exec(text)?.[1]
  if (!number) throw new Error(`no ticket number in "${text}"`)
  console.log(`NUMBER=${number}`)
  await page.locator(tid(`draft-row-${DRAFT_ID}`)).waitFor({ state: 'detached' })
  await page.screenshot({ path: join(ARTIFACTS, 'drafts-completed.png'), fullPage: true })
  log('draft completed into ticket', number)
} catch (e) {
  failed = true
  console.error(`FAILED at step "${step}": ${e.message}`)
  try { await page.screenshot({ path: join(ARTIFACTS, 'drafts-failed.png'), fullPage: true }) } catch { /* ignore */ }
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
