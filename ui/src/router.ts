import { createRouter, createWebHashHistory, type RouterHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

// Hash history: the app is served from Tauri's asset protocol (and, in tests,
// from nowhere), so routes must not depend on the server resolving paths.
export function createAppRouter(history: RouterHistory = createWebHashHistory()) {
  return createRouter({
    history,
    routes: [{ path: '/', name: 'home', component: HomeView }],
  })
}
