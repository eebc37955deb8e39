// What the end-to-end specs share: the demo users, signing a browser in through the cookie flow, an API client
// for setting up data, and the page checks (no horizontal overflow, axe, screenshots).
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type APIRequestContext, type BrowserContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export { expect };

export const PASSWORD = "upswing-demo";
/** The demo's users (src/upswing/demo/service.py): Recovery East is the manager's team with Alvarez and Chen. */
export const USERS = {
  admin: "admin",
  manager: "manager",
  agent: "agent.alvarez",
  teammate: "agent.chen",
  westAgent: "agent.okafor",
  viewer: "viewer",
} as const;
export type Username = (typeof USERS)[keyof typeof USERS];

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = resolve(HERE, "../../docs/screenshots");
export const WIDTHS = [
  { width: 390, height: 844 },
  { width: 768, height: 1024 },
  { width: 1440, height: 900 },
] as const;

/**
 * Signs the browser context in as the dashboard does: POST /api/v1/auth/session sets the HttpOnly refresh cookie
 * (and the CSRF cookie) in the context, and the app signs in by refresh when a page loads. A refresh token is
 * single-use (rotated; a reused one revokes its session), so every context gets a session of its own.
 */
export async function signIn(context: BrowserContext, username: string): Promise<void> {
  const response = await context.request.post("/api/v1/auth/session", {
    form: { username, password: PASSWORD, grant_type: "password" },
  });
  expect(response.ok(), `sign-in of ${username}: ${response.status()} ${await response.text()}`).toBeTruthy();
}

/** A bearer-token client of the API for arranging data (and reading what a test needs to know). */
export class Api {
  private constructor(
    private readonly request: APIRequestContext,
    private readonly token: string,
  ) {}

  static async as(request: APIRequestContext, username: string): Promise<Api> {
    const response = await request.post("/api/v1/auth/token", {
      form: { username, password: PASSWORD, grant_type: "password" },
    });
    expect(response.ok(), `token of ${username}: ${response.status()}`).toBeTruthy();
    return new Api(request, ((await response.json()) as { access_token: string }).access_token);
  }

  private headers() {
    return { Authorization: `Bearer ${this.token}` };
  }

  async get<T = unknown>(path: string, params?: Record<string, string | number | boolean>): Promise<T> {
    const response = await this.request.get(path, { headers: this.headers(), params });
    expect(response.ok(), `GET ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return (await response.json()) as T;
  }

  async upload<T = unknown>(path: string, file: { name: string; mimeType: string; body: string },
    fields: Record<string, string> = {}): Promise<T> {
    const response = await this.request.post(path, {
      headers: this.headers(),
      multipart: { ...fields, file: { name: file.name, mimeType: file.mimeType, buffer: Buffer.from(file.body) } },
    });
    expect(response.ok(), `POST ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return (await response.json()) as T;
  }

  async send<T = unknown>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, data?: unknown): Promise<T> {
    const response = await this.request.fetch(path, { method, headers: this.headers(), data });
    expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return (response.status() === 204 ? undefined : await response.json()) as T;
  }
}

export interface Listing<T> {
  items: T[];
  next_cursor?: string | null;
}
export interface LeadRow {
  id: string;
  full_name?: string | null;
  first_name: string;
  last_name: string;
  assignee_id?: string | null;
  team_id?: string | null;
}
export interface SignalRow {
  id: string;
  lead_id: string;
  lead_name?: string | null;
  type: string;
  status: string;
  priority: string;
}

type Fixtures = {
  /** The demo user the test's browser is signed in as ("" for a signed-out browser). */
  user: string;
  /** An API client as that user. */
  api: Api;
  /** An API client as the admin (for arranging data). */
  adminApi: Api;
};

export const test = base.extend<Fixtures>({
  user: ["", { option: true }],
  context: async ({ context, user }, use) => {
    if (user) await signIn(context, user);
    await use(context);
  },
  api: async ({ playwright, baseURL, user }, use) => {
    const request = await playwright.request.newContext({ baseURL });
    await use(await Api.as(request, user || USERS.admin));
    await request.dispose();
  },
  adminApi: async ({ playwright, baseURL }, use) => {
    const request = await playwright.request.newContext({ baseURL });
    await use(await Api.as(request, USERS.admin));
    await request.dispose();
  },
});

/** Waits until the page has its heading and no loading state is left on it. */
export async function settled(page: Page): Promise<void> {
  await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
  await expect(page.locator(".state[role=status], .spinner")).toHaveCount(0, { timeout: 15_000 });
  // Two frames: what the last answer rendered has been laid out (charts, virtual rows).
  await page.evaluate(
    () => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))),
  );
}

