// The admin's CRM connections and API clients sections against a real server: each opens without an error, a
// connection and a client added through their forms show up (the client's secret once), disconnect and revoke ask
// first, and both sections fit and pass axe at 390, 768 and 1440 px.
import type { Page } from "@playwright/test";
import { expect, expectAccessible, expectNoHorizontalOverflow, settled, test, unique, USERS, WIDTHS } from "./fixtures";

async function fitsAtEveryWidth(page: Page, what: string): Promise<void> {
  for (const size of WIDTHS) {
    await test.step(`${what} at ${size.width} px`, async () => {
      await page.setViewportSize(size);
      await settled(page);
      await expectNoHorizontalOverflow(page, `${what} at ${size.width} px`);
      await expectAccessible(page, `${what} at ${size.width} px`);
    });
  }
  await page.setViewportSize(WIDTHS[2]);
}

test.describe("admin: CRM connections and API clients", () => {
  test.use({ user: USERS.admin });

  test("both sections open, add one each, and fit at every width", async ({ page }) => {
    // Two sections, each with an axe scan at three widths, on two shared cores.
    test.setTimeout(150_000);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const tag = unique();

    await test.step("CRM connections", async () => {
      await page.goto("/admin/crm");
      await expect(page.getByRole("heading", { name: "CRM connections" })).toBeVisible();
      await settled(page);
      await expect(page.locator(".state-error")).toHaveCount(0);

      const name = `HubSpot e2e ${tag}`;
      await page.getByRole("button", { name: "Add connection" }).click();
      const form = page.getByTestId("admin-crm-form");
      await form.getByLabel("Name", { exact: true }).fill(name);
      await expect(form.getByLabel("Access token", { exact: true })).toHaveAttribute("type", "password");
      await form.getByLabel("Access token", { exact: true }).fill("pat-e2e-not-a-real-token");
      // Nowhere reachable, refused at once: this machine reaches no CRM, and nothing may wait on one.
      await form.getByLabel("API address (optional)").fill("http://127.0.0.1:9");
      await form.getByRole("checkbox", { name: /Connect now/ }).uncheck();
      await form.getByRole("button", { name: "Add connection" }).click();
      await expect(page.getByText(`Connection ${name} added.`, { exact: false })).toBeVisible();
      await expect(page.getByText("pat-e2e-not-a-real-token")).toHaveCount(0);

      const row = page.getByTestId("admin-crm-row").filter({ hasText: name });
      await expect(row).toBeVisible();
      // Disconnected, it takes no pushes from the other tests' signals.
      await row.getByRole("button", { name: `Disconnect ${name}` }).click();
      const confirm = page.getByRole("dialog", { name: `Disconnect ${name}?` });
      await confirm.getByRole("button", { name: "Disconnect" }).click();
      await expect(row).toContainText("Disconnected");

      await row.getByRole("button", { name: `Conflicts of ${name}` }).click();
      await expect(page.getByTestId("admin-crm-conflicts")).toContainText("No open conflicts.");
      await fitsAtEveryWidth(page, "admin CRM connections");
    });

    await test.step("API clients", async () => {
      await page.getByRole("navigation", { name: "Admin sections" }).getByRole("link", { name: "API clients" }).click();
      await expect(page.getByRole("heading", { name: "API clients" })).toBeVisible();
      await settled(page);
      await expect(page.locator(".state-error")).toHaveCount(0);

      const name = `Warehouse e2e ${tag}`;
      await page.getByRole("button", { name: "New API client" }).click();
      const form = page.getByTestId("admin-api-client-form");
      await form.getByLabel("Name", { exact: true }).fill(name);
      await form.getByRole("checkbox", { name: "Read leads (leads:read)" }).check();
      await form.getByLabel("Allowed addresses").fill("127.0.0.1, 10.0.0.0/8");
      await form.getByRole("button", { name: "Create client" }).click();

      const once = page.getByRole("dialog", { name: `${name} is ready` });
      await expect(once.getByTestId("api-client-secret")).toHaveValue(/.{16,}/);
      await expect(once.getByTestId("api-client-id")).toHaveValue(/^[0-9a-f-]{36}$/);
      await expect(once.getByRole("note")).toContainText("will not be shown again");
      await once.getByRole("button", { name: "Done" }).click();

      const row = page.getByTestId("admin-api-client-row").filter({ hasText: name });
      await expect(row).toContainText("leads:read");
      await expect(row).toContainText("10.0.0.0/8");
      await fitsAtEveryWidth(page, "admin API clients");

      await row.getByRole("button", { name: `Revoke ${name}` }).click();
      await page.getByRole("dialog", { name: `Revoke ${name}?` }).getByRole("button", { name: "Revoke client" }).click();
      await expect(row).toHaveCount(0);
    });

    expect(errors, "errors thrown in the page").toEqual([]);
  });
});
