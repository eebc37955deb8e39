// The Analytics page's logic, kept pure for tests: the date range and team in the URL, the signals table pivoted
// for the chart (zero-filled days or weeks), and the labels and number formats of the tables.
import type { Schemas } from "@/api/client";

export type ReportName =
  | "signals"
  | "funnel"
  | "response-times"
  | "outcomes"
  | "model-quality"
  | "recovery"
  | "coverage"
  | "source-health";
export type Bucket = Schemas["AnalyticsBucket"];

export interface Reports {
  signals: Schemas["SignalsReport"];
  funnel: Schemas["FunnelReport"];
  "response-times": Schemas["ResponseTimesReport"];
  outcomes: Schemas["OutcomesReport"];
  "model-quality": Schemas["ModelQualityReport"];
  recovery: Schemas["RecoveryReport"];
  coverage: Schemas["CoverageReport"];
  "source-health": Schemas["SourceHealthReport"];
}

/** What every report is asked for (the API's query parameters). */
export interface ReportQuery {
  from: string;
  to: string;
  team?: string;
  bucket?: Bucket;
}

export const PRESETS = [7, 30, 90] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_PRESET: Preset = 30;
/** The API's limit on one range (inclusive days). */
export const MAX_RANGE_DAYS = 366;
/** Up to this many days the signals chart shows days, beyond it weeks (unless the URL says). */
export const DAILY_UP_TO_DAYS = 45;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A calendar day (YYYY-MM-DD) as a Date at midnight UTC, or null when it is no real day. */
export function parseDay(value: string | null | undefined): Date | null {
  if (!value || !ISO_DAY.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : date;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const date = parseDay(day);
  if (!date) throw new Error(`not a day: ${day}`);
  return isoDay(new Date(date.getTime() + days * DAY_MS));
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  const start = parseDay(from);
  const end = parseDay(to);
  if (!start || !end) return NaN;
  return Math.round((end.getTime() - start.getTime()) / DAY_MS) + 1;
}

/** Today as the API counts days (UTC). */
export function todayUtc(now: Date = new Date()): string {
  return isoDay(now);
}

export interface Range {
  from: string;
  to: string;
  /** The preset in use, or null for a range typed by hand. */
  preset: Preset | null;
  days: number;
}

/** Why a typed range cannot be used, or null when it can. */
export function rangeProblem(from: string, to: string): string | null {
  if (!parseDay(from) || !parseDay(to)) return "Enter both days.";
  const days = daysBetween(from, to);
  if (days < 1) return "The first day must be on or before the last.";
  if (days > MAX_RANGE_DAYS) return `A range covers at most ${MAX_RANGE_DAYS} days.`;
  return null;
}

/** The range the URL asks for: from/to when both are valid, else the last N days (?days=7|30|90, default 30). */
export function rangeFromParams(params: URLSearchParams, today: string): Range {
  const from = params.get("from");
  const to = params.get("to");
  if (from && to && rangeProblem(from, to) === null) {
    return { from, to, preset: null, days: daysBetween(from, to) };
  }
  const asked = Number(params.get("days"));
  const preset = (PRESETS as readonly number[]).includes(asked) ? (asked as Preset) : DEFAULT_PRESET;
  return { from: addDays(today, -(preset - 1)), to: today, preset, days: preset };
}

/** The URL's bucket, else days for short ranges and weeks for long ones. */
export function bucketFor(params: URLSearchParams, range: Range): Bucket {
  const asked = params.get("bucket");
  if (asked === "day" || asked === "week") return asked;
  return range.days <= DAILY_UP_TO_DAYS ? "day" : "week";
}

/** The Monday starting the week of a day (weeks start on Monday, as in the API). */
export function mondayOf(day: string): string {
  const date = parseDay(day);
  if (!date) throw new Error(`not a day: ${day}`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return addDays(day, -weekday);
}

/** Every bucket of the range, in order: each day, or the Monday of each week touching it. */
export function bucketsOf(from: string, to: string, bucket: Bucket): string[] {
  const out: string[] = [];
  const step = bucket === "week" ? 7 : 1;
  let day = bucket === "week" ? mondayOf(from) : from;
  while (day <= to && out.length < 400) {
    out.push(day);
    day = addDays(day, step);
  }
  return out;
}

export type SignalsBy = "type" | "source";
export const OTHER = "Other";
/** Series drawn in the signals chart; the rest are summed into "Other" (the CSV keeps every one). */
export const MAX_SERIES = 8;

export interface Pivot {
  /** Series keys, largest first ("Other" last when there is one). */
  series: string[];
  /** One entry per bucket: bucket, total, and a count per series (zero when none). */
  data: Array<{ bucket: string; total: number } & Record<string, number | string>>;
  total: number;
}

/** The signals report as a bucket × type (or source) grid for the stacked chart and its table. */
export function pivotSignals(
  rows: Schemas["SignalsRow"][],
  by: SignalsBy,
  from: string,
  to: string,
  bucket: Bucket,
): Pivot {
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(row[by], (totals.get(row[by]) ?? 0) + row.signals);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const kept = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const keptSet = new Set(kept);
  const series = ranked.length > kept.length ? [...kept, OTHER] : kept;
  const byBucket = new Map<string, Record<string, number>>();
  for (const day of bucketsOf(from, to, bucket)) byBucket.set(day, {});
  for (const row of rows) {
    const key = keptSet.has(row[by]) ? row[by] : OTHER;
    const cell = byBucket.get(row.bucket) ?? {};
    cell[key] = (cell[key] ?? 0) + row.signals;
    byBucket.set(row.bucket, cell);
  }
  const data = [...byBucket.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([day, cell]) => {
      const entry: { bucket: string; total: number } & Record<string, number | string> = { bucket: day, total: 0 };
      for (const key of series) {
        entry[key] = cell[key] ?? 0;
        entry.total += cell[key] ?? 0;
      }
      return entry;
    });
  return { series, data, total: data.reduce((sum, entry) => sum + entry.total, 0) };
}

export type TimesBy = "team" | "agent" | "priority";
/** Bars drawn in the response-times chart (the table lists every row). */
export const CHART_ROWS = 20;
type TimeRow = Schemas["ResponseTimeRow"];

/** The response-times rows the chart draws: per team or agent over all priorities, or the whole scope per
 * priority; only those somebody responded to (a bar needs a time). */
export function chartRowsFor(rows: TimeRow[], by: TimesBy): Array<TimeRow & { label: string }> {
  const picked =
    by === "priority"
      ? rows.filter((r) => r.group === "all" && r.priority !== "all").map((r) => ({ ...r, label: humanize(r.priority) }))
      : rows.filter((r) => r.group === by && r.priority === "all").map((r) => ({ ...r, label: r.name }));
  return picked.filter((r) => r.responded > 0).slice(0, CHART_ROWS);
}

// ------------------------------------------------------------------------------------------------
// Labels and formats
// ------------------------------------------------------------------------------------------------

const WORDS: Record<string, string> = {
  promise_to_pay: "Promise to pay",
  wrong_person: "Wrong person",
  no_response: "No response",
  crm_task: "CRM task",
  unknown: "Unknown source",
};

/** "new_employment" → "New employment", "intent_growth" → "Intent: growth". */
export function humanize(value: string): string {
  const known = WORDS[value];
  if (known) return known;
  if (value.startsWith("intent_")) return `Intent: ${value.slice(7).replace(/_/g, " ")}`;
  const words = value.replace(/[_-]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : value;
}

/** A source slug reads as typed ("apify-linkedin"), except the placeholder for none. */
export function seriesLabel(by: SignalsBy, key: string): string {
  if (key === OTHER) return OTHER;
  return by === "type" ? humanize(key) : key === "unknown" ? WORDS.unknown! : key;
}

const counts = new Intl.NumberFormat(undefined);
const percents = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  return counts.format(value);
}

export function formatRate(value: number): string {
  return percents.format(value);
}

/** 0.5 → "30 s", 45 → "45 min", 81 → "1 h 21 min", 1500 → "1 d 1 h"; null → "—". */
export function formatMinutes(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value < 1) return `${Math.round(value * 60)} s`;
  if (value < 60) return `${Math.round(value)} min`;
  const minutes = Math.round(value);
  if (minutes < 1440) {
    const rest = minutes % 60;
    return rest ? `${Math.floor(minutes / 60)} h ${rest} min` : `${minutes / 60} h`;
  }
  const hours = Math.round(minutes / 60);
  const restHours = hours % 24;
  return restHours ? `${Math.floor(hours / 24)} d ${restHours} h` : `${hours / 24} d`;
}

/** A calendar day in the viewer's locale ("6 Dec" or "Dec 6"), as the day it is (not shifted by their zone). */
export function formatDay(day: string, withYear = false): string {
  const date = parseDay(day);
  if (!date) return day;
  return new Intl.DateTimeFormat(undefined, {
    day: "numeric",
    month: "short",
    ...(withYear ? { year: "numeric" } : {}),
    timeZone: "UTC",
  }).format(date);
}

export function formatRange(from: string, to: string): string {
  return `${formatDay(from, true)} – ${formatDay(to, true)}`;
}

/** The query for the API: the range, the team when one is chosen, the bucket for the signals report. */
export function reportQuery(range: Range, team: string | null, bucket?: Bucket): ReportQuery {
  return { from: range.from, to: range.to, ...(team ? { team } : {}), ...(bucket ? { bucket } : {}) };
}

/** Dollars, whole (a recovery figure: cents would be noise at this scale). */
export function formatMoney(value: number): string {
  return value.toLocaleString("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
}

/** Hours as "5 h" or "3.2 days"; "—" when unknown. */
export function formatHours(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value < 48) return `${Math.round(value)} h`;
  return `${(value / 24).toFixed(1)} days`;
}
