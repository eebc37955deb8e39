import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hasRole } from "@/auth/AuthProvider";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { NAV } from "@/layout/Shell";
import ExperimentsPage from "./ExperimentsPage";
import { emptyForm, experimentBody } from "./NewExperimentForm";
import { powerQuery } from "./PowerCalculator";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const DRAFT_ID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const RUNNING_ID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

function experiment(fields: Record<string, unknown>) {
  return {
    id: DRAFT_ID,
    name: "timing-2027",
    description: null,
    status: "draft",
    control_share: 0.1,
    population: {},
    conversion_days: 90,
    planned_end: "2027-06-30T23:59:59Z",
    started_at: null,
    ended_at: null,
    created_by: "user:admin",
    created_at: "2026-12-01T10:00:00Z",
    arms: {},
    exposed: 0,
    ...fields,
  };
}

const DRAFT = experiment({ population: { portfolios: ["Spring 2026"], min_days_delinquent: 60 } });
const RUNNING = experiment({
  id: RUNNING_ID,
  name: "spring-lift",
  status: "running",
  started_at: "2026-12-02T10:00:00Z",
  arms: { control: 123, treatment: 1111 },
  exposed: 480,
});

function show() {
  return renderPage(<ExperimentsPage />, { path: "/experiments", route: "/experiments" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("admin");
  fakeApi.on("GET /api/v1/experiments", [DRAFT, RUNNING]);
  fakeApi.on("GET /api/v1/leads/portfolios", [
    { id: "p1", name: "Spring 2026" },
    { id: "p2", name: "Second Chance 2026" },
  ]);
});

afterEach(() => cleanup());

describe("the experiments page", { timeout: 20_000 }, () => {
  it("lists the experiments with status, arms, exposure and dates", async () => {
    show();
    const table = await screen.findByTestId("experiments-table");
    const rows = within(table).getAllByTestId("experiment-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("timing-2027");
    expect(rows[0]).toHaveTextContent("Draft");
    expect(rows[0]).toHaveTextContent("Spring 2026 · 60+ days delinquent");
    expect(rows[0]).toHaveTextContent("not yet");
    expect(within(rows[1]!).getByRole("link", { name: "spring-lift" })).toHaveAttribute("href", `/experiments/${RUNNING_ID}`);
    const cells = within(rows[1]!).getAllByRole("cell").map((cell) => cell.textContent);
    expect(cells).toEqual(expect.arrayContaining(["Running", "123", "1,111", "480"]));
    expect(within(rows[0]!).getByRole("button", { name: "Start timing-2027" })).toBeInTheDocument();
    expect(within(rows[1]!).getByRole("button", { name: "End spring-lift" })).toBeInTheDocument();
  });

  it("creates an experiment from the form, sending what was typed", async () => {
    fakeApi.on("POST /api/v1/experiments", { status: 201, body: experiment({ id: "new", name: "winter-2027" }) });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "New experiment" }));
    const form = await screen.findByTestId("experiment-form");
    expect(within(form).getByLabelText("Control share (%)")).toHaveValue(10);
    expect(within(form).getByLabelText("Conversion window (days)")).toHaveValue(90);
    await userEvent.type(within(form).getByLabelText("Name"), "winter-2027");
    await userEvent.type(within(form).getByLabelText("Description"), "Does timing matter?");
    await userEvent.clear(within(form).getByLabelText("Control share (%)"));
    await userEvent.type(within(form).getByLabelText("Control share (%)"), "15");
    await userEvent.click(await within(form).findByRole("checkbox", { name: "Second Chance 2026" }));
    await userEvent.type(within(form).getByLabelText("States"), "tx{Enter}");
    await userEvent.type(within(form).getByLabelText("Minimum days delinquent"), "30");
    await userEvent.clear(within(form).getByLabelText("Conversion window (days)"));
    await userEvent.type(within(form).getByLabelText("Conversion window (days)"), "60");
    const end = within(form).getByLabelText("Planned end");
    await userEvent.clear(end);
    await userEvent.type(end, "2027-06-30");
    await userEvent.click(within(form).getByRole("button", { name: "Create experiment" }));

    await waitFor(() => expect(fakeApi.callsTo("POST /api/v1/experiments")).toHaveLength(1));
    expect(fakeApi.callsTo("POST /api/v1/experiments")[0]!.body).toEqual({
      name: "winter-2027",
      description: "Does timing matter?",
      control_share: 0.15,
      conversion_days: 60,
      planned_end: new Date("2027-06-30T23:59:59").toISOString(),
      population: { portfolios: ["Second Chance 2026"], states: ["TX"], min_days_delinquent: 30 },
    });
    await waitFor(() => expect(screen.queryByTestId("experiment-form")).not.toBeInTheDocument());
    expect(screen.getByTestId("experiments-notice")).toHaveTextContent("Experiment winter-2027 created as a draft");
  });

  it("shows a 422's field errors next to their fields and a 409 as a message", async () => {
    fakeApi.on("POST /api/v1/experiments", {
      status: 422,
      body: {
        detail: "invalid",
        errors: [
          { field: "body.control_share", message: "Input should be less than 0.5" },
          { field: "body.population.states.0", message: "String should have at most 2 characters" },
        ],
      },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "New experiment" }));
    const form = await screen.findByTestId("experiment-form");
    await userEvent.type(within(form).getByLabelText("Name"), "too-much");
    await userEvent.clear(within(form).getByLabelText("Control share (%)"));
    await userEvent.type(within(form).getByLabelText("Control share (%)"), "60");
    await userEvent.click(within(form).getByRole("button", { name: "Create experiment" }));
    const share = within(form).getByLabelText("Control share (%)");
    await waitFor(() => expect(share).toHaveAttribute("aria-invalid", "true"));
    const describedBy = (share.getAttribute("aria-describedby") ?? "").split(" ");
    expect(describedBy.map((id) => document.getElementById(id)?.textContent).join(" ")).toContain("less than 0.5");
    expect(within(form).getByText("String should have at most 2 characters")).toBeInTheDocument();
    expect(within(form).queryByTestId("form-problems")).not.toBeInTheDocument();

    fakeApi.on("POST /api/v1/experiments", { status: 409, body: { detail: "name: an experiment 'too-much' exists" } });
    await userEvent.click(within(form).getByRole("button", { name: "Create experiment" }));
    expect(await within(form).findByTestId("form-problems")).toHaveTextContent("an experiment 'too-much' exists");
  });

  it("starts a draft only after the confirmation, and says what was assigned", async () => {
    fakeApi.on("POST /api/v1/experiments/{experiment_id}/start", {
      body: { assigned: 1234, control: 123, treatment: 1111, strata: 8, skipped_in_other_experiments: 0 },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Start timing-2027" }));
    const dialog = await screen.findByRole("dialog", { name: "Start timing-2027?" });
    expect(dialog).toHaveTextContent("10% of each stratum becomes the control group");
    expect(fakeApi.callsTo("POST /api/v1/experiments/{experiment_id}/start")).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole("button", { name: "Start experiment" }));
    await waitFor(() =>
      expect(screen.getByTestId("experiments-notice")).toHaveTextContent(
        "timing-2027 started: 1,234 leads assigned — 123 control, 1,111 treatment, in 8 strata.",
      ),
    );
    expect(fakeApi.callsTo("POST /api/v1/experiments/{experiment_id}/start")[0]!.params.path).toEqual({ experiment_id: DRAFT_ID });
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    await waitFor(() => expect(fakeApi.callsTo("GET /api/v1/experiments").length).toBeGreaterThan(1));
  });

  it("keeps the dialog open with the API's refusal when a start conflicts", async () => {
    fakeApi.on("POST /api/v1/experiments/{experiment_id}/start", {
      status: 409,
      body: { detail: "experiment timing-2027 is running; only a draft starts" },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Start timing-2027" }));
    const dialog = await screen.findByRole("dialog", { name: "Start timing-2027?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Start experiment" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("only a draft starts");
  });

  it("ends a running experiment after the confirmation", async () => {
    fakeApi.on("POST /api/v1/experiments/{experiment_id}/end", { body: { ...RUNNING, status: "ended" } });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "End spring-lift" }));
    const dialog = await screen.findByRole("dialog", { name: "End spring-lift?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "End experiment" }));
    await waitFor(() => expect(screen.getByTestId("experiments-notice")).toHaveTextContent("spring-lift ended"));
    expect(fakeApi.callsTo("POST /api/v1/experiments/{experiment_id}/end")[0]!.params.path).toEqual({ experiment_id: RUNNING_ID });
  });

  it("lets a manager read and size, but not create, start or end", async () => {
    signedIn.user = makeUser("manager");
    show();
    await screen.findByTestId("experiments-table");
    expect(screen.queryByRole("button", { name: "New experiment" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Start / })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^End / })).not.toBeInTheDocument();
    expect(screen.getByTestId("power-calculator")).toBeInTheDocument();
  });

  it("says so when there are no experiments yet", async () => {
    fakeApi.on("GET /api/v1/experiments", []);
    show();
    expect(await screen.findByText("No experiments yet.")).toBeInTheDocument();
  });
});

