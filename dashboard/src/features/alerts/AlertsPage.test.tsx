import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import AlertsPage from "./AlertsPage";
import { callsTo, renderAt, USERS, type FakeState } from "./testing";

const fake = vi.hoisted(() => ({ routes: {}, calls: [] }) as FakeState);
const auth = vi.hoisted(() => ({ user: null as unknown }));
vi.mock("@/api/client", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/api/client")>();
  const { fakeClient } = await import("./testing");
  return { ...actual, api: fakeClient(fake) };
});
const sse = vi.hoisted(() => ({
  options: null as null | { onEvent: (event: { event: string; data: string }) => void; onStatus?: (open: boolean) => void },
}));
vi.mock("@/lib/sse", () => ({
  connectSse: (options: NonNullable<typeof sse.options>) => {
    sse.options = options;
    return { close: () => undefined, lastEventId: null, done: Promise.resolve() };
  },
}));
vi.mock("@/auth/AuthProvider", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/auth/AuthProvider")>();
  return { ...actual, useUser: () => auth.user, useAuth: () => ({ user: auth.user, ready: true }) };
});

function alert(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    user_id: "u-agent",
    lead_id: `lead-${id}`,
    lead_external_id: `BRW-${id}`,
    lead_name: `Borrower ${id}`,
    signal_id: `s-${id}`,
    signal_ids: [`s-${id}`],
    rule_id: "r1",
    kind: "signal",
    priority: "urgent",
    status: "unread",
    title: `New job ${id}`,
    actionable: true,
    guard: {
      call: { allowed: false, reasons: ["time_window"], next_allowed_at: "2026-12-07T14:00:00Z" },
      email: { allowed: true, reasons: [], next_allowed_at: null },
    },
    routed_by: "assignee",
    signal_count: 1,
    read_at: null,
    created_at: "2026-12-07T12:00:00Z",
    updated_at: "2026-12-07T12:00:00Z",
    lead_timezone: "America/Chicago",
    ...overrides,
  };
}

const SUMMARY = {
  unread: 2,
  total: 3,
  by_priority: { urgent: { unread: 2, read: 0 }, high: { unread: 0, read: 1 }, medium: { unread: 0, read: 0 }, low: { unread: 0, read: 0 } },
};

const PREFS = {
  user_id: "u-agent",
  effective: {
    frequency: "daily",
    send_time: "07:30",
    weekly_day: 0,
    signal_types: null,
    min_priority: null,
    portfolios: null,
    teams: null,
    include_not_contactable: true,
    format: "html",
    send_empty: false,
    timezone: "America/Chicago",
    sources: {
      frequency: "team",
      send_time: "user",
      weekly_day: "default",
      signal_types: "default",
      min_priority: "default",
      portfolios: "default",
      teams: "default",
      include_not_contactable: "default",
      format: "default",
      send_empty: "default",
    },
  },
  overrides: { send_time: "07:30" },
};

const read = new Set<string>();
const status = (id: string) => (read.has(id) ? "read" : "unread");

beforeEach(() => {
  fake.calls.length = 0;
  read.clear();
  auth.user = USERS.agent;
  // Only the clock: 8:00 AM in Chicago, so the 9:00 AM ET window opens later today.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-12-07T13:00:00Z"));
  fake.routes = {
    "GET /api/v1/alerts/summary": { data: SUMMARY },
    "GET /api/v1/alerts": ({ params }) =>
      params?.query?.cursor
        ? { data: { items: [alert("c", { status: "read", priority: "high" })], next_cursor: null } }
        : {
            data: {
              items: [
                alert("a", { status: status("a") }),
                alert("b", { actionable: false, guard: {}, kind: "restricted", status: status("b") }),
              ],
              next_cursor: "next",
            },
          },
    "POST /api/v1/alerts/{alert_id}/read": ({ params }) => {
      read.add(String(params?.path?.alert_id));
      return { data: alert(String(params?.path?.alert_id), { status: "read" }) };
    },
    "POST /api/v1/alerts/read-all": { data: { marked: 2 } },
    "GET /api/v1/teams": { data: [] },
    "GET /api/v1/digest/preferences": { data: PREFS },
    "PATCH /api/v1/digest/preferences": { data: PREFS },
    "GET /api/v1/digest/preview": {
      data: "<html><head></head><body><h1>Good morning</h1></body></html>",
      headers: { "X-Subject": "=?utf-8?q?2_new_signals_=E2=80=94_Upswing_digest?=" },
    },
  };
});

