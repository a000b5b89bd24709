// The leader's report page in a real browser (Debian chromium, headless, driven by playwright-core) against a running
// server: leader1 signs in; the KPI book's cards show this week's figures (三率 among them); leader1 picks 任意时段
// (a range that is not a week, month or quarter), starts the workbook, watches its status and progress until it is
// done, downloads it from the list and checks the file: the Chinese name the browser took from Content-Disposition
// (filename*), the header itself (an ASCII filename and the RFC 5987 filename*), and that it is an .xlsx (a zip with
// the workbook and the 13 sheets). The file is saved as $ARTIFACTS/leader-report.xlsx for the caller to open.
//
//   BASE_URL=http://127.0.0.1:8345 node tests/e2e/leader-reports.mjs
//
// Exit code 0 = passed; otherwise the failing step and its reason are printed (and a screenshot).
import { ARTIFACTS, BASE_URL, field, launchBrowser, log, PASSWORD, started, STEP_TIMEOUT, tid } from './harness.mjs'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateRawSync } from 'node:zlib'

const GENERATION_TIMEOUT = 180_000

let step = 'start'

/** yyyy-MM-dd of a local date n days before today. */
function daysAgo(n) {
  const d = new Date()
  d.setDate(d.getDate() - n)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** The names of the entries of a zip, and one entry's text (stored or deflated), read with nothing but node. */
function readZip(buf) {
  let eocd = buf.length - 22
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--
  if (eocd < 0) throw new Error('not a zip: no end-of-central-directory record')
  const count = buf.readUInt16LE(eocd + 10)
  let p = buf.readUInt32LE(eocd + 16)
  const entries = new Map()
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory')
    const method = buf.readUInt16LE(p + 10)
    const size = buf.readUInt32LE(p + 20)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    const local = buf.readUInt32LE(p + 42)
    entries.set(buf.toString('utf8', p + 46, p + 46 + nameLen), { method, size, local })
    p += 46 + nameLen + extraLen + commentLen
  }
  const text = (name) => {
    const e = entries.get(name)
    if (!e) throw new Error(`the zip has no ${name}`)
    const start = e.local + 30 + buf.readUInt16LE(e.local + 26) + buf.readUInt16LE(e.local + 28)
    const data = buf.subarray(start, start + e.size)
    return (e.method === 8 ? inflateRawSync(data) : data).toString('utf8')
  }
  return { names: [...entries.keys()], text }
}

