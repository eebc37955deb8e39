// Numbers, money and times as a person reads them. Times are shown in the viewer's zone (the browser's), and a
// borrower's local time in the lead's zone next to contact-rule answers. `timeZone` parameters exist for tests.

const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });
const whole = new Intl.NumberFormat();

export function formatMoney(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const number = typeof value === "number" ? value : Number(value);
  return Number.isFinite(number) ? money.format(number) : String(value);
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : whole.format(value);
}

export function formatDays(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${whole.format(value)} ${value === 1 ? "day" : "days"}`;
}

function parse(iso: string | Date): Date {
  return iso instanceof Date ? iso : new Date(iso);
}

/** "Dec 6, 2026, 2:15 PM" in the viewer's zone (or `timeZone`). */
export function formatDateTime(iso: string | Date | null | undefined, timeZone?: string): string {
  if (!iso) return "—";
  const date = parse(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

/** "2:15 PM" in the viewer's zone (or `timeZone`). */
export function formatTime(iso: string | Date, timeZone?: string): string {
  return new Intl.DateTimeFormat(undefined, { timeStyle: "short", timeZone }).format(parse(iso));
}

/** "Tue, Dec 8, 9:00 AM EST": a moment with its weekday and zone name, in `timeZone` (default: the viewer's). */
export function formatMoment(iso: string | Date, timeZone?: string): string {
  const date = parse(iso);
  try {
    return new Intl.DateTimeFormat(undefined, {
      weekday: "short",
      month: "short",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
      timeZoneName: "short",
      timeZone,
    }).format(date);
  } catch {
    // An unknown zone name (the lead's, from an import): say so rather than guess.
    return `${formatMoment(date)} (zone ${timeZone} unknown)`;
  }
}

/** Whether `timeZone` is a zone this browser knows. */
export function isKnownZone(timeZone: string | null | undefined): timeZone is string {
  if (!timeZone) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The calendar day of a moment in `timeZone` (default: the viewer's), as YYYY-MM-DD (sorts as text). */
export function dayKey(iso: string | Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone })
    .formatToParts(parse(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** "Today", "Yesterday" or "Friday, December 4, 2026" for a day key, relative to `now` in the same zone. */
export function dayLabel(key: string, now: Date = new Date(), timeZone?: string): string {
  const today = dayKey(now, timeZone);
  const yesterday = dayKey(new Date(now.getTime() - 86_400_000), timeZone);
  if (key === today) return "Today";
  if (key === yesterday) return "Yesterday";
  const [year, month, day] = key.split("-").map(Number);
  // Noon UTC of that date names the same calendar day in every zone.
  const noon = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1, 12));
  return new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeZone: "UTC" }).format(noon);
}

/** Items grouped by their day (viewer's zone), newest day first, newest item first within a day. */
export function groupByDay<T>(items: readonly T[], at: (item: T) => string, timeZone?: string): [string, T[]][] {
  const sorted = [...items].sort((a, b) => Date.parse(at(b)) - Date.parse(at(a)));
  const groups = new Map<string, T[]>();
  for (const item of sorted) {
    const key = dayKey(at(item), timeZone);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.entries()];
}

/** "67 %" from a probability. */
export function formatPercent(probability: number): string {
  return `${Math.round(probability * 100)} %`;
}

/** A field name as words: "first_name" → "First name". */
export function fieldLabel(name: string): string {
  const words = name.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
