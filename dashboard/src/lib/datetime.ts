// Times in the viewer's zone (the browser's, unless a test pins one), and a borrower's local time for the contact
// guard's answers. Intl only: no date library.

/** US zones as collectors say them (the API's guard phrases use the same words); elsewhere Intl's short name. */
const ZONE_LABELS: Record<string, string> = {
  "America/New_York": "ET",
  "America/Detroit": "ET",
  "America/Indiana/Indianapolis": "ET",
  "America/Kentucky/Louisville": "ET",
  "America/Chicago": "CT",
  "America/Denver": "MT",
  "America/Boise": "MT",
  "America/Phoenix": "MST",
  "America/Los_Angeles": "PT",
  "America/Anchorage": "AKT",
  "Pacific/Honolulu": "HT",
  "America/Puerto_Rico": "AT",
};

function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function zoneLabel(zone: string, at: string | Date = new Date()): string {
  const known = ZONE_LABELS[zone];
  if (known) return known;
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
      .formatToParts(toDate(at))
      .find((p) => p.type === "timeZoneName");
    return part?.value ?? zone;
  } catch {
    return zone;
  }
}

/** "6 Dec 2026, 14:20" in the viewer's zone (their locale's order and clock). */
export function formatDateTime(value: string | Date | null | undefined, zone?: string): string {
  if (!value) return "—";
  return new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
    ...(zone ? { timeZone: zone } : {}),
  }).format(toDate(value));
}

export function formatDate(value: string | Date | null | undefined, zone?: string): string {
  if (!value) return "—";
  // A bare date ("2026-12-06") is a calendar day, not midnight UTC: format it as that day anywhere.
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(
      new Date(`${value}T12:00:00Z`),
    );
  }
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", ...(zone ? { timeZone: zone } : {}) }).format(
    toDate(value),
  );
}

/** "8:00 AM" in a zone. */
export function formatClock(value: string | Date, zone?: string): string {
  return new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", ...(zone ? { timeZone: zone } : {}) })
    .format(toDate(value));
}

/** The calendar day of a moment in a zone, as YYYY-MM-DD (to tell "today" from "tomorrow" there). */
export function dayIn(value: string | Date, zone?: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    ...(zone ? { timeZone: zone } : {}),
  }).format(toDate(value));
}

/** "Mon 7 Dec" in a zone. */
export function formatDay(value: string | Date, zone?: string): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    ...(zone ? { timeZone: zone } : {}),
  }).format(toDate(value));
}

/** "3 min ago", "2 h ago", "yesterday"… (relative to `now`). */
export function formatAgo(value: string | Date, now: Date = new Date()): string {
  const seconds = Math.round((toDate(value).getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}
