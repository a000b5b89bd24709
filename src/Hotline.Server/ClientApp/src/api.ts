// Typed client for the Hotline HTTP API (the contract is in README.md of this folder).
import { session, onUnauthorized } from './session'

// ---------- types ----------

export type Role = 'agent' | 'supervisor' | 'dispatcher' | 'handler' | 'callback' | 'leader' | 'admin'

export interface User {
  id: string
  username: string
  displayName: string
  roles: Role[]
  unitId: string | null
  unitName: string | null
}

export interface LoginResponse {
  /** null for the console: it signs in with the HttpOnly cookie (useCookie), the token never reaches scripts */
  token?: string | null
  expiresAt: string
  user: User
}

export interface ProblemDetails {
  type?: string
  title?: string
  status?: number
  detail?: string
  errors?: Record<string, string[]>
}

export interface TreeNode {
  code: string
  name: string
  children?: TreeNode[]
}

export interface Unit {
  id: string
  name: string
  kind: string
  parentId: string | null
}

export const CHANNELS = ['电话', '网站', '微信', '短信', 'APP', '邮件'] as const
export const TICKET_TYPES = ['咨询', '求助', '投诉', '举报', '建议', '表扬', '其他'] as const
export const URGENCIES = ['一般', '紧急', '特急'] as const
export type Channel = (typeof CHANNELS)[number]
export type TicketType = (typeof TICKET_TYPES)[number]
export type Urgency = (typeof URGENCIES)[number]

export interface RegisterTicket {
  channel: Channel
  type: TicketType
  urgency: Urgency
  categoryCode: string
  areaCode: string
  address: string
  content: string
  callerName: string
  callerPhone: string
  callId?: string
  confidential?: boolean
}

export type DeadlineStatus = 'normal' | 'yellow' | 'red'

export interface Deadline {
  kind: string
  dueAt: string
  status: DeadlineStatus
  remainingSeconds: number
  provisional: boolean
}

export interface TicketListItem {
  id: string
  number: string
  state: string
  stateName: string
  type: string
  categoryName: string
  areaName: string
  createdAt: string
  summary: string
  deadline: Deadline | string | null
  /** only in the handler's inbox */
  taskState?: string
  taskStateName?: string
  urgency?: string
  /** the ticket's stream version (If-Match for row actions) */
  version?: number
  /** 暂缓派单 in force (to-dispatch rows) */
  hold?: { reason: string; by: string; since: string } | null
  /** auto-dispatch left the ticket to a dispatcher (to-dispatch rows) */
  dispatcherFlag?: { reasonCode: string; reasonName: string; detail: string; at: string } | null
}

export interface Page<T> {
  items: T[]
  total: number
}

export interface TicketTask {
  taskId: string
  unitId: string
  unitName: string
  role: '主办' | '协办'
  state: string
  stateName: string
  signDueAt: string | null
  replyDueAt: string | null
  signedForAt: string | null
  repliedAt: string | null
  reply: { result: ReplyResult; text: string } | null
}

export interface HistoryEntry {
  version: number
  type: string
  typeName: string
  at: string
  actor: string
  summary: string
}

export type Satisfaction = '满意' | '基本满意' | '不满意'
export type ReplyResult = 'resolved' | 'explained' | 'unresolved'

export interface TicketDetails {
  id: string
  number: string
  state: string
  stateName: string
  type: TicketType
  urgency: Urgency
  channel: Channel
  categoryCode: string
  categoryName: string
  areaCode: string
  areaName: string
  address: string
  content: string
  caller: { name: string; phone: string }
  callIds: string[]
  version: number
  createdAt: string
  deadline: Deadline | null
  tasks: TicketTask[]
  callback: { satisfaction: Satisfaction; comment: string; at: string } | null
  allowedActions: string[]
  history: HistoryEntry[]
  /** while waiting for dispatch: 暂缓 in force, and why auto-dispatch left it to a dispatcher */
  hold?: TicketListItem['hold']
  dispatcherFlag?: TicketListItem['dispatcherFlag']
}