const browser = await launchBrowser()
let page
let failed = false
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1100 }, locale: 'zh-CN', acceptDownloads: true })

  step = 'leader1 signs in and lands on 领导驾驶舱'
  page = await context.newPage()
  page.on('pageerror', (e) => log('page error:', e.message))
  page.on('console', (m) => { if (m.type() === 'error') log('console:', m.text()) })
  await page.goto(`${BASE_URL}/login`)
  await page.locator(field('login-username')).first().fill('leader1')
  await page.locator(field('login-password')).first().fill(PASSWORD)
  await page.locator(tid('login-submit')).click()
  await page.waitForURL((u) => u.pathname === '/leader', { timeout: STEP_TIMEOUT })

  step = 'the KPI book shows this week: 三率 and the call figures'
  for (const id of ['tickets.onTimeSignFor', 'tickets.resolution', 'tickets.satisfaction', 'calls.answerRate', 'tickets.total']) {
    await page.locator(`${tid('kpi-book-card')}[data-kpi="${id}"]`).waitFor({ timeout: STEP_TIMEOUT })
  }
  const threeRates = await page.locator(`${tid('kpi-book-card')}:has-text("三率")`).count()
  if (threeRates !== 3) throw new Error(`expected 3 cards tagged 三率, found ${threeRates}`)
  await page.locator(tid('kpi-answer-rate')).waitFor({ timeout: STEP_TIMEOUT })
  log('KPI cards:', await page.locator(tid('kpi-book-card')).count())

  // Ten days ending yesterday: neither an ISO week, a month nor a quarter, so a 专报 (custom range).
  const [from, to] = [daysAgo(10), daysAgo(1)]
  step = `leader1 starts a workbook for ${from} – ${to} (任意时段)`
  await page.locator(tid('btn-generate-report')).click()
  const dialog = page.locator('.el-dialog:visible')
  await dialog.waitFor({ timeout: STEP_TIMEOUT })
  await dialog.locator(tid('report-kind-custom')).click()
  const inputs = dialog.locator('input.el-range-input') // the date-range editor's two inputs (start, end)
  await inputs.first().waitFor({ timeout: STEP_TIMEOUT })
  await inputs.nth(0).fill(from)
  await inputs.nth(0).press('Enter')
  await inputs.nth(1).fill(to)
  await inputs.nth(1).press('Enter')
  await dialog.locator('.el-dialog__title').click() // closes the picker panel if it is still open
  const posted = page.waitForResponse((r) => r.url().endsWith('/api/reports') && r.request().method() === 'POST', { timeout: STEP_TIMEOUT })
  await dialog.locator(tid('report-confirm')).click()
  const response = await posted
  const requested = await response.json()
  if (response.status() !== 202) throw new Error(`POST /api/reports → ${response.status()}: ${JSON.stringify(requested)}`)
  if (requested.periodStart !== from || requested.periodEnd !== to || requested.kind !== 'custom') {
    throw new Error(`the page asked for ${requested.kind} ${requested.periodStart} – ${requested.periodEnd}, expected custom ${from} – ${to}`)
  }
  const expectedName = requested.fileName
  if (!expectedName.endsWith(`12345热线民意分析专报_${from.replaceAll('-', '')}-${to.replaceAll('-', '')}.xlsx`)) throw new Error(`unexpected file name ${expectedName}`)
  log('requested', requested.id, expectedName)

  step = 'the list shows the workbook with its status and progress until it is done'
  const status = page.locator(`${tid('report-row-status')}[data-report-id="${requested.id}"]`)
  await page.screenshot({ path: join(ARTIFACTS, 'leader-reports-requested.png'), fullPage: true })
  await status.waitFor({ state: 'attached', timeout: STEP_TIMEOUT })
  log('row shown:', await status.getAttribute('data-status'))
  const seen = []
  const deadline = Date.now() + GENERATION_TIMEOUT
  for (;;) {
    const s = await status.getAttribute('data-status')
    if (s === 'queued' || s === 'running') {
      const bar = status.locator(tid('report-progress'))
      if (await bar.count() === 0) throw new Error(`status ${s} without a progress bar`)
      const stage = ((await status.locator(tid('report-stage')).textContent().catch(() => '')) ?? '').trim()
      const pct = ((await bar.textContent().catch(() => '')) ?? '').trim()
      const entry = `${s} ${pct} ${stage}`
      if (seen.at(-1) !== entry) { seen.push(entry); log('progress:', entry) }
    } else if (s === 'done') {
      break
    } else if (s === 'failed') {
      throw new Error(`generation failed: ${await status.textContent()}`)
    }
    if (Date.now() > deadline) throw new Error(`not done after ${GENERATION_TIMEOUT / 1000} s (seen: ${seen.join(' → ')})`)
    await page.waitForTimeout(100)
  }
  log(`done; progress seen in the page: ${seen.length ? seen.join(' → ') : '(finished before the first poll)'}`)
  await page.screenshot({ path: join(ARTIFACTS, 'leader-reports-done.png'), fullPage: true })

  step = 'leader1 downloads it: the browser names the file from Content-Disposition (the Chinese name)'
  const link = page.locator(`${tid('report-download')}[data-report-id="${requested.id}"]`)
  await link.waitFor({ timeout: STEP_TIMEOUT })
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_TIMEOUT }), link.click()])
  const suggested = download.suggestedFilename()
  if (suggested !== expectedName) throw new Error(`the browser named the download "${suggested}", expected "${expectedName}"`)
  const saved = join(ARTIFACTS, 'leader-report.xlsx')
  await download.saveAs(saved)
  log('downloaded', suggested, '→', saved)

  step = 'the Content-Disposition header: an ASCII filename and the UTF-8 filename*'
  const head = await page.request.get(await link.getAttribute('href').then((h) => new URL(h, BASE_URL).toString()))
  const disposition = head.headers()['content-disposition'] ?? ''
  const m = /^attachment; filename="(hotline-custom-\d{8}-\d{8}\.xlsx)"; filename\*=UTF-8''(\S+)$/.exec(disposition)
  if (!m) throw new Error(`Content-Disposition: ${disposition}`)
  if (decodeURIComponent(m[2]) !== expectedName) throw new Error(`filename* decodes to ${decodeURIComponent(m[2])}`)
  if (!/^[\x20-\x7e]*$/.test(disposition)) throw new Error('the header is not ASCII')
  if (head.headers()['content-type'] !== 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') throw new Error(`content-type ${head.headers()['content-type']}`)

  step = 'the file is an .xlsx: a zip with the content types, the workbook and its 13 sheets'
  const bytes = readFileSync(saved)
  if (bytes.readUInt32LE(0) !== 0x04034b50) throw new Error('the file does not start with a zip local header')
  const zip = readZip(bytes)
  for (const part of ['[Content_Types].xml', 'xl/workbook.xml', 'xl/styles.xml', 'xl/sharedStrings.xml']) {
    if (!zip.names.includes(part)) throw new Error(`the zip has no ${part}: ${zip.names.join(', ')}`)
  }
  const workbook = zip.text('xl/workbook.xml')
  const sheets = [...workbook.matchAll(/<(?:\w+:)?sheet [^>]*name="([^"]+)"/g)].map((x) => x[1])
  for (const name of ['总览', '分析与建议', '指标说明', '工单明细']) {
    if (!sheets.includes(name)) throw new Error(`no sheet ${name} in ${sheets.join(', ')}`)
  }
  if (sheets.length !== 13) throw new Error(`expected 13 sheets, found ${sheets.length}: ${sheets.join(', ')}`)
  if (!zip.text('[Content_Types].xml').includes('spreadsheetml.sheet.main+xml')) throw new Error('no workbook content type')
  log('sheets:', sheets.join(' '))
  log(`PASSED in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} catch (e) {
  failed = true
  console.error(`FAILED at step "${step}": ${e?.stack ?? e}`)
  if (page) await page.screenshot({ path: join(ARTIFACTS, 'leader-reports-failure.png'), fullPage: true }).catch(() => {})
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
