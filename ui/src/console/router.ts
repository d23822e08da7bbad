import { createRouter, createWebHistory, type RouterHistory } from 'vue-router'
import LoginView from './views/LoginView.vue'
import QueueView from './views/QueueView.vue'
import DashboardView from './views/DashboardView.vue'
import LedgerView from './views/LedgerView.vue'
import MapView from './views/MapView.vue'
import RecordView from './views/RecordView.vue'
import HotlineImportView from './views/HotlineImportView.vue'
import TasksView from './views/TasksView.vue'
import TaskCampaignView from './views/TaskCampaignView.vue'
import AccessLogView from './views/AccessLogView.vue'
import DevicesView from './views/DevicesView.vue'

export function createConsoleRouter(history?: RouterHistory) {
  return createRouter({
    history: history ?? createWebHistory('/console/'),
    routes: [
      { path: '/', redirect: '/queue' },
      { path: '/login', name: 'login', component: LoginView },
      { path: '/queue', name: 'queue', component: QueueView },
      { path: '/records/:id', name: 'record', component: RecordView, props: true },
      { path: '/dashboard', name: 'dashboard', component: DashboardView },
      { path: '/lists/:list(incidents|households|residents|patrols|queue)', name: 'ledger', component: LedgerView },
      { path: '/map', name: 'map', component: MapView },
      { path: '/hotline', name: 'hotline', component: HotlineImportView },
      { path: '/tasks', name: 'tasks', component: TasksView },
      { path: '/tasks/:campaign', name: 'task', component: TaskCampaignView, props: true },
      { path: '/access-log', name: 'access-log', component: AccessLogView },
      { path: '/devices', name: 'devices', component: DevicesView },
    ],
  })
}
