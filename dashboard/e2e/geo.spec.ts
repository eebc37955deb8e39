// The map against a real server with the demo: the state choropleth is drawn from the shipped TopoJSON (svg paths,
// the demo's leads located, points drawn), switching to counties draws thousands of shapes, and the market analysis
// of "Austin, TX" shows the figures the API gives. No request leaves our own server.
import { expect, expectAccessible, settled, test, USERS } from "./fixtures";

interface Market {
  leads: number;
  signals: number;
}

test.describe("map", () => {
  test.use({ user: USERS.admin });

  test("draws the choropleth and points, and analyses a market", async ({ page, adminApi }) => {
    test.setTimeout(120_000);
    const outside: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol.startsWith("http")) outside.push(url.href);
    });
    await page.goto("/map");
    await settled(page);
    const svg = page.getByTestId("geo-map-svg");
    await expect(svg).toBeVisible();
    expect(await svg.locator("path.geo-area").count()).toBeGreaterThanOrEqual(50); // states, DC and territories
    await expect(svg.locator("path.geo-area:not(.geo-step-0)").first()).toBeVisible(); // some state has leads
    expect(await svg.locator("circle.geo-point").count()).toBeGreaterThan(0);
    await expect(page.getByTestId("geo-map-summary")).toContainText("leads located");
    await expectAccessible(page, "map");

    await page.getByRole("group", { name: "Areas" }).getByRole("button", { name: "county" }).click();
    await expect.poll(async () => svg.locator("path.geo-area").count(), { timeout: 30_000 }).toBeGreaterThan(3000);

    const expected = await adminApi.get<Market>("/api/v1/local/market-analysis",
                                                { location: "Austin, TX", radius_km: 50 });
    expect(expected.leads).toBeGreaterThan(0); // the demo has Austin borrowers
    await page.getByLabel("Place").fill("Austin, TX");
    await page.getByLabel("Radius (km)").fill("50");
    await page.getByRole("button", { name: "Analyse" }).click();
    const figures = page.getByTestId("geo-market-figures");
    await expect(figures).toBeVisible();
    await expect(page.getByTestId("geo-market-leads")).toHaveText(String(expected.leads));
    await expect(figures.getByRole("table", { name: "Top employers" })).toBeVisible();

    await page.getByLabel("Place").fill("Atlantis, ZZ");
    await page.getByRole("button", { name: "Analyse" }).click();
    await expect(page.getByRole("alert")).toContainText("location");
    expect(outside).toEqual([]);
  });
});
