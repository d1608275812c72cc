import react from '@vitejs/plugin-react';
import { loadEnv } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig(({ mode }) => {
// The Ember server (`ember server`, port 5000) answers /api; `npm run dev` proxies to it.
// EMBER_API=http://127.0.0.1:PORT npm run dev points it elsewhere.
const API_SERVER = loadEnv(mode, '.', '')['EMBER_API'] || 'http://127.0.0.1:5000';

return {
  base: '/',
  plugins: [react()],
  build: {
    // Inside the Python package, so the wheel carries the studio (gitignored; see pyproject.toml).
    // EMBER_STUDIO_OUT builds elsewhere (served with EMBER_STUDIO_DIR), e.g. to test without touching this one.
    outDir: process.env['EMBER_STUDIO_OUT'] || '../src/ember/server/studio_dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1000,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': {
        target: API_SERVER,
        configure: (proxy) => {
          // The server refuses state-changing requests whose Origin is not its own (CSRF guard);
          // through this proxy the page's origin is Vite's, so drop the header on the way.
          proxy.on('proxyReq', (request) => request.removeHeader('origin'));
        },
      },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
};
});
