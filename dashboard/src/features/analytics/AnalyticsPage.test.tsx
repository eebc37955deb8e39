import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const get = vi.fn();
let currentUser: Record<string, unknown> = {};

vi.mock("@/api/client", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/api/client")>();
  return { ...actual, api: { GET: (...args: unknown[]) => get(...args) } };
});

vi.mock("@/auth/AuthProvider", () => ({
  useUser: () => currentUser,
  hasRole: (user: { role: string } | null, ...roles: string[]) => !!user && roles.includes(user.role),
}));

const { default: AnalyticsPage } = await import("./AnalyticsPage");
const { todayUtc, addDays } = await import("./analytics");

const TEAM = { id: "11111111-1111-4111-8111-111111111111", name: "North", created_at: "2026-01-01T00:00:00Z" };
const SOUTH = { id: "22222222-2222-4222-8222-222222222222", name: "South", created_at: "2026-01-01T00:00:00Z" };
const SECTIONS = ["signals", "funnel", "response-times", "outcomes", "model-quality", "recovery", "coverage", "source-health"];

function base(query: Record<string, string>, label = "North") {
  return {
    from: query.from,
    to: query.to,
    scope: { kind: "team", team_id: TEAM.id, user_id: null, label },
    columns: [],
    truncated: false,
    notes: ["A note."],
  };
}

function report(path: string, query: Record<string, string>, empty: boolean) {
  const label = query.team === "all" ? "All teams" : "North";
  const day = query.to;
  switch (path) {
    case "/api/v1/analytics/signals":
      return {
        ...base(query, label),
        bucket: query.bucket ?? "day",
        rows: empty ? [] : [{ bucket: day, type: "new_employment", source: "apify-linkedin", signals: 3 }],
      };
    case "/api/v1/analytics/funnel":
      return {
        ...base(query, label),
        rows: empty
          ? []
          : [
              {
                type: "new_employment",
                signals: 4,
                acknowledged: 2,
                actioned: 1,
                promised: 1,
                paid: 0,
                dismissed: 1,
                acknowledged_rate: 0.5,
                actioned_rate: 0.25,
                promised_rate: 0.25,
                paid_rate: 0,
              },
            ],
      };
    case "/api/v1/analytics/response-times":
      return {
        ...base(query, label),
        rows: empty
          ? []
          : [
              { group: "all", id: null, name: label, priority: "all", signals: 4, responded: 3, median_minutes: 30, p90_minutes: 81 },
              { group: "team", id: TEAM.id, name: "North", priority: "all", signals: 4, responded: 3, median_minutes: 30, p90_minutes: 81 },
            ],
      };
    case "/api/v1/analytics/outcomes":
      return {
        ...base(query, label),
        signals: empty ? 0 : 4,
        with_outcome: empty ? 0 : 2,
        rows: ["promise_to_pay", "payment", "no_response", "dispute", "wrong_person", "conversation"].map((outcome, i) => ({
          outcome,
          signals: empty || i > 1 ? 0 : 1,
          share: empty || i > 1 ? 0 : 0.5,
        })),
      };
    case "/api/v1/analytics/model-quality":
      return {
        ...base(query, label),
        rows: empty
          ? []
          : [{ type: "new_employment", kind: "person", confirmed: 1, corrected: 2, not_an_event: 1, confirmed_share: 0.3333, examples: 4 }],
      };
    case "/api/v1/analytics/recovery":
      return {
        ...base(query, label),
        bucket: query.bucket ?? "day",
        first_payments: empty ? 0 : 2,
        days_to_first_payment_median: empty ? null : 9,
        days_to_first_payment_p90: empty ? null : 21,
        rows: empty
          ? []
          : [
              { bucket: day, payments: 2, recovered: 1250.5, leads_paying: 2, promises: 3, promises_kept: 1, promises_broken: 1, kept_rate: 0.5 },
            ],
      };
    case "/api/v1/analytics/coverage":
      return {
        ...base(query, label),
        bucket: query.bucket ?? "day",
        as_of: empty ? null : `${day}T12:00:00Z`,
        rows: empty
          ? []
          : [
              {
                bucket: day,
                leads: 10,
                monitored: 8,
                monitored_share: 0.8,
                under_1_day: 5,
                days_1_to_7: 2,
                days_7_to_30: 1,
                older: 0,
                never: 2,
                median_hours: 20,
                p90_hours: 100,
              },
            ],
      };
    case "/api/v1/analytics/source-health":
      return {
        ...base(query, label),
        rows: [
          {
            source: "apify-linkedin",
            name: "LinkedIn profiles",
            connector: "apify_linkedin",
            enabled: true,
            state: "failing",
            last_run_at: null,
            last_success_at: null,
            last_error_at: null,
            consecutive_failures: 3,
            last_error: "HTTP 502 from the actor",
            budget_used: 40,
            budget_limit: 100,
            budget_used_share: 0.4,
            observations: empty ? 0 : 12,
          },
        ],
      };
    case "/api/v1/teams":
      return [TEAM, SOUTH];
  }
  throw new Error(`unexpected ${path}`);
}

