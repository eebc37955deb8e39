// Every page at 390, 768 and 1440 px for a role that may see it: no sideways scrolling of the page, no serious or
// critical axe violation, and a screenshot in docs/screenshots/<page>-<width>.png. Runs on the SQLite project only
// (playwright.config.ts); the flows run on both databases.
import {
  Api,
  expect,
  expectAccessible,
  expectNoHorizontalOverflow,
  saveScreenshot,
  settled,
  test,
  USERS,
  WIDTHS,
  type Listing,
  type SignalRow,
} from "./fixtures";

interface PageCase {
  name: string;
  user: string;
  /** The address, or a function of the API (as that user) that finds it. */
  path: string | ((api: Api) => Promise<string>);
  /** What must be on the page once it has loaded. */
  ready: string[];
}

/** One of the agent's leads with a signal, so that its page shows a timeline. */
async function agentLead(api: Api): Promise<string> {
  const signals = await api.get<Listing<SignalRow>>("/api/v1/signals", { assignee: "me", limit: 1 });
  const lead = signals.items[0]?.lead_id;
  if (!lead) throw new Error("the demo agent has no signal");
  return `/leads/${lead}`;
}

const PAGES: PageCase[] = [
  { name: "feed", user: USERS.agent, path: "/", ready: ["feed-list"] },
  { name: "leads", user: USERS.manager, path: "/leads", ready: ["leads-table"] },
  { name: "lead", user: USERS.agent, path: agentLead, ready: ["lead-header", "lead-contact-rules", "lead-timeline"] },
  { name: "review", user: USERS.manager, path: "/review", ready: [] },
  { name: "review-low-confidence", user: USERS.manager, path: "/review?tab=low-confidence", ready: [] },
  { name: "alerts-inbox", user: USERS.agent, path: "/alerts?tab=inbox", ready: [] },
  { name: "alerts-rules", user: USERS.manager, path: "/alerts?tab=rules", ready: [] },
  { name: "alerts-digest", user: USERS.agent, path: "/alerts?tab=digest", ready: ["digest-prefs-form"] },
  { name: "analytics", user: USERS.manager, path: "/analytics", ready: ["analytics-signals", "analytics-funnel"] },
  { name: "map", user: USERS.manager, path: "/map", ready: ["geo-map-svg"] },
  { name: "admin-users", user: USERS.admin, path: "/admin/users", ready: ["admin-users-table"] },
  { name: "admin-sources", user: USERS.admin, path: "/admin/sources", ready: ["admin-sources-table"] },
  { name: "admin-compliance", user: USERS.admin, path: "/admin/compliance", ready: [] },
  { name: "admin-webhooks", user: USERS.admin, path: "/admin/webhooks", ready: [] },
  { name: "admin-privacy", user: USERS.admin, path: "/admin/privacy", ready: [] },
  { name: "admin-audit", user: USERS.admin, path: "/admin/audit", ready: ["admin-audit-table"] },
];

for (const spec of PAGES) {
  test.describe(spec.name, () => {
    test.use({ user: spec.user });

    test(`${spec.name} at 390, 768 and 1440 px: fits, passes axe, screenshot`, async ({ page, request }) => {
      // Three widths, each with an axe scan: a busy page (analytics' tables) takes a while on two shared cores.
      test.setTimeout(120_000);
      const path = typeof spec.path === "string" ? spec.path : await spec.path(await Api.as(request, spec.user));
      await page.setViewportSize(WIDTHS[2]);
      await page.goto(path);
      for (const id of spec.ready) await expect(page.getByTestId(id).first()).toBeVisible({ timeout: 15_000 });
      await settled(page);
      for (const size of WIDTHS) {
        await test.step(`${size.width} px`, async () => {
          await page.setViewportSize(size);
          await settled(page);
          const what = `${spec.name} (${path}) at ${size.width} px`;
          await expectNoHorizontalOverflow(page, what);
          await saveScreenshot(page, `${spec.name}-${size.width}`);
          await expectAccessible(page, what);
        });
      }
    });
  });
}
