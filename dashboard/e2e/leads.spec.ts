// The leads table's CSV export downloads the current filter as a file with a header row.
import { readFile } from "node:fs/promises";
import { expect, test, USERS } from "./fixtures";

test.describe("leads", () => {
  test.use({ user: USERS.manager });

  test("CSV export downloads a .csv file with a header row", async ({ page }) => {
    await page.goto("/leads");
    await expect(page.getByTestId("lead-row").first()).toBeVisible();
    const download = page.waitForEvent("download");
    await page.getByTestId("leads-export").click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
    const text = await readFile((await file.path())!, "utf-8");
    const [header, first] = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    expect(header!.split(",").length, `header row: ${header}`).toBeGreaterThan(2);
    expect(header!.toLowerCase()).toContain("name");
    expect(first, "at least one lead below the header").toBeTruthy();
  });
});
