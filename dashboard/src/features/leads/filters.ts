// The lead list's filters live in the URL (shareable, back/forward work): parse them leniently (a bad value is
// dropped, never an error page), write them back without defaults, and turn them into GET /api/v1/leads's query.
import type { Schemas } from "@/api/client";
import type { operations } from "@/api/schema";

export type LeadStatus = Schemas["LeadStatus"];
export type LeadSort = "-days_delinquent" | "days_delinquent";

export const LEAD_STATUSES: readonly LeadStatus[] = ["new", "contacted", "promise", "paying", "resolved", "lost"];

export const STATUS_LABELS: Record<LeadStatus, string> = {
  new: "New",
  contacted: "Contacted",
  promise: "Promise to pay",
  paying: "Paying",
  resolved: "Resolved",
  lost: "Lost",
};

export interface LeadFilterState {
  q: string;
  status: LeadStatus | "";
  portfolio: string;
  /** Team id. */
  team: string;
  /** "me", "none" (unassigned), a username, or "" (anyone). */
  assignee: string;
  /** USPS code, upper case. */
  state: string;
  /** Whole days, as typed (digits only). */
  minDays: string;
  sort: LeadSort;
}

export const EMPTY_FILTERS: LeadFilterState = {
  q: "",
  status: "",
  portfolio: "",
  team: "",
  assignee: "",
  state: "",
  minDays: "",
  sort: "-days_delinquent",
};

/** URL parameter of each filter. */
const PARAM: Record<keyof LeadFilterState, string> = {
  q: "q",
  status: "status",
  portfolio: "portfolio",
  team: "team",
  assignee: "assignee",
  state: "state",
  minDays: "min_days",
  sort: "sort",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseFilters(params: URLSearchParams): LeadFilterState {
  const get = (key: keyof LeadFilterState) => (params.get(PARAM[key]) ?? "").trim();
  const status = get("status");
  const state = get("state").toUpperCase();
  const minDays = get("minDays");
  const team = get("team");
  return {
    q: get("q").slice(0, 200),
    status: (LEAD_STATUSES as readonly string[]).includes(status) ? (status as LeadStatus) : "",
    portfolio: get("portfolio").slice(0, 200),
    team: UUID.test(team) ? team.toLowerCase() : "",
    assignee: get("assignee").slice(0, 120),
    state: /^[A-Z]{2}$/.test(state) ? state : "",
    minDays: /^\d{1,6}$/.test(minDays) ? String(Number(minDays)) : "",
    sort: get("sort") === "days_delinquent" ? "days_delinquent" : "-days_delinquent",
  };
}

/** The filters as URL parameters (defaults and empty values left out); other parameters of `base` are kept. */
export function filtersToParams(filters: LeadFilterState, base?: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams(base);
  for (const key of Object.keys(PARAM) as (keyof LeadFilterState)[]) {
    const value = filters[key].trim();
    if (value && value !== EMPTY_FILTERS[key]) params.set(PARAM[key], value);
    else params.delete(PARAM[key]);
  }
  return params;
}

export type LeadQuery = NonNullable<operations["leads_list"]["parameters"]["query"]>;

/** GET /api/v1/leads's (and the CSV export's) query for these filters, without paging. */
export function toApiQuery(filters: LeadFilterState): LeadQuery {
  const query: LeadQuery = {};
  if (filters.q.trim()) query.q = filters.q.trim();
  if (filters.status) query.status = filters.status;
  if (filters.portfolio) query.portfolio = filters.portfolio;
  if (filters.team) query.team_id = filters.team;
  if (filters.assignee) query.assignee = filters.assignee;
  if (filters.state) query.state = filters.state;
  if (filters.minDays) query.min_days_delinquent = Number(filters.minDays);
  if (filters.sort !== EMPTY_FILTERS.sort) query.sort = filters.sort;
  return query;
}

/** How many filters narrow the list (the search and the order not counted). */
export function activeFilterCount(filters: LeadFilterState): number {
  const narrowing: (keyof LeadFilterState)[] = ["status", "portfolio", "team", "assignee", "state", "minDays"];
  return narrowing.filter((key) => filters[key] !== "").length;
}
