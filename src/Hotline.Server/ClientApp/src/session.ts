// The signed-in user. The session itself is the HttpOnly cookie `hotline.auth` set by the server at login: scripts
// cannot read it, the browser sends it with every same-origin request and hub connection. localStorage keeps only who
// is signed in and until when (no secret), so a reload keeps the page; the antiforgery token lives in memory only.
import { reactive } from 'vue'
import type { Role, User } from './api'

const KEY = 'hotline.session'

interface Stored {
  expiresAt: string
  user: User
}

function load(): Stored | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Stored | null
    if (s && s.user && new Date(s.expiresAt).getTime() > Date.now()) return s
  } catch {
    /* ignore a corrupt entry */
  }
  localStorage.removeItem(KEY)
  return null
}

const initial = load()

export const session = reactive({
  expiresAt: initial?.expiresAt ?? '',
  user: (initial?.user ?? null) as User | null,
  /** The antiforgery request token (X-XSRF-TOKEN) for writes; fetched after sign-in, bound to the user. */
  xsrf: '',
})

let expiryTimer: ReturnType<typeof setTimeout> | undefined

/** The session ends when the cookie does: at that moment the console goes back to the login page. */
function scheduleExpiry() {
  clearTimeout(expiryTimer)
  if (!session.expiresAt) return
  const left = new Date(session.expiresAt).getTime() - Date.now()
  expiryTimer = setTimeout(() => onUnauthorized(), Math.max(0, Math.min(left, 2 ** 31 - 1)))
}

export function signIn(s: Stored) {
  session.expiresAt = s.expiresAt
  session.user = s.user
  session.xsrf = ''
  localStorage.setItem(KEY, JSON.stringify({ expiresAt: s.expiresAt, user: s.user }))
  scheduleExpiry()
}

function clearLocal() {
  clearTimeout(expiryTimer)
  session.expiresAt = ''
  session.user = null
  session.xsrf = ''
  localStorage.removeItem(KEY)
}

/** Ends the session on the server (the cookie is cleared and the token revoked) and here. */
export async function signOut(): Promise<void> {
  clearLocal()
  try {
    await fetch('/api/auth/logout', { method: 'POST', headers: { Accept: 'application/json' } })
  } catch {
    /* offline: the cookie still expires on its own */
  }
}

export function isSignedIn(): boolean {
  return !!session.user && new Date(session.expiresAt).getTime() > Date.now()
}

export function hasRole(...roles: Role[]): boolean {
  const mine = session.user?.roles ?? []
  return mine.includes('admin') || roles.some((r) => mine.includes(r))
}

let unauthorizedHandler: () => void = () => {}
/** main.ts registers the redirect to the login page. */
export function setUnauthorizedHandler(h: () => void) {
  unauthorizedHandler = h
}
export function onUnauthorized() {
  clearLocal()
  unauthorizedHandler()
}

if (initial) scheduleExpiry()

// Signed out (or in as someone else) in another tab: this tab follows.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return
  const now = load()
  if (!now) {
    if (session.user) onUnauthorized()
  } else if (now.user.id !== session.user?.id) {
    signIn(now)
    window.location.reload()
  }
})

export const ROLE_NAMES: Record<Role, string> = {
  agent: '话务员',
  supervisor: '班长',
  dispatcher: '派单/审核员',
  handler: '承办单位经办人',
  callback: '回访员',
  leader: '领导',
  admin: '管理员',
}
