import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { feedKey, flatten, optimistic, type FeedData, type Signal } from "./feedCache";
import { refusalText } from "./labels";
import { useSignalActions } from "./useSignalActions";

const post = vi.hoisted(() => vi.fn());
vi.mock("@/api/client", async (original) => {
  const actual = await original<typeof import("@/api/client")>();
  return { ...actual, api: { ...actual.api, POST: post } };
});

function makeSignal(id: string, fields: Partial<Signal> = {}): Signal {
  return {
    id,
    lead_id: `lead-${id}`,
    lead_external_id: `L-${id}`,
    lead_name: `Lead ${id}`,
    type: "new_employment",
    title: "Analyst",
    organization: "Acme",
    effective_date: "2026-03-01",
    detected_at: "2026-12-06T10:00:00Z",
    confidence: 0.9,
    evidence_url: null,
    evidence_snippet: null,
    observation_ids: [],
    evidence: [],
    score: 70,
    priority: "high",
    score_breakdown: { strength: 60, balance: 10 },
    scored_at: null,
    status: "new",
    status_reason: null,
    status_changed_at: null,
    status_changed_by: null,
    action: null,
    actioned_at: null,
    actioned_by: null,
    outcome: null,
    outcome_at: null,
    outcome_by: null,
    dismiss_reason: null,
    first_action_at: null,
    escalation_level: 0,
    escalated_at: null,
    updated_at: "2026-12-06T10:00:00Z",
    holdout: false,
    ...fields,
  };
}

