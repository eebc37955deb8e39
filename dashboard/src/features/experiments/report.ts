// An experiment's report (GET /api/v1/experiments/{id}/report, JSON). The OpenAPI document types that answer as
// `unknown` (the same route also gives CSV and PDF), so its shape is written out here from the Python that builds
// it — src/upswing/experiment/report.py `as_json` (the `experiment` header) and src/upswing/experiment/analysis.py
// `analysis_json` (everything else) — and every field is read defensively: a missing or mistyped value becomes
// null (shown as "—"), never a crash.

export type Arm = "control" | "treatment";
/** A 95% interval; either bound null where the statistics leave it undefined. */
export type Interval = [number | null, number | null];

export interface SurvivalCurve {
  n: number;
  events: number;
  /** Days at which a first payment happened, ascending. */
  times: number[];
  /** Kaplan–Meier share of the arm's leads not yet paid just after each time. */
  survival: number[];
  at_risk: number[];
  /** The longest any lead of the arm was observed: the curve runs flat up to here. */
  max_days: number | null;
}

export interface Conversion {
  control_n: number;
  treatment_n: number;
  control_converted: number;
  treatment_converted: number;
  control_rate: number | null;
  treatment_rate: number | null;
  /** treatment − control, as a share (0.0786 = 7.86 percentage points). */
  difference: number | null;
  difference_ci: Interval;
  /** treatment / control − 1. */
  relative_lift: number | null;
  relative_lift_ci: Interval;
  p_value: number | null;
  alpha: number | null;
}

export interface Recovered {
  control_n: number;
  treatment_n: number;
  control_mean: number | null;
  treatment_mean: number | null;
  difference: number | null;
  difference_ci: Interval;
  confidence_level: number | null;
  resamples: number | null;
  method: string | null;
}

export interface TimeToPayment {
  control_median_days: number | null;
  treatment_median_days: number | null;
  logrank_statistic: number | null;
  logrank_p_value: number | null;
  control: SurvivalCurve | null;
  treatment: SurvivalCurve | null;
}

export interface Block {
  block: "itt" | "per_protocol";
  label: string;
  significant: boolean;
  alpha_used: number | null;
  notes: string[];
  in_followup: { control: number; treatment: number };
  conversion: Conversion;
  recovered: Recovered;
  time_to_payment: TimeToPayment;
}

export interface Section {
  /** "all", or a signal type. */
  section: string;
  leads: number;
  still_in_followup: number;
  notes: string[];
  itt: Block;
  per_protocol: Block;
}

export interface Stratum {
  stratum: string;
  control_n: number;
  treatment_n: number;
  control_share: number | null;
}

export interface ExperimentReport {
  experiment: { id: string; name: string; status: string; as_of: string | null };
  leads: number;
  conversion_days: number | null;
  information_fraction: number | null;
  previous_looks: number[];
  alpha: number | null;
  alpha_used: number | null;
  interim: boolean;
  significance_rule: string;
  horizon_statement: string;
  notes: string[];
  strata: Stratum[];
  /** sections[0] is "all" (every lead); its ITT block is the headline. */
  sections: Section[];
}

export const ALL_SECTION = "all";

// ---- defensive readers ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function count(value: unknown): number {
  return num(value) ?? 0;
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.map(num).filter((item): item is number => item !== null) : [];
}

function interval(value: unknown): Interval {
  return Array.isArray(value) ? [num(value[0]), num(value[1])] : [null, null];
}

function curve(value: unknown): SurvivalCurve | null {
  if (!value || typeof value !== "object") return null;
  const raw = obj(value);
  const times = numbers(raw.times);
  const survival = numbers(raw.survival);
  const length = Math.min(times.length, survival.length); // a curve is pairs: drop an unpaired tail
  return {
    n: count(raw.n),
    events: count(raw.events),
    times: times.slice(0, length),
    survival: survival.slice(0, length),
    at_risk: numbers(raw.at_risk).slice(0, length),
    max_days: num(raw.max_days),
  };
}

