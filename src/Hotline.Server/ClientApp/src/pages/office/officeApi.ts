// The hotline office's screens: channel drafts, knowledge-base proposals, the outbox (see Channels/, Knowledge/, Outbox/ on the server).
import { request, type TicketDetails } from '../../api'

export type ResponseStatus = 'pending' | 'met' | 'late' | 'overdue'

export interface Draft {
  id: string
  channel: string
  from: string
  subject: string | null
  text: string
  receivedAt: string
  respondBy: string
  respondedAt: string | null
  responseStatus: ResponseStatus
  acknowledgedAt: string | null
  open: boolean
  ticketId: string | null
  ticketNumber: string | null
  discardReason: string | null
  version: number
  overdueRaisedAt: string | null
}

export interface CompleteDraft {
  type: string
  urgency: string
  categoryCode: string
  areaCode: string
  address: string
  content: string
  callerName: string
  callerPhone: string
}

export interface KnowledgeText {
  revision: number
  kind: string
  title: string
  body: string
  keywords: string[]
  ownerUnitId: string
  validFrom: string | null
  validTo: string | null
  reviewBy: string | null
  proposedBy: string
  proposedAt: string
}

export interface KnowledgeView {
  id: string
  status: string
  version: number
  published: KnowledgeText | null
  pending: KnowledgeText | null
  lastRejection: string | null
  ownerUnitId: string
  ownerUnitName: string
  publishedAt: string | null
  uses: number
}

export type OutboxStatus = 'queued' | 'retrying' | 'delivered'

export interface OutboxRow {
  messageId: string
  channel: string
  to: string
  kind: string
  text: string
  refId: string | null
  queuedAt: string
  attempts: number
  deliveredAt: string | null
  lastError: string | null
  nextAttemptAt: string | null
  status: OutboxStatus
}

export const officeApi = {
  drafts: (open = true) => request<Draft[]>('GET', `/api/drafts?open=${open}`),
  completeDraft: (id: string, body: CompleteDraft) =>
    request<{ draft: Draft; ticket: TicketDetails }>('POST', `/api/drafts/${encodeURIComponent(id)}/complete`, { body }),
  discardDraft: (id: string, reason: string) => request<Draft>('POST', `/api/drafts/${encodeURIComponent(id)}/discard`, { body: { reason } }),

  pendingKnowledge: () => request<KnowledgeView[]>('GET', '/api/knowledge/items?status=待审核'),
  approveKnowledge: (item: KnowledgeView) =>
    request<KnowledgeView>('POST', `/api/knowledge/items/${encodeURIComponent(item.id)}/approve`, { body: { revision: item.pending?.revision } }),
  rejectKnowledge: (item: KnowledgeView, reason: string) =>
    request<KnowledgeView>('POST', `/api/knowledge/items/${encodeURIComponent(item.id)}/reject`, { body: { revision: item.pending?.revision, reason } }),

  outbox: (pending: boolean) => request<OutboxRow[]>('GET', `/api/outbox${pending ? '?pending=true' : ''}`),
  retry: (id: string) => request<OutboxRow>('POST', `/api/outbox/${encodeURIComponent(id)}/retry`),
}

export const RESPONSE_STATUS: Record<ResponseStatus, { text: string; type: 'success' | 'info' | 'warning' | 'danger' }> = {
  pending: { text: '待响应', type: 'info' },
  met: { text: '已按时响应', type: 'success' },
  late: { text: '超时响应', type: 'danger' },
  overdue: { text: '已超时', type: 'danger' },
}
