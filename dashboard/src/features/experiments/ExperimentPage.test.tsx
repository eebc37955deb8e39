import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import ExperimentPage from "./ExperimentPage";
import { REPORT_JSON } from "./reportFixture";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const ID = "5b0e6a3c-6f1e-4a57-9d3c-2f1f0f7d9a11";
const EXPERIMENT = {
  id: ID,
  name: "timing-2027",
  description: "Alerts on new jobs, Spring portfolio.",
  status: "running",
  control_share: 0.1,
  population: { portfolios: ["Spring 2026"] },
  conversion_days: 90,
  planned_end: "2027-06-30T23:59:59Z",
  started_at: "2026-12-02T10:00:00Z",
  ended_at: null,
  created_by: "user:admin",
  created_at: "2026-12-01T10:00:00Z",
  arms: { control: 120, treatment: 1080 },
  exposed: 700,
};

function show() {
  return renderPage(<ExperimentPage />, { path: `/experiments/${ID}`, route: "/experiments/:experimentId" });
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
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  fakeApi.on("GET /api/v1/experiments/{experiment_id}", EXPERIMENT);
  fakeApi.on("GET /api/v1/experiments/{experiment_id}/report", REPORT_JSON as object);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("an experiment's report", { timeout: 20_000 }, () => {
  it("leads with intention to treat over all leads: rates, difference, lift, p and the rule", async () => {
    show();
    const headline = await screen.findByTestId("experiment-headline");
    expect(screen.getByRole("heading", { level: 1, name: "timing-2027" })).toBeInTheDocument();
    expect(within(headline).getByRole("heading", { name: "Headline: intention to treat, all leads" })).toBeInTheDocument();
    expect(headline).toHaveTextContent("Control (held out)10.83%13 of 120 paid within 90 days");
    expect(headline).toHaveTextContent("Treatment (alerted)13.52%146 of 1,080 paid within 90 days");
    expect(within(headline).getByTestId("headline-difference")).toHaveTextContent("+2.69 pts95% CI −4.40 pts to +7.58 pts");
    expect(within(headline).getByTestId("headline-lift")).toHaveTextContent("+24.8%95% CI −28.4% to +104.5%");
    expect(within(headline).getByTestId("headline-p")).toHaveTextContent("0.411");
    expect(within(headline).getByTestId("headline-verdict")).toHaveTextContent(
      "Not significant: p = 0.411, the rule is p < 0.0128 at this interim look.",
    );
    expect(within(headline).getByTestId("interim-flag")).toHaveTextContent("Interim look at 62% of the horizon");
    expect(within(headline).getByTestId("significance-rule")).toHaveTextContent(
      "Interim look at 62% of the planned information: O'Brien-Fleming-type Lan-DeMets alpha spending",
    );
    expect(within(headline).getByTestId("horizon-statement")).toHaveTextContent(
      "Conversion is a payment within 90 days of assignment.",
    );
    expect(fakeApi.callsTo("GET /api/v1/experiments/{experiment_id}/report")[0]!.params).toEqual({
      path: { experiment_id: ID },
      query: { format: "json" },
    });
  });

  it("shows dollars per lead, days to first payment and the Kaplan–Meier chart", async () => {
    show();
    const dollars = await screen.findByTestId("experiment-dollars");
    expect(dollars).toHaveTextContent("Control$111.94");
    expect(dollars).toHaveTextContent("Treatment$131.51");
    expect(dollars).toHaveTextContent("Difference+$19.5795% CI −$56.14 to +$81.68");
    const time = screen.getByTestId("experiment-time");
    expect(time).toHaveTextContent("Control mediannot reached");
    expect(time).toHaveTextContent("Treatment mediannot reached");
    expect(time).toHaveTextContent("Log-rank p0.36");
    const chart = screen.getByTestId("km-chart");
    expect(within(chart).getByRole("img")).toHaveAccessibleName(/Kaplan–Meier curves of days to first payment.*log-rank p 0\.36/);
  });

  it("tabulates every section × comparison, per protocol labelled as not randomised", async () => {
    show();
    const conversion = await screen.findByTestId("sections-conversion");
    const rows = within(conversion).getAllByTestId("section-row");
    expect(rows).toHaveLength(6); // all leads + two signal types, each ITT and per protocol
    expect(within(conversion).getAllByRole("rowheader").map((cell) => cell.textContent)).toEqual([
      "All leads1,200 leads",
      "New employment715 leads",
      "Promotion360 leads",
    ]);
    expect(rows[0]).toHaveTextContent("Intention to treat");
    expect(rows[1]).toHaveTextContent("Per protocol (not randomised) may be biased");
    expect(rows[1]).toHaveTextContent("11.76%75/638");
    expect(rows[4]).toHaveTextContent("18.18%6/33"); // promotion: control converts more
    const dollars = screen.getByTestId("sections-dollars");
    expect(within(dollars).getAllByRole("row")).toHaveLength(7); // the header and six rows
    const strata = screen.getByTestId("experiment-strata");
    expect(within(strata).getAllByRole("row")).toHaveLength(5);
    expect(within(strata).getByText("Spring 2026|under 5k").closest("tr")).toHaveTextContent("3027010.0%");
    const notes = screen.getByTestId("experiment-notes");
    expect(notes).toHaveTextContent("The headline is intention to treat");
    expect(notes).toHaveTextContent("The 2 per-signal-type sections are secondary");
  });

  it("says a draft has no report yet, without asking for one", async () => {
    fakeApi.on("GET /api/v1/experiments/{experiment_id}", { ...EXPERIMENT, status: "draft", started_at: null });
    show();
    expect(await screen.findByText("Not started yet: no report.")).toBeInTheDocument();
    expect(fakeApi.callsTo("GET /api/v1/experiments/{experiment_id}/report")).toHaveLength(0);
    expect(screen.queryByTestId("report-csv")).not.toBeInTheDocument();
  });

  it("reads a report with missing or odd fields without breaking", async () => {
    fakeApi.on("GET /api/v1/experiments/{experiment_id}/report", {
      experiment: { id: ID, name: "timing-2027", status: "running" },
      leads: 3,
      interim: false,
      significance_rule: "Fixed horizon (the planned final analysis): significant when p < 0.05.",
      sections: [{ section: "all", leads: 3, itt: { conversion: { control_n: 1, treatment_n: 2, p_value: "x" } } }],
    });
    show();
    const headline = await screen.findByTestId("experiment-headline");
    expect(within(headline).getByTestId("headline-p")).toHaveTextContent("—");
    expect(within(headline).getByTestId("headline-verdict")).toHaveTextContent("No test possible yet");
    expect(headline).toHaveTextContent("Final (fixed horizon)");
    expect(screen.queryByTestId("km-chart")).not.toBeInTheDocument();
    expect(screen.getByText(/No curves to draw/)).toBeInTheDocument();
  });

  it("says when the report is not JSON it can read", async () => {
    fakeApi.on("GET /api/v1/experiments/{experiment_id}/report", { body: "oops" });
    show();
    expect(await screen.findByRole("alert")).toHaveTextContent("The report could not be read");
  });

  it("says an unknown experiment is not found", async () => {
    fakeApi.on("GET /api/v1/experiments/{experiment_id}", { status: 404, body: { detail: "experiment x not found" } });
    show();
    expect(await screen.findByTestId("experiment-not-found")).toHaveTextContent("No such experiment.");
  });

  it("downloads the CSV with the token, under the API's file name", async () => {
    const blob = new Blob(["section,block\nall,itt\n"], { type: "text/csv" });
    fakeApi.on("GET /api/v1/experiments/{experiment_id}/report", (call) =>
      call.params.query?.format === "csv"
        ? { body: blob, headers: { "Content-Disposition": 'attachment; filename="experiment-timing-2027.csv"' } }
        : { body: REPORT_JSON },
    );
    const created = vi.fn(() => "blob:report");
    Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    show();
    await screen.findByTestId("experiment-headline");
    await userEvent.click(screen.getByTestId("report-csv"));
    await waitFor(() => expect(created).toHaveBeenCalledWith(blob));
    const csvCall = fakeApi.callsTo("GET /api/v1/experiments/{experiment_id}/report").find((c) => c.params.query?.format === "csv");
    expect(csvCall?.params.path).toEqual({ experiment_id: ID });
    const saved = click.mock.contexts.find((link) => (link as HTMLAnchorElement).href === "blob:report") as HTMLAnchorElement;
    expect(saved.download).toBe("experiment-timing-2027.csv");
    expect(screen.getByTestId("report-pdf")).toHaveAttribute("href", `/api/v1/experiments/${ID}/report?format=pdf`);
  });

  it("offers admins Start or End on the report page too", async () => {
    signedIn.user = makeUser("admin");
    show();
    await screen.findByTestId("experiment-headline");
    expect(screen.getByRole("button", { name: "End timing-2027" })).toBeInTheDocument();
  });
});
