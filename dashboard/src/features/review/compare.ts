// The side-by-side rows of a match under review: the profile's value next to the lead's, each row marked agreed or
// disagreed from the match's explanation (which holds how each field compared, never the values).
import type { Schemas } from "@/api/client";

export type Verdict = "agreed" | "disagreed" | null;

export interface CompareRow {
  label: string;
  profile: string | null;
  lead: string | null;
  verdict: Verdict;
  /** How the fields compared ("exact", "nickname", "other state"…), from the explanation. */
  how: string[];
}

/** Explanation fields behind each row (the linker's field names). */
const ROW_FIELDS: { label: string; fields: string[] }[] = [
  { label: "Name", fields: ["first_name", "last_name", "middle_name", "name"] },
  { label: "Location", fields: ["location", "city", "state", "country"] },
  { label: "Employer", fields: ["employers", "employer"] },
  { label: "Title", fields: ["title", "titles"] },
];

function verdictOf(fields: string[], agreed: Record<string, string>, disagreed: Record<string, string>) {
  const how: string[] = [];
  let against = false;
  let for_ = false;
  for (const field of fields) {
    if (field in disagreed) {
      against = true;
      how.push(`${field.replace(/_/g, " ")}: ${disagreed[field]}`);
    }
    if (field in agreed) {
      for_ = true;
      how.push(`${field.replace(/_/g, " ")}: ${agreed[field]}`);
    }
  }
  const verdict: Verdict = against ? "disagreed" : for_ ? "agreed" : null;
  return { verdict, how };
}

function join(...parts: (string | null | undefined)[]): string | null {
  const text = parts.filter((part) => part && part.trim()).join(", ");
  return text || null;
}

export function compareRows(match: Schemas["MatchRead"]): CompareRow[] {
  const values: Record<string, [string | null, string | null]> = {
    Name: [match.profile_name, match.lead_name],
    Location: [match.profile_location, join(match.lead_city, match.lead_state)],
    Employer: [match.profile_company ?? null, match.lead_employer],
    Title: [match.profile_title ?? match.profile_headline ?? null, match.lead_title ?? null],
  };
  return ROW_FIELDS.map(({ label, fields }) => {
    const [profile, lead] = values[label] ?? [null, null];
    return { label, profile, lead, ...verdictOf(fields, match.agreed, match.disagreed) };
  });
}

/** Explanation fields no row shows (e-mail, phone, LinkedIn id, schools…): listed under the table. */
export function otherFields(match: Schemas["MatchRead"]): { field: string; how: string; agrees: boolean }[] {
  const shown = new Set(ROW_FIELDS.flatMap((row) => row.fields));
  return [
    ...Object.entries(match.agreed).map(([field, how]) => ({ field, how, agrees: true })),
    ...Object.entries(match.disagreed).map(([field, how]) => ({ field, how, agrees: false })),
  ].filter((entry) => !shown.has(entry.field));
}
