import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import * as Icons from '@element-plus/icons-vue'
import App from './App.vue'
import { router } from './router'
import { setUnauthorizedHandler } from './session'
import './styles.css'

setUnauthorizedHandler(() => {
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
  }
})

const app = createApp(App)
for (const [name, component] of Object.entries(Icons)) app.component(`Icon${name}`, component)
app.use(ElementPlus).use(router).mount('#app')
