// Signing in through the form as each role; each role's navigation; what an agent cannot reach by URL.
import { expect, leadOf, test, USERS } from "./fixtures";

const NAV_BY_ROLE: Record<string, string[]> = {
  [USERS.agent]: ["Feed", "Leads", "Alerts", "Analytics", "Map", "Services"],
  [USERS.viewer]: ["Feed", "Leads", "Alerts", "Analytics", "Map", "Services"],
  [USERS.manager]: ["Feed", "Leads", "Review", "Alerts", "Analytics", "Map", "Services", "Experiments", "Discovery"],
  [USERS.admin]: ["Feed", "Leads", "Review", "Alerts", "Analytics", "Map", "Services", "Experiments", "Discovery", "Admin"],
};

test.describe("signing in", () => {
  for (const [username, expected] of Object.entries(NAV_BY_ROLE)) {
    test(`${username} signs in and sees only their navigation`, async ({ page }) => {
      await page.goto("/");
      await expect(page).toHaveURL(/\/login$/);
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Password").fill("upswing-demo");
      await page.getByRole("button", { name: "Sign in" }).click();

      const nav = page.getByRole("navigation", { name: "Main" });
      await expect(nav.getByRole("link")).toHaveText(expected);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Feed");

      // The access token lives in memory only: a reload signs in again through the refresh cookie.
      await page.reload();
      await expect(nav.getByRole("link")).toHaveText(expected);

      // Signing out revokes the session: a reload stays signed out.
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(/\/login$/);
      await page.reload();
      await expect(page.getByRole("heading", { name: "Sign in to Upswing" })).toBeVisible();
    });
  }

  test("a wrong password is refused with a message", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill(USERS.viewer);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expect(page).toHaveURL(/\/login$/);
  });
});

test.describe("what an agent cannot reach by URL", () => {
  test.use({ user: USERS.agent });

  for (const path of ["/admin", "/admin/users", "/admin/audit", "/review"]) {
    test(`${path} is not available to an agent`, async ({ page }) => {
      await page.goto(path);
      await expect(page.getByText("not available to your role")).toBeVisible();
      await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toHaveCount(0);
    });
  }

  test("another team's lead shows the not-found state", async ({ page, adminApi }) => {
    const west = await leadOf(adminApi, USERS.westAgent); // Recovery West; the agent is in Recovery East
    await page.goto(`/leads/${west.id}`);
    await expect(page.getByTestId("lead-not-found")).toBeVisible();
    await expect(page.getByTestId("lead-header")).toHaveCount(0);
  });
});

test.describe("a viewer", () => {
  test.use({ user: USERS.viewer });

  test("cannot open the review queue or the admin pages", async ({ page }) => {
    for (const path of ["/review", "/admin/users"]) {
      await page.goto(path);
      await expect(page.getByText("not available to your role")).toBeVisible();
    }
  });
});
