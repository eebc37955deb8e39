import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { callsTo, renderAt, USERS, type FakeState } from "@/features/alerts/testing";
import AdminPage from "./AdminPage";
import { crmCreateBody, EMPTY_CRM_FORM, normalizePem } from "./CrmSection";

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

const HUBSPOT = {
  id: "c-hub",
  name: "HubSpot main",
  system: "hubspot",
  status: "error",
  last_error: "HTTP 401: the private app token was revoked",
  last_push_at: "2026-12-07T11:00:00Z",
  last_pull_at: null,
  paused_until: null,
  calls_today: 120,
  daily_budget: 10000,
  pushes: { pending: 3, sent: 40, failed: 1 },
  open_conflicts: 2,
};
const SALESFORCE = {
  ...HUBSPOT,
  id: "c-sf",
  name: "Salesforce EU",
  system: "salesforce",
  status: "active",
  last_error: null,
  pushes: { pending: 0, sent: 7, failed: 0 },
  open_conflicts: 0,
};
const CONFLICT = {
  id: "x1",
  lead_id: "lead-9",
  field: "status",
  upswing_value: "contacted",
  crm_value: "Working",
  upswing_changed_at: "2026-12-07T10:00:00Z",
  crm_changed_at: "2026-12-07T10:05:00Z",
  winner: "crm",
  created_at: "2026-12-07T10:06:00Z",
};
const queued = (task: string, run: string) => ({
  status: 202,
  data: { connection_id: "c-hub", task, task_run_id: run },
});

beforeEach(() => {
  fake.calls.length = 0;
  auth.user = USERS.admin;
  fake.routes = {
    "GET /api/v1/crm/connections": { data: [HUBSPOT, SALESFORCE] },
    "GET /api/v1/crm/connections/{connection_id}/conflicts": { data: [CONFLICT] },
    "POST /api/v1/crm/connections/{connection_id}/sync": queued("crm.sync", "run-sync-1"),
    "POST /api/v1/crm/connections/{connection_id}/reconcile": queued("crm.reconcile", "run-rec-1"),
    "POST /api/v1/crm/connections/{connection_id}/connect": queued("crm.connect", "run-con-1"),
    "POST /api/v1/crm/connections/{connection_id}/disconnect": { data: { ...HUBSPOT, status: "disconnected" } },
    "POST /api/v1/crm/connections": ({ body }) => ({
      status: 201,
      data: { ...SALESFORCE, id: "c-new", name: (body as { name: string }).name, system: (body as { system: string }).system },
    }),
  };
});

const open = () => renderAt(<AdminPage />, { url: "/admin/crm", path: "/admin/*" });
const row = async (name: string) =>
  (await screen.findAllByTestId("admin-crm-row")).find((r) => r.getAttribute("data-name") === name)!;

