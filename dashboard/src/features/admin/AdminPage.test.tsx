import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { callsTo, renderAt, USERS, type FakeState } from "@/features/alerts/testing";
import AdminPage from "./AdminPage";
import { actionsFor, deadlineText } from "./PrivacySection";
import { complianceChanges, COMPLIANCE_DEFAULTS } from "./ComplianceSection";

const fake = vi.hoisted(() => ({ routes: {}, calls: [] }) as FakeState);
const auth = vi.hoisted(() => ({ user: null as unknown }));
vi.mock("@/api/client", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/api/client")>();
  const { fakeClient } = await import("@/features/alerts/testing");
  return { ...actual, api: fakeClient(fake) };
});
vi.mock("@/auth/AuthProvider", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/auth/AuthProvider")>();
  return { ...actual, useUser: () => auth.user, useAuth: () => ({ user: auth.user, ready: true }) };
});

const TEAMS = [
  { id: "t-east", name: "Recovery East", created_at: "2026-12-01T00:00:00Z" },
  { id: "t-west", name: "Recovery West", created_at: "2026-12-01T00:00:00Z" },
];

function entry(id: number) {
  return {
    id,
    at: "2026-12-07T12:00:00Z",
    actor: "user:admin",
    action: "lead.view",
    entity_type: "lead",
    entity_id: `lead-${id}`,
    details: { fields: ["name"] },
    prev_hash: "x",
    hash: "y",
  };
}

const SOURCE = {
  slug: "apify-linkedin",
  connector: "apify-linkedin",
  name: "LinkedIn profiles (Apify)",
  enabled: true,
  legal_basis: null,
  state: "degraded",
  config: {},
  secrets_set: [],
  budgets: [{ name: "apify_runs", limit: 50, used_today: 12 }],
  cursor: null,
  consecutive_failures: 2,
  last_run_at: "2026-12-07T11:00:00Z",
  last_success_at: "2026-12-06T11:00:00Z",
  last_error: "HTTP 402: no credit",
  last_error_at: "2026-12-07T11:00:00Z",
  watched_leads: 40,
  due_leads: 3,
};

beforeEach(() => {
  fake.calls.length = 0;
  auth.user = USERS.admin;
  fake.routes = {
    "GET /api/v1/users": { data: [USERS.admin, USERS.manager, USERS.agent] },
    "GET /api/v1/teams": { data: TEAMS },
    "PATCH /api/v1/users/{user_id}": ({ params }) => ({ data: { ...USERS.agent, id: params?.path?.user_id } }),
    "GET /api/v1/audit": ({ params }) => ({
      data: { items: [entry(3), entry(2)], total: 120, limit: Number(params?.query?.limit), offset: Number(params?.query?.offset) },
    }),
    "GET /api/v1/audit/verify": { data: { intact: true, entries: 120, first_broken_id: null, last_id: 120, last_hash: "abc" } },
    "GET /api/v1/sources": { data: [SOURCE] },
    "POST /api/v1/sources/{slug}/run": { status: 202, data: { slug: "apify-linkedin", task_run_id: "run-1", idempotency_key: "k" } },
  };
});

