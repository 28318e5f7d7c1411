import { defineConfig } from "vite";

// Tauri serves the built files; no remote assets, so the CSP can stay strict.
export default defineConfig({
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  test: { environment: "jsdom", globals: true, include: ["src/**/*.test.ts"] },
});
