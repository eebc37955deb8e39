// The alert rule editor's state and its translation to and from the API (no React here: unit-tested).
// Conditions: every key given must hold; an empty input leaves its key out (docs/alerts.md, "Conditions").
import type { Schemas } from "@/api/client";

export type RecipientsTo = "owner" | "manager" | "named";

export interface ConditionsForm {
  signal_types: string[];
  min_score: string;
  min_priority: string;
  min_confidence: string;
  portfolios: string[];
  teams: string[];
  assignees: string[];
  lead_statuses: string[];
  balance_min: string;
  balance_max: string;
  days_delinquent_min: string;
  days_delinquent_max: string;
  sources: string[];
  max_event_age_days: string;
}

export interface RuleForm {
  name: string;
  rule_type: Schemas["RuleType"];
  channels: string[];
  /** "" = the signal's own priority. */
  priority: "" | Schemas["Priority"];
  recipients_to: RecipientsTo;
  recipient_users: string[];
  recipient_teams: string[];
  enabled: boolean;
  /** Only when creating (admins: "" covers every team; managers: always their own). */
  team: string;
  conditions: ConditionsForm;
  /** Condition keys this editor has no input for, kept as they are. */
  extra: Record<string, unknown>;
}

const LIST_KEYS = ["signal_types", "portfolios", "teams", "assignees", "lead_statuses", "sources"] as const;
const NUMBER_KEYS = [
  "min_score",
  "min_confidence",
  "balance_min",
  "balance_max",
  "days_delinquent_min",
  "days_delinquent_max",
  "max_event_age_days",
] as const;
/** Every condition key the form has an input for (field errors arrive as `conditions.<key>`). */
export const CONDITION_KEYS: readonly string[] = [...LIST_KEYS, ...NUMBER_KEYS, "min_priority"];

export function emptyConditions(): ConditionsForm {
  return {
    signal_types: [],
    min_score: "",
    min_priority: "",
    min_confidence: "",
    portfolios: [],
    teams: [],
    assignees: [],
    lead_statuses: [],
    balance_min: "",
    balance_max: "",
    days_delinquent_min: "",
    days_delinquent_max: "",
    sources: [],
    max_event_age_days: "",
  };
}

export function emptyRule(): RuleForm {
  return {
    name: "",
    rule_type: "custom",
    channels: ["in_app"],
    priority: "",
    recipients_to: "owner",
    recipient_users: [],
    recipient_teams: [],
    enabled: true,
    team: "",
    conditions: emptyConditions(),
    extra: {},
  };
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function asText(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

export function conditionsFromApi(raw: Record<string, unknown>): { conditions: ConditionsForm; extra: Record<string, unknown> } {
  const conditions = emptyConditions();
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if ((LIST_KEYS as readonly string[]).includes(key)) conditions[key as (typeof LIST_KEYS)[number]] = asStrings(value);
    else if ((NUMBER_KEYS as readonly string[]).includes(key)) conditions[key as (typeof NUMBER_KEYS)[number]] = asText(value);
    else if (key === "min_priority") conditions.min_priority = asText(value);
    else if (key === "min_intent_score") conditions.min_score = asText(value); // the second spec's name
    else extra[key] = value;
  }
  return { conditions, extra };
}

export function ruleFromApi(rule: Schemas["RuleRead"], teamName: string): RuleForm {
  const recipients = rule.recipients as { to?: string; users?: unknown; teams?: unknown };
  const to = recipients.to === "manager" || recipients.to === "named" ? recipients.to : "owner";
  const { conditions, extra } = conditionsFromApi(rule.conditions);
  return {
    name: rule.name,
    rule_type: rule.rule_type as Schemas["RuleType"],
    channels: [...rule.channels],
    priority: (rule.priority ?? "") as RuleForm["priority"],
    recipients_to: to,
    recipient_users: asStrings(recipients.users),
    recipient_teams: asStrings(recipients.teams),
    enabled: rule.enabled,
    team: teamName,
    conditions,
    extra,
  };
}

/** A number input's text as a number; text that is not one goes as it is, so the API names the field. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== "" && Number.isFinite(value) ? value : trimmed;
}

export function conditionsToApi(form: ConditionsForm, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  for (const key of LIST_KEYS) if (form[key].length > 0) out[key] = [...form[key]];
  for (const key of NUMBER_KEYS) if (form[key].trim() !== "") out[key] = numberOrText(form[key]);
  if (form.min_priority) out.min_priority = form.min_priority;
  return out;
}

export function recipientsToApi(form: RuleForm): Record<string, unknown> {
  if (form.recipients_to !== "named") return { to: form.recipients_to };
  return { to: "named", users: [...form.recipient_users], teams: [...form.recipient_teams] };
}

export function createBody(form: RuleForm): Schemas["RuleCreate"] {
  return {
    rule_name: form.name.trim(),
    rule_type: form.rule_type,
    alert_channels: [...form.channels],
    priority: form.priority || null,
    recipients: recipientsToApi(form),
    enabled: form.enabled,
    conditions: conditionsToApi(form.conditions, form.extra),
    team: form.team || null,
  };
}

export function updateBody(form: RuleForm): Schemas["RuleUpdate"] {
  const { team: _team, ...body } = createBody(form);
  return body;
}

/** What the editor's messages are keyed by: the API's field names, normalised (lib/fieldErrors). */
export const RULE_FIELDS: readonly string[] = [
  "rule_name",
  "name",
  "rule_type",
  "alert_channels",
  "channels",
  "priority",
  "recipients",
  "recipients.to",
  "recipients.users",
  "recipients.teams",
  "enabled",
  "team",
  "conditions",
  ...CONDITION_KEYS.map((key) => `conditions.${key}`),
];

/** A summary of conditions in words, for the rules list: "Job loss · score ≥ 70 · team North". */
export function describeConditions(raw: Record<string, unknown>, typeLabel: (code: string) => string): string {
  const { conditions: c, extra } = conditionsFromApi(raw);
  const parts: string[] = [];
  if (c.signal_types.length) parts.push(c.signal_types.map(typeLabel).join(", "));
  if (c.min_score) parts.push(`score ≥ ${c.min_score}`);
  if (c.min_priority) parts.push(`priority ≥ ${c.min_priority}`);
  if (c.min_confidence) parts.push(`confidence ≥ ${c.min_confidence}`);
  if (c.portfolios.length) parts.push(`portfolio ${c.portfolios.join(", ")}`);
  if (c.teams.length) parts.push(`team ${c.teams.join(", ")}`);
  if (c.assignees.length) parts.push(`assignee ${c.assignees.join(", ")}`);
  if (c.lead_statuses.length) parts.push(`lead ${c.lead_statuses.join(", ")}`);
  if (c.balance_min || c.balance_max) parts.push(`balance ${c.balance_min || "0"}–${c.balance_max || "∞"}`);
  if (c.days_delinquent_min || c.days_delinquent_max)
    parts.push(`${c.days_delinquent_min || "0"}–${c.days_delinquent_max || "∞"} days delinquent`);
  if (c.sources.length) parts.push(`source ${c.sources.join(", ")}`);
  if (c.max_event_age_days) parts.push(`event ≤ ${c.max_event_age_days} days old`);
  parts.push(...Object.keys(extra));
  return parts.length ? parts.join(" · ") : "Every signal";
}
