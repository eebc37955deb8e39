import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { describeEvent, PortalActivity } from "./PortalActivity";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const LEAD = "11111111-1111-4111-8111-111111111111";
const PROFILE = "22222222-2222-4222-8222-222222222222";
const BASE = {
  id: PROFILE,
  site_id: "33333333-3333-4333-8333-333333333333",
  site_name: "Borrower portal",
  lead_id: LEAD,
  lead_external_id: "BRW-1",
  lead_name: "Kit Moreno",
  link_method: "login",
  linked_at: "2026-12-02T10:00:00Z",
  first_seen_at: "2026-11-28T10:00:00Z",
  last_seen_at: "2026-12-03T10:00:00Z",
  events: 2,
  page_views: 1,
  actions: 1,
};
const PAGE_VIEW = {
  id: "44444444-4444-4444-8444-444444444444",
  type: "page",
  name: "hardship",
  path: "/hardship/apply",
  path_group: "hardship",
  properties: {},
  occurred_at: "2026-12-01T10:00:00Z",
};
const CALCULATOR = {
  id: "55555555-5555-4555-8555-555555555555",
  type: "track",
  name: "calculator_used",
  path: "/calculator",
  path_group: "calculator",
  properties: { term_months: 12 },
  occurred_at: "2026-12-03T10:00:00Z",
};

function show() {
  return renderPage(<PortalActivity leadId={LEAD} />, { path: `/leads/${LEAD}`, route: "/leads/:leadId" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("agent");
});

afterEach(() => cleanup());

describe("the lead's portal activity", { timeout: 20_000 }, () => {
  it("shows the engagement and the timeline, newest first", async () => {
    fakeApi.on("GET /api/v1/tracking/profiles", { items: [BASE], limit: 20, offset: 0 });
    fakeApi.on("GET /api/v1/tracking/profiles/{profile_id}", {
      ...BASE,
      timeline: [PAGE_VIEW, CALCULATOR],
      engagement_strength: 0.55,
      engagement_counts: { repayment_view: 0, hardship_view: 1, calculator_use: 1, return_visit: 1 },
    });
    show();
    const engagement = await screen.findByTestId("portal-engagement");
    expect(engagement).toHaveTextContent("Engagement55%");
    expect(engagement).toHaveTextContent("Calculator uses1");
    const items = within(screen.getByRole("list", { name: /portal timeline/i })).getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("calculator used (term_months: 12)");
    expect(items[1]).toHaveTextContent("Viewed /hardship/apply (Hardship help)");
    expect(fakeApi.callsTo("GET /api/v1/tracking/profiles")[0]?.params.query).toMatchObject({ lead_id: LEAD });
  });

  it("says why there is nothing when the borrower has no consented activity", async () => {
    fakeApi.on("GET /api/v1/tracking/profiles", { items: [], limit: 20, offset: 0 });
    show();
    expect(await screen.findByText("No portal activity.")).toBeInTheDocument();
    expect(fakeApi.callsTo("GET /api/v1/tracking/profiles/{profile_id}")).toHaveLength(0);
  });

  it("describes page views and actions in words", () => {
    expect(describeEvent({ ...PAGE_VIEW, path: null, path_group: "other" })).toBe("Viewed a page (Other pages)");
    expect(describeEvent({ ...CALCULATOR, properties: {} })).toBe("calculator used");
  });
});