describe("the admin page", { timeout: 20_000 }, () => {
  it("has a link per section and opens users first", async () => {
    renderAt(<AdminPage />, { url: "/admin", path: "/admin/*" });
    const nav = screen.getByRole("navigation", { name: "Admin sections" });
    for (const name of ["Users", "Sources", "Compliance", "Webhooks", "CRM", "API clients", "Privacy", "Audit", "E-mail suppressions"]) {
      expect(within(nav).getByRole("link", { name })).toBeInTheDocument();
    }
    expect(within(nav).getByRole("link", { name: "Audit" })).toHaveAttribute("href", "/admin/audit");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/admin/users"));
    const table = await screen.findByTestId("admin-users-table");
    expect(within(table).getAllByRole("row")).toHaveLength(4);
  });

  it("changes a user's role and team, sending only what changed", async () => {
    renderAt(<AdminPage />, { url: "/admin/users", path: "/admin/*" });
    await userEvent.click(await screen.findByRole("button", { name: "Edit agent.alvarez" }));
    const form = await screen.findByTestId("admin-edit-user-form");
    await userEvent.selectOptions(within(form).getByLabelText("Role"), "manager");
    await userEvent.selectOptions(within(form).getByLabelText("Team"), "Recovery West");
    await userEvent.click(within(form).getByRole("button", { name: "Save user" }));
    await waitFor(() => expect(callsTo(fake, "PATCH", "/api/v1/users/{user_id}")).toHaveLength(1));
    const call = callsTo(fake, "PATCH", "/api/v1/users/{user_id}")[0]!;
    expect(call.params?.path).toEqual({ user_id: "u-agent" });
    expect(call.body).toEqual({ role: "manager", team: "Recovery West" });
  });

  it("shows the API's field errors in the new-user form", async () => {
    fake.routes["POST /api/v1/users"] = {
      status: 422,
      error: { detail: "invalid", errors: [{ field: "body.password", message: "String should have at least 8 characters" }] },
    };
    renderAt(<AdminPage />, { url: "/admin/users", path: "/admin/*" });
    await userEvent.click(await screen.findByRole("button", { name: "New user" }));
    const form = await screen.findByTestId("admin-new-user-form");
    await userEvent.type(within(form).getByLabelText("Username"), "new.agent");
    await userEvent.type(within(form).getByLabelText("Password (8 characters or more)"), "short");
    await userEvent.click(within(form).getByRole("button", { name: "Create user" }));
    const password = within(form).getByLabelText("Password (8 characters or more)");
    await waitFor(() => expect(password).toHaveAttribute("aria-invalid", "true"));
    expect(document.getElementById(password.getAttribute("aria-describedby") ?? "")).toHaveTextContent("at least 8 characters");
  });

  it("pages the audit log, keeps filters in the URL and verifies the chain", async () => {
    renderAt(<AdminPage />, { url: "/admin/audit?actor=user%3Aadmin", path: "/admin/*" });
    const table = await screen.findByTestId("admin-audit-table");
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(callsTo(fake, "GET", "/api/v1/audit")[0]?.params?.query).toEqual({ limit: 50, offset: 0, actor: "user:admin" });
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(callsTo(fake, "GET", "/api/v1/audit").at(-1)?.params?.query).toMatchObject({ offset: 50 }));
    expect(screen.getByTestId("location")).toHaveTextContent("offset=50");

    await userEvent.click(screen.getByRole("button", { name: "Verify chain" }));
    await waitFor(() => expect(screen.getByTestId("audit-verify-result")).toHaveTextContent("Chain intact: 120 entries checked"));
  });

  it("names the first broken entry when the chain is broken", async () => {
    fake.routes["GET /api/v1/audit/verify"] = { data: { intact: false, entries: 41, first_broken_id: 42, last_id: 41, last_hash: "x" } };
    renderAt(<AdminPage />, { url: "/admin/audit", path: "/admin/*" });
    await userEvent.click(await screen.findByRole("button", { name: "Verify chain" }));
    await waitFor(() => expect(screen.getByTestId("audit-verify-result")).toHaveTextContent("Chain broken at entry #42"));
  });

  it("shows a source's health and budget, and queues a run", async () => {
    renderAt(<AdminPage />, { url: "/admin/sources", path: "/admin/*" });
    const table = await screen.findByTestId("admin-sources-table");
    expect(table).toHaveTextContent("Degraded");
    expect(table).toHaveTextContent("HTTP 402: no credit");
    expect(table).toHaveTextContent("apify runs: 12 / 50");
    await userEvent.click(within(table).getByRole("button", { name: "Run LinkedIn profiles (Apify) now" }));
    expect(await within(table).findByText(/Run queued/)).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/sources/{slug}/run")[0]?.params?.path).toEqual({ slug: "apify-linkedin" });
  });
});

describe("admin helpers", () => {
  it("offers the privacy actions a request's state allows", () => {
    const base = {
      id: "q1",
      regime: "gdpr" as const,
      received_at: "2026-12-01T00:00:00Z",
      acknowledge_by: null,
      due_at: "2026-12-31T00:00:00Z",
      extended: false,
      overdue: false,
      lead_ids: [],
      acknowledged_at: null,
      completed_at: null,
      rejection_reason: null,
      outcome: {},
      created_by: "user:admin",
      created_at: "2026-12-01T00:00:00Z",
    };
    expect(actionsFor({ ...base, type: "access", status: "received" })).toEqual(["acknowledge", "start", "extend", "reject"]);
    expect(actionsFor({ ...base, type: "access", status: "in_progress", extended: true })).toEqual(["export", "complete", "reject"]);
    expect(actionsFor({ ...base, type: "erasure", status: "in_progress" })).toEqual(["erase", "extend", "reject"]);
    expect(actionsFor({ ...base, type: "opt_out", status: "completed" })).toEqual([]);
  });

  it("words a deadline", () => {
    const now = new Date("2026-12-07T12:00:00Z");
    expect(deadlineText("2026-12-10T12:00:00Z", now)).toBe("in 3 days");
    expect(deadlineText("2026-12-07T20:00:00Z", now)).toBe("due within a day");
    expect(deadlineText("2026-12-05T11:00:00Z", now)).toBe("3 days late");
  });

  it("sends only the compliance settings that changed", () => {
    const saved = { ...COMPLIANCE_DEFAULTS };
    expect(complianceChanges({ ...saved }, saved)).toEqual({});
    expect(complianceChanges({ ...saved, window_end: "20:00", social_dm_enabled: true }, saved)).toEqual({
      window_end: "20:00",
      social_dm_enabled: true,
    });
    // Key order does not make a change.
    const [rule] = COMPLIANCE_DEFAULTS.state_rules;
    const reordered = Object.fromEntries(Object.entries(rule!).reverse()) as typeof rule;
    expect(complianceChanges({ ...saved, state_rules: [reordered!] }, saved)).toEqual({});
  });
});
