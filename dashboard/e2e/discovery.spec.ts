// Discovery against a real server with the demo loaded: the demo's discovery run left three prospect companies
// waiting for review. A manager sees them with their intent and evidence, approves one (it joins the lead list,
// where it was not before), and starts a run: the demo configures no web-search source, so the run fails and says
// which source to enable. The page fits and passes axe at 390, 768 and 1440 px. An agent has no Discovery link and
// is told the page is not for its role.
import {
  expect,
  expectAccessible,
  expectNoHorizontalOverflow,
  settled,
  test,
  USERS,
  WIDTHS,
  type LeadRow,
  type Listing,
} from "./fixtures";

const COMPANY = "Hill Country Fabrication";

test.describe("discovery", () => {
  test.describe("as a manager", () => {
    test.use({ user: USERS.manager });

    test("review the demo's prospects, approve one, and start a run", async ({ page, api }) => {
      test.setTimeout(120_000);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const listed = async () =>
        (await api.get<Listing<LeadRow>>("/api/v1/leads", { q: COMPANY, limit: 10 })).items.length;
      expect(await listed(), "a pending prospect is in no lead list").toBe(0);

      await page.goto("/discovery");
      await settled(page);
      await expect(page.getByRole("link", { name: "Discovery" })).toBeVisible();
      const table = page.getByTestId("prospects-table");
      const row = table.getByRole("row").filter({ hasText: COMPANY });
      await expect(row).toContainText("loan need");
      await expect(row).toContainText("small business loan");
      for (const size of WIDTHS) {
        await page.setViewportSize(size);
        await settled(page);
        await expectNoHorizontalOverflow(page, `discovery at ${size.width} px`);
        await expectAccessible(page, `discovery at ${size.width} px`);
      }
      await page.setViewportSize(WIDTHS[2]);

      await row.getByRole("button", { name: "Approve" }).click();
      await expect(table.getByRole("row").filter({ hasText: COMPANY })).toHaveCount(0);
      await expect.poll(listed, { message: "an approved prospect is a lead like any other" }).toBe(1);
      await page.getByLabel("Show").selectOption("approved");
      await expect(page.getByTestId("prospects-table").getByRole("row").filter({ hasText: COMPANY }))
        .toContainText("approved");

      await page.getByLabel("Area").fill("Austin, TX");
      await page.getByLabel("Lead category").selectOption("loan");
      await page.getByRole("button", { name: "Start discovery" }).click();
      const run = page.getByTestId("discovery-run");
      await expect(run).toContainText("Failed", { timeout: 30_000 });
      await expect(run).toContainText("company-domain");
      expect(errors).toEqual([]);
    });
  });

  test.describe("as an agent", () => {
    test.use({ user: USERS.agent });

    test("has no Discovery page", async ({ page }) => {
      await page.goto("/discovery");
      await expect(page.getByText("This page is not available to your role.")).toBeVisible();
      await expect(page.getByRole("link", { name: "Discovery" })).toHaveCount(0);
    });
  });
});