function block(value: unknown, kind: Block["block"]): Block {
  const raw = obj(value);
  const conversion = obj(raw.conversion);
  const recovered = obj(raw.recovered);
  const survival = obj(raw.time_to_payment);
  const followup = obj(raw.in_followup);
  return {
    block: kind,
    label: str(raw.label, kind === "itt" ? "Intention to treat" : "Per protocol"),
    significant: raw.significant === true,
    alpha_used: num(raw.alpha_used),
    notes: strings(raw.notes),
    in_followup: { control: count(followup.control), treatment: count(followup.treatment) },
    conversion: {
      control_n: count(conversion.control_n),
      treatment_n: count(conversion.treatment_n),
      control_converted: count(conversion.control_converted),
      treatment_converted: count(conversion.treatment_converted),
      control_rate: num(conversion.control_rate),
      treatment_rate: num(conversion.treatment_rate),
      difference: num(conversion.difference),
      difference_ci: interval(conversion.difference_ci),
      relative_lift: num(conversion.relative_lift),
      relative_lift_ci: interval(conversion.relative_lift_ci),
      p_value: num(conversion.p_value),
      alpha: num(conversion.alpha),
    },
    recovered: {
      control_n: count(recovered.control_n),
      treatment_n: count(recovered.treatment_n),
      control_mean: num(recovered.control_mean),
      treatment_mean: num(recovered.treatment_mean),
      difference: num(recovered.difference),
      difference_ci: interval(recovered.difference_ci),
      confidence_level: num(recovered.confidence_level),
      resamples: num(recovered.resamples),
      method: typeof recovered.method === "string" ? recovered.method : null,
    },
    time_to_payment: {
      control_median_days: num(survival.control_median_days),
      treatment_median_days: num(survival.treatment_median_days),
      logrank_statistic: num(survival.logrank_statistic),
      logrank_p_value: num(survival.logrank_p_value),
      control: curve(survival.control),
      treatment: curve(survival.treatment),
    },
  };
}

/** The report as the API sent it, read field by field. Throws only when the answer is not an object at all. */
export function parseReport(value: unknown): ExperimentReport {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("The report could not be read (the answer was not a JSON object).");
  }
  const raw = value as Json;
  const experiment = obj(raw.experiment);
  const sections = Array.isArray(raw.sections) ? raw.sections : [];
  return {
    experiment: {
      id: str(experiment.id),
      name: str(experiment.name),
      status: str(experiment.status),
      as_of: typeof experiment.as_of === "string" ? experiment.as_of : null,
    },
    leads: count(raw.leads),
    conversion_days: num(raw.conversion_days),
    information_fraction: num(raw.information_fraction),
    previous_looks: numbers(raw.previous_looks),
    alpha: num(raw.alpha),
    alpha_used: num(raw.alpha_used),
    interim: raw.interim === true,
    significance_rule: str(raw.significance_rule),
    horizon_statement: str(raw.horizon_statement),
    notes: strings(raw.notes),
    strata: (Array.isArray(raw.strata) ? raw.strata : []).map((item) => {
      const stratum = obj(item);
      return {
        stratum: str(stratum.stratum, "—"),
        control_n: count(stratum.control_n),
        treatment_n: count(stratum.treatment_n),
        control_share: num(stratum.control_share),
      };
    }),
    sections: sections.map((item) => {
      const section = obj(item);
      return {
        section: str(section.section, "?"),
        leads: count(section.leads),
        still_in_followup: count(section.still_in_followup),
        notes: strings(section.notes),
        itt: block(section.itt, "itt"),
        per_protocol: block(section.per_protocol, "per_protocol"),
      };
    }),
  };
}

/** The overall section (every lead), whose ITT block is the headline; null before anything was assigned. */
export function overallSection(report: ExperimentReport): Section | null {
  return report.sections.find((section) => section.section === ALL_SECTION) ?? report.sections[0] ?? null;
}

