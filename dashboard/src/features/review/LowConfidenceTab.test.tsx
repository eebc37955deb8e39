import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { LowConfidenceTab } from "./LowConfidenceTab";
import ReviewPage from "./ReviewPage";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

function text(id: string, overrides: Record<string, unknown> = {}) {
  return {
    observation_id: `obs-${id}`,
    lead_id: `lead-${id}`,
    lead_name: `Lead ${id}`,
    best_label: "new_employment",
    confidence: 0.42,
    snippet: `Text ${id}: excited to start at Acme next month`,
    url: "https://www.linkedin.com/posts/someone",
    observed_at: "2026-12-01T10:00:00Z",
    ...overrides,
  };
}

let listed: ReturnType<typeof text>[];

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  listed = [text("1"), text("2", { best_label: "promotion", url: "javascript:alert(1)" })];
  fakeApi.on("GET /api/v1/signals/low-confidence", () => ({ body: { items: listed, limit: 50, next_cursor: null } }));
});

afterEach(() => cleanup());

function showTab() {
  return renderPage(<LowConfidenceTab />, { path: "/review", route: "/review" });
}

function rowIds() {
  return screen.queryAllByTestId("low-confidence-text").map((row) => row.dataset.observationId);
}

// Generous timeouts: the first render loads the page's modules, and CI shares two cores with the servers.
describe("the low-confidence tab", { timeout: 20_000 }, () => {
  it("lists each text with its lead, the guess in words, the snippet and a safe source link", async () => {
    fakeApi.on("GET /api/v1/matches/review", { items: [], total: 0, limit: 50, offset: 0 });
    renderPage(<ReviewPage />, { path: "/review?tab=low-confidence", route: "/review" });
    expect(screen.getByRole("tab", { name: "Low confidence" })).toHaveAttribute("aria-selected", "true");
    const rows = await screen.findAllByTestId("low-confidence-text");
    expect(rowIds()).toEqual(["obs-1", "obs-2"]);
    const first = rows[0]!;
    expect(within(first).getByRole("link", { name: "Lead 1" })).toHaveAttribute("href", "/leads/lead-1");
    expect(first).toHaveTextContent("New job? 42 % sure");
    expect(first).toHaveTextContent("Text 1: excited to start at Acme next month");
    expect(within(first).getByRole("link", { name: /linkedin\.com/ })).toHaveAttribute(
      "href",
      "https://www.linkedin.com/posts/someone",
    );
    expect(within(first).getByRole("button", { name: "Yes, new job" })).toBeInTheDocument();
    const second = rows[1]!;
    expect(within(second).getByRole("button", { name: "Yes, promotion" })).toBeInTheDocument();
    // A javascript: address is not a link.
    expect(within(second).getAllByRole("link").map((link) => link.textContent)).toEqual(["Lead 2"]);
  });

  it("labels a text with its guess: the guess is posted, the row leaves, and signals are read again", async () => {
    fakeApi.on("POST /api/v1/signals/low-confidence/{observation_id}/label", () => {
      listed = listed.filter((item) => item.observation_id !== "obs-2");
      return { body: { observation_id: "obs-2", label: "promotion", previous_label: "promotion", signals_created: 1 } };
    });
    const { queryClient } = showTab();
    const invalidate = vi.spyOn(queryClient, "invalidateQueries");
    const rows = await screen.findAllByTestId("low-confidence-text");
    await userEvent.click(within(rows[1]!).getByRole("button", { name: "Yes, promotion" }));
    await waitFor(() => expect(rowIds()).toEqual(["obs-1"]));
    const posted = fakeApi.callsTo("POST /api/v1/signals/low-confidence/{observation_id}/label")[0];
    expect(posted?.params.path).toEqual({ observation_id: "obs-2" });
    expect(posted?.body).toEqual({ label: "promotion" });
    expect(await screen.findByText("Labelled: promotion — signal made for Lead 2.")).toBeInTheDocument();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["signals"] });
  });

  it("labels a text as another type, chosen and then saved", async () => {
    fakeApi.on("POST /api/v1/signals/low-confidence/{observation_id}/label", {
      observation_id: "obs-1",
      label: "certification",
      previous_label: "new_employment",
      signals_created: 0,
    });
    showTab();
    const rows = await screen.findAllByTestId("low-confidence-text");
    const other = within(rows[0]!).getByRole("combobox", { name: /Something else/ });
    expect(within(other).queryByRole("option", { name: "New job" })).not.toBeInTheDocument();
    await userEvent.selectOptions(other, "certification");
    expect(fakeApi.callsTo("POST /api/v1/signals/low-confidence/{observation_id}/label")).toHaveLength(0);
    await userEvent.click(within(rows[0]!).getByRole("button", { name: "Save" }));
    await waitFor(() =>
      expect(fakeApi.callsTo("POST /api/v1/signals/low-confidence/{observation_id}/label")[0]?.body).toEqual({
        label: "certification",
      }),
    );
    expect(await screen.findByText("Labelled: certification — no new signal.")).toBeInTheDocument();
  });

  it("puts the text back and says why when the API refuses the label", async () => {
    fakeApi.on("POST /api/v1/signals/low-confidence/{observation_id}/label", {
      status: 404,
      body: { detail: "no low-confidence text with this id (labelled already, or not yours to see)" },
    });
    const { queryClient } = showTab();
    // The list is not read again here, so the row on screen is the one put back, not a fresh copy.
    vi.spyOn(queryClient, "invalidateQueries").mockResolvedValue();
    const rows = await screen.findAllByTestId("low-confidence-text");
    await userEvent.click(within(rows[0]!).getByRole("button", { name: "Not an event" }));
    expect(await screen.findByText(/^Could not label the text about Lead 1: no low-confidence text/)).toBeInTheDocument();
    expect(rowIds()).toEqual(["obs-1", "obs-2"]);
    const posted = fakeApi.callsTo("POST /api/v1/signals/low-confidence/{observation_id}/label")[0];
    expect(posted?.body).toEqual({ label: "none" });
  });

  it("filters by guessed type and loads the next page by cursor", async () => {
    fakeApi.on("GET /api/v1/signals/low-confidence", (call) =>
      call.params.query?.cursor === "page-2"
        ? { body: { items: [text("3", { best_label: "promotion" })], limit: 50, next_cursor: null } }
        : { body: { items: [text("2", { best_label: "promotion" })], limit: 50, next_cursor: "page-2" } },
    );
    showTab();
    await screen.findAllByTestId("low-confidence-text");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Guessed type" }), "promotion");
    const lastQuery = () => fakeApi.callsTo("GET /api/v1/signals/low-confidence").at(-1)?.params.query;
    await waitFor(() => expect(lastQuery()?.label).toBe("promotion"));
    await userEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await waitFor(() => expect(rowIds()).toEqual(["obs-2", "obs-3"]));
    expect(lastQuery()).toMatchObject({ label: "promotion", cursor: "page-2" });
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });
});
