// Alert rules: the editor's live dry run answers with a count as the conditions change; a rule saves.
import { expect, test, unique, USERS } from "./fixtures";

test.describe("alert rules", () => {
  test.use({ user: USERS.manager });

  test("the dry run shows a count that follows the conditions, and the rule saves", async ({ page }) => {
    await page.goto("/alerts?tab=rules");
    await page.getByRole("link", { name: "New rule" }).click();
    const form = page.getByTestId("rule-form");
    await expect(form).toBeVisible();
    const count = page.getByTestId("rule-dry-run-count");

    // No condition: every one of the newest signals of the team matches.
    await expect(count).toContainText(/Would have matched \d+ of the last \d+ signals/);
    const matched = async () => Number((await count.locator("strong").textContent()) ?? "NaN");
    const all = await matched();

    // A stricter condition matches no more than that, and the count updates by itself.
    await form.getByRole("spinbutton", { name: "Minimum score (0–100)" }).fill("95");
    await expect(count).toContainText(/Would have matched \d+ of the last \d+ signals/);
    await expect.poll(matched).toBeLessThanOrEqual(all);

    const name = `e2e rule ${unique()}`;
    await form.getByRole("textbox", { name: "Name", exact: true }).fill(name);
    await form.getByRole("button", { name: "Save rule" }).click();
    await expect(page.getByTestId("rules-table")).toContainText(name);
  });
});
