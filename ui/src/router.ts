import { createRouter, createWebHashHistory, type RouterHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

// Hash history: the app is served from Tauri's asset protocol (and, in tests,
// from nowhere), so routes must not depend on the server resolving paths.
// `meta.public` marks the screens shown before sign-in.
export function createAppRouter(history: RouterHistory = createWebHashHistory()) {
  return createRouter({
    history,
    routes: [
      { path: '/', name: 'home', component: HomeView },
      { path: '/setup', name: 'setup', component: () => import('./views/SetupView.vue'), meta: { public: true } },
      // The PIN screen (hook: pin.ts); `locked` screens are reachable before unlocking.
      { path: '/pin', name: 'pin', component: () => import('./views/PinView.vue'), meta: { locked: true } },
      { path: '/households', name: 'households', component: () => import('./views/HouseholdsView.vue') },
      { path: '/households/:id', name: 'household', component: () => import('./views/HouseholdView.vue'), props: true },
      {
        path: '/households/:householdId/residents/:id',
        name: 'resident',
        component: () => import('./views/ResidentView.vue'),
        props: true,
      },
      { path: '/incidents/new', name: 'incident-new', component: () => import('./views/IncidentFormView.vue') },
      { path: '/incidents/:id/edit', name: 'incident-edit', component: () => import('./views/IncidentFormView.vue'), props: true },
      { path: '/incidents/:id', name: 'incident', component: () => import('./views/IncidentView.vue'), props: true },
      { path: '/visits', name: 'visits', component: () => import('./views/VisitsView.vue') },
      {
        path: '/visits/new/:residentId',
        name: 'visit-new',
        component: () => import('./views/VisitFormView.vue'),
        props: true,
      },
      { path: '/conflicts/:id', name: 'conflicts', component: () => import('./views/ConflictsView.vue'), props: true },
      { path: '/tasks', name: 'tasks', component: () => import('./views/TasksView.vue') },
      { path: '/tasks/:id', name: 'task', component: () => import('./views/TaskView.vue'), props: true },
      { path: '/map', name: 'map', component: () => import('./views/MapView.vue') },
      { path: '/patrol', name: 'patrol', component: () => import('./views/PatrolView.vue') },
      { path: '/sync', name: 'sync', component: () => import('./views/SyncView.vue') },
      { path: '/change-pin', name: 'change-pin', component: () => import('./views/ChangePinView.vue') },
      { path: '/about', name: 'about', component: () => import('./views/AboutView.vue'), meta: { public: true } },
    ],
  })
}
