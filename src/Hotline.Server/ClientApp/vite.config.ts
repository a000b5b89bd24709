import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The ASP.NET server (Hotline.Server) listens on 8345 in development; override with HOTLINE_API.
const api = process.env.HOTLINE_API ?? 'http://127.0.0.1:8345'
const proxy = {
  '/api': { target: api, changeOrigin: false },
  '/hubs': { target: api, changeOrigin: false, ws: true },
}

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    // Served by Hotline.Server as static files with an SPA fallback to index.html.
    outDir: '../wwwroot',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: { port: 5173, strictPort: false, proxy },
  preview: { port: 4173, proxy },
})
