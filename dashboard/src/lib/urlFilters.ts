// The feed's filters, three ways: the URL (what a person bookmarks and shares), a filter object (what the page
// works with) and the API's query (GET /api/v1/signals). Pure functions: parse never throws, a value the API
// would refuse by its form (an unknown priority, a malformed date) falls back to the default, and parameters
// that are not filters (another feature's, a campaign tag) are kept as they are when the filters change.
import type { paths } from "@/api/schema";

export type SignalsQuery = NonNullable<paths["/api/v1/signals"]["get"]["parameters"]["query"]>;

export const SIGNAL_TYPES = [
  "new_employment",
  "promotion",
  "certification",
  "license_renewal",
  "award",
  "business_launch",
  "education",
  "job_loss",
  "intent_growth",
  "intent_expansion",
  "intent_financial_distress",
  "intent_loan_need",
  "intent_consulting_need",
  "portal_engagement",
] as const satisfies readonly NonNullable<SignalsQuery["type"]>[];
export const PRIORITIES = ["urgent", "high", "medium", "low"] as const satisfies readonly NonNullable<
  SignalsQuery["priority"]
>[];
export const STATUSES = ["new", "acknowledged", "actioned", "resolved", "dismissed"] as const satisfies readonly NonNullable<
  SignalsQuery["status"]
>[];
export const SORTS = ["detected_at", "score"] as const satisfies readonly NonNullable<SignalsQuery["sort"]>[];

export type SignalTypeValue = (typeof SIGNAL_TYPES)[number];
export type PriorityValue = (typeof PRIORITIES)[number];
export type StatusValue = (typeof STATUSES)[number];
export type SortValue = (typeof SORTS)[number];

export interface FeedFilters {
  sort: SortValue;
  type: SignalTypeValue | null;
  priority: PriorityValue | null;
  status: StatusValue | null;
  /** "me", "none" (unassigned), a username or a user id; null: anyone's. */
  assignee: string | null;
  /** A team's name or id, or "none". */
  team: string | null;
  portfolio: string | null;
  /** A source's slug. */
  source: string | null;
  /** Search: a part of the lead's name or external id. */
  q: string | null;
  lead: string | null;
  /** Event date (effective_date) range, YYYY-MM-DD. */
  effectiveFrom: string | null;
  effectiveTo: string | null;
  /** Detected between (ISO date or date-time). */
  since: string | null;
  until: string | null;
  escalated: boolean | null;
}

export const DEFAULT_FILTERS: FeedFilters = {
  sort: "detected_at",
  type: null,
  priority: null,
  status: null,
  assignee: null,
  team: null,
  portfolio: null,
  source: null,
  q: null,
  lead: null,
  effectiveFrom: null,
  effectiveTo: null,
  since: null,
  until: null,
  escalated: null,
};

/** URL parameter of each filter (short and readable: ?priority=urgent&assignee=me&from=2026-03-01). */
export const URL_KEYS: Record<keyof FeedFilters, string> = {
  sort: "sort",
  type: "type",
  priority: "priority",
  status: "status",
  assignee: "assignee",
  team: "team",
  portfolio: "portfolio",
  source: "source",
  q: "q",
  lead: "lead",
  effectiveFrom: "from",
  effectiveTo: "to",
  since: "since",
  until: "until",
  escalated: "escalated",
};

const FILTER_KEYS = Object.keys(DEFAULT_FILTERS) as (keyof FeedFilters)[];
const URL_PARAMS = new Set(Object.values(URL_KEYS));
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function oneOf<T extends string>(choices: readonly T[], value: string | null): T | null {
  return value !== null && (choices as readonly string[]).includes(value) ? (value as T) : null;
}

function text(value: string | null, max = 200): string | null {
  const trimmed = value?.trim() ?? "";
  return trimmed ? trimmed.slice(0, max) : null;
}

function validDate(value: string | null): string | null {
  if (!value || !DATE.test(value)) return null;
  return Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? null : value;
}

function validTime(value: string | null): string | null {
  if (!value || !DATE_TIME.test(value.trim())) return null;
  return value.trim();
}

function flag(value: string | null): boolean | null {
  if (value === null) return null;
  const lowered = value.toLowerCase();
  if (["true", "1", "yes"].includes(lowered)) return true;
  if (["false", "0", "no"].includes(lowered)) return false;
  return null;
}

/** The filters a URL's query string asks for (anything unreadable: the default). */
export function parseFilters(params: URLSearchParams): FeedFilters {
  const get = (key: keyof FeedFilters) => params.get(URL_KEYS[key]);
  return {
    sort: oneOf(SORTS, get("sort")) ?? DEFAULT_FILTERS.sort,
    type: oneOf(SIGNAL_TYPES, get("type")),
    priority: oneOf(PRIORITIES, get("priority")),
    status: oneOf(STATUSES, get("status")),
    assignee: text(get("assignee"), 120),
    team: text(get("team"), 120),
    portfolio: text(get("portfolio")),
    source: text(get("source"), 120),
    q: text(get("q")),
    lead: UUID.test(get("lead") ?? "") ? (get("lead") as string).toLowerCase() : null,
    effectiveFrom: validDate(get("effectiveFrom")),
    effectiveTo: validDate(get("effectiveTo")),
    since: validTime(get("since")),
    until: validTime(get("until")),
    escalated: flag(get("escalated")),
  };
}

function urlValue(key: keyof FeedFilters, value: FeedFilters[keyof FeedFilters]): string | null {
  if (value === null || value === DEFAULT_FILTERS[key]) return null;
  if (typeof value === "boolean") return value ? "true" : "false";
  return value;
}

/** The query string for these filters: defaults left out, in a fixed order; parameters of ``base`` that are not
 * filters are kept (first, in their order). */
export function filtersToParams(filters: FeedFilters, base?: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  base?.forEach((value, key) => {
    if (!URL_PARAMS.has(key)) out.append(key, value);
  });
  for (const key of FILTER_KEYS) {
    const value = urlValue(key, filters[key]);
    if (value !== null) out.set(URL_KEYS[key], value);
  }
  return out;
}

/** GET /api/v1/signals' query for these filters (without paging: the list adds limit and cursor). */
export function filtersToQuery(filters: FeedFilters): SignalsQuery {
  const query: SignalsQuery = { sort: filters.sort };
  if (filters.type) query.type = filters.type;
  if (filters.priority) query.priority = filters.priority;
  if (filters.status) query.status = filters.status;
  if (filters.assignee) query.assignee = filters.assignee;
  if (filters.team) query.team = filters.team;
  if (filters.portfolio) query.portfolio = filters.portfolio;
  if (filters.source) query.source = filters.source;
  if (filters.q) query.q = filters.q;
  if (filters.lead) query.lead_id = filters.lead;
  if (filters.effectiveFrom) query.effective_from = filters.effectiveFrom;
  if (filters.effectiveTo) query.effective_to = filters.effectiveTo;
  if (filters.since) query.since = filters.since;
  if (filters.until) query.until = filters.until;
  if (filters.escalated !== null) query.escalated = filters.escalated;
  return query;
}

/** How many filters differ from the defaults (sort is an order, not a filter). */
export function activeFilterCount(filters: FeedFilters): number {
  return FILTER_KEYS.filter((key) => key !== "sort" && filters[key] !== null).length;
}

/** Filters with one changed (a null value clears it). */
export function withFilter<K extends keyof FeedFilters>(filters: FeedFilters, key: K, value: FeedFilters[K]): FeedFilters {
  return { ...filters, [key]: value };
}