/** The page body must not scroll sideways (wide tables scroll inside their own .table-wrap). */
export async function expectNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const sizes = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement?.scrollWidth ?? 0,
    innerWidth: window.innerWidth,
    // What sticks out on the right: the innermost such elements (their ancestors only stretch around them).
    culprits: (() => {
      const out = new Set(
        Array.from(document.querySelectorAll<HTMLElement>("body *")).filter(
          (el) => el.getBoundingClientRect().right > window.innerWidth + 1,
        ),
      );
      const describe = (el: Element) => {
        const id = el.getAttribute("data-testid");
        const classes = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "";
        const text = (el.textContent ?? "").trim().slice(0, 30);
        return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ""}${classes} (${Math.round(el.getBoundingClientRect().right)} px${text ? `, "${text}"` : ""})`;
      };
      // Inside a box that scrolls or clips sideways and itself fits (a .table-wrap), an element overflows nothing.
      const contained = (el: Element) => {
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
          if (getComputedStyle(up).overflowX !== "visible") return up.getBoundingClientRect().right <= window.innerWidth + 1;
        }
        return false;
      };
      return [...out]
        .filter((el) => ![...el.children].some((child) => out.has(child as HTMLElement)) && !contained(el))
        .slice(0, 5)
        .map(describe);
    })(),
  }));
  expect
    .soft(sizes.scrollWidth, `${what}: page wider than the window (${sizes.culprits.join(", ")})`)
    .toBeLessThanOrEqual(sizes.innerWidth + 1);
}

/** axe (WCAG 2 A and AA rules): no serious or critical violation; the ones found are printed. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Legacy mode: axe.run in the page itself (same-origin frames included). The default runs axe in every frame and
  // finishes in a new blank page, which is slower and stalls on the sandboxed e-mail preview (a srcdoc iframe
  // without scripts, whose content is the e-mail template's, not the app's).
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).setLegacyMode(true).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}`).join("\n")}`)
    .join("\n");
  if (bad.length) console.log(`axe on ${what}:\n${report}`);
  expect.soft(bad.length, `axe on ${what}:\n${report}`).toBe(0);
}

export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), animations: "disabled" });
}

/** The first lead of an agent (as the admin sees the book). */
export async function leadOf(adminApi: Api, username: string): Promise<LeadRow> {
  const page = await adminApi.get<Listing<LeadRow>>("/api/v1/leads", { assignee: username, limit: 1 });
  const lead = page.items[0];
  if (!lead) throw new Error(`the demo has no lead assigned to ${username}`);
  return lead;
}

/**
 * Two new leads that share an e-mail address, and a LinkedIn profile with that address: the linker cannot tell
 * which of the two it is and puts one match per lead in the review queue. Returns the matches' ids.
 */
export async function arrangeReviewMatches(manager: Api): Promise<string[]> {
  const tag = unique();
  const email = `robin.hale.${tag}@example.org`;
  const csv = [
    "external_id,first_name,last_name,email,city,state,country,employer,title,balance,days_delinquent,assignee",
    `E2E-${tag}-1,Robin,Hale,${email},Denver,CO,US,Initech,Clerk,1200,90,${USERS.agent}`,
    `E2E-${tag}-2,Robyn,Hale,${email},Denver,CO,US,Initech,Clerk,900,60,${USERS.teammate}`,
  ].join("\n");
  await manager.upload("/api/v1/leads/import", { name: "leads.csv", mimeType: "text/csv", body: csv },
    { portfolio: "Second Chance 2026" });
  const profile = [{
    id: `ACoE2E${tag}`,
    publicIdentifier: `robin-hale-${tag}`,
    linkedinUrl: `https://www.linkedin.com/in/robin-hale-${tag}`,
    firstName: "Robin",
    lastName: "Hale",
    headline: "Clerk at Initech",
    location: { linkedinText: "Denver, Colorado, United States", countryCode: "US",
      parsed: { city: "Denver", state: "Colorado" } },
    emails: [email],
    currentPosition: [{ companyName: "Initech" }],
    experience: [{ position: "Clerk", companyName: "Initech", startDate: { month: "Jan", year: 2024, text: "Jan 2024" },
      endDate: { text: "Present" } }],
  }];
  const report = await manager.upload<{ review: number }>("/api/v1/ingest/apify",
    { name: "profile.json", mimeType: "application/json", body: JSON.stringify(profile) });
  expect(report.review, "the shared address puts the profile in review").toBe(1);
  const queue = await manager.get<{ items: { id: string; subject_key: string }[] }>("/api/v1/matches/review",
    { limit: 1000 });
  const ids = queue.items.filter((m) => m.subject_key === `li:robin-hale-${tag}`).map((m) => m.id);
  expect(ids).toHaveLength(2);
  return ids;
}

/** A unique suffix for data a test creates (both databases' runs, reruns). */
export function unique(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
