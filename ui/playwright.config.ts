// UI flows in Debian's Chromium against the built UI (vite preview), with Tauri's IPC
// replaced by a scripted backend (e2e/fake-backend.js). The real app in a real WebKitGTK
// window is tested by src-tauri/tests/e2e.rs.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  timeout: 30_000,
  workers: 1,
  reporter: "list",
  use: {
    baseURL: "http://127.0.0.1:4173",
    viewport: { width: 1280, height: 800 },
    // Fixed so screenshots and the times they show ("10:42 CET") are the same on every machine.
    timezoneId: "Europe/Berlin",
    locale: "en-GB",
    launchOptions: { executablePath: process.env.PANO_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] },
  },
  webServer: {
    command: "npx vite preview --host 127.0.0.1 --port 4173 --strictPort",
    url: "http://127.0.0.1:4173",
    reuseExistingServer: false,
  },
});
