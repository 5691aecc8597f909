/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const outDir = fileURLToPath(new URL('../src/pylot/web/static', import.meta.url))
// `npm run dev` forwards API calls to a Pylot server; PYLOT_URL picks which one.
const server = process.env.PYLOT_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the page works wherever the server mounts it.
  base: './',
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything small is inlined, so the server only has to serve index.html and assets/.
    assetsInlineLimit: 8192,
    sourcemap: false,
  },
  server: {
    proxy: { '/v1': server, '/health': server },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // Two cores, shared: one worker, and one jsdom for every file (6 s instead of 20 s). Safe because
    // each test gets its own fake server and src/test/setup.ts resets the DOM, storage and hash.
    maxWorkers: 1,
    isolate: false,
  },
})
