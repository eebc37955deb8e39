// Consented first-party tracking in a real browser: a lender's page on an origin of its own (a small HTTP server this
// spec starts on 127.0.0.1 with another port than the API's: a real page on loopback, which Chromium's local-network
// rules let call the loopback API) loads the snippet from the API server (/t.js). Without consent the site's stats show only the
// anonymous daily count (no visitor, no event, no cookie, nothing in localStorage); after `upswing.consent(true)`
// the page view and a calculator action arrive as one visitor's events; a signed link (?upswing_t=…) links the
// visitor to a lead, whose profile then shows the history.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  expect,
  expectAccessible,
  expectNoHorizontalOverflow,
  settled,
  test,
  unique,
  USERS,
  WIDTHS,
  type LeadRow,
  type Listing,
} from "./fixtures";

const PORTAL_PAGES = new Set(["/repay/plans", "/hardship"]);
/** What the portal serves on its pages (the test sets it before each visit). */
let portalHtml = "";
let portal: Server;
let PORTAL = "";

test.beforeAll(async () => {
  portal = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://portal").pathname;
    response.writeHead(PORTAL_PAGES.has(path) ? 200 : 404, { "Content-Type": "text/html; charset=utf-8" });
    response.end(PORTAL_PAGES.has(path) ? portalHtml : "not found");
  });
  await new Promise<void>((ready) => portal.listen(0, "127.0.0.1", ready));
  PORTAL = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((closed) => portal.close(closed));
});

interface Stats {
  visitors: number;
  linked_visitors: number;
  events: number;
  daily_counts: { path_group: string; count: number }[];
}

function portalPage(apiOrigin: string, siteKey: string, setup = ""): string {
  return `<!doctype html><html lang="en"><head><title>Repayment plans</title>${setup}
    <script src="${apiOrigin}/t.js" data-site="${siteKey}"></script></head>
    <body><h1>Repayment plans</h1></body></html>`;
}

function servePortal(html: string): void {
  portalHtml = html;
}

test.describe("tracking snippet", () => {
  // A signed-out browser: cookies are per host (not port), so a signed-in dashboard's cookies would show on the
  // portal's page too. The API is arranged and read through adminApi.
  test.use({ user: "" });

  test("nothing per visitor before consent; events and stitching after it", async ({ page, adminApi, baseURL }) => {
    const apiOrigin = new URL(baseURL ?? "http://127.0.0.1:8810").origin;
    const tag = unique();
    const site = await adminApi.send<{ id: string; site_key: string }>("POST", "/api/v1/tracking/sites", {
      name: `e2e-portal-${tag}`,
      allowed_origins: [PORTAL],
    });
    const stats = () => adminApi.get<Stats>(`/api/v1/tracking/sites/${site.id}/stats`);
    const sent = (path: string) =>
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/tracking/${path}`) && r.request().method() === "POST");

    await test.step("without consent: only the anonymous daily count", async () => {
      servePortal(portalPage(apiOrigin, site.site_key));
      const answered = sent("page");
      await page.goto(`${PORTAL}/repay/plans`);
      expect((await (await answered).json()).stored).toBe("count");
      const tracked = sent("track");
      await page.evaluate(() => (window as unknown as { upswing: { track(n: string): Promise<unknown> } })
        .upswing.track("calculator_used"));
      expect((await (await tracked).json()).stored).toBe("count");
      const now = await stats();
      expect([now.visitors, now.events]).toEqual([0, 0]);
      expect(now.daily_counts.find((c) => c.path_group === "repayment")?.count).toBe(2);
      expect(await page.evaluate(() => [document.cookie, window.localStorage.length])).toEqual(["", 0]);
      const cookies = await page.context().cookies(PORTAL);
      expect(cookies).toEqual([]);
    });

    await test.step("with consent: the visitor's events arrive", async () => {
      const answered = sent("track");
      await page.evaluate(() => {
        const w = window as unknown as { upswing: { consent(v: boolean): void; page(): Promise<unknown>;
          track(n: string, p: Record<string, string>): Promise<unknown> } };
        w.upswing.consent(true);
        void w.upswing.page();
        void w.upswing.track("calculator_used", { amount_band: "1-5k", email: "kit@example.org" });
      });
      const body = await (await answered).json();
      expect(body).toEqual({ stored: "event", dropped_properties: ["email"] });
      await expect.poll(async () => (await stats()).events).toBe(2);
      const now = await stats();
      expect([now.visitors, now.linked_visitors]).toEqual([1, 0]);
      const id = await page.evaluate(() => window.localStorage.getItem("upswing_aid"));
      expect(id).toMatch(/^[0-9a-f]{32}$/);
    });

    await test.step("a signed link links the visitor to the lead", async () => {
      const leads = await adminApi.get<Listing<LeadRow>>("/api/v1/leads", { limit: 1 });
      const lead = leads.items[0]!;
      const { token } = await adminApi.send<{ token: string }>("POST", "/api/v1/tracking/link-tokens",
        { lead_id: lead.id, days: 7 });
      servePortal(portalPage(apiOrigin, site.site_key, `<script>window.upswingConsent = "granted";</script>`));
      const identified = sent("identify");
      await page.goto(`${PORTAL}/hardship?upswing_t=${encodeURIComponent(token)}`);
      expect((await (await identified).json()).stored).toBe("linked");
      expect(page.url()).toBe(`${PORTAL}/hardship`); // the token left the address bar
      const profiles = await adminApi.get<Listing<{ id: string; site_id: string; page_views: number; actions: number }>>(
        "/api/v1/tracking/profiles", { lead_id: lead.id });
      const mine = profiles.items.find((p) => p.site_id === site.id);
      expect(mine && [mine.page_views, mine.actions]).toEqual([2, 1]);
    });
  });

  test.describe("the admin section", () => {
    test.use({ user: USERS.admin });

    test("lists the sites with their activity; fits and passes axe", async ({ page, adminApi }) => {
      const name = `e2e-axe-${unique()}`;
      await adminApi.send("POST", "/api/v1/tracking/sites", { name, allowed_origins: ["https://portal.example"] });
      await page.goto("/admin/tracking");
      await expect(page.getByTestId("admin-tracking-table")).toContainText(name);
      await page.getByRole("button", { name: `Show the activity of ${name}` }).click();
      await expect(page.getByTestId("tracking-site-activity")).toContainText("0 consenting visitor(s)");
      for (const size of [WIDTHS[0], WIDTHS[2]]) {
        await page.setViewportSize(size);
        await settled(page);
        await expectNoHorizontalOverflow(page, `tracking sites at ${size.width} px`);
        await expectAccessible(page, `tracking sites at ${size.width} px`);
      }
    });
  });
});