describe("the CRM connections section", { timeout: 20_000 }, () => {
  it("is in the admin navigation", async () => {
    open();
    const nav = screen.getByRole("navigation", { name: "Admin sections" });
    expect(within(nav).getByRole("link", { name: "CRM" })).toHaveAttribute("href", "/admin/crm");
    expect(await screen.findByRole("heading", { name: "CRM connections" })).toBeInTheDocument();
  });

  it("lists each connection's state, last sync, API budget, pushes and conflicts", async () => {
    open();
    const table = await screen.findByTestId("admin-crm-table");
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    const hub = await row("HubSpot main");
    expect(hub).toHaveTextContent("HubSpot");
    expect(hub).toHaveTextContent("Needs attention");
    expect(hub).toHaveTextContent("HTTP 401: the private app token was revoked");
    expect(hub).toHaveTextContent("120 / 10,000");
    expect(hub).toHaveTextContent("3 waiting");
    expect(hub).toHaveTextContent("1 failed");
    expect(hub).toHaveTextContent("pulled never");
    expect(within(hub).getByRole("meter", { name: "API calls of HubSpot main used today" })).toHaveAttribute("value", "120");
    const sf = await row("Salesforce EU");
    expect(sf).toHaveTextContent("Salesforce");
    expect(sf).toHaveTextContent("Active");
    expect(sf).not.toHaveTextContent("failed");
  });

  it("queues a sync and a reconcile and says so, with the task run", async () => {
    open();
    const hub = await row("HubSpot main");
    await userEvent.click(within(hub).getByRole("button", { name: "Sync HubSpot main now" }));
    expect(await within(hub).findByText("Sync queued (task run run-sync-1).")).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/sync")[0]?.params?.path).toEqual({ connection_id: "c-hub" });
    await userEvent.click(within(hub).getByRole("button", { name: "Reconcile HubSpot main" }));
    expect(await within(hub).findByText("Reconcile queued (task run run-rec-1).")).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/reconcile")).toHaveLength(1);
  });

  it("shows why a sync could not be queued", async () => {
    fake.routes["POST /api/v1/crm/connections/{connection_id}/sync"] = { status: 404, error: { detail: "no CRM connection c-hub" } };
    open();
    const hub = await row("HubSpot main");
    await userEvent.click(within(hub).getByRole("button", { name: "Sync HubSpot main now" }));
    expect(await within(hub).findByRole("alert")).toHaveTextContent("Sync failed: no CRM connection c-hub");
  });

  it("disconnects only once confirmed", async () => {
    open();
    const hub = await row("HubSpot main");
    await userEvent.click(within(hub).getByRole("button", { name: "Disconnect HubSpot main" }));
    let dialog = await screen.findByRole("dialog", { name: "Disconnect HubSpot main?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/disconnect")).toHaveLength(0);

    await userEvent.click(within(hub).getByRole("button", { name: "Disconnect HubSpot main" }));
    dialog = await screen.findByRole("dialog", { name: "Disconnect HubSpot main?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Disconnect" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/disconnect")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/disconnect")[0]?.params?.path).toEqual({ connection_id: "c-hub" });
    expect(await within(hub).findByText(/Disconnected: nothing more is sent/)).toBeInTheDocument();
  });

  it("lists a connection's open conflicts", async () => {
    open();
    const hub = await row("HubSpot main");
    const toggle = within(hub).getByRole("button", { name: "Conflicts of HubSpot main" });
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    const table = await screen.findByTestId("admin-crm-conflicts-table");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Found",
      "Lead",
      "Field",
      "Upswing value",
      "HubSpot value",
      "Kept",
    ]);
    const cells = within(table).getAllByRole("row")[1]!;
    expect(cells).toHaveTextContent("status");
    expect(cells).toHaveTextContent("contacted");
    expect(cells).toHaveTextContent("Working");
    expect(cells).toHaveTextContent("HubSpot's value");
    expect(within(cells).getByRole("link", { name: "Open lead" })).toHaveAttribute("href", "/leads/lead-9");
    expect(callsTo(fake, "GET", "/api/v1/crm/connections/{connection_id}/conflicts")[0]?.params?.path).toEqual({ connection_id: "c-hub" });
    await userEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("admin-crm-conflicts")).not.toBeInTheDocument();
  });

  it("adds a HubSpot connection, never showing the token again, and queues its connect", async () => {
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    const form = await screen.findByTestId("admin-crm-form");
    expect(within(form).getByLabelText("CRM")).toHaveValue("hubspot");
    await userEvent.type(within(form).getByLabelText("Name"), "HubSpot collections");
    const token = within(form).getByLabelText("Access token");
    expect(token).toHaveAttribute("type", "password");
    expect(within(form).getByLabelText("App client secret (optional)")).toHaveAttribute("type", "password");
    await userEvent.type(token, "pat-na1-secret");
    await userEvent.click(within(form).getByRole("button", { name: "Add connection" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/crm/connections")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/crm/connections")[0]?.body).toEqual({
      system: "hubspot",
      name: "HubSpot collections",
      daily_budget: 10000,
      config: { access_token: "pat-na1-secret" },
    });
    expect(await screen.findByText("Connection HubSpot collections added. Connect queued (task run run-con-1).")).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/connect")[0]?.params?.path).toEqual({ connection_id: "c-new" });
    expect(screen.queryByTestId("admin-crm-form")).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain("pat-na1-secret");
  });

  it("adds a Salesforce JWT connection without connecting it", async () => {
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    const form = await screen.findByTestId("admin-crm-form");
    await userEvent.selectOptions(within(form).getByLabelText("CRM"), "salesforce");
    await userEvent.type(within(form).getByLabelText("Name"), "Salesforce");
    await userEvent.click(within(form).getByRole("radio", { name: /JWT bearer/ }));
    await userEvent.type(within(form).getByLabelText("Consumer key"), "3MVG9");
    await userEvent.type(within(form).getByLabelText("Integration user's username"), "upswing@acme.com");
    const key = within(form).getByLabelText("Private key (PEM)");
    expect(key).toHaveAttribute("type", "password");
    await userEvent.type(key, "-----BEGIN PRIVATE KEY-----MIIB-----END PRIVATE KEY-----");
    const budget = within(form).getByLabelText("API calls allowed per day (UTC)");
    await userEvent.clear(budget);
    await userEvent.type(budget, "5000");
    await userEvent.click(within(form).getByRole("checkbox", { name: /Connect now/ }));
    await userEvent.click(within(form).getByRole("button", { name: "Add connection" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/crm/connections")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/crm/connections")[0]?.body).toEqual({
      system: "salesforce",
      name: "Salesforce",
      daily_budget: 5000,
      config: {
        auth: "jwt_bearer",
        client_id: "3MVG9",
        username: "upswing@acme.com",
        private_key: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
      },
    });
    expect(await screen.findByText(/Connection Salesforce added\. Connect it to check the credentials/)).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/crm/connections/{connection_id}/connect")).toHaveLength(0);
  });

  it("names the missing fields before sending anything", async () => {
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    const form = await screen.findByTestId("admin-crm-form");
    await userEvent.click(within(form).getByRole("button", { name: "Add connection" }));
    for (const label of ["Name", "Access token"]) {
      const input = within(form).getByLabelText(label);
      expect(input).toHaveAttribute("aria-invalid", "true");
      expect(input.getAttribute("aria-describedby")?.split(" ").map((id) => document.getElementById(id)?.textContent)).toContain("Required");
    }
    expect(callsTo(fake, "POST", "/api/v1/crm/connections")).toHaveLength(0);
  });

  it("shows the API's 422 field errors next to the form's fields", async () => {
    fake.routes["POST /api/v1/crm/connections"] = {
      status: 422,
      error: {
        detail: "a connection named 'HubSpot main' exists",
        errors: [
          { row: null, field: "name", message: "already used" },
          { row: null, field: "body.config.access_token", message: "Value error, not a HubSpot token" },
          { row: null, field: "body.owner_map", message: "unknown user" },
        ],
      },
    };
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    const form = await screen.findByTestId("admin-crm-form");
    await userEvent.type(within(form).getByLabelText("Name"), "HubSpot main");
    await userEvent.type(within(form).getByLabelText("Access token"), "x");
    await userEvent.click(within(form).getByRole("button", { name: "Add connection" }));
    const name = within(form).getByLabelText("Name");
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(name.getAttribute("aria-describedby")?.split(" ").map((id) => document.getElementById(id)?.textContent)).toContain("already used");
    const token = within(form).getByLabelText("Access token");
    expect(token).toHaveAttribute("aria-invalid", "true");
    expect(form).toHaveTextContent("not a HubSpot token");
    // A field the form has no input for is listed at its top, not dropped.
    expect(within(form).getAllByRole("alert")[0]).toHaveTextContent("owner_map: unknown user");
    expect(screen.queryByText(/added/)).not.toBeInTheDocument();
  });
});

