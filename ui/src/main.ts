import 'vant/lib/index.css'
import { createGridworkApp } from './app'

const { app, router } = createGridworkApp()
void router.isReady().then(() => app.mount('#app'))
