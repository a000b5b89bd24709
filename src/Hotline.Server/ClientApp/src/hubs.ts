// SignalR connections to /hubs/agent and /hubs/supervisor with a reactive connection state.
import { ref, type Ref } from 'vue'
import {
  HubConnectionBuilder,
  HubConnectionState,
  LogLevel,
  type HubConnection,
} from '@microsoft/signalr'
import { onUnauthorized } from './session'

// ----- payloads pushed by /hubs/agent -----

export type AgentStatus = 'LoggedOut' | 'Ready' | 'Reserved' | 'OnCall' | 'WrapUp' | 'NotReady'

export interface AgentView {
  agentId: string
  status: AgentStatus
  reason: string | null
  since: string
  callId: string | null
  /** while Reserved: the pending offer (a console that reconnects shows the call card again) */
  offer?: CallOffer | null
  /** while OnCall: the connected call */
  call?: { callId: string; caller: string; connectedAt: string; callback: boolean } | null
}

/** One entry of the 漏接回拨 list (abandoned or missed calls to call back). */
export interface MissedCall {
  callId: string
  caller: string
  skill: string
  enqueuedAt: string
  missedAt: string
  reason: string
  agentId: string | null
  claimedBy: string | null
  claimedAt: string | null
  attempts: number
  lastResult: string | null
}

/** An external number an agent may transfer a call to (110/119/120/122, another hotline). */
export interface TransferTarget {
  number: string
  name: string
}

export interface PreviousTicket {
  id: string
  number: string
  type: string
  stateName: string
  createdAt: string
  summary: string
}

export interface CallOffer {
  callId: string
  caller: string
  dialledNumber: string
  skill: string
  expiresAt: string
  screenPop: {
    previousTickets: PreviousTicket[]
    contacts30d: number
    repeat: boolean
    elderly: boolean
    ivrPath: string | string[] | null
  } | null
  /** an outbound callback (the caller accepted a callback and hung up) */
  callback?: boolean
  /** the caller's own group when the call overflowed to this agent's group */
  overflowFrom?: string | null
}

export interface TicketChanged {
  ticketId: string
  number: string
  state: string
  stateName: string
  version: number
}

// ----- payloads pushed by /hubs/supervisor -----

export interface Wallboard {
  at: string
  skills: { skill: string; waiting: number; longestWaitSeconds: number; readyAgents: number }[]
  agentsByStatus: Partial<Record<AgentStatus, number>>
  today: {
    offered: number
    answered: number
    abandoned: number
    answerRate: number
    serviceLevel15: number
    avgWaitSeconds: number
    avgTalkSeconds: number
    avgWrapUpSeconds?: number
  }
  missedOpen?: number
  agents: { agentId: string; name: string; status: AgentStatus; reason: string | null; since: string }[]
}

export const STATUS_NAMES: Record<AgentStatus, string> = {
  LoggedOut: '未签入',
  Ready: '就绪',
  Reserved: '振铃中',
  OnCall: '通话中',
  WrapUp: '话后处理',
  NotReady: '示忙',
}

export const STATUS_COLORS: Record<AgentStatus, string> = {
  LoggedOut: '#909399',
  Ready: '#16a34a',
  Reserved: '#f59e0b',
  OnCall: '#2563eb',
  WrapUp: '#7c3aed',
  NotReady: '#dc2626',
}

export const NOT_READY_REASONS = ['小休', '培训', '会议', '就餐'] as const

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected'

export interface Hub {
  connection: HubConnection
  state: Ref<LinkState>
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Builds a connection that reconnects forever (1 s, 2 s, 4 s … capped at 10 s), calls
 * `resync` after every (re)connect, and keeps retrying the first start too.
 */
export function createHub(path: string, resync: (c: HubConnection) => Promise<void> | void): Hub {
  const state = ref<LinkState>('connecting')
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const connection = new HubConnectionBuilder()
    .withUrl(path) // the session cookie authenticates the negotiate request and the WebSocket
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: (ctx) => Math.min(10_000, 1000 * 2 ** Math.min(ctx.previousRetryCount, 4)),
    })
    .configureLogging(LogLevel.Warning)
    .build()

  connection.onreconnecting(() => (state.value = 'reconnecting'))
  connection.onreconnected(async () => {
    state.value = 'connected'
    await safeResync()
  })
  connection.onclose(() => {
    if (stopped) return
    state.value = 'reconnecting'
    schedule(3000)
  })

  async function safeResync() {
    try {
      await resync(connection)
    } catch (e) {
      console.warn(`${path}: resync failed`, e)
    }
  }

  function schedule(ms: number) {
    clearTimeout(timer)
    timer = setTimeout(() => void tryStart(), ms)
  }

  async function tryStart() {
    if (stopped || connection.state !== HubConnectionState.Disconnected) return
    try {
      await connection.start()
      state.value = 'connected'
      await safeResync()
    } catch (e) {
      if (String(e).includes('401')) {
        onUnauthorized()
        return
      }
      state.value = 'reconnecting'
      schedule(3000)
    }
  }

  return {
    connection,
    state,
    async start() {
      stopped = false
      state.value = 'connecting'
      await tryStart()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      state.value = 'disconnected'
      await connection.stop()
    },
  }
}
