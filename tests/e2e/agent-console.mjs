// The agent's hot path in a real browser (Debian chromium, headless, driven by playwright-core) against a running
// server: agent1 signs in; a simulated call is queued while agent1 is not ready (the wallboard shows it waiting);
// agent1 goes ready with the keyboard, the call card pops, Alt+A accepts, the ticket form is filled and submitted
// with Ctrl+Enter, Alt+H hangs up, Alt+W finishes wrap-up; super1's wallboard (a second browser context) follows
// every step; a second call is accepted and transferred to 120 with the keyboard (Alt+T); the session is an HttpOnly cookie, and super1's sign-out revokes it. Screenshots go to tests/artifacts/e2e/.
//
//   BASE_URL=http://127.0.0.1:8345 node tests/e2e/agent-console.mjs
//
// Exit code 0 = passed; otherwise the failing step and its reason are printed (and a screenshot of both pages).
import { ARTIFACTS, BASE_URL, field, launchBrowser, log, pickInCascader, signIn, started, STEP_TIMEOUT, tid } from './harness.mjs'
import { join } from 'node:path'

let shot = 0
let step = 'start'

async function snap(page, name) {
  const file = join(ARTIFACTS, `${String(++shot).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  log('screenshot', file)
}

async function text(page, id) {
  return ((await page.locator(tid(id)).first().textContent()) ?? '').trim()
}

/** Waits until the wallboard's figure `id` satisfies `ok` (the wallboard is pushed, never reloaded). */
async function wallboardFigure(page, id, ok, what) {
  const deadline = Date.now() + STEP_TIMEOUT
  let last = ''
  while (Date.now() < deadline) {
    last = await text(page, id)
    if (ok(last)) return last
    await page.waitForTimeout(200)
  }
  throw new Error(`wallboard ${id} never became ${what} (last: "${last}")`)
}

async function agentTile(page, agentId, status) {
  await page.locator(`${tid('wallboard-agent')}[data-agent-id="${agentId}"][data-status="${status}"]`).waitFor({ timeout: STEP_TIMEOUT })
}

const browser = await launchBrowser()
let agent, supervisor
let failed = false
try {
  const viewport = { width: 1440, height: 1000 }
  const agentContext = await browser.newContext({ viewport, locale: 'zh-CN' })
  const supervisorContext = await browser.newContext({ viewport, locale: 'zh-CN' })

  step = 'agent1 signs in'
  agent = await signIn(agentContext, 'agent1', '/agent')
  await agent.locator(`${tid('connection-badge')}[data-state="connected"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status]`).waitFor({ timeout: STEP_TIMEOUT })
  log('agent1 console connected, state', await agent.locator(tid('state-tag')).getAttribute('data-status'))

  step = 'the session is an HttpOnly, SameSite=Strict cookie; scripts hold no token'
  const sessionCookie = (await agentContext.cookies()).find((c) => c.name === 'hotline.auth')
  if (!sessionCookie || !sessionCookie.httpOnly || sessionCookie.sameSite !== 'Strict')
    throw new Error(`session cookie: ${JSON.stringify(sessionCookie)}`)
  const stored = await agent.evaluate(() => JSON.stringify(localStorage))
  if (stored.includes(sessionCookie.value) || /"token"/.test(stored)) throw new Error(`localStorage holds a token: ${stored.slice(0, 200)}`)

  // A server that already ran this test may hold agent1 in a call: bring it back to a known state with the keyboard.
  step = 'agent1 leaves a call left over from an earlier run'
  const status = async () => agent.locator(tid('state-tag')).getAttribute('data-status')
  if ((await status()) === 'Reserved') await agent.keyboard.press('Alt+KeyJ')
  if ((await status()) === 'OnCall') {
    await agent.keyboard.press('Alt+KeyH')
    await agent.locator(`${tid('state-tag')}[data-status="WrapUp"]`).waitFor({ timeout: STEP_TIMEOUT })
  }

  step = 'super1 opens the wallboard'
  supervisor = await signIn(supervisorContext, 'super1', '/wallboard')
  await supervisor.locator(`${tid('connection-badge')}[data-state="connected"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agentTile(supervisor, 'agent1', (await agent.locator(tid('state-tag')).getAttribute('data-status')) ?? 'LoggedOut')
  const offeredBefore = Number(await wallboardFigure(supervisor, 'wallboard-offered', (v) => /^\d+$/.test(v), 'a number'))
  const answeredBefore = Number(await text(supervisor, 'wallboard-answered'))
  await snap(supervisor, 'wallboard-before')

  step = 'agent1 signs in (Alt+R), then goes on break (Alt+B) so that the call waits'
  await agent.keyboard.press('Alt+KeyR')
  await agent.locator(`${tid('state-tag')}[data-status="Ready"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agentTile(supervisor, 'agent1', 'Ready')
  await agent.keyboard.press('Alt+KeyB')
  await agent.locator(`${tid('state-tag')}[data-status="NotReady"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agentTile(supervisor, 'agent1', 'NotReady')

  step = 'a citizen calls (POST /api/dev/calls as the agent)'
  const caller = '139' + String(Date.now()).slice(-8)
  const injected = await agent.evaluate(async ({ caller }) => {
    // The page's session is its HttpOnly cookie; a write also needs the antiforgery token, as the console sends it.
    const xsrf = await (await fetch('/api/auth/antiforgery')).json()
    const r = await fetch('/api/dev/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [xsrf.headerName]: xsrf.token },
      body: JSON.stringify({ caller, elderly: true }),
    })
    return { status: r.status, body: await r.text() }
  }, { caller })
  if (injected.status !== 200) throw new Error(`POST /api/dev/calls → ${injected.status}: ${injected.body}`)
  const callId = JSON.parse(injected.body).callId
  log('call injected', callId, 'from', caller)

  step = 'the wallboard shows the call waiting'
  await wallboardFigure(supervisor, 'wallboard-waiting', (v) => Number(v) >= 1, '≥ 1')
  await wallboardFigure(supervisor, 'wallboard-offered', (v) => Number(v) >= offeredBefore + 1, `≥ ${offeredBefore + 1}`)
  await snap(supervisor, 'wallboard-call-waiting')

  step = 'agent1 goes ready (Alt+R) and is offered the call'
  await agent.keyboard.press('Alt+KeyR')
  const card = agent.locator(`${tid('incoming-call')}[data-call-id="${callId}"]`)
  await card.waitFor({ timeout: STEP_TIMEOUT })
  const shownCaller = await text(agent, 'incoming-caller')
  if (shownCaller !== caller) throw new Error(`the call card shows "${shownCaller}", expected ${caller}`)
  await agent.locator(tid('badge-elderly')).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status="Reserved"]`).waitFor({ timeout: STEP_TIMEOUT })
  await snap(agent, 'agent-call-offered')
  await wallboardFigure(supervisor, 'wallboard-waiting', (v) => v === '0', '0')

  step = 'agent1 accepts with Alt+A'
  await agent.keyboard.press('Alt+KeyA')
  await agent.locator(tid('call-active')).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('state-tag')}[data-status="OnCall"]`).waitFor({ timeout: STEP_TIMEOUT })
  await card.waitFor({ state: 'detached', timeout: STEP_TIMEOUT })
  const linkedCall = await text(agent, 'field-call-id')
  if (linkedCall !== callId) throw new Error(`the form is linked to call "${linkedCall}", expected ${callId}`)
  const focusedInForm = await agent.evaluate(() => !!document.activeElement?.closest('[data-testid="ticket-form"]'))
  if (!focusedInForm) throw new Error('after accepting, the keyboard focus is not in the ticket form')
  await agentTile(supervisor, 'agent1', 'OnCall')
  await wallboardFigure(supervisor, 'wallboard-answered', (v) => Number(v) >= answeredBefore + 1, `≥ ${answeredBefore + 1}`)

  step = 'agent1 registers the ticket (keyboard: type → category → area → address → content, Ctrl+Enter)'
  // 诉求类型: the focus is on the first radio; → moves to 求助, → again to 投诉 (咨询 求助 投诉 …).
  await agent.keyboard.press('ArrowRight')
  await agent.keyboard.press('ArrowRight')
  await pickInCascader(agent, 'field-category', '社会生活噪音')
  await pickInCascader(agent, 'field-area', '湖滨社区')
  await agent.locator(field('field-address')).first().fill('湖滨路 88 号 3 栋')
  await agent.locator(field('field-content', 'textarea')).first().fill('楼下烧烤店每晚营业到凌晨两点，噪音扰民，多次沟通无果，希望有关部门处理。')
  await agent.locator(field('field-caller-name')).first().fill('王建华')
  const phone = await agent.locator(field('field-caller-phone')).first().inputValue()
  if (phone !== caller) throw new Error(`the caller phone is prefilled with "${phone}", expected ${caller}`)
  await snap(agent, 'agent-form-filled')
  await agent.locator(field('field-content', 'textarea')).first().press('Control+Enter')
  await agent.locator(tid('ticket-result')).waitFor({ timeout: STEP_TIMEOUT }).catch(async (e) => {
    const err = await agent.locator(tid('ticket-form-error')).textContent().catch(() => null)
    throw new Error(`no ticket result${err ? `; form error: ${err}` : ''} (${e.message})`)
  })
  const number = await text(agent, 'ticket-number')
  if (!/^\d{8}-\d{6}$/.test(number)) throw new Error(`ticket number "${number}" is not YYYYMMDD-NNNNNN`)
  log('ticket registered', number)
  await snap(agent, 'agent-ticket-registered')

  step = 'agent1 hangs up with Alt+H → wrap-up'
  await agent.keyboard.press('Alt+KeyH')
  await agent.locator(`${tid('state-tag')}[data-status="WrapUp"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(tid('call-ended')).waitFor({ timeout: STEP_TIMEOUT })
  await agentTile(supervisor, 'agent1', 'WrapUp')
  await snap(agent, 'agent-wrap-up')
  await snap(supervisor, 'wallboard-agent-wrap-up')

  step = 'agent1 finishes wrap-up with Alt+W → ready'
  await agent.keyboard.press('Alt+KeyW')
  await agent.locator(`${tid('state-tag')}[data-status="Ready"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(tid('call-ended')).waitFor({ state: 'detached', timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('recent-ticket')}:has-text("${number}")`).waitFor({ timeout: STEP_TIMEOUT })
  await agentTile(supervisor, 'agent1', 'Ready')
  await wallboardFigure(supervisor, 'wallboard-ready', (v) => Number(v) >= 1, '≥ 1')
  await snap(agent, 'agent-ready-again')
  await snap(supervisor, 'wallboard-after')

  step = 'a second call: agent1 accepts and transfers it to 120 with the keyboard (Alt+T, arrows, Tab, reason, Enter) → wrap-up'
  const second = await agent.evaluate(async () => {
    const xsrf = await (await fetch('/api/auth/antiforgery')).json()
    const r = await fetch('/api/dev/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [xsrf.headerName]: xsrf.token },
      body: JSON.stringify({ caller: '13955550120' }),
    })
    return { status: r.status, body: await r.text() }
  })
  if (second.status !== 200) throw new Error(`POST /api/dev/calls → ${second.status}: ${second.body}`)
  const secondId = JSON.parse(second.body).callId
  await agent.locator(`${tid('incoming-call')}[data-call-id="${secondId}"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.keyboard.press('Alt+KeyA')
  await agent.locator(`${tid('call-active')}[data-call-id="${secondId}"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.keyboard.press('Alt+KeyT')
  await agent.locator(`${tid('transfer-targets')} input[type=radio]`).first().waitFor({ timeout: STEP_TIMEOUT })
  await agent.waitForFunction(() => document.activeElement?.closest('[data-testid="transfer-targets"]'), null, { timeout: STEP_TIMEOUT })
  await agent.keyboard.press('ArrowDown') // 110 → 119
  await agent.keyboard.press('ArrowDown') // → 120
  const picked = await agent.locator(`${tid('transfer-targets')} input[type=radio]:checked`).inputValue()
  if (picked !== '120') throw new Error(`the arrows picked "${picked}", expected 120`)
  await agent.keyboard.press('Tab')
  await agent.keyboard.type('来电人家属突发疾病，需急救')
  await snap(agent, 'agent-transfer-dialog')
  await agent.keyboard.press('Enter')
  await agent.locator(`${tid('state-tag')}[data-status="WrapUp"]`).waitFor({ timeout: STEP_TIMEOUT })
  await agent.locator(`${tid('call-ended')}:has-text("已转接")`).waitFor({ timeout: STEP_TIMEOUT })
  await snap(agent, 'agent-transferred')
  await agent.keyboard.press('Alt+KeyW')
  await agent.locator(`${tid('state-tag')}[data-status="Ready"]`).waitFor({ timeout: STEP_TIMEOUT })

  step = 'super1 signs out (退出): the cookie is gone and a copy of it no longer opens a session'
  const superCookie = (await supervisorContext.cookies()).find((c) => c.name === 'hotline.auth')
  if (!superCookie) throw new Error('super1 has no session cookie')
  await supervisor.locator(tid('btn-logout')).click()
  await supervisor.waitForURL((u) => u.pathname === '/login', { timeout: STEP_TIMEOUT })
  if ((await supervisorContext.cookies()).some((c) => c.name === 'hotline.auth')) throw new Error('the session cookie survived sign-out')
  const replay = await fetch(`${BASE_URL}/api/me`, { headers: { cookie: `hotline.auth=${superCookie.value}` } })
  if (replay.status !== 401) throw new Error(`a copy of the signed-out cookie → ${replay.status}, expected 401`)
  log(`PASSED in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} catch (e) {
  failed = true
  console.error(`FAILED at step "${step}": ${e?.stack ?? e}`)
  for (const [name, page] of [['agent', agent], ['supervisor', supervisor]]) {
    if (page) await snap(page, `failure-${name}`).catch(() => {})
  }
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
