import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { compareRows, otherFields } from "./compare";
import ReviewPage from "./ReviewPage";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

function match(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    observation_id: `o-${id}`,
    lead_id: `lead-${id}`,
    score: 0.72,
    outcome: "review",
    method: "probabilistic",
    agreed: { first_name: "exact", last_name: "exact" },
    disagreed: { location: "other state" },
    decided_by: null,
    decided_at: null,
    created_at: "2026-12-01T10:00:00Z",
    subject_key: `li:${id}`,
    profile_url: "https://www.linkedin.com/in/someone",
    profile_name: `Profile ${id}`,
    profile_headline: "Nurse",
    profile_location: "Denver, Colorado",
    observed_at: "2026-12-01T10:00:00Z",
    lead_external_id: `BRW-${id}`,
    lead_name: `Lead ${id}`,
    lead_city: "Austin",
    lead_state: "TX",
    lead_employer: null,
    profile_title: "Nurse",
    profile_company: "St. Mary",
    lead_title: null,
    ...overrides,
  };
}

const PAIR = {
  portfolio: "default",
  survivor_id: "s-1",
  survivor_external_id: "A-1",
  survivor_name: "Katherine Reed",
  merged_id: "m-1",
  merged_external_id: "B-9",
  merged_name: "Kate Reed",
  score: 0.97,
  weight: 12,
  agreed: { first_name: "nickname", email: "exact" },
  disagreed: {},
  merge_id: null,
};

const APPLIED = {
  id: "merge-1",
  portfolio_id: "p",
  survivor_id: "s-2",
  merged_id: "m-2",
  score: 0.9,
  explanation: {},
  status: "applied",
  moved: {},
  created_by: "user:manager",
  created_at: "2026-12-05T10:00:00Z",
  applied_by: "user:manager",
  applied_at: "2026-12-05T10:00:00Z",
  survivor_external_id: "A-2",
  survivor_name: "Tom Hill",
  merged_external_id: "B-2",
  merged_name: "Thomas Hill",
};

let queue: ReturnType<typeof match>[];

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  queue = [match("1", { score: 0.81 }), match("2")];
  fakeApi.on("GET /api/v1/matches/review", () => ({ body: { items: queue, total: queue.length, limit: 50, offset: 0 } }));
  fakeApi.on("GET /api/v1/leads/duplicates", { items: [PAIR], total: 1, threshold: 0.8 });
  fakeApi.on("GET /api/v1/leads/merges", { items: [APPLIED], total: 1, limit: 20, offset: 0 });
});

afterEach(() => cleanup());

function showReview(path = "/review") {
  return renderPage(<ReviewPage />, { path, route: "/review" });
}