// ---- numbers as a person reads them -----------------------------------------------------------------------------

const DASH = "—";
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const whole = new Intl.NumberFormat("en-US");

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : whole.format(value);
}

/** A rate (0.1595) as "15.95%". */
export function formatRate(value: number | null): string {
  return value === null ? DASH : `${(value * 100).toFixed(2)}%`;
}

function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return text;
  return `${value < 0 ? "−" : "+"}${text}`;
}

/** A difference of rates (0.0786) as "+7.86 pts" (percentage points). */
export function formatPoints(value: number | null): string {
  return value === null ? DASH : `${signed(value * 100, 2)} pts`;
}

/** A relative lift (0.9718) as "+97.2%". */
export function formatLift(value: number | null): string {
  return value === null ? DASH : `${signed(value * 100, 1)}%`;
}

export function formatMoney(value: number | null): string {
  if (value === null) return DASH;
  const text = money.format(Math.abs(value));
  return value < 0 ? `−${text}` : text;
}

export function formatSignedMoney(value: number | null): string {
  if (value === null) return DASH;
  return value > 0 ? `+${money.format(value)}` : formatMoney(value);
}

/** "+1.29 to +12.90 pts", or "—" when the interval is undefined. */
export function formatInterval(ci: Interval, format: (value: number | null) => string): string {
  const [low, high] = ci;
  if (low === null || high === null) return DASH;
  return `${format(low)} to ${format(high)}`;
}

/** A p-value with three significant digits ("0.0209"), "< 0.0001" below that. */
export function formatP(value: number | null): string {
  if (value === null) return DASH;
  if (value < 0.0001) return "< 0.0001";
  return String(Number(value.toPrecision(3)));
}

/** A significance threshold (alpha spent so far): "0.0128", and tiny early-look ones as "1.56e-85". */
export function formatThreshold(value: number | null): string {
  if (value === null) return DASH;
  return String(Number(value.toPrecision(3)));
}

export function formatDaysValue(value: number | null, notReached = "not reached"): string {
  if (value === null) return notReached;
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${rounded === 1 ? "day" : "days"}`;
}

/** "new_employment" → "New employment"; "all" → "All leads". */
export function sectionLabel(section: string): string {
  if (section === ALL_SECTION) return "All leads";
  const words = section.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ---- Kaplan–Meier as chart rows ---------------------------------------------------------------------------------

export interface CurvePoint {
  days: number;
  control?: number;
  treatment?: number;
}

/** The survival share of a step curve at `days` (1 before the first event); undefined past its follow-up. */
function stepAt(curve: SurvivalCurve, days: number): number | undefined {
  const end = curve.max_days ?? curve.times[curve.times.length - 1] ?? 0;
  if (days > end) return undefined;
  let share = 1;
  for (let i = 0; i < curve.times.length; i++) {
    if ((curve.times[i] ?? Infinity) <= days) share = curve.survival[i] ?? share;
    else break;
  }
  return share;
}

/**
 * One row per day at which either arm's curve changes (plus day 0 and each arm's end of follow-up), with each arm's
 * share still unpaid, in percent: what a step chart of both curves draws.
 */
export function kaplanMeierRows(control: SurvivalCurve | null, treatment: SurvivalCurve | null): CurvePoint[] {
  const curves = { control, treatment };
  const days = new Set<number>([0]);
  for (const arm of [control, treatment]) {
    if (!arm) continue;
    arm.times.forEach((time) => days.add(time));
    if (arm.max_days !== null) days.add(arm.max_days);
  }
  return [...days]
    .sort((a, b) => a - b)
    .map((day) => {
      const point: CurvePoint = { days: day };
      for (const key of ["control", "treatment"] as const) {
        const curve = curves[key];
        const share = curve ? stepAt(curve, day) : undefined;
        if (share !== undefined) point[key] = Math.round(share * 10_000) / 100;
      }
      return point;
    });
}