function answer(empty = false) {
  get.mockImplementation(async (path: string, init?: { params?: { query?: Record<string, string> }; parseAs?: string }) => {
    const query = init?.params?.query ?? {};
    if (path.endsWith(".csv")) {
      return {
        data: new Blob(["type,signals\r\n"], { type: "text/csv" }),
        response: new Response("", {
          status: 200,
          headers: { "content-disposition": `attachment; filename="upswing-funnel-${query.from}-to-${query.to}.csv"` },
        }),
      };
    }
    return { data: report(path, query, empty), response: new Response("{}", { status: 200 }) };
  });
}

function renderPage(user: Record<string, unknown>, url = "/analytics") {
  currentUser = user;
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <AnalyticsPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const MANAGER = { id: "m", username: "manager", full_name: "Morgan", role: "manager", team_id: TEAM.id };
const AGENT = { id: "a", username: "agent", full_name: "Ana", role: "agent", team_id: TEAM.id };

function calls(path: string): Record<string, string>[] {
  return get.mock.calls.filter(([p]) => p === path).map(([, init]) => init?.params?.query ?? {});
}

beforeAll(() => {
  // Recharts' ResponsiveContainer measures its box; jsdom has no layout.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
});

beforeEach(() => {
  get.mockReset();
});

afterEach(() => cleanup());

describe("AnalyticsPage", () => {
  it("shows every report with its table and CSV link, for the manager's team by default", async () => {
    answer();
    renderPage(MANAGER);
    expect(screen.getByRole("heading", { level: 1, name: "Analytics" })).toBeInTheDocument();
    for (const name of SECTIONS) {
      const section = await screen.findByTestId(`analytics-${name}`);
      expect(await within(section).findByRole("table")).toBeInTheDocument();
      expect(within(section).getByRole("link", { name: "Download CSV" })).toHaveAttribute(
        "href",
        expect.stringContaining(`/api/v1/analytics/${name}.csv?from=`),
      );
    }
    const funnel = within(screen.getByTestId("analytics-funnel"));
    expect(funnel.getByRole("rowheader", { name: "New employment" })).toBeInTheDocument();
    expect(funnel.getByRole("cell", { name: "2 (50%)" })).toBeInTheDocument();
    expect(within(screen.getByTestId("analytics-response-times")).getAllByRole("cell", { name: "1 h 21 min" })).toHaveLength(2);
    expect(screen.getAllByRole("img", { name: /bar chart/i }).length).toBeGreaterThanOrEqual(4);
    expect(await screen.findByText("North", { selector: "strong" })).toBeInTheDocument();
    // The last 30 days, no team (the API answers the manager's own), for every report.
    const today = todayUtc();
    expect(calls("/api/v1/analytics/funnel")[0]).toEqual({ from: addDays(today, -29), to: today });
    expect(screen.getByTestId("analytics-team")).toHaveValue(TEAM.id);
    // Recovery: the range's dollars and the days to a first payment; coverage per day; each source's state.
    const recovery = within(screen.getByTestId("analytics-recovery"));
    expect(recovery.getByTestId("recovery-figures")).toHaveTextContent("$1,251");
    expect(recovery.getByTestId("recovery-figures")).toHaveTextContent("9 / 21");
    expect(within(screen.getByTestId("analytics-coverage")).getByRole("cell", { name: "80%" })).toBeInTheDocument();
    const sources = within(screen.getByTestId("analytics-source-health"));
    expect(sources.getByRole("cell", { name: "HTTP 502 from the actor" })).toBeInTheDocument();
    expect(sources.getByRole("cell", { name: "40 / 100" })).toBeInTheDocument();
    expect(calls("/api/v1/analytics/source-health")[0]).not.toHaveProperty("bucket");
  });

  it("changes the range with a preset and the team with the select", async () => {
    answer();
    const user = userEvent.setup();
    renderPage(MANAGER);
    const range = await screen.findByTestId("analytics-range");
    await user.click(within(range).getByRole("button", { name: "Last 7 days" }));
    const today = todayUtc();
    await waitFor(() => expect(calls("/api/v1/analytics/outcomes").at(-1)).toEqual({ from: addDays(today, -6), to: today }));
    expect(within(range).getByRole("button", { name: "Last 7 days" })).toHaveAttribute("aria-pressed", "true");

    await screen.findByRole("option", { name: "South" });
    await user.selectOptions(screen.getByTestId("analytics-team"), "all");
    await waitFor(() => expect(calls("/api/v1/analytics/outcomes").at(-1)).toMatchObject({ team: "all" }));
    expect(await screen.findByText("All teams", { selector: "strong" })).toBeInTheDocument();
  });

  it("takes a typed range and refuses an inverted one", async () => {
    answer();
    const user = userEvent.setup();
    renderPage(MANAGER, "/analytics?from=2026-11-01&to=2026-11-30");
    await screen.findByTestId("analytics-signals");
    expect(calls("/api/v1/analytics/signals")[0]).toEqual({ from: "2026-11-01", to: "2026-11-30", bucket: "day" });
    const from = screen.getByLabelText("From");
    await user.clear(from);
    await user.type(from, "2026-12-15");
    expect(await screen.findByRole("alert")).toHaveTextContent("on or before");
    expect(calls("/api/v1/analytics/signals").every((q) => q.from === "2026-11-01")).toBe(true);
  });

  it("lets an agent see their own signals without a team filter", async () => {
    answer();
    renderPage(AGENT);
    await screen.findByTestId("analytics-outcomes");
    expect(screen.queryByTestId("analytics-team")).not.toBeInTheDocument();
    expect(screen.getByText("Your signals")).toBeInTheDocument();
    expect(calls("/api/v1/teams")).toHaveLength(0);
    expect(calls("/api/v1/analytics/outcomes").every((q) => !("team" in q))).toBe(true);
    expect(await screen.findByTestId("analytics-recovery")).toBeInTheDocument();
    expect(screen.queryByTestId("analytics-source-health")).not.toBeInTheDocument();
  });

  it("shows designed empty states, and the tables still", async () => {
    answer(true);
    renderPage(MANAGER);
    expect(await screen.findByText("No feedback was given in this range.")).toBeInTheDocument();
    expect(screen.getAllByText("No signals were detected in this range.")).toHaveLength(2); // signals, funnel
    expect(screen.getByText("No outcomes recorded on these signals yet.")).toBeInTheDocument();
    for (const name of SECTIONS) {
      expect(within(screen.getByTestId(`analytics-${name}`)).getByRole("table")).toBeInTheDocument();
    }
    expect(screen.queryAllByRole("img", { name: /bar chart/i })).toHaveLength(0);
  });

  it("shows the API's refusal in the section", async () => {
    get.mockImplementation(async (path: string) => {
      if (path === "/api/v1/teams") return { data: [TEAM], response: new Response("[]", { status: 200 }) };
      return {
        error: { detail: "team: agents see the analytics of their own signals only" },
        response: new Response("{}", { status: 403 }),
      };
    });
    renderPage(MANAGER);
    const section = await screen.findByTestId("analytics-funnel");
    expect(await within(section).findByRole("alert")).toHaveTextContent("agents see the analytics");
  });

  it("downloads the CSV with the token through the client", async () => {
    answer();
    const user = userEvent.setup();
    const created = vi.fn(() => "blob:csv");
    URL.createObjectURL = created;
    URL.revokeObjectURL = vi.fn();
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    renderPage(MANAGER);
    const funnel = await screen.findByTestId("analytics-funnel");
    await user.click(within(funnel).getByRole("link", { name: "Download CSV" }));
    await waitFor(() => expect(created).toHaveBeenCalled());
    const [path, init] = get.mock.calls.find(([p]) => p === "/api/v1/analytics/funnel.csv") ?? [];
    expect(path).toBe("/api/v1/analytics/funnel.csv");
    expect(init).toMatchObject({ parseAs: "blob" });
    expect(clicked).toHaveBeenCalled();
    clicked.mockRestore();
  });
});
