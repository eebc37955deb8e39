import { cleanup, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeadSignals } from "@/features/leads/LeadActivity";
import { fakeApi, renderPage } from "@/features/leads/testing";
import type { Signal } from "./feedCache";
import { HOLDOUT_HINT, HoldoutBadge } from "./HoldoutBadge";
import { SignalCard } from "./SignalCard";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));

function makeSignal(id: string, fields: Partial<Signal> = {}): Signal {
  return {
    id,
    lead_id: "11111111-1111-4111-8111-111111111111",
    lead_external_id: "BRW-1",
    lead_name: "Ada Lovelace",
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
    score_breakdown: {},
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
    assignee_id: null,
    first_action_at: null,
    escalation_level: 0,
    escalated_at: null,
    updated_at: "2026-12-06T10:00:00Z",
    holdout: false,
    ...fields,
  } as Signal;
}

function card(signal: Signal) {
  const noop = () => undefined;
  return render(
    <MemoryRouter>
      <SignalCard
        signal={signal}
        index={0}
        setSize={1}
        guard={undefined}
        guardFailed={false}
        canAct={false}
        error={undefined}
        busy={false}
        arrived={false}
        now={new Date("2026-12-06T12:00:00Z")}
        onAcknowledge={noop}
        onOpen={noop}
        onDismissError={noop}
        onFocusCard={noop}
      />
    </MemoryRouter>,
  );
}

beforeEach(() => fakeApi.reset());
afterEach(() => cleanup());

describe("the holdout badge", { timeout: 20_000 }, () => {
  it("is shown, with its explanation, only for a held-out signal", () => {
    const { rerender } = render(<HoldoutBadge holdout />);
    const badge = screen.getByTestId("holdout-badge");
    expect(badge).toHaveAttribute("title", HOLDOUT_HINT);
    expect(badge).toHaveTextContent("Control group (held out)");
    expect(badge).toHaveTextContent("not alerted or worked"); // what a screen reader hears
    rerender(<HoldoutBadge holdout={false} />);
    expect(screen.queryByTestId("holdout-badge")).not.toBeInTheDocument();
  });

  it("marks a held-out card in the feed and leaves the others alone", () => {
    card(makeSignal("s1", { holdout: true }));
    expect(within(screen.getByTestId("signal-card")).getByTestId("holdout-badge")).toHaveAttribute("title", HOLDOUT_HINT);
    cleanup();
    card(makeSignal("s2"));
    expect(screen.queryByTestId("holdout-badge")).not.toBeInTheDocument();
  });

  it("marks held-out signals on the lead page", async () => {
    fakeApi.on("GET /api/v1/signals", {
      items: [makeSignal("s1", { holdout: true }), makeSignal("s2", { title: "Manager" })],
      total: 2,
      total_is_exact: true,
      limit: 100,
      offset: 0,
      next_cursor: null,
    });
    renderPage(<LeadSignals leadId="11111111-1111-4111-8111-111111111111" />, { path: "/", route: "/" });
    const signals = await screen.findAllByRole("listitem");
    const items = signals.filter((item) => item.classList.contains("lead-signal"));
    expect(items).toHaveLength(2);
    expect(within(items[0]!).getByTestId("holdout-badge")).toBeInTheDocument();
    expect(within(items[1]!).queryByTestId("holdout-badge")).not.toBeInTheDocument();
  });
});
