import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { RecommendedServices, SimilarLeads } from "./RecommendedServices";
import { parseNeeds } from "./ServicesPage";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const LEAD = "11111111-1111-4111-8111-111111111111";

function match(fields: Record<string, unknown>) {
  return {
    id: "55555555-5555-4555-8555-555555555555",
    lead_id: LEAD,
    service_id: "66666666-6666-4666-8666-666666666666",
    service_name: "Hardship forbearance TX",
    category: "hardship_forbearance",
    score: 81,
    breakdown: { geographic: 25, industry: 10, need: 23.75, profile: 15, behaviour: 7.5 },
    reasons: ["Offered in TX", "For any industry", "Meets the lead's hardship need (job loss)", "Balance fits", "1 portal engagement(s)"],
    status: "proposed",
    computed_at: "2026-12-07T10:00:00Z",
    status_changed_by: null,
    status_changed_at: null,
    ...fields,
  };
}

const HARDSHIP = match({});
const RESTART = match({
  id: "77777777-7777-4777-8777-777777777777",
  service_id: "88888888-8888-4888-8888-888888888888",
  service_name: "Plan restart",
  category: "repayment_plan",
  score: 52,
  reasons: ["Offered everywhere", "For any industry", "No recent need it meets", "Balance fits", "None"],
});

function show() {
  return renderPage(
    <>
      <RecommendedServices leadId={LEAD} />
      <SimilarLeads leadId={LEAD} />
    </>,
    { path: `/leads/${LEAD}`, route: "/leads/:leadId" },
  );
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("agent");
  fakeApi.on("GET /api/v1/leads/{lead_id}/recommendations", { lead_id: LEAD, items: [HARDSHIP, RESTART] });
  fakeApi.on("GET /api/v1/leads/{lead_id}/similar", {
    lead_id: LEAD,
    components: ["balance"],
    items: [{ lead_id: "99999999-9999-4999-8999-999999999999", external_id: "BRW-9", name: "Grace Hopper", state: "TX", distance: 0.0123 }],
  });
});

afterEach(() => cleanup());

describe("recommended services", { timeout: 20_000 }, () => {
  it("ranks the services with their score, points per factor and reasons", async () => {
    show();
    const items = await screen.findAllByTestId("recommendation", {}, { timeout: 5000 });
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("Hardship forbearance TX");
    expect(within(items[0]!).getByLabelText("Score 81 of 100")).toBeInTheDocument();
    expect(items[0]).toHaveTextContent("Need 23.8");
    expect(items[0]).toHaveTextContent("Meets the lead's hardship need (job loss)");
    expect(items[1]).toHaveTextContent("Plan restart");
    const similar = await screen.findAllByTestId("similar-lead");
    expect(similar[0]).toHaveTextContent("Grace Hopper");
    expect(similar[0]).toHaveTextContent("distance 0.012");
  });

  it("accepts a recommendation with PUT /matches/{id}/status and reloads the list", async () => {
    let accepted = false;
    fakeApi.on("PUT /api/v1/matches/{match_id}/status", (call) => {
      accepted = true;
      return { body: { ...HARDSHIP, status: (call.body as { status: string }).status } };
    });
    fakeApi.on("GET /api/v1/leads/{lead_id}/recommendations", () => ({
      body: { lead_id: LEAD, items: [accepted ? { ...HARDSHIP, status: "accepted" } : HARDSHIP, RESTART] },
    }));
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Accept Hardship forbearance TX" }, { timeout: 5000 }));
    const puts = fakeApi.callsTo("PUT /api/v1/matches/{match_id}/status");
    expect(puts).toHaveLength(1);
    expect(puts[0]!.params.path).toEqual({ match_id: HARDSHIP.id });
    expect(puts[0]!.body).toEqual({ status: "accepted" });
    expect(await screen.findByText("Hardship forbearance TX: accepted.")).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId("recommendation")[0]).toHaveTextContent("Accepted"));
    expect(screen.getByRole("button", { name: "Accept Hardship forbearance TX" })).toBeDisabled();
  });

  it("rejects one and matches the lead now", async () => {
    fakeApi.on("PUT /api/v1/matches/{match_id}/status", { body: { ...RESTART, status: "rejected" } });
    fakeApi.on("POST /api/v1/leads/{lead_id}/match", { lead_id: LEAD, items: [HARDSHIP] });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Reject Plan restart" }, { timeout: 5000 }));
    expect(fakeApi.callsTo("PUT /api/v1/matches/{match_id}/status")[0]!.body).toEqual({ status: "rejected" });
    await userEvent.click(screen.getByRole("button", { name: "Match now" }));
    await waitFor(() => expect(fakeApi.callsTo("POST /api/v1/leads/{lead_id}/match")).toHaveLength(1));
  });

  it("shows viewers the recommendations without the buttons", async () => {
    signedIn.user = makeUser("viewer");
    show();
    await screen.findAllByTestId("recommendation");
    expect(screen.queryByRole("button", { name: /Accept/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Match now" })).not.toBeInTheDocument();
  });

  it("says when no service fits", async () => {
    fakeApi.on("GET /api/v1/leads/{lead_id}/recommendations", { lead_id: LEAD, items: [] });
    show();
    expect(await screen.findByText("No service fits this lead yet.")).toBeInTheDocument();
  });
});

describe("the catalog form", () => {
  it("reads needs as need:weight", () => {
    expect(parseNeeds("hardship:1, restart:0.5; loan")).toEqual({ hardship: 1, restart: 0.5, loan: 1 });
  });
});
