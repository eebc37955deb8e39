import { act, cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hasRole } from "@/auth/AuthProvider";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { NAV } from "@/layout/Shell";
import { POLL_MS } from "./api";
import DiscoveryPage, { discoverBody, emptyForm } from "./DiscoveryPage";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const RUN_ID = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
const ACME = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";

function run(fields: Record<string, unknown>) {
  return {
    id: RUN_ID,
    status: "running",
    criteria: {},
    area: "Austin, TX",
    latitude: 30.27,
    longitude: -97.74,
    radius_km: 30,
    category: "loan",
    found: 0,
    fetched: 0,
    classified: 0,
    created: 0,
    skipped: 0,
    budget_used: {},
    errors: [],
    stop_reason: null,
    requested_by: "user:manager",
    task_run_id: null,
    created_at: "2026-12-07T10:00:00Z",
    started_at: null,
    finished_at: null,
    ...fields,
  };
}

function prospect(fields: Record<string, unknown> = {}) {
  return {
    lead_id: ACME,
    name: "Acme Tools",
    website: "https://acme.example/about",
    company_domain: "acme.example",
    city: "Austin",
    state: "TX",
    review_state: "pending",
    status: "new",
    intents: [{ intent: "loan_need", confidence: 0.97, snippet: "Acme is seeking a small business loan", url: null }],
    signals: 1,
    found_by: { provider: "google" },
    run_id: RUN_ID,
    reviewed_by: null,
    reviewed_at: null,
    review_note: null,
    created_at: "2026-12-07T10:01:00Z",
    ...fields,
  };
}

function show() {
  return renderPage(<DiscoveryPage />, { path: "/discovery", route: "/discovery" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  fakeApi.on("GET /api/v1/discover/prospects", { items: [prospect()], total: 1, limit: 100, offset: 0 });
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("DiscoveryPage", () => {
  it("is in the navigation for managers and admins only", () => {
    const item = NAV.find((entry) => entry.to === "/discovery");
    expect(item?.roles.sort()).toEqual(["admin", "manager"]);
    expect(hasRole(makeUser("agent"), ...(item?.roles ?? []))).toBe(false);
  });

  it("sends the criteria as the API takes them", () => {
    expect(discoverBody({ ...emptyForm, area: "  Austin, TX ", radius_km: "30", industry: " ", category: "loan" }))
      .toEqual({ area: "Austin, TX", radius_km: 30, category: "loan", industry: null, company_size: "any",
                 max_companies: 20 });
  });

  it("starts a run and shows its progress until it stops, saying why", async () => {
    let polls = 0;
    fakeApi.on("POST /api/v1/discover", { status: 202, body: run({ status: "queued" }) });
    fakeApi.on("GET /api/v1/discover/{run_id}", () => {
      polls += 1;
      return polls === 1
        ? { body: run({ found: 2, fetched: 2, classified: 1, created: 1 }) }
        : {
            body: run({
              status: "stopped_budget", found: 3, fetched: 3, classified: 3, created: 2, skipped: 1,
              budget_used: { "google-cse-queries": 1, "discovery-pages": 3 },
              stop_reason: "budget: daily budget 'discovery-pages' is spent",
            }),
          };
    });
    const user = userEvent.setup();
    show();
    await user.type(await screen.findByLabelText("Area"), "Austin, TX");
    await user.selectOptions(screen.getByLabelText("Lead category"), "loan");
    await user.type(screen.getByLabelText("Industry"), "machine shops");
    await user.click(screen.getByRole("button", { name: "Start discovery" }));

    const sent = fakeApi.callsTo("POST /api/v1/discover")[0]?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ area: "Austin, TX", category: "loan", industry: "machine shops", radius_km: 25 });
    const panel = await screen.findByTestId("discovery-run");
    expect(within(panel).getByText(/Companies looked at: 2 of at most 20/)).toBeTruthy();
    expect(within(panel).getByText("Running")).toBeTruthy();
    // Polled while it works: the next answer says it stopped on the budget.
    await waitFor(() => expect(within(panel).getByText("Stopped: budget spent")).toBeTruthy(), {
      timeout: POLL_MS * 3,
    });
    expect(within(panel).getByText(/discovery-pages 3/)).toBeTruthy();
    expect(within(panel).getByText(/daily budget 'discovery-pages' is spent/)).toBeTruthy();
    const stopped = polls;
    await act(() => new Promise((resolve) => setTimeout(resolve, POLL_MS * 1.5)));
    expect(polls).toBe(stopped); // a finished run is not asked again
  }, 15_000);

  it("shows the API's refusal of bad criteria", async () => {
    fakeApi.on("POST /api/v1/discover", {
      status: 422,
      body: { detail: "invalid", errors: [{ field: "area", message: "latitude must be within -90..90" }] },
    });
    const user = userEvent.setup();
    show();
    await user.type(await screen.findByLabelText("Area"), "95,-97");
    await user.click(screen.getByRole("button", { name: "Start discovery" }));
    expect((await screen.findByRole("alert")).textContent).toContain("area: latitude must be within -90..90");
  });

  it("lists prospects with their evidence and approves one", async () => {
    fakeApi.on("POST /api/v1/discover/prospects/{lead_id}/review", (call) => ({
      body: prospect({ review_state: (call.body as { decision: string }).decision === "approve" ? "approved" : "rejected" }),
    }));
    const user = userEvent.setup();
    show();
    const table = await screen.findByTestId("prospects-table");
    expect(within(table).getByText("Acme Tools")).toBeTruthy();
    expect(within(table).getByText(/seeking a small business loan/)).toBeTruthy();
    expect(within(table).getByText("(97%)")).toBeTruthy();
    fakeApi.on("GET /api/v1/discover/prospects", { items: [], total: 0, limit: 100, offset: 0 });
    await user.click(within(table).getByRole("button", { name: "Approve" }));
    const review = fakeApi.callsTo("POST /api/v1/discover/prospects/{lead_id}/review")[0];
    expect(review?.params.path).toEqual({ lead_id: ACME });
    expect(review?.body).toEqual({ decision: "approve" });
    expect(await screen.findByText("No prospects waiting for review.")).toBeTruthy();
  });
});
