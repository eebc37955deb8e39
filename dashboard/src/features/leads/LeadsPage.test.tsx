import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import LeadsPage, { SEARCH_DELAY } from "./LeadsPage";
import { fakeApi, lead, makeUser, renderPage, signedIn } from "./testing";

vi.mock("@/api/client", async (original) => (await import("./testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("./testing")).authModule(original));

const ADA = lead();
const BOB = lead({ id: "33333333-3333-4333-8333-333333333333", external_id: "BRW-2", full_name: "Bob Byte", first_name: "Bob" });

function page(items: unknown[], next: string | null = null, total: number | null = items.length) {
  return { items, total, total_is_exact: total === null ? null : true, limit: 100, offset: 0, next_cursor: next };
}

function showLeads(path = "/leads") {
  return renderPage(<LeadsPage />, { path, route: "/leads" });
}

beforeEach(() => {
  // jsdom lays nothing out: give the table's scrolling frame a screenful, as a browser would.
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(800);
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(1200);
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  fakeApi.on("GET /api/v1/leads", page([ADA, BOB]));
  fakeApi.on("GET /api/v1/leads/portfolios", [{ id: "p1", name: "Spring" }]);
  fakeApi.on("GET /api/v1/teams", [{ id: "5a331749-e2b9-4b93-bd21-8297a7103156", name: "East" }]);
  fakeApi.on("GET /api/v1/leads/assignees", [
    { id: "u1", username: "agent.chen", full_name: "Li Chen", role: "agent", team_id: null, team_name: "East" },
  ]);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

// Generous timeouts: the first render loads the page's modules, and CI shares two cores with the servers.
describe("the leads page", { timeout: 20_000 }, () => {
  it("lists the leads as rows that link to each lead", async () => {
    showLeads();
    const rows = await screen.findAllByTestId("lead-row");
    expect(rows.map((row) => row.dataset.leadId)).toEqual([ADA.id, BOB.id]);
    expect(within(rows[0]!).getByRole("link", { name: "Ada Lovelace" })).toHaveAttribute("href", `/leads/${ADA.id}`);
    expect(screen.getByTestId("leads-table")).toBeInTheDocument();
    expect(screen.getByText("2 leads")).toBeInTheDocument();
    // The first page asks for a count, by cursor paging.
    expect(fakeApi.callsTo("GET /api/v1/leads")[0]?.params.query).toMatchObject({ limit: 100, count: true });
  });

  it("continues the list by cursor as its end comes into view", async () => {
    fakeApi.on("GET /api/v1/leads", (call) =>
      call.params.query?.cursor === "next-1" ? { body: page([BOB], null, null) } : { body: page([ADA], "next-1", 1000) },
    );
    showLeads();
    await waitFor(() => expect(screen.getAllByTestId("lead-row")).toHaveLength(2));
    const calls = fakeApi.callsTo("GET /api/v1/leads");
    expect(calls[1]?.params.query).toMatchObject({ cursor: "next-1", count: false });
    expect(screen.getByText("1,000 leads")).toBeInTheDocument();
    expect(screen.getByText("All 2 matching leads are shown.")).toBeInTheDocument();
  });

  it("sends the URL's filters to the API and keeps a changed filter in the URL", async () => {
    const { router } = showLeads("/leads?status=promise&assignee=none&state=TX");
    await screen.findAllByTestId("lead-row");
    expect(fakeApi.callsTo("GET /api/v1/leads")[0]?.params.query).toMatchObject({
      status: "promise",
      assignee: "none",
      state: "TX",
    });
    fireEvent.change(screen.getByLabelText("Assignee"), { target: { value: "agent.chen" } });
    await waitFor(() => expect(router.state.location.search).toBe("?status=promise&assignee=agent.chen&state=TX"));
    await waitFor(() =>
      expect(fakeApi.callsTo("GET /api/v1/leads").at(-1)?.params.query).toMatchObject({ assignee: "agent.chen" }),
    );
  });

  it("searches once typing pauses", async () => {
    const { router } = showLeads();
    await screen.findAllByTestId("lead-row");
    const before = fakeApi.callsTo("GET /api/v1/leads").length;
    fireEvent.change(screen.getByTestId("leads-search"), { target: { value: "lov" } });
    fireEvent.change(screen.getByTestId("leads-search"), { target: { value: "lovelace" } });
    expect(router.state.location.search).toBe("");
    await act(() => new Promise((resolve) => setTimeout(resolve, SEARCH_DELAY + 50)));
    await waitFor(() => expect(router.state.location.search).toBe("?q=lovelace"));
    await waitFor(() => expect(fakeApi.callsTo("GET /api/v1/leads").at(-1)?.params.query).toMatchObject({ q: "lovelace" }));
    expect(fakeApi.callsTo("GET /api/v1/leads").length).toBe(before + 1); // one request for the whole word
  });

  it("changes the server-side order from the column header", async () => {
    const { router } = showLeads();
    await screen.findAllByTestId("lead-row");
    const header = screen.getByRole("columnheader", { name: /Days delinquent/ });
    expect(header).toHaveAttribute("aria-sort", "descending");
    await userEvent.click(within(header).getByRole("button"));
    await waitFor(() => expect(router.state.location.search).toBe("?sort=days_delinquent"));
    await waitFor(() =>
      expect(fakeApi.callsTo("GET /api/v1/leads").at(-1)?.params.query).toMatchObject({ sort: "days_delinquent" }),
    );
  });

  it("lets a manager select leads and assign them in one request", async () => {
    fakeApi.on("POST /api/v1/leads/assign", { updated: 2, unchanged: 0, assignee_id: "u1", team_id: null });
    showLeads();
    await screen.findAllByTestId("lead-row");
    expect(screen.getByTestId("bulk-assign")).toBeDisabled();
    await userEvent.click(screen.getByRole("checkbox", { name: "Select every loaded lead" }));
    expect(screen.getByText("2 selected")).toBeInTheDocument();
    await userEvent.click(screen.getByTestId("bulk-assign"));
    const dialog = await screen.findByRole("dialog");
    await waitFor(() => expect(within(dialog).getByRole("option", { name: /Li Chen/ })).toBeInTheDocument());
    await userEvent.selectOptions(within(dialog).getByLabelText("Assign to"), "agent.chen");
    await userEvent.click(within(dialog).getByRole("button", { name: "Assign" }));
    await waitFor(() => expect(fakeApi.callsTo("POST /api/v1/leads/assign")).toHaveLength(1));
    expect(fakeApi.callsTo("POST /api/v1/leads/assign")[0]?.body).toEqual({
      lead_ids: [ADA.id, BOB.id],
      assignee: "agent.chen",
    });
    expect(await screen.findByText("2 leads assigned to agent.chen.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("shows agents neither selection nor import", async () => {
    signedIn.user = makeUser("agent");
    showLeads();
    await screen.findAllByTestId("lead-row");
    expect(screen.queryByTestId("bulk-assign")).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByTestId("leads-import-input")).not.toBeInTheDocument();
    expect(screen.getByTestId("leads-export")).toBeEnabled();
    expect(fakeApi.callsTo("GET /api/v1/leads/assignees")).toHaveLength(0);
  });

  it("shows a designed empty state with a way out of the filters", async () => {
    fakeApi.on("GET /api/v1/leads", page([]));
    const { router } = showLeads("/leads?state=WY");
    expect(await screen.findByText("No leads match.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Clear search and filters" }));
    await waitFor(() => expect(router.state.location.search).toBe(""));
  });

  it("shows the API's error with a retry", async () => {
    fakeApi.on("GET /api/v1/leads", { status: 422, body: { detail: "assignee: no user 'x'" } });
    showLeads("/leads?assignee=x");
    expect(await screen.findByRole("alert")).toHaveTextContent("assignee: no user 'x'");
  });

  it("downloads the CSV of the current filter", async () => {
    const blob = new Blob(["id\n"], { type: "text/csv" });
    fakeApi.on("GET /api/v1/leads/export.csv", { body: blob });
    const created = vi.fn(() => "blob:leads");
    URL.createObjectURL = created;
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    showLeads("/leads?status=new&sort=days_delinquent");
    await screen.findAllByTestId("lead-row");
    await userEvent.click(screen.getByTestId("leads-export"));
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(fakeApi.callsTo("GET /api/v1/leads/export.csv")[0]?.params.query).toEqual({ status: "new" });
    expect(created).toHaveBeenCalledWith(blob);
    click.mockRestore();
  });

  it("uploads an import and shows its rejected rows as a table", async () => {
    fakeApi.on("POST /api/v1/leads/import", {
      status: 422,
      body: {
        detail: "2 invalid rows",
        errors: [
          { row: 3, field: "email", message: "not an e-mail address" },
          { row: 4, field: "state", message: "not a US state" },
        ],
        error_count: 3,
        errors_by_field: { email: 2, state: 1 },
        rejected: 2,
        total: 5,
      },
    });
    showLeads();
    await screen.findAllByTestId("lead-row");
    const file = new File(["external_id,first_name\n"], "leads.csv", { type: "text/csv" });
    await userEvent.upload(screen.getByTestId("leads-import-input"), file);
    const table = await screen.findByTestId("import-errors");
    const rows = within(table).getAllByRole("row");
    expect(rows).toHaveLength(3);
    expect(within(rows[1]!).getAllByRole("cell").map((cell) => cell.textContent)).toEqual([
      "3",
      "Email",
      "not an e-mail address",
    ]);
    expect(screen.getByText(/Nothing was imported: 3 problems in 2 of 5 rows/)).toBeInTheDocument();
    expect(screen.getByText("…and 1 more not listed.")).toBeInTheDocument();
    const sent = fakeApi.callsTo("POST /api/v1/leads/import")[0]?.body as FormData;
    expect(sent.get("portfolio")).toBe("default");
    expect((sent.get("file") as File).name).toBe("leads.csv");
  });
});
