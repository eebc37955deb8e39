// Runs once per database before its tests (a setup project, playwright.config.ts): the first requests of a fresh
// server load the text classifier and the app's lazily imported code, which would otherwise land inside the first
// tests' timings (a "within 5 s" check measures the live feed, not a cold start).
import { test as setup } from "@playwright/test";
import { Api, USERS } from "./fixtures";

setup("warm the server up", async ({ request }) => {
  const admin = await Api.as(request, USERS.admin);
  // A text about nobody in the book: classified, linked to no lead, no signal.
  await admin.send("POST", "/api/v1/ingest/texts", {
    source: "e2e-warmup",
    items: [
      { text: "Warming up before the end-to-end tests: a note about the weather today.", author_name: "Nobody Inparticular" },
    ],
  });
  for (const path of ["/api/v1/signals", "/api/v1/leads", "/api/v1/alerts", "/api/v1/users/me"]) {
    await admin.get(path, { limit: 50 });
  }
});
