// Holdout experiments against a real server: an admin creates an experiment through the form, starts it (confirmed),
// opens its report and sees the intention-to-treat headline; both pages fit and pass axe at 390, 768 and 1440 px;
// then a payment is recorded on one of the experiment's leads from its page. An agent has no Experiments link and
// is told the page is not for its role. The experiment takes a portfolio of its own (imported here), so its control
// group holds out no lead another test works with; it is ended at the end.
import type { Page } from "@playwright/test";
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

const LEADS = 20;

test.describe("experiments", () => {
  test.describe("as an admin", () => {
    test.use({ user: USERS.admin });

    test("create, start and read an experiment; record a payment on one of its leads", async ({ page, adminApi }) => {
      // Two pages each scanned at three widths, a report (with a bootstrap) and a lead page, on two shared cores.
      test.setTimeout(180_000);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const tag = unique();
      const portfolio = `E2E experiment ${tag}`;
      const name = `e2e-lift-${tag}`;

      await test.step("arrange: a portfolio of its own", async () => {
        const rows = Array.from({ length: LEADS }, (_, i) =>
          `X${tag}-${i},Pat${i},Rivera,pat${i}.${tag}@example.org,Austin,TX,US,${1000 + i * 100},${30 + i}`);
        await adminApi.upload(
          "/api/v1/leads/import",
          { name: "leads.csv", mimeType: "text/csv",
            body: ["external_id,first_name,last_name,email,city,state,country,balance,days_delinquent", ...rows].join("\n") },
          { portfolio },
        );
      });

      let experimentId = "";
      await test.step("create it through the form", async () => {
        await page.goto("/experiments");
        const nav = page.getByRole("navigation", { name: "Main" });
        await expect(nav.getByRole("link", { name: "Experiments" })).toBeVisible();
        await expect(page.getByRole("heading", { level: 1, name: "Experiments" })).toBeVisible();
        await page.getByRole("button", { name: "New experiment" }).click();
        const form = page.getByTestId("experiment-form");
        await form.getByLabel("Name", { exact: true }).fill(name);
        await form.getByLabel("Description").fill("End-to-end: does alerting lift recovery?");
        await expect(form.getByLabel("Control share (%)")).toHaveValue("10");
        await form.getByRole("checkbox", { name: portfolio }).check();
        await form.getByRole("button", { name: "Create experiment" }).click();
        await expect(page.getByTestId("experiments-notice")).toContainText(`Experiment ${name} created as a draft`);
        const row = page.getByTestId("experiment-row").filter({ hasText: name });
        await expect(row).toContainText("Draft");
        await expect(row).toContainText(portfolio);
        experimentId = (await row.getByRole("link", { name }).getAttribute("href"))!.split("/").pop()!;
      });

      try {
        await test.step("start it, confirmed", async () => {
          const row = page.getByTestId("experiment-row").filter({ hasText: name });
          await row.getByRole("button", { name: `Start ${name}` }).click();
          const dialog = page.getByRole("dialog", { name: `Start ${name}?` });
          await expect(dialog).toContainText("10% of each stratum becomes the control group");
          await dialog.getByRole("button", { name: "Start experiment" }).click();
          // Every balance is under $5k: one stratum, round(10% × 20) = 2 control leads.
          await expect(page.getByTestId("experiments-notice")).toContainText(
            `${name} started: ${LEADS} leads assigned — 2 control, ${LEADS - 2} treatment, in 1 stratum.`,
          );
          await expect(row).toContainText("Running");
          await fitsAtEveryWidth(page, "experiments list");
        });

        await test.step("the power calculator answers", async () => {
          const calculator = page.getByTestId("power-calculator");
          await calculator.getByRole("button", { name: "Calculate" }).click();
          await expect(calculator.getByTestId("power-answer")).toContainText("Control leads");
          await expect(calculator.getByTestId("power-answer")).toContainText("Total");
        });

        await test.step("open the report and read the headline", async () => {
          await page.getByTestId("experiment-row").filter({ hasText: name }).getByRole("link", { name }).click();
          await expect(page).toHaveURL(new RegExp(`/experiments/${experimentId}$`));
          await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
          const headline = page.getByTestId("experiment-headline");
          await expect(headline.getByRole("heading", { name: "Headline: intention to treat, all leads" })).toBeVisible();
          await expect(headline).toContainText("Control (held out)");
          await expect(headline).toContainText(`0 of 2 paid within 90 days`);
          await expect(headline).toContainText(`0 of ${LEADS - 2} paid within 90 days`);
          await expect(headline.getByTestId("headline-verdict")).toContainText("No test possible yet");
          await expect(headline.getByTestId("interim-flag")).toContainText("Interim look");
          await expect(headline.getByTestId("significance-rule")).toContainText("O'Brien-Fleming");
          await expect(page.getByTestId("sections-conversion")).toContainText("Per protocol (not randomised)");
          await expect(page.getByTestId("experiment-strata")).toContainText(`${portfolio}|under 5k`);
          await fitsAtEveryWidth(page, "experiment report");
        });

        await test.step("download the CSV", async () => {
          const download = page.waitForEvent("download");
          await page.getByTestId("report-csv").click();
          expect((await download).suggestedFilename()).toBe(`experiment-${name}.csv`);
        });

        await test.step("record a payment on one of its leads", async () => {
          const leads = await adminApi.get<Listing<LeadRow>>("/api/v1/leads", { portfolio, limit: 1 });
          const lead = leads.items[0]!;
          await page.goto(`/leads/${lead.id}`);
          const panel = page.getByTestId("lead-outcomes");
          await expect(panel.getByTestId("outcomes-summary")).toContainText("none yet");
          await panel.getByRole("button", { name: "Add outcome" }).click();
          const form = panel.getByTestId("outcome-form");
          await expect(form.getByLabel("Kind")).toHaveValue("payment");
          await form.getByLabel("Amount ($)").fill("250");
          await form.getByLabel("Note (optional)").fill("e2e payment");
          await form.getByRole("button", { name: "Save outcome" }).click();
          await expect(panel.getByTestId("outcomes-notice")).toContainText("Payment recorded.");
          await expect(panel.getByTestId("outcomes-summary")).toContainText("$250.00");
          const row = panel.getByTestId("outcome-row").filter({ hasText: "e2e payment" });
          await expect(row).toHaveCount(1);
          await expect(row).toContainText("Recorded (API)");
        });
      } finally {
        // Release the control group whatever happened above (a draft is left as it is: it holds nobody out).
        if (experimentId) {
          const current = await adminApi.get<{ status: string }>(`/api/v1/experiments/${experimentId}`);
          if (current.status === "running") await adminApi.send("POST", `/api/v1/experiments/${experimentId}/end`);
        }
      }
      expect(errors, "no uncaught errors on the pages").toEqual([]);
    });
  });

  test.describe("as an agent", () => {
    test.use({ user: USERS.agent });

    test("no Experiments link, and the page says it is not for the role", async ({ page }) => {
      await page.goto("/");
      await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Feed" })).toBeVisible();
      await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Experiments" })).toHaveCount(0);
      await page.goto("/experiments");
      await expect(page.getByText("This page is not available to your role.")).toBeVisible();
    });
  });
});
