// The citizen's public page (/public) in a real browser on a phone-sized screen (Debian chromium, headless, driven by
// playwright-core) against a running server whose SMS gateway is a test listener.
//
//   MODE=submit BASE_URL=… GATEWAY_URL=http://127.0.0.1:<port> PHONE=138… node tests/e2e/public-page.mjs
//     asks for a code, reads it from the gateway (GET /messages?to=PHONE), submits an appeal, prints NUMBER=…,
//     then tracks it and expects 待派单.
//   MODE=rate BASE_URL=… PHONE=… NUMBER=… REPLY=… node tests/e2e/public-page.mjs
//     opens /public?number=…, tracks it, expects the reply text, rates 满意 and expects the thank-you line.
//
// Exit code 0 = passed; otherwise the failing step is printed and a screenshot saved in tests/artifacts/e2e/.
import { ARTIFACTS, BASE_URL, launchBrowser, log, STEP_TIMEOUT, tid } from './harness.mjs'
import { join } from 'node:path'

const GATEWAY_URL = (process.env.GATEWAY_URL ?? '').replace(/\/$/, '')
const MODE = process.env.MODE ?? 'submit'
const PHONE = process.env.PHONE ?? '13800138000'

let step = 'start'

const browser = await launchBrowser()
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
const page = await context.newPage()
page.setDefaultTimeout(STEP_TIMEOUT)
page.on('pageerror', (e) => log('page error:', e.message))

async function expectText(id, wanted) {
  const locator = page.locator(tid(id))
  await locator.waitFor({ state: 'visible' })
  const deadline = Date.now() + STEP_TIMEOUT
  let last = ''
  while (Date.now() < deadline) {
    last = ((await locator.first().textContent()) ?? '').trim()
    if (last.includes(wanted)) return last
    await page.waitForTimeout(150)
  }
  throw new Error(`${id}: expected "${wanted}", saw "${last}"`)
}

async function codeFromGateway() {
  const deadline = Date.now() + STEP_TIMEOUT
  while (Date.now() < deadline) {
    const messages = await (await fetch(`${GATEWAY_URL}/messages?to=${PHONE}`)).json()
    const sms = messages.find((m) => m.kind === 'verification')
    if (sms) return /\d{6}/.exec(sms.text)[0]
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('no verification SMS reached the gateway')
}

try {
  if (MODE === 'submit') {
    step = 'open the public page'
    await page.goto(`${BASE_URL}/public`)
    await page.locator(tid('public-category') + ' optgroup').first().waitFor({ state: 'attached' })
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    if (width > 390) throw new Error(`the page is wider than the phone (${width}px)`)

    step = 'ask for a verification code'
    await page.locator(tid('public-phone')).fill(PHONE)
    await page.locator(tid('public-send-code')).click()
    await expectText('public-send-code', '秒后重发')
    const code = await codeFromGateway()
    log('code', code)

    step = 'fill in and submit the appeal'
    await page.locator(tid('public-code')).fill(code)
    await page.locator(tid('public-name')).fill('周女士')
    await page.locator(tid('public-type')).selectOption('投诉')
    await page.locator(tid('public-category')).selectOption('020301')
    await page.locator(tid('public-area')).selectOption('010101')
    await page.locator(tid('public-address')).fill('湖滨路 66 号工地')
    await page.locator(tid('public-content')).fill('工地每天夜里十一点以后还在打桩，噪音非常大，孩子无法入睡。')
    await page.locator(tid('public-photos')).setInputFiles({ name: 'site.png', mimeType: 'image/png', buffer: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') })
    await page.locator(tid('public-submit')).click()
    const number = await expectText('public-number', '-')
    console.log(`NUMBER=${number}`)
    await page.screenshot({ path: join(ARTIFACTS, 'public-submitted.png'), fullPage: true })

    step = 'track the new ticket'
    await page.locator(tid('public-go-track')).click()
    await expectText('track-state', '待派单')
    await expectText('track-steps', '受理')
  } else {
    step = 'track by number and phone'
    await page.goto(`${BASE_URL}/public?number=${encodeURIComponent(process.env.NUMBER)}`)
    await page.locator(tid('track-phone')).fill('13900000000')
    await page.locator(tid('track-submit')).click()
    await expectText('track-error', '未找到工单')
    await page.locator(tid('track-phone')).fill(PHONE)
    await page.locator(tid('track-submit')).click()
    await expectText('track-state', process.env.STATE ?? '待回访')
    await expectText('track-reply', process.env.REPLY ?? '')

    step = 'rate the outcome'
    await page.locator(tid('rate-满意')).check()
    await page.locator(tid('rate-comment')).fill('处理及时，谢谢！')
    await page.locator(tid('rate-submit')).click()
    await expectText('track-rated', '满意')
    await page.screenshot({ path: join(ARTIFACTS, 'public-rated.png'), fullPage: true })
  }
  log('passed:', MODE)
  await browser.close()
} catch (e) {
  console.error(`FAILED at "${step}": ${e.message}`)
  try { await page.screenshot({ path: join(ARTIFACTS, `public-failed-${MODE}.png`), fullPage: true }) } catch { /* ignore */ }
  await browser.close()
  process.exit(1)
}
