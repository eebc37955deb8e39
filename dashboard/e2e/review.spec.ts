// The match review queue: a manager approves a match the linker could not decide.
import { arrangeReviewMatches, expect, test, USERS, type Api } from "./fixtures";

test.describe("review", () => {
  test.use({ user: USERS.manager });

  test("a manager approves a match and it leaves the queue", async ({ page, api }) => {
    const [approved] = await arrangeReviewMatches(api);
    await page.goto("/review");
    const match = page.locator(`[data-testid="review-match"][data-match-id="${approved}"]`);
    await expect(match).toBeVisible();
    await match.getByRole("button", { name: "Approve" }).click();
    await expect(match).toHaveCount(0);
    await expect.poll(() => stillInReview(api, approved!)).toBe(false);
  });
});

async function stillInReview(api: Api, matchId: string): Promise<boolean> {
  const queue = await api.get<{ items: { id: string }[] }>("/api/v1/matches/review", { limit: 1000 });
  return queue.items.some((m) => m.id === matchId);
}
