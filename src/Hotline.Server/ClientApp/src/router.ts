import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import type { Role } from './api'
import { hasRole, isSignedIn } from './session'

export interface MenuEntry {
  path: string
  title: string
  icon: string
  roles: Role[]
}

/** The left menu, in order; each page is shown to the listed roles (and admin). */
export const MENU: MenuEntry[] = [
  { path: '/agent', title: '坐席工作台', icon: 'IconHeadset', roles: ['agent'] },
  { path: '/tickets', title: '工单查询', icon: 'IconTickets', roles: ['agent', 'supervisor', 'dispatcher', 'handler', 'callback', 'leader'] },
  { path: '/dispatch', title: '派单审核', icon: 'IconPromotion', roles: ['dispatcher'] },
  { path: '/inbox', title: '承办工单', icon: 'IconOfficeBuilding', roles: ['handler'] },
  { path: '/callback', title: '回访', icon: 'IconPhone', roles: ['callback'] },
  { path: '/wallboard', title: '监控大屏', icon: 'IconMonitor', roles: ['supervisor', 'leader'] },
  { path: '/leader', title: '领导驾驶舱', icon: 'IconDataAnalysis', roles: ['leader', 'supervisor'] },
  { path: '/drafts', title: '渠道草稿', icon: 'IconMessage', roles: ['agent', 'supervisor', 'dispatcher'] },
  { path: '/kb-review', title: '知识库审核', icon: 'IconReading', roles: ['dispatcher', 'supervisor'] },
  { path: '/outbox', title: '消息发件箱', icon: 'IconMessageBox', roles: ['supervisor', 'dispatcher'] },
]

/** Where each role lands after login (the first that applies; admin lands on the agent desk). */
const HOME: [Role, string][] = [
  ['agent', '/agent'], ['supervisor', '/wallboard'], ['dispatcher', '/dispatch'], ['handler', '/inbox'],
  ['callback', '/callback'], ['leader', '/leader'],
]
export function homePath(): string {
  return HOME.find(([role]) => hasRole(role))?.[1] ?? '/tickets'
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true } },
  { path: '/public', name: 'public', component: () => import('./pages/public/PublicPage.vue'), meta: { public: true, title: '12345 网上反映' } },
  {
    path: '/',
    component: () => import('./components/AppLayout.vue'),
    children: [
      { path: '', name: 'home', redirect: () => (isSignedIn() ? homePath() : '/login') },
      { path: 'agent', component: () => import('./pages/AgentDesk.vue'), meta: { roles: ['agent'] } },
      { path: 'tickets', component: () => import('./pages/TicketsPage.vue') },
      { path: 'tickets/:id', component: () => import('./pages/TicketsPage.vue') },
      { path: 'dispatch', component: () => import('./pages/DispatchPage.vue'), meta: { roles: ['dispatcher'] } },
      { path: 'inbox', component: () => import('./pages/HandlerInbox.vue'), meta: { roles: ['handler'] } },
      { path: 'callback', component: () => import('./pages/CallbackPage.vue'), meta: { roles: ['callback'] } },
      { path: 'wallboard', component: () => import('./pages/WallboardPage.vue'), meta: { roles: ['supervisor', 'leader'] } },
      { path: 'leader', component: () => import('./pages/LeaderPage.vue'), meta: { roles: ['leader', 'supervisor'] } },
      { path: 'drafts', component: () => import('./pages/office/DraftsPage.vue'), meta: { roles: ['agent', 'supervisor', 'dispatcher'] } },
      { path: 'kb-review', component: () => import('./pages/office/KnowledgeReviewPage.vue'), meta: { roles: ['dispatcher', 'supervisor'] } },
      { path: 'outbox', component: () => import('./pages/office/OutboxPage.vue'), meta: { roles: ['supervisor', 'dispatcher'] } },
      { path: ':rest(.*)*', component: () => import('./pages/NotFound.vue') },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!isSignedIn()) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  const roles = to.meta.roles as Role[] | undefined
  if (roles && !hasRole(...roles)) return homePath()
  return true
})
