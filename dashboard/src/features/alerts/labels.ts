// Words for the API's codes. The value lists mirror the OpenAPI enums (a value the enum loses fails the type check).
import type { Schemas } from "@/api/client";
import type { Option } from "@/components/formFields";

function options<T extends string>(labels: Record<T, string>): Option[] {
  return (Object.keys(labels) as T[]).map((value) => ({ value, label: labels[value] }));
}

export const SIGNAL_TYPE_LABELS: Record<Schemas["SignalType"], string> = {
  new_employment: "New job",
  promotion: "Promotion",
  certification: "Certification",
  license_renewal: "Licence renewal",
  award: "Award",
  business_launch: "Business launch",
  education: "Education",
  job_loss: "Job loss",
  intent_growth: "Intent: growth",
  intent_expansion: "Intent: expansion",
  intent_financial_distress: "Intent: financial distress",
  intent_loan_need: "Intent: loan need",
  intent_consulting_need: "Intent: consulting need",
  portal_engagement: "Portal engagement",
};
export const SIGNAL_TYPE_OPTIONS = options(SIGNAL_TYPE_LABELS);

export const LEAD_STATUS_LABELS: Record<Schemas["LeadStatus"], string> = {
  new: "New",
  contacted: "Contacted",
  promise: "Promise to pay",
  paying: "Paying",
  resolved: "Resolved",
  lost: "Lost",
};
export const LEAD_STATUS_OPTIONS = options(LEAD_STATUS_LABELS);

export const PRIORITY_LABELS: Record<Schemas["Priority"], string> = {
  urgent: "Urgent",
  high: "High",
  medium: "Medium",
  low: "Low",
};
/** Highest first, as people scan them. */
export const PRIORITIES: Schemas["Priority"][] = ["urgent", "high", "medium", "low"];

export const RULE_TYPE_LABELS: Record<Schemas["RuleType"], string> = {
  new_signal: "New signal",
  high_score: "High score",
  escalation: "Escalation",
  job_loss: "Job loss",
  custom: "Custom",
};

export const ALERT_CHANNEL_LABELS: Record<string, string> = { in_app: "In the app", email: "E-mail", webhook: "Webhook" };
export const ALERT_CHANNEL_OPTIONS: Option[] = Object.entries(ALERT_CHANNEL_LABELS).map(([value, label]) => ({
  value,
  label,
}));

export const KIND_LABELS: Record<string, string> = {
  signal: "Signal",
  restricted: "Restricted lead",
  escalation: "Escalation",
  system: "System",
};

export const GUARD_CHANNEL_LABELS: Record<string, string> = { call: "Call", sms: "Text", email: "E-mail" };

export const REASON_LABELS: Record<Schemas["Reason"], string> = {
  cease: "cease",
  attorney: "attorney",
  bankruptcy: "bankruptcy",
  deceased: "deceased",
  dispute: "dispute",
  opted_out: "opted out",
  no_tcpa_consent: "no TCPA consent",
  workplace: "workplace contact",
  public_social: "public social post",
  social_dm_disabled: "social DMs off",
  time_window: "outside calling hours",
  call_frequency_7in7: "7 calls in 7 days",
  after_conversation_7d: "spoke in the last 7 days",
  state_ma_2in7: "state limit (MA 2 in 7)",
};

export function reasonLabel(code: string): string {
  return (REASON_LABELS as Record<string, string>)[code] ?? code.replace(/_/g, " ");
}

export function signalTypeLabel(code: string): string {
  return (SIGNAL_TYPE_LABELS as Record<string, string>)[code] ?? code.replace(/_/g, " ");
}

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
