import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CHANGED_MEANWHILE, outcomeFormErrors, OutcomesPanel } from "./OutcomesPanel";
import { fakeApi, makeUser, renderPage, signedIn } from "./testing";
import { ApiError } from "@/api/client";

vi.mock("@/api/client", async (original) => (await import("./testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("./testing")).authModule(original));

const LEAD = "11111111-1111-4111-8111-111111111111";
const PROMISE_ID = "33333333-3333-4333-8333-333333333333";

function outcome(fields: Record<string, unknown>) {
  return {
    id: "44444444-4444-4444-8444-444444444444",
    lead_id: LEAD,
    lead_external_id: "BRW-1",
    kind: "payment",
    amount: "250.00",
    occurred_on: "2026-12-03",
    due_on: null,
    promise_status: null,
    source: "import",
    external_id: "PAY-1",
    signal_id: null,
    note: null,
    created_by: "user:manager",
    created_at: "2026-12-03T10:00:00Z",
    updated_at: "2026-12-03T10:00:00Z",
    ...fields,
  };
}

const PROMISE = outcome({
  id: PROMISE_ID,
  kind: "promise",
  amount: "500.00",
  occurred_on: "2026-12-05",
  due_on: "2026-12-20",
  promise_status: "pending",
  source: "signal",
  external_id: null,
  note: "Will pay after payday",
  updated_at: "2026-12-05T10:00:00Z",
});
const PAYMENT = outcome({});

const OUTCOMES = {
  summary: {
    lead_id: LEAD,
    recovered: "1250.00",
    payments: 2,
    first_payment_on: "2026-11-28",
    days_to_first_payment: 42,
    days_from_first_signal: 9,
    promises_pending: 1,
    promises_kept: 2,
    promises_broken: 1,
    open_disputes: 1,
  },
  items: [PROMISE, PAYMENT],
};

function show() {
  return renderPage(<OutcomesPanel leadId={LEAD} />, { path: `/leads/${LEAD}`, route: "/leads/:leadId" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("agent");
  fakeApi.on("GET /api/v1/leads/{lead_id}/outcomes", OUTCOMES);
  fakeApi.on("GET /api/v1/outcomes/{outcome_id}", { body: PROMISE, headers: { ETag: 'W/"promise-v1"' } });
});

afterEach(() => cleanup());

describe("the lead's outcomes", { timeout: 20_000 }, () => {
  it("sums up what came of the lead and lists every outcome", async () => {
    show();
    const summary = await screen.findByTestId("outcomes-summary");
    expect(summary).toHaveTextContent("$1,250.00");
    expect(summary).toHaveTextContent("Payments2");
    expect(summary).toHaveTextContent("42 days after placement");
    expect(summary).toHaveTextContent("9 days after the first signal");
    expect(summary).toHaveTextContent("1 pending · 2 kept · 1 broken");
    expect(summary).toHaveTextContent("Disputes1");
    const rows = screen.getAllByTestId("outcome-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("Promise to pay");
    expect(rows[0]).toHaveTextContent("$500.00");
    expect(rows[0]).toHaveTextContent("Pending");
    expect(rows[0]).toHaveTextContent("On a signal");
    expect(rows[0]).toHaveTextContent("Will pay after payday");
    expect(rows[1]).toHaveTextContent("Payment");
    expect(rows[1]).toHaveTextContent("$250.00");
    expect(rows[1]).toHaveTextContent("Lender's file");
  });

  it("adds a payment with an Idempotency-Key, the same key for a retry of the same request", async () => {
    let first = true;
    fakeApi.on("POST /api/v1/outcomes", () => {
      // The first try fails as a dropped connection would; the retry must carry the same key.
      if (first) {
        first = false;
        return { status: 503, body: { detail: "the server is busy; try again in a moment" } };
      }
      return { status: 201, body: outcome({ id: "55555555-5555-4555-8555-555555555555", amount: "120.50", source: "api" }) };
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Add outcome" }));
    const form = screen.getByTestId("outcome-form");
    expect(within(form).getByLabelText("Kind")).toHaveValue("payment");
    await userEvent.type(within(form).getByLabelText("Amount ($)"), "120.50");
    await userEvent.clear(within(form).getByLabelText("Paid on"));
    await userEvent.type(within(form).getByLabelText("Paid on"), "2026-12-06");
    await userEvent.type(within(form).getByLabelText("Note (optional)"), "Card payment");
    await userEvent.click(within(form).getByRole("button", { name: "Save outcome" }));
    expect(await within(form).findByText(/the server is busy/)).toBeInTheDocument();
    await userEvent.click(within(form).getByRole("button", { name: "Save outcome" }));
    await waitFor(() => expect(screen.getByTestId("outcomes-notice")).toHaveTextContent("Payment recorded."));

    const posts = fakeApi.callsTo("POST /api/v1/outcomes");
    expect(posts).toHaveLength(2);
    expect(posts[0]!.body).toEqual({ lead_id: LEAD, kind: "payment", occurred_on: "2026-12-06", amount: "120.50", note: "Card payment" });
    const key = posts[0]!.headers["idempotency-key"];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[1]!.headers["idempotency-key"]).toBe(key);
    expect(screen.queryByTestId("outcome-form")).not.toBeInTheDocument();
    // The list is read again.
    await waitFor(() => expect(fakeApi.callsTo("GET /api/v1/leads/{lead_id}/outcomes").length).toBeGreaterThan(1));
  });

  it("asks for a promise's due date and shows the API's field errors next to their fields", async () => {
    fakeApi.on("POST /api/v1/outcomes", {
      status: 422,
      body: { detail: "invalid", errors: [{ field: "body", message: "Value error, due_on: a promise needs a due date" }] },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Add outcome" }));
    const form = screen.getByTestId("outcome-form");
    await userEvent.selectOptions(within(form).getByLabelText("Kind"), "promise");
    await userEvent.type(within(form).getByLabelText("Amount ($) (optional)"), "300");
    await userEvent.click(within(form).getByRole("button", { name: "Save outcome" }));
    const due = within(form).getByLabelText("Due on");
    await waitFor(() => expect(due).toHaveAttribute("aria-invalid", "true"));
    expect(document.getElementById(due.getAttribute("aria-describedby") ?? "")).toHaveTextContent("a promise needs a due date");
    // A new request (the form changed) gets a new key.
    const firstKey = fakeApi.callsTo("POST /api/v1/outcomes")[0]!.headers["idempotency-key"];
    await userEvent.type(due, "2026-12-30");
    await userEvent.click(within(form).getByRole("button", { name: "Save outcome" }));
    await waitFor(() => expect(fakeApi.callsTo("POST /api/v1/outcomes")).toHaveLength(2));
    const second = fakeApi.callsTo("POST /api/v1/outcomes")[1]!;
    expect(second.headers["idempotency-key"]).not.toBe(firstKey);
    expect(second.body).toMatchObject({ kind: "promise", amount: "300", due_on: "2026-12-30" });
  });

  it("marks a pending promise kept with If-Match set to the outcome's ETag", async () => {
    fakeApi.on("PATCH /api/v1/outcomes/{outcome_id}", { body: { ...PROMISE, promise_status: "kept" }, headers: { ETag: 'W/"promise-v2"' } });
    show();
    await userEvent.click(await screen.findByRole("button", { name: /Mark the Promise to pay of .* kept/ }));
    await waitFor(() => expect(screen.getByTestId("outcomes-notice")).toHaveTextContent("Promise marked kept."));
    expect(fakeApi.callsTo("GET /api/v1/outcomes/{outcome_id}")[0]!.params.path).toEqual({ outcome_id: PROMISE_ID });
    const patch = fakeApi.callsTo("PATCH /api/v1/outcomes/{outcome_id}")[0]!;
    expect(patch.params.path).toEqual({ outcome_id: PROMISE_ID });
    expect(patch.headers["if-match"]).toBe('W/"promise-v1"');
    expect(patch.body).toEqual({ promise_status: "kept" });
  });

  it("says the outcome changed meanwhile on 412, and reloads on request", async () => {
    fakeApi.on("PATCH /api/v1/outcomes/{outcome_id}", {
      status: 412,
      body: { detail: "outcome changed since you read it (If-Match does not match): read it again" },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: /Mark the Promise to pay of .* broken/ }));
    const notice = screen.getByTestId("outcomes-notice");
    await waitFor(() => expect(notice).toHaveTextContent(CHANGED_MEANWHILE));
    expect(within(notice).getByRole("alert")).toBeInTheDocument();
    const reads = fakeApi.callsTo("GET /api/v1/leads/{lead_id}/outcomes").length;
    await userEvent.click(within(notice).getByRole("button", { name: "Reload" }));
    await waitFor(() => expect(fakeApi.callsTo("GET /api/v1/leads/{lead_id}/outcomes").length).toBe(reads + 1));
    expect(notice).not.toHaveTextContent(CHANGED_MEANWHILE);
  });

  it("lets a viewer read but not record or settle", async () => {
    signedIn.user = makeUser("viewer");
    show();
    await screen.findByTestId("outcomes-summary");
    expect(screen.queryByRole("button", { name: "Add outcome" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Mark the/ })).not.toBeInTheDocument();
  });
});

describe("outcome form errors", () => {
  it("moves a message that names a field to that field", () => {
    const error = new ApiError("invalid", 422, {
      detail: "invalid",
      errors: [
        { field: "body", message: "Value error, amount: a payment needs an amount above 0" },
        { field: "body.note", message: "String should have at most 2000 characters" },
      ],
    });
    expect(outcomeFormErrors(error).fields).toEqual({
      amount: ["a payment needs an amount above 0"],
      note: ["String should have at most 2000 characters"],
    });
  });
});
