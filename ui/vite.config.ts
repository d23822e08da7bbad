/// <reference types="vitest/config" />
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// Set by `tauri android dev` / `tauri ios dev` so the device can reach the dev
// server over the network; unset on the desktop.
const host = process.env.TAURI_DEV_HOST

export default defineConfig({
  plugins: [vue()],
  // Keep Rust compiler errors from the Tauri CLI on screen.
  clearScreen: false,
  server: {
    // Must match `build.devUrl` in src-tauri/tauri.conf.json.
    port: 5173,
    strictPort: true,
    host: host || false,
    ...(host ? { hmr: { protocol: 'ws', host, port: 5174 } } : {}),
    watch: { ignored: ['**/src-tauri/**'] },
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    // The app runs in WebKitGTK on Linux and in Android's System WebView,
    // which can lag on older tablets: stay conservative.
    target: ['es2020', 'chrome87', 'safari14'],
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
})
