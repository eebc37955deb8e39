import { defineConfig, devices } from "@playwright/test";

// End-to-end tests: Debian's Chromium (never a downloaded browser) against two real servers with the demo loaded,
// one on SQLite and one on PostgreSQL (e2e/serve.sh). Build the dashboard first: `npx vite build` (`make test`
// does). The page matrix (every page × 390/768/1440 with axe and screenshots) runs on SQLite only; the flows run on
// both databases. See docs/dashboard.md, "End-to-end tests".
const CHROMIUM = process.env.UPSWING_E2E_CHROMIUM ?? "/usr/bin/chromium";
const PORTS = { sqlite: 8810, postgresql: 8811 } as const;
const origin = (port: number) => `http://127.0.0.1:${port}`;
// UPSWING_E2E_DATABASES=sqlite runs (and starts a server for) one database only.
const DATABASES = (process.env.UPSWING_E2E_DATABASES ?? "sqlite,postgresql")
  .split(",")
  .map((name) => name.trim())
  .filter((name): name is keyof typeof PORTS => name in PORTS);

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Two cores run the servers, the browser and the tests: more workers only queue.
  workers: Number(process.env.UPSWING_E2E_WORKERS ?? 2),
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    ...devices["Desktop Chrome"],
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM,
      // This machine reaches no outside network: keep Chromium from trying (and stalling on refused connections).
      args: ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--no-first-run", "--disable-gpu"],
    },
    headless: true,
    timezoneId: "America/New_York",
    locale: "en-US",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    acceptDownloads: true,
  },
  projects: DATABASES.flatMap((database) => [
    // e2e/warmup.setup.ts: the server's cold start (the text classifier loading) before any test is timed.
    { name: `${database}-warmup`, testMatch: /.*\.setup\.ts/, use: { baseURL: origin(PORTS[database]) } },
    {
      name: database,
      dependencies: [`${database}-warmup`],
      use: { baseURL: origin(PORTS[database]) },
      // The page matrix (screenshots + axe at three widths) once, on SQLite; the flows on both databases.
      ...(database === "sqlite" ? {} : { testIgnore: /pages\.spec\.ts/ }),
    },
  ]),
  webServer: DATABASES.map((database) => ({
    command: `bash e2e/serve.sh ${database} ${PORTS[database]}`,
    url: `${origin(PORTS[database])}/healthz`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    gracefulShutdown: { signal: "SIGTERM" as const, timeout: 15_000 },
  })),
});