describe("CRM form helpers", () => {
  it("puts a pasted PEM's line breaks back", () => {
    const body = "A".repeat(70);
    expect(normalizePem(`-----BEGIN PRIVATE KEY-----${body}-----END PRIVATE KEY-----`)).toBe(
      `-----BEGIN PRIVATE KEY-----\n${"A".repeat(64)}\nAAAAAA\n-----END PRIVATE KEY-----\n`,
    );
    expect(normalizePem("not a key")).toBe("not a key");
  });

  it("sends only the chosen sign-in's settings", () => {
    const { body, missing } = crmCreateBody({
      ...EMPTY_CRM_FORM,
      name: " HubSpot ",
      hubspot_auth: "oauth",
      client_id: "id",
      client_secret: "s",
      refresh_token: "r",
      access_token: "left over",
      base_url: "https://api.hubapi.example",
    });
    expect(missing).toEqual({});
    expect(body).toEqual({
      system: "hubspot",
      name: "HubSpot",
      daily_budget: 10000,
      config: { base_url: "https://api.hubapi.example", client_id: "id", client_secret: "s", refresh_token: "r" },
    });
    expect(crmCreateBody({ ...EMPTY_CRM_FORM, system: "salesforce", daily_budget: "0" }).missing).toEqual({
      name: ["Required"],
      daily_budget: ["A whole number from 1 to 10,000,000"],
      "config.login_url": ["Required"],
      "config.client_id": ["Required"],
      "config.client_secret": ["Required"],
    });
  });
});
