import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import {
  conditionsToApi,
  createBody,
  describeConditions,
  emptyConditions,
  emptyRule,
  ruleFromApi,
  updateBody,
} from "./ruleForm";
import { signalTypeLabel } from "./labels";

const rule: Schemas["RuleRead"] = {
  id: "r1",
  name: "Big balances back at work",
  rule_type: "custom",
  conditions: {
    signal_types: ["new_employment", "promotion"],
    min_intent_score: 70,
    balance_min: "5000.00",
    lead_statuses: ["new"],
    future_key: { kept: true },
  },
  channels: ["in_app", "email"],
  priority: "high",
  recipients: { to: "named", users: ["agent.chen"], teams: [] },
  team_id: "t-east",
  enabled: false,
  is_default: false,
  created_by: "user:manager",
  created_at: "2026-12-06T10:00:00Z",
  updated_at: "2026-12-06T10:00:00Z",
};

describe("the rule form", () => {
  it("leaves out every condition left empty", () => {
    expect(conditionsToApi(emptyConditions())).toEqual({});
    expect(conditionsToApi({ ...emptyConditions(), min_score: " 60 ", min_priority: "high", teams: ["North"] })).toEqual({
      min_score: 60,
      min_priority: "high",
      teams: ["North"],
    });
  });

  it("sends text that is not a number as it is, so the API names the field", () => {
    expect(conditionsToApi({ ...emptyConditions(), min_confidence: "abc" })).toEqual({ min_confidence: "abc" });
  });

  it("reads a rule (second-spec names, unknown keys kept) and writes it back", () => {
    const form = ruleFromApi(rule, "Recovery East");
    expect(form.conditions.min_score).toBe("70");
    expect(form.conditions.balance_min).toBe("5000.00");
    expect(form.recipients_to).toBe("named");
    expect(form.recipient_users).toEqual(["agent.chen"]);
    expect(form.extra).toEqual({ future_key: { kept: true } });
    const body = updateBody(form);
    expect(body).toEqual({
      rule_name: "Big balances back at work",
      rule_type: "custom",
      alert_channels: ["in_app", "email"],
      priority: "high",
      recipients: { to: "named", users: ["agent.chen"], teams: [] },
      enabled: false,
      conditions: {
        future_key: { kept: true },
        signal_types: ["new_employment", "promotion"],
        lead_statuses: ["new"],
        min_score: 70,
        balance_min: 5000,
      },
    });
    expect("team" in body).toBe(false); // a rule's team is set when it is made
  });

  it("makes a new rule for the owner with the signal's priority by default", () => {
    const body = createBody({ ...emptyRule(), name: "  All job losses ", team: "Recovery East" });
    expect(body).toMatchObject({
      rule_name: "All job losses",
      priority: null,
      recipients: { to: "owner" },
      alert_channels: ["in_app"],
      conditions: {},
      team: "Recovery East",
    });
  });

  it("describes conditions in words", () => {
    expect(describeConditions({}, signalTypeLabel)).toBe("Every signal");
    expect(describeConditions({ signal_types: ["job_loss"], min_score: 70, days_delinquent_min: 90 }, signalTypeLabel)).toBe(
      "Job loss · score ≥ 70 · 90–∞ days delinquent",
    );
  });
});
