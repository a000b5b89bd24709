// Names and button styles of the ticket actions (the server lists the allowed ones per ticket).
export const ACTION_LABELS: Record<string, string> = {
  'answer-directly': '直接办结',
  dispatch: '派单',
  'sign-for': '签收',
  reply: '答复',
  review: '审核',
  callback: '回访',
  close: '办结',
  'hold-dispatch': '暂缓派单',
  'release-hold': '取消暂缓',
}

export const ACTION_TYPES: Record<string, 'primary' | 'success' | 'warning' | 'danger' | 'info'> = {
  'answer-directly': 'success',
  dispatch: 'primary',
  'sign-for': 'primary',
  reply: 'primary',
  review: 'warning',
  callback: 'success',
  close: 'danger',
  'hold-dispatch': 'warning',
  'release-hold': 'info',
}

export const REPLY_RESULTS = [
  { value: 'resolved', label: '已解决' },
  { value: 'explained', label: '已解释说明' },
  { value: 'unresolved', label: '未能解决' },
] as const

export const SATISFACTIONS = ['满意', '基本满意', '不满意'] as const
