// The digest preferences form: the values in force, what the user changed, and the PATCH that sets those (a field
// left alone keeps inheriting; "reset" sends null so it inherits again). No React here: unit-tested.
import type { Schemas } from "@/api/client";

export const DIGEST_FIELDS = [
  "frequency",
  "send_time",
  "weekly_day",
  "signal_types",
  "min_priority",
  "portfolios",
  "teams",
  "include_not_contactable",
  "format",
  "send_empty",
] as const;
export type DigestField = (typeof DIGEST_FIELDS)[number];

export interface DigestForm {
  frequency: Schemas["Frequency"];
  send_time: string;
  weekly_day: number;
  /** [] = every type (the API's null). */
  signal_types: string[];
  /** "" = any priority (the API's null). */
  min_priority: "" | Schemas["Priority"];
  portfolios: string[];
  teams: string[];
  include_not_contactable: boolean;
  format: Schemas["DigestFormat"];
  send_empty: boolean;
}

export function digestFromApi(effective: Schemas["Preferences"]): DigestForm {
  return {
    frequency: effective.frequency,
    send_time: effective.send_time,
    weekly_day: effective.weekly_day,
    signal_types: effective.signal_types ?? [],
    min_priority: effective.min_priority ?? "",
    portfolios: effective.portfolios ?? [],
    teams: effective.teams ?? [],
    include_not_contactable: effective.include_not_contactable,
    format: effective.format,
    send_empty: effective.send_empty,
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields whose value differs from what is in force now. */
export function changedFields(form: DigestForm, effective: Schemas["Preferences"]): DigestField[] {
  const current = digestFromApi(effective);
  return DIGEST_FIELDS.filter((field) => !same(form[field], current[field]));
}

/** The PATCH body for the changed fields. An emptied list or "any priority" goes as null: the field inherits again
 * (the team's default when it has one, else every type / portfolio / team and any priority). */
export function digestPatch(form: DigestForm, effective: Schemas["Preferences"]): Schemas["PreferencesUpdate"] {
  const body: Record<string, unknown> = {};
  for (const field of changedFields(form, effective)) {
    const value = form[field];
    if (Array.isArray(value)) body[field] = value.length ? value : null;
    else if (field === "min_priority") body[field] = value || null;
    else body[field] = value;
  }
  return body as Schemas["PreferencesUpdate"];
}

/** Where a field's value comes from, in words. */
export function sourceLabel(source: string | undefined): string {
  if (source === "user") return "Set by you";
  if (source === "team") return "Your team's default";
  return "Default";
}