afterEach(() => vi.useRealTimers());

describe("the alerts page", { timeout: 20_000 }, () => {
  it("opens the tab the URL names", async () => {
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    expect(screen.getByRole("heading", { level: 1, name: "Alerts" })).toBeInTheDocument();
    expect(screen.getByRole("tab", { name: "Digest" })).toHaveAttribute("aria-selected", "true");
    expect(await screen.findByTestId("digest-prefs-form")).toBeInTheDocument();
    // Radix tabs switch on mousedown (a pointer press); the URL follows.
    fireEvent.mouseDown(screen.getByRole("tab", { name: "Inbox" }), { button: 0 });
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(/^\/alerts$/));
    expect(screen.getByRole("tab", { name: "Inbox" })).toHaveAttribute("aria-selected", "true");
  });

  it("lists the inbox with each lead, the guard's answer and the borrower's time", async () => {
    renderAt(<AlertsPage />, { url: "/alerts" });
    const items = await screen.findAllByTestId("alert-item");
    expect(items.map((item) => item.getAttribute("data-alert-id"))).toEqual(["a", "b"]);
    const first = items[0]!;
    expect(within(first).getByRole("link", { name: /Borrower a/ })).toHaveAttribute("href", "/leads/lead-a");
    expect(first).toHaveTextContent(/Call:\s*after/);
    expect(first).toHaveTextContent(/\(8:00\sAM CT borrower's time\)/);
    expect(first).toHaveTextContent(/E-mail:\s*now/);
    expect(items[1]).toHaveTextContent("Do not contact about this signal");
    expect(screen.getByTestId("alerts-summary")).toHaveTextContent("2 unread of 3");

    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByTestId("alert-item")).toHaveLength(3));
    expect(callsTo(fake, "GET", "/api/v1/alerts").at(-1)?.params?.query).toMatchObject({ cursor: "next" });
  });

  it("marks one alert read at once, and all of them", async () => {
    renderAt(<AlertsPage />, { url: "/alerts" });
    const [first] = await screen.findAllByTestId("alert-item");
    await userEvent.click(within(first!).getByRole("button", { name: "Mark read" }));
    await waitFor(() => expect(first).toHaveAttribute("data-status", "read"));
    expect(callsTo(fake, "POST", "/api/v1/alerts/{alert_id}/read")[0]?.params?.path).toEqual({ alert_id: "a" });

    await userEvent.click(screen.getByRole("button", { name: "Mark all read" }));
    expect(await screen.findByText("2 alerts marked read.")).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/alerts/read-all")).toHaveLength(1);
  });

  it("keeps the filters in the URL and asks the API for them", async () => {
    renderAt(<AlertsPage />, { url: "/alerts?priority=urgent" });
    await screen.findAllByTestId("alert-item");
    expect(callsTo(fake, "GET", "/api/v1/alerts")[0]?.params?.query).toMatchObject({ priority: "urgent" });
    await userEvent.selectOptions(screen.getByLabelText("Status"), "unread");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("status=unread"));
    await waitFor(() =>
      expect(callsTo(fake, "GET", "/api/v1/alerts").at(-1)?.params?.query).toMatchObject({ priority: "urgent", status: "unread" }),
    );
  });

  it("refreshes when the live stream says an alert arrived", async () => {
    renderAt(<AlertsPage />, { url: "/alerts" });
    await screen.findAllByTestId("alert-item");
    expect(screen.getByTestId("alerts-live")).toHaveTextContent("Checking every 10 s");
    act(() => sse.options?.onStatus?.(true));
    expect(screen.getByTestId("alerts-live")).toHaveTextContent("Live");
    const before = callsTo(fake, "GET", "/api/v1/alerts").length;
    const list = fake.routes["GET /api/v1/alerts"] as (call: unknown) => { data: { items: unknown[]; next_cursor: string | null } };
    fake.routes["GET /api/v1/alerts"] = (call) => {
      const page = list(call);
      return { data: { ...page.data, items: [alert("new", { title: "Promotion just in" }), ...page.data.items] } };
    };
    act(() => sse.options?.onEvent({ event: "alert.created", data: '{"id": "new"}' }));
    expect(await screen.findByText("Promotion just in")).toBeInTheDocument();
    expect(callsTo(fake, "GET", "/api/v1/alerts").length).toBeGreaterThan(before);
    expect(screen.getAllByTestId("alert-item")[0]).toHaveAttribute("data-alert-id", "new");
  });

  it("says so when there are no alerts", async () => {
    fake.routes["GET /api/v1/alerts"] = { data: { items: [], next_cursor: null } };
    renderAt(<AlertsPage />, { url: "/alerts" });
    expect(await screen.findByText("No alerts yet.")).toBeInTheDocument();
  });
});

