// The API's itemised errors ({detail, errors: [{field, message}]}) keyed by the form field they name, so a form
// shows each message next to its input. Field names arrive as `body.rule_name`, `conditions.min_score`,
// `recipients.users[0]`, `body.items.3.text`: the location prefix and list indexes are dropped.
import { ApiError } from "@/api/client";

export type FieldErrors = Record<string, string[]>;

export interface FormErrors {
  /** Messages by normalised field name ("conditions.min_score", "rule_name"). */
  fields: FieldErrors;
  /** The error's sentence when no item names a field (a 403, a 409, a network failure). */
  general: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, general: null };

const LOCATIONS = new Set(["body", "query", "path", "header", "cookie"]);

/** "body.recipients.users[2]" → "recipients.users"; "body.items.3.text" → "items.text". */
export function normalizeField(field: string): string {
  const parts = field
    .replace(/\[\d+\]/g, "")
    .split(".")
    .filter((part) => part !== "" && !/^\d+$/.test(part));
  if (parts.length > 1 && LOCATIONS.has(parts[0] ?? "")) parts.shift();
  return parts.join(".");
}

function cleanMessage(message: string): string {
  // Pydantic's "Value error, balance_max is below balance_min" reads better without its prefix.
  return message.replace(/^(Value|Assertion) error, /, "");
}

export function formErrors(error: unknown): FormErrors {
  if (!error) return NO_ERRORS;
  const body = error instanceof ApiError ? error.body : null;
  const items = (body as { errors?: { field?: string | null; message?: string }[] } | null)?.errors ?? [];
  const fields: FieldErrors = {};
  let unnamed = false;
  for (const item of items) {
    if (!item.message) continue;
    if (!item.field) {
      unnamed = true;
      continue;
    }
    const key = normalizeField(item.field);
    (fields[key] ??= []).push(cleanMessage(item.message));
  }
  const named = Object.keys(fields).length > 0;
  const general = !named || unnamed ? (error instanceof Error ? error.message : "Something went wrong") : null;
  return { fields, general };
}

/** Messages for one field, and for fields under it when `nested` ("conditions" also takes "conditions.x"). */
export function messagesFor(errors: FormErrors, key: string, nested = false): string[] {
  if (!nested) return errors.fields[key] ?? [];
  return Object.entries(errors.fields)
    .filter(([field]) => field === key || field.startsWith(`${key}.`))
    .flatMap(([, messages]) => messages);
}

/** Messages whose field no input of the form shows (listed at the top of the form so none is lost). */
export function unclaimed(errors: FormErrors, known: readonly string[]): string[] {
  return Object.entries(errors.fields)
    .filter(([field]) => !known.includes(field))
    .map(([field, messages]) => `${field}: ${messages.join("; ")}`);
}