/** Action name → request body. */
export interface ActionBodies {
  'answer-directly': { text: string; knowledgeItemId?: string }
  dispatch: { unitId: string; reason?: string }
  'sign-for': Record<string, never>
  reply: { result: ReplyResult; text: string }
  review: { accept: boolean; comment: string }
  callback: { satisfaction: Satisfaction; comment: string }
  close: Record<string, never>
  'hold-dispatch': { reason: string }
  'release-hold': { reason?: string }
}
export type TicketAction = keyof ActionBodies

export type WorklistName = 'to-dispatch' | 'to-review' | 'to-callback' | 'inbox'

export interface Report {
  id: string
  kind: string
  periodStart: string
  periodEnd: string
  status: 'queued' | 'running' | 'done' | 'failed'
  generatedAt: string | null
  fileName: string | null
  sizeBytes: number | null
  /** 排队中, 收集数据, 分析：…, the sheet being written, 完成, 失败 */
  stage?: string | null
  /** 0–1 */
  progress?: number
  error?: string | null
  requestedAt?: string
  demo?: boolean
}

/** Body of POST /api/reports: a date range, or a kind with a date inside the wanted period. */
export type ReportRequest =
  | { periodStart: string; periodEnd: string }
  | { kind: 'weekly' | 'monthly' | 'quarterly'; date?: string }

export interface KpiValue {
  value: number | null
  numerator: number
  denominator: number | null
}

export interface KpiCard {
  id: string
  name: string
  unit: string
  threeRates: boolean
  current: KpiValue
  previous: KpiValue
  lastYear: KpiValue
  threshold: { good: number; bad: number; higherIsBetter: boolean } | null
}

export interface CallStats {
  offered: number
  answered: number
  abandoned: number
  answerRate: number
  serviceLevel15: number
  avgWaitSeconds: number
  avgTalkSeconds: number
}

export interface Dashboard {
  calls: CallStats
  tickets: {
    registered: number
    answeredDirectly: number
    dispatched: number
    closed: number
    overdue: number
    satisfactionRate: number
  }
}

// ---------- transport ----------

export class ApiError extends Error {
  readonly status: number
  readonly problem: ProblemDetails

  constructor(status: number, problem: ProblemDetails) {
    super(problem.detail || problem.title || `请求失败（HTTP ${status}）`)
    this.status = status
    this.problem = problem
  }

  /** Field errors keyed by the field name with a lower-case first letter and no `$.` prefix. */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [key, messages] of Object.entries(this.problem.errors ?? {})) {
      const name = key.replace(/^\$\./, '')
      const norm = name.charAt(0).toLowerCase() + name.slice(1)
      out[norm] = messages.join('；')
      // "caller.phone" → also "callerPhone"
      if (norm.includes('.')) {
        out[norm.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase())] = out[norm]
      }
    }
    return out
  }
}

interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  /** don't treat 401 as "session expired" (the login call itself) */
  anonymous?: boolean
}

const XSRF_HEADER = 'X-XSRF-TOKEN'
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS']

/** The antiforgery token the server wants on every write signed in by the cookie (fetched once per sign-in). */
async function xsrfToken(): Promise<string> {
  if (!session.xsrf) {
    const res = await fetch('/api/auth/antiforgery', { headers: { Accept: 'application/json' } })
    if (res.ok) session.xsrf = ((await res.json()) as { token: string }).token
  }
  return session.xsrf
}