/** A controllable answer: resolve or reject it when the test says so. */
function deferred() {
  let resolve!: (value: unknown) => void;
  const promise = new Promise((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function ok(data: unknown) {
  return { data, error: undefined, response: new Response(null, { status: 200 }) };
}

function refused(status: number, body: unknown) {
  return { data: undefined, error: body, response: new Response(null, { status }) };
}

const QUERY = { sort: "detected_at" } as const;
let client: QueryClient;

function seed(signals: Signal[]) {
  const data: FeedData = {
    pages: [{ items: signals, total: null, total_is_exact: null, limit: 50, offset: 0, next_cursor: null }],
    pageParams: [null],
  };
  client.setQueryData(feedKey(QUERY), data);
}

const cached = () => flatten(client.getQueryData<FeedData>(feedKey(QUERY)));
const statusOf = (id: string) => cached().find((item) => item.id === id)?.status;

function wrapper({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

beforeEach(() => {
  client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  post.mockReset();
});
afterEach(() => client.clear());

describe("useSignalActions", () => {
  it("acknowledges at once, then takes the API's answer", async () => {
    seed([makeSignal("a"), makeSignal("b")]);
    const answer = deferred();
    post.mockReturnValueOnce(answer.promise);
    const { result } = renderHook(() => useSignalActions(), { wrapper });

    let done!: Promise<boolean>;
    act(() => {
      done = result.current.run(makeSignal("a"), { kind: "acknowledge" });
    });
    await waitFor(() => expect(statusOf("a")).toBe("acknowledged")); // before the API answered
    expect(result.current.pending).toEqual({ a: "acknowledge" });
    expect(statusOf("b")).toBe("new");
    expect(post).toHaveBeenCalledWith("/api/v1/signals/{signal_id}/acknowledge", {
      params: { path: { signal_id: "a" } },
    });

    await act(async () => {
      answer.resolve(ok(makeSignal("a", { status: "acknowledged", status_reason: "from the server" })));
      expect(await done).toBe(true);
    });
    expect(cached().find((item) => item.id === "a")?.status_reason).toBe("from the server");
    expect(result.current.pending).toEqual({});
    expect(result.current.errors).toEqual({});
  });

  it("rolls back when the API refuses, with its message, and keeps another card's change", async () => {
    seed([makeSignal("a"), makeSignal("b")]);
    const first = deferred();
    post.mockReturnValueOnce(first.promise).mockResolvedValueOnce(ok(makeSignal("b", { status: "acknowledged" })));
    const { result } = renderHook(() => useSignalActions(), { wrapper });

    let done!: Promise<boolean>;
    act(() => {
      done = result.current.run(makeSignal("a"), { kind: "dismiss", body: { reason: "duplicate", note: null } });
    });
    await waitFor(() => expect(statusOf("a")).toBe("dismissed"));
    await act(async () => {
      await result.current.run(makeSignal("b"), { kind: "acknowledge" }); // meanwhile, on another card
    });
    expect(statusOf("b")).toBe("acknowledged");

    await act(async () => {
      first.resolve(refused(409, { detail: "signal is actioned; only a new or acknowledged signal can be dismissed" }));
      expect(await done).toBe(false);
    });
    expect(statusOf("a")).toBe("new"); // rolled back
    expect(cached().find((item) => item.id === "a")?.dismiss_reason).toBeNull();
    expect(statusOf("b")).toBe("acknowledged"); // untouched by the rollback
    expect(result.current.errors.a).toEqual({
      message: "signal is actioned; only a new or acknowledged signal can be dismissed",
      refusal: null,
    });
  });

  it("shows the contact guard's refusal with its reasons and next allowed time", async () => {
    seed([makeSignal("a", { status: "acknowledged" })]);
    post.mockResolvedValueOnce(
      refused(409, {
        detail: "contact by call not allowed now: time_window; next allowed at 2026-12-08T14:00:00+00:00",
        channel: "call",
        allowed: false,
        reasons: ["time_window"],
        next_allowed_at: "2026-12-08T14:00:00+00:00",
      }),
    );
    const { result } = renderHook(() => useSignalActions(), { wrapper });
    await act(async () => {
      await result.current.run(makeSignal("a", { status: "acknowledged" }), {
        kind: "action",
        body: { action: "call", note: null, autodialed: false },
      });
    });
    expect(statusOf("a")).toBe("acknowledged");
    const error = result.current.errors.a;
    expect(error?.refusal).toEqual({ channel: "call", reasons: ["time_window"], nextAllowedAt: "2026-12-08T14:00:00+00:00" });
    // Worded in the borrower's zone, on the day of the refusal there.
    const now = new Date("2026-12-08T12:30:00Z");
    expect(refusalText(error!.refusal!, "America/Chicago", now)).toBe("Refused: time_window — next allowed 8:00 am CT");
    expect(refusalText({ ...error!.refusal!, nextAllowedAt: null, reasons: ["cease"] }, "America/Chicago", now)).toBe(
      "Refused: cease — waiting does not lift it",
    );
  });

  it("a server error rolls back too, and the next attempt clears the message", async () => {
    seed([makeSignal("a")]);
    post.mockResolvedValueOnce(refused(500, { detail: "database unavailable" }));
    const { result } = renderHook(() => useSignalActions(), { wrapper });
    await act(async () => {
      await result.current.run(makeSignal("a"), { kind: "acknowledge" });
    });
    expect(statusOf("a")).toBe("new");
    expect(result.current.errors.a?.message).toBe("database unavailable");

    post.mockResolvedValueOnce(ok(makeSignal("a", { status: "acknowledged" })));
    await act(async () => {
      await result.current.run(makeSignal("a"), { kind: "acknowledge" });
    });
    expect(statusOf("a")).toBe("acknowledged");
    expect(result.current.errors).toEqual({});
  });
});

describe("optimistic", () => {
  const now = new Date("2026-12-06T12:00:00Z");
  it("predicts each transition", () => {
    const signal = makeSignal("x");
    expect(optimistic(signal, { kind: "acknowledge" }, now)).toMatchObject({
      status: "acknowledged",
      first_action_at: now.toISOString(),
    });
    expect(optimistic(signal, { kind: "action", body: { action: "crm_task", autodialed: false } }, now)).toMatchObject({
      status: "actioned",
      action: "crm_task",
    });
    expect(optimistic(signal, { kind: "outcome", body: { outcome: "payment" } }, now)).toMatchObject({
      status: "resolved",
      outcome: "payment",
    });
    expect(optimistic(signal, { kind: "dismiss", body: { reason: "duplicate" } }, now)).toMatchObject({
      status: "dismissed",
      dismiss_reason: "duplicate",
    });
    expect(optimistic(signal, { kind: "feedback", body: { correct: false, label: "promotion" } }, now).type).toBe("promotion");
    expect(optimistic(signal, { kind: "feedback", body: { correct: false, label: "none" } }, now).status).toBe("dismissed");
    expect(optimistic(signal, { kind: "feedback", body: { correct: true } }, now)).toBe(signal);
    const actioned = makeSignal("y", { status: "actioned" });
    expect(optimistic(actioned, { kind: "feedback", body: { correct: false, label: "promotion" } }, now)).toBe(actioned);
    const company = makeSignal("z", { type: "intent_growth" });
    expect(optimistic(company, { kind: "feedback", body: { correct: false, label: "expansion" } }, now).type).toBe(
      "intent_expansion",
    );
  });
});