describe("the power calculator", { timeout: 20_000 }, () => {
  it("asks the API with shares and shows the sentence and the numbers", async () => {
    fakeApi.on("GET /api/v1/experiments/power", {
      body: {
        control: 3841,
        treatment: 34569,
        total: 38410,
        sentence:
          "To detect a 20% relative lift on a 5.0% base rate with 80% power (two-sided, alpha 0.05) holding out 10%, you need 3,841 control and 34,569 treatment leads (38,410 in all).",
      },
    });
    show();
    const calculator = await screen.findByTestId("power-calculator");
    expect(within(calculator).getByLabelText("Base conversion rate (%)")).toHaveValue(5);
    await userEvent.clear(within(calculator).getByLabelText("Power (%)"));
    await userEvent.type(within(calculator).getByLabelText("Power (%)"), "90");
    await userEvent.click(within(calculator).getByRole("button", { name: "Calculate" }));
    const answer = within(calculator).getByTestId("power-answer");
    await waitFor(() => expect(answer).toHaveTextContent("you need 3,841 control and 34,569 treatment leads"));
    expect(answer).toHaveTextContent("Control leads3,841");
    expect(answer).toHaveTextContent("Treatment leads34,569");
    expect(answer).toHaveTextContent("Total38,410");
    expect(fakeApi.callsTo("GET /api/v1/experiments/power")[0]!.params.query).toEqual({
      base_rate: 0.05,
      relative_lift: 0.2,
      power: 0.9,
      control_share: 0.1,
    });
  });

  it("shows a refused value at its field", async () => {
    fakeApi.on("GET /api/v1/experiments/power", {
      status: 422,
      body: { detail: "invalid", errors: [{ field: "query.base_rate", message: "Input should be less than 1" }] },
    });
    show();
    const calculator = await screen.findByTestId("power-calculator");
    await userEvent.clear(within(calculator).getByLabelText("Base conversion rate (%)"));
    await userEvent.type(within(calculator).getByLabelText("Base conversion rate (%)"), "150");
    await userEvent.click(within(calculator).getByRole("button", { name: "Calculate" }));
    const input = within(calculator).getByLabelText("Base conversion rate (%)");
    await waitFor(() => expect(input).toHaveAttribute("aria-invalid", "true"));
    expect(within(calculator).getByText("Input should be less than 1")).toBeInTheDocument();
  });

  it("turns percentages into shares", () => {
    expect(powerQuery({ baseRate: "5", lift: "20", power: "80", controlShare: "10" })).toEqual({
      base_rate: 0.05,
      relative_lift: 0.2,
      power: 0.8,
      control_share: 0.1,
    });
    expect(powerQuery({ baseRate: "0.5", lift: "7.5", power: "95", controlShare: "2.5" })).toEqual({
      base_rate: 0.005,
      relative_lift: 0.075,
      power: 0.95,
      control_share: 0.025,
    });
  });
});

describe("the experiment form's body", () => {
  it("leaves out what was not given, so the API's defaults apply", () => {
    const form = { ...emptyForm(new Date(2026, 11, 6)), name: " lift ", controlShare: "", conversionDays: "" };
    expect(form.plannedEnd).toBe("2027-06-04");
    expect(experimentBody(form)).toEqual({
      name: "lift",
      planned_end: new Date("2027-06-04T23:59:59").toISOString(),
      population: {},
    });
  });
});

describe("the navigation", () => {
  it("offers Experiments to managers and admins only", () => {
    const labels = (role: "admin" | "manager" | "agent" | "viewer") =>
      NAV.filter((item) => hasRole(makeUser(role), ...item.roles)).map((item) => item.label);
    expect(labels("admin")).toContain("Experiments");
    expect(labels("manager")).toContain("Experiments");
    expect(labels("agent")).not.toContain("Experiments");
    expect(labels("viewer")).not.toContain("Experiments");
  });
});