// Generous timeouts: the first render loads the page's modules, and CI shares two cores with the servers.
describe("the review page", { timeout: 20_000 }, () => {
  it("shows each pending match with both sides and the agreed and disagreed fields", async () => {
    showReview();
    const cards = await screen.findAllByTestId("review-match");
    expect(cards.map((card) => card.dataset.matchId)).toEqual(["1", "2"]);
    const first = cards[0]!;
    expect(within(first).getByText("81 % likely")).toBeInTheDocument();
    const location = within(first).getByRole("rowheader", { name: "Location" }).closest("tr")!;
    expect(location).toHaveClass("review-disagreed");
    expect(location).toHaveTextContent("Denver, Colorado");
    expect(location).toHaveTextContent("Austin, TX");
    expect(location).toHaveTextContent("Differs");
    expect(within(first).getByRole("rowheader", { name: "Name" }).closest("tr")).toHaveClass("review-agreed");
    expect(within(first).getByRole("link", { name: "BRW-1" })).toHaveAttribute("href", "/leads/lead-1");
    expect(screen.getByRole("tab", { name: /Matches/ })).toHaveTextContent("2");
  });

  it("approves a match: it leaves the list at once and the queue is read again", async () => {
    fakeApi.on("POST /api/v1/matches/{match_id}/approve", () => {
      queue = queue.filter((item) => item.id !== "1");
      return { body: { match: match("1"), observations_linked: 1, signals_created: 2, signals_merged: 0 } };
    });
    showReview();
    const cards = await screen.findAllByTestId("review-match");
    await userEvent.click(within(cards[0]!).getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(screen.getAllByTestId("review-match").map((card) => card.dataset.matchId)).toEqual(["2"]));
    expect(await screen.findByText(/Approved Profile 1 → Lead 1: 1 snapshot linked, 2 new signals/)).toBeInTheDocument();
    expect(fakeApi.callsTo("POST /api/v1/matches/{match_id}/approve")[0]?.params.path).toEqual({ match_id: "1" });
  });

  it("puts a match back when the API refuses the decision", async () => {
    fakeApi.on("POST /api/v1/matches/{match_id}/reject", {
      status: 409,
      body: { detail: "match 2 is approved, not waiting for review" },
    });
    showReview();
    const cards = await screen.findAllByTestId("review-match");
    await userEvent.click(within(cards[1]!).getByRole("button", { name: "Reject" }));
    expect(await screen.findByText(/match 2 is approved, not waiting for review/)).toBeInTheDocument();
    expect(screen.getAllByTestId("review-match")).toHaveLength(2);
  });

  it("shows the empty queue as such", async () => {
    queue = [];
    showReview();
    expect(await screen.findByText("Nothing to review.")).toBeInTheDocument();
  });

  it("merges a duplicate pair and lists recent merges with Undo", async () => {
    fakeApi.on("POST /api/v1/leads/merges", { ...APPLIED, id: "merge-9", survivor_id: "s-1", merged_id: "m-1" });
    fakeApi.on("POST /api/v1/leads/merges/{merge_id}/undo", { ...APPLIED, status: "undone" });
    const { router } = showReview("/review?tab=duplicates");
    const pair = await screen.findByTestId("review-duplicate");
    expect(pair).toHaveTextContent("Katherine Reed");
    expect(pair).toHaveTextContent("First name: nickname");
    await userEvent.click(within(pair).getByRole("button", { name: "Merge" }));
    await waitFor(() => expect(fakeApi.callsTo("POST /api/v1/leads/merges")).toHaveLength(1));
    expect(fakeApi.callsTo("POST /api/v1/leads/merges")[0]?.body).toEqual({
      survivor_id: "s-1",
      merged_id: "m-1",
      decision: "apply",
    });
    expect(await screen.findByText(/Merged Kate Reed \(B-9\) into Katherine Reed \(A-1\)/)).toBeInTheDocument();
    const merges = await screen.findAllByTestId("review-merge");
    await userEvent.click(within(merges[0]!).getByRole("button", { name: "Undo" }));
    await waitFor(() =>
      expect(fakeApi.callsTo("POST /api/v1/leads/merges/{merge_id}/undo")[0]?.params.path).toEqual({ merge_id: "merge-1" }),
    );
    expect(await screen.findByText(/Undone: Thomas Hill is a lead of its own again/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("tab", { name: /Matches/ }));
    await waitFor(() => expect(router.state.location.search).toBe(""));
  });
});

describe("the side-by-side comparison", () => {
  it("marks rows from the explanation and lists the fields no row shows", () => {
    const rows = compareRows(match("1", { agreed: { employers: "agree", email: "exact" }, disagreed: { first_name: "disagree" } }) as never);
    expect(rows.map((row) => [row.label, row.verdict])).toEqual([
      ["Name", "disagreed"],
      ["Location", null],
      ["Employer", "agreed"],
      ["Title", null],
    ]);
    expect(otherFields(match("1", { agreed: { email: "exact" }, disagreed: {} }) as never)).toEqual([
      { field: "email", how: "exact", agrees: true },
    ]);
  });
});