describe("the digest tab", { timeout: 20_000 }, () => {
  it("shows where each value comes from and resets one to inherit", async () => {
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    const form = await screen.findByTestId("digest-prefs-form");
    const sendTime = form.querySelector('[data-field="send_time"]') as HTMLElement;
    expect(sendTime).toHaveTextContent("Set by you");
    expect(form.querySelector('[data-field="frequency"]')).toHaveTextContent("Your team's default");
    await userEvent.click(within(sendTime).getByRole("button", { name: "Reset Send at to inherit" }));
    await waitFor(() => expect(callsTo(fake, "PATCH", "/api/v1/digest/preferences")[0]?.body).toEqual({ send_time: null }));
  });

  it("saves only the changed preferences", async () => {
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    const form = await screen.findByTestId("digest-prefs-form");
    expect(within(form).getByRole("button", { name: "Save preferences" })).toBeDisabled();
    await userEvent.selectOptions(within(form).getByLabelText("How often"), "weekly");
    await userEvent.selectOptions(within(form).getByLabelText("Day of the week"), "Friday");
    await userEvent.click(within(form).getByRole("button", { name: "Save preferences" }));
    await waitFor(() =>
      expect(callsTo(fake, "PATCH", "/api/v1/digest/preferences")[0]?.body).toEqual({ frequency: "weekly", weekly_day: 4 }),
    );
  });

  it("shows a field's error from the API next to it", async () => {
    fake.routes["PATCH /api/v1/digest/preferences"] = {
      status: 422,
      error: { detail: "invalid", errors: [{ field: "portfolios[0]", message: "no such portfolio: 'Nope'" }] },
    };
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    const form = await screen.findByTestId("digest-prefs-form");
    const portfolios = within(form).getByLabelText("Only these portfolios (empty: all)");
    await userEvent.type(portfolios, "Nope{Enter}");
    await userEvent.click(within(form).getByRole("button", { name: "Save preferences" }));
    await waitFor(() => expect(portfolios).toHaveAttribute("aria-invalid", "true"));
    expect(document.getElementById(portfolios.getAttribute("aria-describedby") ?? "")).toHaveTextContent("no such portfolio");
  });

  it("previews the e-mail in a sandboxed frame with its decoded subject", async () => {
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    const frame = await screen.findByTestId("digest-preview-frame");
    const sandbox = frame.getAttribute("sandbox") ?? "missing";
    expect(sandbox).not.toMatch(/allow-scripts|allow-same-origin|missing/);
    expect(frame.getAttribute("srcdoc")).toContain('<head><base target="_blank"></head>');
    expect(frame.getAttribute("srcdoc")).toContain("Good morning");
    expect(screen.getByTestId("digest-preview-subject")).toHaveTextContent("2 new signals — Upswing digest");
    expect(callsTo(fake, "GET", "/api/v1/digest/preview")[0]?.params?.query).toEqual({ format: "html" });
  });

  it("offers to send again when today's digest went out already", async () => {
    let sends = 0;
    fake.routes["POST /api/v1/digest/send"] = () =>
      ++sends === 1
        ? { status: 409, error: { detail: "today's digest was made already; send with force to make another" } }
        : {
            status: 201,
            data: {
              id: "d1",
              user_id: "u-agent",
              local_date: "2026-12-07",
              timezone: "America/Chicago",
              forced: true,
              period_start: "2026-12-06T13:30:00Z",
              period_end: "2026-12-07T13:30:00Z",
              status: "queued",
              subject: "2 new signals",
              counts: {},
              delivery_id: "del1",
              created_at: "2026-12-07T14:00:00Z",
            },
          };
    renderAt(<AlertsPage />, { url: "/alerts?tab=digest" });
    await userEvent.click(await screen.findByRole("button", { name: "Send me today's digest now" }));
    await userEvent.click(await screen.findByRole("button", { name: "Send again" }));
    expect(await screen.findByText(/Queued for e-mail/)).toBeInTheDocument();
    expect(callsTo(fake, "POST", "/api/v1/digest/send").map((c) => c.body)).toEqual([{ force: false }, { force: true }]);
  });
});
