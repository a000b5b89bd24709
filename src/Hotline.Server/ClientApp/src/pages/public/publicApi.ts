// The public (anonymous) endpoints of the 12345 web channel: /api/public/* (see Channels/README.md on the server).

export interface TreeNode { code: string; name: string; children?: TreeNode[] }

export interface PublicOptions {
  city: string
  types: string[]
  categories: TreeNode[]
  areas: TreeNode[]
  satisfactions: string[]
}

export interface PublicTicket {
  number: string
  channel: string
  state: string
  stateName: string
  type: string
  categoryName: string
  areaName: string
  submittedAt: string
  steps: { at: string; name: string }[]
  reply: string | null
  replyUnit: string | null
  canRate: boolean
  satisfaction: string | null
  photos: number
}

export class PublicError extends Error {
  constructor(public status: number, message: string, public fields: Record<string, string> = {}) {
    super(message)
  }
}

async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, {
      method,
      // A FormData body (photos) goes as multipart/form-data; the browser sets the boundary.
      headers: { Accept: 'application/json', ...(body === undefined || body instanceof FormData ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    })
  } catch {
    throw new PublicError(0, '网络错误，请检查网络后重试')
  }
  const text = await res.text()
  const data = text ? JSON.parse(text) : undefined
  if (!res.ok) {
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries((data?.errors ?? {}) as Record<string, string[]>)) fields[k] = v.join('；')
    const first = Object.values(fields)[0]
    throw new PublicError(res.status, first ?? ([data?.title, data?.detail].filter(Boolean).join('：') || `请求失败（${res.status}）`), fields)
  }
  return data as T
}

export const publicApi = {
  options: () => call<PublicOptions>('GET', '/api/public/options'),
  sendCode: (phone: string) => call<{ expiresInSeconds: number }>('POST', '/api/public/verification-codes', { phone }),
  /** The appeal as multipart/form-data: the fields, and the photos as "photos" file parts. */
  submit: (fields: Record<string, string>, photos: File[], key: string) => {
    const body = new FormData()
    for (const [k, v] of Object.entries(fields)) body.append(k, v)
    for (const p of photos) body.append('photos', p, p.name)
    return call<{ number: string }>('POST', '/api/public/appeals', body, { 'Idempotency-Key': key })
  },
  track: (number: string, phone: string) => call<PublicTicket>('GET', `/api/public/tickets/${encodeURIComponent(number)}?phone=${encodeURIComponent(phone)}`),
  rate: (number: string, phone: string, satisfaction: string, comment: string) =>
    call<PublicTicket>('POST', `/api/public/tickets/${encodeURIComponent(number)}/rating`, { phone, satisfaction, comment: comment || undefined }),
}

/** Leaves of a tree with their path ("城市管理 / 噪音"), for native selects grouped by the path. */
export function leafGroups(tree: TreeNode[]): { label: string; items: TreeNode[] }[] {
  const groups: { label: string; items: TreeNode[] }[] = []
  for (const a of tree) for (const b of a.children ?? []) if (b.children?.length) groups.push({ label: `${a.name} / ${b.name}`, items: b.children })
  return groups
}
