// The signed-in user and token, kept in localStorage so a reload keeps the session.
import { reactive } from 'vue'
import type { Role, User } from './api'

const KEY = 'hotline.session'

interface Stored {
  token: string
  expiresAt: string
  user: User
}

function load(): Stored | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Stored | null
    if (s && new Date(s.expiresAt).getTime() > Date.now()) return s
  } catch {
    /* ignore a corrupt entry */
  }
  localStorage.removeItem(KEY)
  return null
}

const initial = load()

export const session = reactive({
  token: initial?.token ?? '',
  expiresAt: initial?.expiresAt ?? '',
  user: (initial?.user ?? null) as User | null,
})

export function signIn(s: Stored) {
  session.token = s.token
  session.expiresAt = s.expiresAt
  session.user = s.user
  localStorage.setItem(KEY, JSON.stringify(s))
}

export function signOut() {
  session.token = ''
  session.expiresAt = ''
  session.user = null
  localStorage.removeItem(KEY)
}

export function isSignedIn(): boolean {
  return !!session.token && new Date(session.expiresAt).getTime() > Date.now()
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
  signOut()
  unauthorizedHandler()
}

export const ROLE_NAMES: Record<Role, string> = {
  agent: '话务员',
  supervisor: '班长',
  dispatcher: '派单/审核员',
  handler: '承办单位经办人',
  callback: '回访员',
  leader: '领导',
  admin: '管理员',
}