export async function request<T>(method: string, url: string, opts: RequestOptions = {}, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  // The session is the HttpOnly cookie (sent by the browser); writes carry the antiforgery token beside it.
  if (!opts.anonymous && !SAFE_METHODS.includes(method)) {
    try {
      headers[XSRF_HEADER] = await xsrfToken()
    } catch {
      /* offline: the request below reports it */
    }
  }

  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    })
  } catch {
    throw new ApiError(0, { title: '网络错误', detail: '无法连接服务器，请检查网络后重试' })
  }

  if (res.status === 401 && !opts.anonymous) {
    onUnauthorized()
    throw new ApiError(401, { title: '未登录', detail: '登录已过期，请重新登录', status: 401 })
  }
  if (!res.ok) {
    let problem: ProblemDetails = { status: res.status, title: res.statusText }
    const text = await res.text()
    if (text) {
      try {
        problem = JSON.parse(text) as ProblemDetails
      } catch {
        problem = { status: res.status, title: res.statusText, detail: text.slice(0, 300) }
      }
    }
    // A stale antiforgery token (signed in again in another tab, server key rotated): fetch a new one, retry once.
    if (res.status === 400 && problem.errors?.[XSRF_HEADER] && !opts.anonymous && !retried) {
      session.xsrf = ''
      return request<T>(method, url, opts, true)
    }
    if (!problem.detail && !problem.title) problem.title = `请求失败（HTTP ${res.status}）`
    if (res.status === 403 && !problem.detail) problem.detail = '没有权限执行此操作'
    throw new ApiError(res.status, problem)
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** crypto.randomUUID is missing on plain-http origins other than localhost. */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}

// ---------- endpoints ----------

export const api = {
  meta: () => request<{ demo?: boolean; version?: string }>('GET', '/api/meta', { anonymous: true }),

  login: (username: string, password: string) =>
    request<LoginResponse>('POST', '/api/auth/login', { body: { username, password, useCookie: true }, anonymous: true }),

  categories: () => request<TreeNode[]>('GET', '/api/reference/categories'),
  areas: () => request<TreeNode[]>('GET', '/api/reference/areas'),
  units: () => request<Unit[]>('GET', '/api/reference/units'),

  registerTicket: (body: RegisterTicket, idempotencyKey: string) =>
    request<TicketDetails>('POST', '/api/tickets', { body, headers: { 'Idempotency-Key': idempotencyKey } }),

  tickets: (params: { state?: string; q?: string; page?: number; pageSize?: number } = {}) =>
    request<Page<TicketListItem>>('GET', `/api/tickets${qs({ page: 1, pageSize: 20, ...params })}`),

  ticket: (id: string) => request<TicketDetails>('GET', `/api/tickets/${encodeURIComponent(id)}`),

  /** Sends If-Match with the version the user saw: 409 = invalid transition, 412 = stale version. */
  act: <A extends TicketAction>(ticket: Pick<TicketDetails, 'id' | 'version'>, action: A, body: ActionBodies[A]) =>
    request<TicketDetails>('POST', `/api/tickets/${encodeURIComponent(ticket.id)}/${action}`, {
      body,
      headers: { 'If-Match': `"${ticket.version}"` },
    }),

  worklist: (name: WorklistName, params: { page?: number; pageSize?: number; sort?: string } = {}) =>
    request<Page<TicketListItem>>('GET', `/api/worklists/${name}${qs({ page: 1, pageSize: 20, ...params })}`),

  reports: () => request<Report[]>('GET', '/api/reports'),
  generateReport: (body: ReportRequest) => request<Report>('POST', '/api/reports', { body }),
  report: (id: string) => request<Report>('GET', `/api/reports/${encodeURIComponent(id)}`),
  reportKpis: (periodStart?: string, periodEnd?: string) =>
    request<{ periodStart: string; periodEnd: string; kpis: KpiCard[] }>('GET', `/api/reports/kpi${qs({ periodStart, periodEnd })}`),
  /** For an <a href>: the browser sends the session cookie with the download. */
  reportDownloadUrl: (id: string) => `/api/reports/${encodeURIComponent(id)}/download`,

  dashboard: () => request<Dashboard>('GET', '/api/dashboard'),
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}
