// The dispatcher's 派单审核 page in a real browser (Debian chromium, headless, driven by playwright-core) against a
// running server that holds a ticket waiting for dispatch:
//
//   BASE_URL=… TICKET_ID=<id> NUMBER=<yyyyMMdd-000123> node tests/e2e/dispatch-hold.mjs
//
// disp1 signs in (lands on /dispatch), finds the ticket's row, holds it (暂缓: a reason is required), sees the 暂缓
// tag; another dispatcher then writes on the ticket (a note over the API), so 取消暂缓 from the stale row gets a 412
// and the page says so and refreshes; 取消暂缓 again succeeds and the tag goes. It also checks the rows are sorted by
// dispatch deadline and that the column header sorts them the other way.
//
// Exit code 0 = passed; otherwise the failing step is printed and a screenshot saved in tests/artifacts/e2e/.
import { ARTIFACTS, BASE_URL, field, launchBrowser, openPage, log, PASSWORD, tid } from './harness.mjs'
import { join } from 'node:path'

const TICKET_ID = process.env.TICKET_ID ?? ''
const NUMBER = process.env.NUMBER ?? ''

let step = 'start'

/** Another dispatcher writes on the ticket through the API (bearer token), so the page's row version goes stale. */
async function noteByAnotherDispatcher() {
  const login = await fetch(`${BASE_URL}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'disp1', password: PASSWORD }),
  })
  const { token } = await login.json()
  const auth = { Authorization: `Bearer ${token}` }
  const ticket = await (await fetch(`${BASE_URL}/api/tickets/${TICKET_ID}`, { headers: auth })).json()
  const res = await fetch(`${BASE_URL}/api/tickets/${TICKET_ID}/note`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json', 'If-Match': `"${ticket.version}"` },
    body: JSON.stringify({ text: '另一位派单员补充：来电人已回电确认位置' }),
  })
  if (!res.ok) throw new Error(`note → ${res.status} ${await res.text()}`)
}

const browser = await launchBrowser()
const { page } = await openPage(browser, { viewport: { width: 1600, height: 1000 } })

let failed = false
try {
  if (!TICKET_ID || !NUMBER) throw new Error('TICKET_ID and NUMBER are required')
  const table = page.locator(tid('worklist-to-dispatch'))
  const row = () => table.locator('.el-table__body tr', { hasText: NUMBER }).first()
  const numbers = async () => (await table.locator('.el-table__body tr [data-testid="ticket-link"]').allTextContents()).map((t) => t.trim())

  step = 'disp1 signs in and lands on 派单审核'
  await page.goto(`${BASE_URL}/login`)
  await page.locator(field('login-username')).first().fill('disp1')
  await page.locator(field('login-password')).first().fill(PASSWORD)
  await page.locator(tid('login-submit')).click()
  await page.waitForURL((u) => u.pathname === '/dispatch')
  await row().waitFor()
  if (await row().locator(tid('hold-tag')).count()) throw new Error('the ticket shows 暂缓 before it was held')

  step = 'the column header reverses the dispatch deadline order'
  const ascending = await numbers()
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/worklists/to-dispatch') && r.url().includes('sort=-deadline')),
    table.locator('th', { hasText: '派单时限' }).locator('.caret-wrapper .descending').click(),
  ])
  await page.waitForTimeout(300)
  const descending = await numbers()
  if (ascending.length > 1 && ascending.join() === descending.join()) throw new Error(`order did not change: ${ascending.join()}`)
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/worklists/to-dispatch') && r.url().includes('sort=deadline')),
    table.locator('th', { hasText: '派单时限' }).locator('.caret-wrapper .ascending').click(),
  ])
  await page.waitForTimeout(300)
  await row().waitFor()

  step = '暂缓 needs a reason'
  await row().locator(tid('row-action-hold-dispatch')).click()
  const dialog = page.locator(`${tid('hold-dialog')}:visible, .el-dialog:visible`).first()
  await dialog.waitFor()
  await page.locator(tid('hold-confirm')).click()
  await page.locator(tid('hold-error')).waitFor()

  step = '暂缓 with a reason: the row shows the 暂缓 tag'
  await page.locator(field('hold-reason', 'textarea')).first().fill('等待来电人补充具体门牌号')
  await page.locator(tid('hold-confirm')).click()
  await page.locator('.el-message--success', { hasText: '已暂缓派单' }).first().waitFor()
  await row().locator(tid('hold-tag')).waitFor()
  await row().locator(tid('row-action-release-hold')).waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'dispatch-held.png'), fullPage: true })

  step = 'someone else updates the ticket: 取消暂缓 from the stale row is a 412, shown as a message'
  await noteByAnotherDispatcher()
  await row().locator(tid('row-action-release-hold')).click()
  await page.locator(tid('hold-confirm')).waitFor()
  await page.locator(tid('hold-confirm')).click()
  await page.locator('.el-message--warning', { hasText: '工单已被他人更新' }).first().waitFor()
  await row().locator(tid('hold-tag')).waitFor() // still held: nothing was overwritten

  step = '取消暂缓 on the refreshed row succeeds and the tag goes'
  await row().locator(tid('row-action-release-hold')).click()
  await page.locator(field('hold-reason', 'textarea')).first().fill('门牌号已补充')
  await page.locator(tid('hold-confirm')).click()
  await page.locator('.el-message--success', { hasText: '已取消暂缓' }).first().waitFor()
  await row().locator(tid('row-action-hold-dispatch')).waitFor()
  if (await row().locator(tid('hold-tag')).count()) throw new Error('the 暂缓 tag is still shown after 取消暂缓')
  await page.screenshot({ path: join(ARTIFACTS, 'dispatch-released.png'), fullPage: true })
  console.log('HOLD-RELEASE=ok')
} catch (e) {
  failed = true
  console.error(`FAILED at step "${step}": ${e.message}`)
  try { await page.screenshot({ path: join(ARTIFACTS, 'dispatch-hold-failed.png'), fullPage: true }) } catch { /* ignore */ }
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
