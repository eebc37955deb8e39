// Times for people: the viewer's own zone (the browser's, through Intl) for when things happened, and the
// borrower's zone, worded as the contact guard words it ("8:00 am CT"), next to contact-rule answers.

/** US zones as people say them (the API's compliance.phrases uses the same labels). */
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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let found = formatters.get(key);
  if (!found) {
    found = make();
    formatters.set(key, found);
  }
  return found;
}

function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "6 Dec 2026, 14:05" in the viewer's zone and locale. */
export function formatDateTime(value: string | Date): string {
  return formatter("dt", () => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })).format(
    toDate(value),
  );
}

/** A calendar date (YYYY-MM-DD, no zone) in the viewer's locale: "1 Mar 2026". */
export function formatDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return day;
  return formatter("day", () => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" })).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** "5 min ago", "3 h ago", "2 d ago" (relative to ``now``). */
export function timeAgo(value: string | Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - toDate(value).getTime()) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** The zone's label at that moment: "CT" for America/Chicago, else Intl's short name ("GMT+1"). */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  const known = ZONE_LABELS[zone];
  if (known) return known;
  try {
    const parts = formatter(`zn:${zone}`, () =>
      new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" }),
    ).formatToParts(at);
    return parts.find((part) => part.type === "timeZoneName")?.value ?? zone;
  } catch {
    return zone;
  }
}

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: string;
  monthName: string;
}

function zonedParts(at: Date, zone: string | undefined): ZonedParts {
  const parts = formatter(`zp:${zone ?? ""}`, () =>
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
      hourCycle: "h23",
      weekday: "short",
    }),
  ).formatToParts(at);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? "";
  const month = Number(get("month"));
  const monthName = formatter("mn", () => new Intl.DateTimeFormat("en-US", { month: "short", timeZone: "UTC" })).format(
    new Date(Date.UTC(2000, month - 1, 1)),
  );
  return {
    year: Number(get("year")),
    month,
    day: Number(get("day")),
    hour: Number(get("hour")) % 24,
    minute: Number(get("minute")),
    weekday: get("weekday"),
    monthName,
  };
}

/** "8:00 am" of a moment in a zone (the viewer's when ``zone`` is undefined). */
export function clock(at: Date, zone?: string): string {
  const { hour, minute } = zonedParts(at, zone);
  return `${hour % 12 || 12}:${String(minute).padStart(2, "0")} ${hour < 12 ? "am" : "pm"}`;
}

/** A moment in the borrower's zone as the guard says it: "8:00 am CT" today there, else "Tue 8 Dec 8:00 am CT".
 * Without a zone, the viewer's own (with Intl's label). */
export function zonedMoment(value: string | Date, zone: string | null | undefined, now: Date = new Date()): string {
  const at = toDate(value);
  const where = zone ?? undefined;
  const label = where ? zoneLabel(where, at) : (Intl.DateTimeFormat().resolvedOptions().timeZone ?? "");
  const then = zonedParts(at, where);
  const today = zonedParts(now, where);
  const time = `${clock(at, where)} ${where ? label : zoneLabel(label, at)}`.trim();
  if (then.year === today.year && then.month === today.month && then.day === today.day) return time;
  const day = `${then.weekday} ${then.day} ${then.monthName}`;
  return `${then.year === today.year ? day : `${day} ${then.year}`} ${time}`;
}

/** The borrower's local time now: "6:32 am CT" (null when their zone is unknown). */
export function localTimeIn(zone: string | null | undefined, now: Date = new Date()): string | null {
  if (!zone) return null;
  try {
    return `${clock(now, zone)} ${zoneLabel(zone, now)}`;
  } catch {
    return null;
  }
}
