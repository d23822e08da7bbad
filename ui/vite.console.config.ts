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

/**
 * Vant's icon font names a copy on a CDN (at.alicdn.com) after its inline
 * WOFF2. The console loads nothing from elsewhere (a supervisor's desk
 * may have no internet, and its Content-Security-Policy allows fonts from
 * the server and `data:` only), so remote font sources are dropped from
 * the built CSS.
 */
function noRemoteFonts(): Plugin {
  return {
    name: 'gridwork-console-no-remote-fonts',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type === 'asset' && file.fileName.endsWith('.css') && typeof file.source === 'string') {
          file.source = file.source.replace(/,\s*url\((?:https?:)?\/\/[^)]*\)\s*format\([^)]*\)/g, '')
        }
      }
    },
  }
}

export default defineConfig({
  base: '/console/',
  plugins: [vue(), consoleIndex(), noRemoteFonts()],
  build: {
    outDir: 'dist-console',
    emptyOutDir: true,
    // Desks run current browsers.
    target: 'es2022',
    rollupOptions: { input: 'console.html' },
  },
  server: { port: 5175, proxy: { '/console/api': 'http://127.0.0.1:8080' } },
})
