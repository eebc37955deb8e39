import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { callsTo, renderAt, USERS, type FakeState } from "./testing";
import { RulesTab } from "./RulesTab";

const fake = vi.hoisted(() => ({ routes: {}, calls: [] }) as FakeState);
const auth = vi.hoisted(() => ({ user: null as unknown }));
vi.mock("@/api/client", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/api/client")>();
  const { fakeClient } = await import("./testing");
  return { ...actual, api: fakeClient(fake) };
});
vi.mock("@/auth/AuthProvider", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/auth/AuthProvider")>();
  return { ...actual, useUser: () => auth.user, useAuth: () => ({ user: auth.user, ready: true }) };
});

const OPTIONS = {
  signal_types: ["new_employment", "promotion", "job_loss"],
  lead_statuses: ["new", "contacted"],
  priorities: ["low", "medium", "high", "urgent"],
  portfolios: ["Card A"],
  teams: ["Recovery East", "Recovery West"],
  users: [{ username: "agent.chen", full_name: "Grace Chen", role: "agent", team: "Recovery East" }],
  sources: ["apify-linkedin"],
};

function dryRunBody(index = -1) {
  const calls = callsTo(fake, "POST", "/api/v1/alert-rules/dry-run");
  return calls.at(index)?.body as { conditions: Record<string, unknown>; last: number; team: string | null };
}

beforeEach(() => {
  fake.calls.length = 0;
  auth.user = USERS.manager;
  fake.routes = {
    "GET /api/v1/teams": { data: [{ id: "t-east", name: "Recovery East", created_at: "2026-12-01T00:00:00Z" }] },
    "GET /api/v1/alert-rules/options": { data: OPTIONS },
    "GET /api/v1/alert-rules": { data: [] },
    "POST /api/v1/alert-rules/dry-run": ({ body }) => {
      const conditions = (body as { conditions: Record<string, unknown> }).conditions;
      if (Number(conditions.min_score) > 100) {
        return {
          status: 422,
          error: {
            detail: "conditions: conditions.min_score: Input should be less than or equal to 100",
            errors: [{ field: "conditions.min_score", message: "Input should be less than or equal to 100" }],
          },
        };
      }
      const matched = conditions.min_score ? 3 : 10;
      return {
        data: {
          tested: 200,
          matched,
          matches: [
            { signal_id: "s1", lead_id: "l1", type: "promotion", score: 81, priority: "high", detected_at: "2026-12-06T10:00:00Z" },
          ],
        },
      };
    },
    "POST /api/v1/alert-rules": { status: 201, data: { id: "r-new" } },
  };
});

describe("the rule editor", { timeout: 20_000 }, () => {
  it("runs a live dry run as the conditions change, once per pause", async () => {
    renderAt(<RulesTab />, { url: "/alerts?tab=rules&rule=new" });
    const count = await screen.findByTestId("rule-dry-run-count");
    await waitFor(() => expect(count).toHaveTextContent("Would have matched 10 of the last 200 signals"));
    expect(dryRunBody()).toEqual({ conditions: {}, last: 200, team: "Recovery East" });

    await userEvent.type(screen.getByLabelText("Minimum score (0–100)"), "60");
    await waitFor(() => expect(count).toHaveTextContent("Would have matched 3 of the last 200 signals"));
    expect(dryRunBody().conditions).toEqual({ min_score: 60 });
    // "6" then "60" typed within the debounce: one request for both keystrokes.
    expect(callsTo(fake, "POST", "/api/v1/alert-rules/dry-run")).toHaveLength(2);

    await userEvent.click(screen.getByLabelText("Job loss"));
    await waitFor(() => expect(dryRunBody().conditions).toEqual({ min_score: 60, signal_types: ["job_loss"] }));
    expect(within(screen.getByRole("list", { name: "Signals it would have matched" })).getByRole("link")).toHaveAttribute(
      "href",
      "/leads/l1",
    );
  });

  it("shows the API's validation error next to the field it names", async () => {
    renderAt(<RulesTab />, { url: "/alerts?tab=rules&rule=new" });
    const score = await screen.findByLabelText("Minimum score (0–100)");
    fireEvent.change(score, { target: { value: "150" } });
    await waitFor(() => expect(score).toHaveAttribute("aria-invalid", "true"));
    const describedBy = score.getAttribute("aria-describedby") ?? "";
    expect(document.getElementById(describedBy)).toHaveTextContent("Input should be less than or equal to 100");
    expect(screen.getByTestId("rule-dry-run-count")).toHaveTextContent("Fix the conditions marked in the form");
  });

  it("saves the form as the API's rule and goes back to the list", async () => {
    renderAt(<RulesTab />, { url: "/alerts?tab=rules&rule=new" });
    const form = await screen.findByTestId("rule-form");
    await userEvent.type(within(form).getByLabelText("Name"), "Promotions for Grace");
    await userEvent.click(within(form).getByLabelText("E-mail"));
    await userEvent.click(within(form).getByLabelText("Named people or teams"));
    const people = within(form).getByLabelText("People (usernames)");
    await userEvent.type(people, "agent.chen{Enter}");
    await userEvent.click(within(form).getByLabelText("Promotion"));
    await userEvent.click(within(form).getByRole("button", { name: "Save rule" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/alert-rules")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/alert-rules")[0]?.body).toEqual({
      rule_name: "Promotions for Grace",
      rule_type: "custom",
      alert_channels: ["in_app", "email"],
      priority: null,
      recipients: { to: "named", users: ["agent.chen"], teams: [] },
      enabled: true,
      conditions: { signal_types: ["promotion"] },
      team: "Recovery East",
    });
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/alerts?tab=rules"));
  });

  it("puts a save's field errors next to the fields", async () => {
    fake.routes["POST /api/v1/alert-rules"] = {
      status: 422,
      error: {
        detail: "recipients.users[0]: no such name: 'nobody'",
        errors: [{ field: "recipients.users[0]", message: "no such name: 'nobody'" }],
      },
    };
    renderAt(<RulesTab />, { url: "/alerts?tab=rules&rule=new" });
    const form = await screen.findByTestId("rule-form");
    await userEvent.type(within(form).getByLabelText("Name"), "Typo");
    await userEvent.click(within(form).getByLabelText("Named people or teams"));
    await userEvent.type(within(form).getByLabelText("People (usernames)"), "nobody{Enter}");
    await userEvent.click(within(form).getByRole("button", { name: "Save rule" }));
    const people = within(form).getByLabelText("People (usernames)");
    await waitFor(() => expect(people).toHaveAttribute("aria-invalid", "true"));
    expect(document.getElementById(people.getAttribute("aria-describedby") ?? "")).toHaveTextContent(
      "no such name: 'nobody'",
    );
  });

  it("tells an agent that rules are their manager's", async () => {
    auth.user = USERS.agent;
    renderAt(<RulesTab />, { url: "/alerts?tab=rules" });
    expect(await screen.findByText("Alert rules are set by managers and administrators.")).toBeInTheDocument();
    expect(callsTo(fake, "GET", "/api/v1/alert-rules")).toHaveLength(0);
  });
});
