// Reconnect and resync in a real browser (Debian chromium, headless, playwright-core): agent1 takes a simulated call;
// the test harness then kills the server process (kill -9) and starts it again on the same port, Redis and data
// (Redis profile: the live state survives in Redis). The console must reconnect on its own and show the same call card
// and state; a freshly opened console shows them too (read from GetState, not left over on screen); hanging up with
// Alt+H then works against the restarted server. Handshake with the harness through files in HANDSHAKE_DIR:
// this script writes `on-call` (the call id) and waits for `restarted`.
//
//   BASE_URL=http://127.0.0.1:8345 HANDSHAKE_DIR=/tmp/x node tests/e2e/agent-reconnect.mjs
import { ARTIFACTS, BASE_URL, launchBrowser, log, signIn, started, STEP_TIMEOUT, tid } from './harness.mjs'
import { existsSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HANDSHAKE_DIR = process.env.HANDSHAKE_DIR
const here = dirname(fileURLToPath(import.meta.url))
const RESTART_TIMEOUT = 240_000
if (!HANDSHAKE_DIR) throw new Error('HANDSHAKE_DIR is required (the harness restarts the server when on-call appears there)')

let step = 'start'

async function snap(page, name) {
  const file = join(ARTIFACTS, `reconnect-${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  log('screenshot', file)
}

async function waitForFile(name, timeout) {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (existsSync(join(HANDSHAKE_DIR, name))) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`the harness never wrote ${name}`)
}

const browser = await launchBrowser()
let agent, fresh
let failed = false
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' })

  step = 'agent1 signs in and goes ready (Alt+R)'
  agent = await signIn(context, 'agent1', '/agent')
  await agent.locator(`${tid('connection-badge')}[data-state="connected"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.keyboard.press('Alt+KeyR')
  await agent.locator(`${tid('state-tag')}[data-status="Ready"]`).waitFor({ timeout: STEP_TIMEOUT })

  step = 'a citizen calls; agent1 accepts with Alt+A'
  const caller = '137' + String(Date.now()).slice(-8)
  const injected = await agent.evaluate(async ({ caller }) => {
    const xsrf = await (await fetch('/api/auth/antiforgery')).json()
    const r = await fetch('/api/dev/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [xsrf.headerName]: xsrf.token },
      body: JSON.stringify({ caller }),
    })
    return { status: r.status, body: await r.text() }
  }, { caller })
  if (injected.status !== 200) throw new Error(`POST /api/dev/calls → ${injected.status}: ${injected.body}`)
  const callId = JSON.parse(injected.body).callId
  await agent.locator(`${tid('incoming-call')}[data-call-id="${callId}"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.keyboard.press('Alt+KeyA')
  const card = `${tid('call-active')}[data-call-id="${callId}"]`
  await agent.locator(card).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status="OnCall"]`).waitFor({ timeout: STEP_TIMEOUT })
  log('on call', callId, 'from', caller)
  await snap(agent, '1-on-call')

  step = 'the harness kills the server (kill -9) and starts it again'
  writeFileSync(join(HANDSHAKE_DIR, 'on-call'), callId)
  await agent.locator(`${tid('connection-badge')}:not([data-state="connected"])`).waitFor({ timeout: RESTART_TIMEOUT })
  log('console lost its connection:', await agent.locator(tid('connection-badge')).getAttribute('data-state'))
  await snap(agent, '2-reconnecting')
  await waitForFile('restarted', RESTART_TIMEOUT)
  log('server restarted')

  step = 'the console reconnects on its own and shows the same call card and state'
  await agent.locator(`${tid('connection-badge')}[data-state="connected"]`).waitFor({ timeout: 60_000 })
  await agent.locator(card).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status="OnCall"]`).waitFor({ timeout: STEP_TIMEOUT })
  if (!(await agent.locator(card).textContent())?.includes(caller)) throw new Error('the call card lost the caller number')
  await snap(agent, '3-reconnected')

  step = 'a console opened after the restart reads the same call card from the server'
  fresh = await context.newPage()
  await fresh.goto(`${BASE_URL}/agent`)
  await fresh.locator(`${tid('connection-badge')}[data-state="connected"]`).waitFor({ timeout: STEP_TIMEOUT })
  await fresh.locator(`${tid('state-tag')}[data-status="OnCall"]`).waitFor({ timeout: STEP_TIMEOUT })
  await fresh.locator(card).waitFor({ timeout: STEP_TIMEOUT })
  await snap(fresh, '4-fresh-console')
  await fresh.close()
  fresh = undefined

  step = 'Alt+H hangs up against the restarted server → wrap-up; Alt+W → ready'
  await agent.keyboard.press('Alt+KeyH')
  await agent.locator(`${tid('state-tag')}[data-status="WrapUp"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.keyboard.press('Alt+KeyW')
  await agent.locator(`${tid('state-tag')}[data-status="Ready"]`).waitFor({ timeout: STEP_TIMEOUT })
  await snap(agent, '5-ready-again')
  log(`PASSED in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} catch (e) {
  failed = true
  console.error(`FAILED at step "${step}": ${e?.stack ?? e}`)
  for (const [name, page] of [['agent', agent], ['fresh', fresh]]) {
    if (page) await snap(page, `failure-${name}`).catch(() => {})
  }
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
