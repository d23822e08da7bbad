import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

/**
 * The supervisor console: a second entry (`console.html`) built to
 * `dist-console/`, served by gridwork-server at `/console/`. The server
 * falls back to `index.html` for the console's routes, so the page is
 * written under that name.
 */
function consoleIndex(): Plugin {
  return {
    name: 'gridwork-console-index',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = bundle['console.html']
      if (page) page.fileName = 'index.html'
    },
  }
}

export default defineConfig({
  base: '/console/',
  plugins: [vue(), consoleIndex()],
  build: {
    outDir: 'dist-console',
    emptyOutDir: true,
    // Desks run current browsers.
    target: 'es2022',
    rollupOptions: { input: 'console.html' },
  },
  server: { port: 5175, proxy: { '/console/api': 'http://127.0.0.1:8080' } },
})
