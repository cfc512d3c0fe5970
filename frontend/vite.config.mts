import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const backend = 'http://localhost:3000';

/** The kiosk page. The backend serves dist/frontend at `/`; in development Vite proxies /api and /ws to it. */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/frontend', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    // Two pages: the kiosk page at / and the time slate at /slate/ (its own small bundle).
    rolldownOptions: {
      input: { main: fileURLToPath(new URL('./index.html', import.meta.url)), slate: fileURLToPath(new URL('./slate/index.html', import.meta.url)) },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/ws': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
