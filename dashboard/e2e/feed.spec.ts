// The feed's flows: a signal arriving live, acknowledge → an action the guard refuses → an outcome, filters in the
// URL, dismissing with a reason. Each test works on leads of its own (a different agent, or ?lead=…), so that the
// tests running in parallel on one server do not act on each other's signals.
import {
  Api,
  expect,
  leadOf,
  test,
  unique,
  USERS,
  type Listing,
  type SignalRow,
} from "./fixtures";
import type { Page } from "@playwright/test";

const card = (page: Page, signalId: string) => page.locator(`[data-testid="signal-card"][data-signal-id="${signalId}"]`);

/**
 * New signals of an agent's leads, one per lead, the oldest first (as the admin sees them): the tests leave the
 * top of the feed, which the page screenshots show, as the demo has it.
 */
async function newSignalsByLead(adminApi: Api, username: string): Promise<SignalRow[]> {
  const page = await adminApi.get<Listing<SignalRow>>("/api/v1/signals", {
    assignee: username,
    status: "new",
    limit: 200,
  });
  const byLead = new Map<string, SignalRow>();
  for (const signal of page.items) if (!byLead.has(signal.lead_id)) byLead.set(signal.lead_id, signal);
  return [...byLead.values()].reverse();
}

async function signal(api: Api, id: string) {
  return api.get<SignalRow & { outcome: string | null; action: string | null }>(`/api/v1/signals/${id}`);
}

test.describe("a signal arriving live", () => {
  test.use({ user: USERS.westAgent });

  test("appears in the open feed within 5 s", async ({ page, adminApi }) => {
    const lead = await leadOf(adminApi, USERS.westAgent);
    await page.goto("/");
    await expect(page.getByTestId("signal-card").first()).toBeVisible();
    const before = await page.getByTestId("signal-card").evaluateAll((cards) =>
      cards.map((c) => c.getAttribute("data-signal-id")),
    );

    // A post announcing a new job, about one of the agent's leads: the text pipeline makes a signal of it.
    const organization = `Northwind ${unique()}`;
    const report = await adminApi.send<{ signals_created: number }>("POST", "/api/v1/ingest/texts", {
      source: "e2e-posts",
      items: [
        {
          text: `I'm happy to share that I'm starting a new position as Operations Manager at ${organization} today!`,
          lead_id: lead.id,
          published_at: new Date().toISOString(),
        },
      ],
    });
    const created = Date.now();
    expect(report.signals_created, "the post makes one signal").toBe(1);
    const newest = await adminApi.get<Listing<SignalRow>>("/api/v1/signals", { lead_id: lead.id, limit: 1 });
    const arrived = newest.items[0]!;
    expect(before).not.toContain(arrived.id);

    await expect(card(page, arrived.id)).toBeVisible({ timeout: 5_000 - (Date.now() - created) });
    await expect(card(page, arrived.id)).toHaveAttribute("data-lead-id", lead.id);
  });
});

test.describe("working a signal", () => {
  test.use({ user: USERS.agent });

  test("acknowledge → an action the guard refuses shows why → the outcome of an allowed one", async ({
    page,
    adminApi,
  }) => {
    const [refused, allowed] = await newSignalsByLead(adminApi, USERS.agent);
    expect(refused && allowed, "the demo agent has new signals on two leads").toBeTruthy();
    // The borrower asked not to be contacted: the contact guard refuses every contact.
    await adminApi.send("PUT", `/api/v1/compliance/leads/${refused!.lead_id}/flags/cease`, {
      active: true,
      note: "e2e: cease request",
    });

    await page.goto(`/?lead=${refused!.lead_id}`);
    const first = card(page, refused!.id);
    await first.getByRole("button", { name: "Acknowledge" }).click();
    await expect(first).toHaveAttribute("data-status", "acknowledged");
    await first.getByRole("button", { name: "Record action" }).click();
    const dialog = page.getByRole("dialog", { name: "Record an action" });
    await dialog.getByLabel("Action").selectOption("call");
    await dialog.getByRole("button", { name: "Save action" }).click();
    await expect(first.getByRole("alert")).toContainText(/cease/i);
    await expect(first).toHaveAttribute("data-status", "acknowledged");
    expect((await signal(adminApi, refused!.id)).status).toBe("acknowledged");

    // A CRM task is no contact: allowed whatever the hour; then its outcome.
    await page.goto(`/?lead=${allowed!.lead_id}`);
    const second = card(page, allowed!.id);
    await second.getByRole("button", { name: "Acknowledge" }).click();
    await expect(second).toHaveAttribute("data-status", "acknowledged");
    await second.getByRole("button", { name: "Record action" }).click();
    await dialog.getByLabel("Action").selectOption("crm_task");
    await dialog.getByRole("button", { name: "Save action" }).click();
    await expect(second).toHaveAttribute("data-status", "actioned");
    await second.getByRole("button", { name: "Record outcome" }).click();
    const outcome = page.getByRole("dialog", { name: "Record the outcome" });
    await outcome.getByLabel("Outcome").selectOption("promise_to_pay");
    await outcome.getByRole("button", { name: "Save outcome" }).click();
    await expect(second).toContainText("Promise to pay");
    await expect(second.getByRole("alert")).toHaveCount(0);
    await expect.poll(async () => (await signal(adminApi, allowed!.id)).outcome).toBe("promise_to_pay");
  });

  test("dismissing with a reason", async ({ page, adminApi }) => {
    // agent.chen's signals: another agent than the test above, so the two never pick the same lead.
    const [target] = await newSignalsByLead(adminApi, USERS.teammate);
    expect(target, "the demo's agent.chen has a new signal").toBeTruthy();
    await page.goto(`/?lead=${target!.lead_id}`);
    const item = card(page, target!.id);
    await item.getByRole("button", { name: "Dismiss" }).click();
    const dialog = page.getByRole("dialog", { name: "Dismiss this signal" });
    await dialog.getByRole("radio", { name: "Duplicate" }).check();
    await dialog.getByRole("button", { name: "Dismiss signal" }).click();
    await expect(item).toHaveAttribute("data-status", "dismissed");
    await expect.poll(async () => (await signal(adminApi, target!.id)).status).toBe("dismissed");
    expect((await signal(adminApi, target!.id)) as unknown as { dismiss_reason: string }).toMatchObject({
      dismiss_reason: "duplicate",
    });
  });
});

test.describe("filters in the URL", () => {
  test.use({ user: USERS.manager });

  test("?priority=urgent shows only urgent signals, and changing a filter updates the URL", async ({ page }) => {
    await page.goto("/?priority=urgent");
    const cards = page.getByTestId("signal-card");
    await expect(cards.first()).toBeVisible();
    await expect(page.getByTestId("filter-priority")).toHaveValue("urgent");
    for (const item of await cards.all()) {
      await expect(item.locator(".badge").first()).toHaveClass(/badge-urgent/);
      await expect(item.locator(".badge-high, .badge-medium, .badge-low")).toHaveCount(0);
    }

    await page.getByTestId("filter-priority").selectOption("high");
    await expect(page).toHaveURL(/[?&]priority=high(&|$)/);
    await expect(cards.first().locator(".badge").first()).toHaveClass(/badge-high/);
    for (const item of await cards.all()) await expect(item.locator(".badge-urgent, .badge-medium, .badge-low")).toHaveCount(0);

    // The address is the state: back returns to the urgent view.
    await page.goBack();
    await expect(page).toHaveURL(/[?&]priority=urgent(&|$)/);
    await expect(page.getByTestId("filter-priority")).toHaveValue("urgent");
  });
});
