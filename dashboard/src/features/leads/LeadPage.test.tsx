import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { describeChannel } from "./ContactRules";
import LeadPage from "./LeadPage";
import { filterTimeline } from "./Timeline";
import { fakeApi, lead, makeUser, renderPage, signedIn } from "./testing";

vi.mock("@/api/client", async (original) => (await import("./testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("./testing")).authModule(original));

const ADA = lead({ assignee_id: "u-9", assignee_name: "Li Chen", team_name: "East" });
const ID = ADA.id;

const TIMELINE = {
  lead_id: ID,
  lead_external_id: "BRW-1",
  lead_name: "Ada Lovelace",
  // The API's order: oldest first; at one instant, what was seen before what it meant.
  items: [
    { at: "2026-11-20T15:00:00Z", kind: "snapshot", summary: "Analyst at Acme", details: {} },
    {
      at: "2026-12-01T15:00:00Z",
      kind: "evidence",
      summary: "Started at Acme",
      signal_id: "s1",
      details: { url: "https://www.linkedin.com/in/ada" },
    },
    { at: "2026-12-01T15:00:00Z", kind: "signal", summary: "new_employment: Analyst at Acme", signal_id: "s1", details: {} },
    { at: "2026-12-02T16:00:00Z", kind: "contact", summary: "outbound call to ***-***-0100", actor: "user:agent.chen", details: {} },
    { at: "2026-12-03T16:00:00Z", kind: "flag_set", summary: "flag set: dispute", actor: "user:manager", details: {} },
  ],
};

const ANSWERS = {
  at: "2026-12-06T20:00:00Z",
  items: [
    {
      lead_id: ID,
      phrase: "e-mail now",
      contactable: true,
      restricted_by: [],
      channels: {
        call: { allowed: false, reasons: ["time_window"], next_allowed_at: "2026-12-07T14:00:00Z" },
        sms: { allowed: false, reasons: ["no_tcpa_consent"], next_allowed_at: null },
        email: { allowed: true, reasons: [], next_allowed_at: null },
      },
      lead_timezone: "America/Chicago",
      lead_zone_label: "CT",
      lead_local_time: "2026-12-06T14:00:00-06:00",
    },
  ],
};

function showLead(id = ID) {
  return renderPage(<LeadPage />, { path: `/leads/${id}`, route: "/leads/:leadId" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("manager");
  fakeApi.on("GET /api/v1/leads/{lead_id}", ADA);
  fakeApi.on("GET /api/v1/leads/{lead_id}/timeline", TIMELINE);
  fakeApi.on("POST /api/v1/compliance/answers", ANSWERS);
  fakeApi.on("GET /api/v1/compliance/leads/{lead_id}/flags", { lead_id: ID, active: ["dispute"], history: [] });
  fakeApi.on("GET /api/v1/compliance/leads/{lead_id}/consents", []);
  fakeApi.on("GET /api/v1/signals", { items: [], total: 0, total_is_exact: true, limit: 100, offset: 0, next_cursor: null });
  fakeApi.on("GET /api/v1/leads/{lead_id}/outcomes", {
    summary: {
      lead_id: ID,
      recovered: "0",
      payments: 0,
      first_payment_on: null,
      days_to_first_payment: null,
      days_from_first_signal: null,
      promises_pending: 0,
      promises_kept: 0,
      promises_broken: 0,
      open_disputes: 0,
    },
    items: [],
  });
  fakeApi.on("GET /api/v1/matches", {
    items: [
      {
        id: "m1",
        observation_id: "o1",
        lead_id: ID,
        score: 0.93,
        outcome: "linked",
        method: "probabilistic",
        agreed: { first_name: "exact", location: "same city" },
        disagreed: { employers: "disagree" },
        decided_by: "system",
        decided_at: null,
        created_at: "2026-11-20T15:00:00Z",
        subject_key: null,
        profile_url: "https://www.linkedin.com/in/ada",
        profile_name: "Ada Lovelace",
        profile_headline: "Analyst",
        profile_location: "Austin, Texas",
        observed_at: "2026-11-20T15:00:00Z",
        lead_external_id: "BRW-1",
        lead_name: "Ada Lovelace",
        lead_city: "Austin",
        lead_state: "TX",
        lead_employer: "Acme",
      },
    ],
    total: 1,
    limit: 50,
    offset: 0,
  });
  fakeApi.on("GET /api/v1/leads/{lead_id}/audit", (call) => ({
    body: {
      items: [
        {
          id: 2,
          at: "2026-12-05T10:00:00Z",
          actor: "user:manager",
          action: "lead.update",
          entity_type: "lead",
          entity_id: ID,
          details: { status: { from: "new", to: "contacted" } },
          prev_hash: "",
          hash: "",
        },
        ...(call.params.query?.views === false
          ? []
          : [
              {
                id: 1,
                at: "2026-12-04T10:00:00Z",
                actor: "user:agent.chen",
                action: "lead.view",
                entity_type: "lead",
                entity_id: ID,
                details: {},
                prev_hash: "",
                hash: "",
              },
            ]),
      ],
      total: call.params.query?.views === false ? 1 : 2,
      limit: 25,
      offset: 0,
    },
  }));
});

afterEach(() => cleanup());

// Generous timeouts: the first render loads the page's modules, and CI shares two cores with the servers.
describe("the lead page", { timeout: 20_000 }, () => {
  it("shows who the lead is and who works it", async () => {
    showLead();
    const header = await screen.findByTestId("lead-header");
    expect(screen.getByRole("heading", { level: 1, name: "Ada Lovelace" })).toBeInTheDocument();
    expect(within(header).getByText("BRW-1")).toBeInTheDocument();
    expect(within(header).getByTestId("lead-assignee")).toHaveTextContent("Li Chen");
    expect(within(header).getByRole("button", { name: "Reassign" })).toBeInTheDocument();
    expect(screen.getByText("$1,234.50")).toBeInTheDocument();
    expect(screen.getByText("120 days")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /acme\.example/ })).toHaveAttribute("href", "https://acme.example");
  });

  it("expands the company description", async () => {
    showLead();
    const toggle = await screen.findByRole("button", { name: "Show all" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(screen.getByRole("button", { name: "Show less" })).toHaveAttribute("aria-expanded", "true");
  });

  it("answers the contact rules per channel with the borrower's local time", async () => {
    showLead();
    const rules = await screen.findByTestId("lead-contact-rules");
    await waitFor(() => expect(within(rules).getByText("e-mail now")).toBeInTheDocument());
    expect(within(rules).getByTestId("contact-rule-email")).toHaveTextContent("Allowed now");
    const call = within(rules).getByTestId("contact-rule-call");
    expect(call).toHaveTextContent("Not now");
    expect(call).toHaveTextContent(/8:00\s?AM CST borrower's time/);
    expect(call).toHaveTextContent("outside the borrower's 8 am – 9 pm");
    expect(within(rules).getByTestId("contact-rule-sms")).toHaveTextContent("Do not contact");
    expect(rules).toHaveTextContent(/Borrower's local time: 2:00\s?PM CT/);
    expect(fakeApi.callsTo("POST /api/v1/compliance/answers")[0]?.body).toEqual({ lead_ids: [ID] });
  });

  it("shows the timeline newest first, grouped by day, with filter chips by kind", async () => {
    showLead();
    const timeline = await screen.findByTestId("lead-timeline");
    await waitFor(() => expect(within(timeline).getAllByTestId("timeline-item")).toHaveLength(5));
    const kinds = within(timeline).getAllByTestId("timeline-item").map((item) => item.dataset.kind);
    expect(kinds).toEqual(["flag_set", "contact", "signal", "evidence", "snapshot"]);
    expect(within(timeline).getAllByRole("heading", { level: 3 })).toHaveLength(4); // four days
    await userEvent.click(within(timeline).getByRole("button", { name: /^Contacts/ }));
    expect(within(timeline).getByRole("button", { name: /^Contacts/ })).toHaveAttribute("aria-pressed", "true");
    expect(within(timeline).getAllByTestId("timeline-item").map((item) => item.dataset.kind)).toEqual(["contact"]);
    await userEvent.click(within(timeline).getByRole("button", { name: /^All/ }));
    expect(within(timeline).getAllByTestId("timeline-item")).toHaveLength(5);
    expect(within(timeline).getByRole("link", { name: /Source/ })).toHaveAttribute("href", "https://www.linkedin.com/in/ada");
  });

  it("explains the matches and lists flags", async () => {
    showLead();
    const matches = await screen.findByTestId("lead-matches");
    await waitFor(() => expect(within(matches).getByText(/93 % likely/)).toBeInTheDocument());
    expect(within(matches).getByText(/First name: exact/)).toBeInTheDocument();
    expect(within(matches).getByText(/Employers: disagree/)).toBeInTheDocument();
    expect(await screen.findByText("Dispute")).toBeInTheDocument();
    expect(screen.getByTestId("lead-signals")).toHaveTextContent("No signals for this lead yet.");
  });

  it("shows managers the audit trail, with or without views", async () => {
    showLead();
    const audit = await screen.findByTestId("lead-audit");
    await waitFor(() => expect(within(audit).getAllByTestId("audit-entry")).toHaveLength(2));
    expect(within(audit).getAllByTestId("audit-entry")[0]).toHaveTextContent("Status: from new, to contacted");
    await userEvent.click(within(audit).getByLabelText("Include views"));
    await waitFor(() => expect(within(audit).getAllByTestId("audit-entry")).toHaveLength(1));
  });

  it("hides the audit trail and reassignment from agents", async () => {
    signedIn.user = makeUser("agent");
    showLead();
    await screen.findByTestId("lead-header");
    expect(screen.queryByTestId("lead-audit")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reassign" })).not.toBeInTheDocument();
    expect(fakeApi.callsTo("GET /api/v1/leads/{lead_id}/audit")).toHaveLength(0);
  });

  it("says 'not found or not yours' for a lead the API will not show", async () => {
    fakeApi.on("GET /api/v1/leads/{lead_id}", { status: 404, body: { detail: "lead x not found" } });
    showLead();
    expect(await screen.findByTestId("lead-not-found")).toHaveTextContent("Lead not found or not yours.");
    expect(screen.queryByTestId("lead-header")).not.toBeInTheDocument();
    expect(fakeApi.callsTo("GET /api/v1/leads/{lead_id}/timeline")).toHaveLength(0);
  });

  it("changes the status for a worker", async () => {
    fakeApi.on("PATCH /api/v1/leads/{lead_id}", { ...ADA, status: "contacted" });
    showLead();
    await screen.findByTestId("lead-header");
    await userEvent.selectOptions(screen.getByLabelText("Status"), "contacted");
    await waitFor(() => expect(fakeApi.callsTo("PATCH /api/v1/leads/{lead_id}")[0]?.body).toEqual({ status: "contacted" }));
    await waitFor(() => expect(screen.getByLabelText("Status")).toHaveValue("contacted"));
  });
});

describe("lead page logic", () => {
  it("describes a channel the clock blocks, and one waiting cannot open", () => {
    const later = describeChannel(
      { allowed: false, reasons: ["time_window"], next_allowed_at: "2026-12-07T14:00:00Z" },
      "America/Chicago",
      "America/New_York",
    );
    expect(later.tone).toBe("warn");
    expect(later.next?.viewer).toMatch(/9:00\s?AM EST/);
    expect(later.next?.borrower).toMatch(/8:00\s?AM CST/);
    const never = describeChannel({ allowed: false, reasons: ["cease"], next_allowed_at: null }, null);
    expect(never).toMatchObject({ tone: "danger", headline: "Do not contact", next: null });
  });

  it("filters the timeline by groups of kinds", () => {
    const items = TIMELINE.items as Parameters<typeof filterTimeline>[0];
    expect(filterTimeline(items, new Set())).toHaveLength(5);
    expect(filterTimeline(items, new Set(["signals"])).map((item) => item.kind)).toEqual(["evidence", "signal"]);
    expect(filterTimeline(items, new Set(["signals", "compliance"]))).toHaveLength(3);
  });
});
