// The services catalog and recommendations against a real server: a manager creates a service through the Services
// page's form, opens a lead of its own portfolio (imported here, in Texas), matches it now, sees the new service
// recommended with its score and reasons, and accepts it; the match's status is then "accepted" in the API.
import { expect, test, unique, USERS, type LeadRow, type Listing } from "./fixtures";

test.describe("services and recommendations", () => {
  test.use({ user: USERS.manager });

  test("create a service, see it recommended on a lead, accept it", async ({ page, adminApi }) => {
    test.setTimeout(120_000);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const tag = unique();
    const portfolio = `E2E services ${tag}`;
    const name = `Plan restart ${tag}`;

    await test.step("arrange: a Texas lead of its own portfolio", async () => {
      await adminApi.upload(
        "/api/v1/leads/import",
        { name: "leads.csv", mimeType: "text/csv",
          body: `external_id,first_name,last_name,city,state,country,balance,days_delinquent\nS${tag},Sam,Ortiz,Austin,TX,US,9000,120` },
        { portfolio },
      );
    });

    await test.step("create the service through the form", async () => {
      await page.goto("/services");
      await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Services" })).toBeVisible();
      await expect(page.getByRole("heading", { level: 1, name: "Services" })).toBeVisible();
      await page.getByRole("button", { name: "New service" }).click();
      const form = page.getByTestId("service-form");
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Category").selectOption("repayment_plan");
      await form.getByLabel("States (USPS codes, comma-separated)").fill("TX");
      await form.getByLabel(/^Needs/).fill("restart:1");
      await form.getByRole("button", { name: "Save service" }).click();
      await expect(page.getByTestId("service-row").filter({ hasText: name })).toBeVisible();
    });

    let leadId = "";
    await test.step("see it recommended on the lead and accept it", async () => {
      const leads = await adminApi.get<Listing<LeadRow>>("/api/v1/leads", { portfolio, limit: 1 });
      leadId = leads.items[0]!.id;
      await page.goto(`/leads/${leadId}`);
      const panel = page.getByTestId("recommended-services");
      await panel.getByRole("button", { name: "Match now" }).click();
      const item = panel.getByTestId("recommendation").filter({ hasText: name });
      await expect(item).toBeVisible();
      await expect(item).toContainText("Offered in TX");
      await item.getByRole("button", { name: `Accept ${name}` }).click();
      await expect(panel).toContainText(`${name}: accepted.`);
      await expect(item).toContainText("Accepted");
    });

    await test.step("the API has it accepted", async () => {
      const matches = await adminApi.get<{ items: { service_name: string; status: string }[] }>(
        `/api/v1/leads/${leadId}/matches`);
      expect(matches.items.find((m) => m.service_name === name)?.status).toBe("accepted");
    });
    expect(errors).toEqual([]);
  });
});
