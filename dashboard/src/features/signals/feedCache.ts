// The feed's cached pages (TanStack Query's infinite data) and the pure changes made to them: an optimistic
// change to one signal, the server's answer in its place, and new signals merged in at their sorted place.
import type { InfiniteData } from "@tanstack/react-query";
import type { Schemas } from "@/api/client";
import type { SignalsQuery, SortValue } from "@/lib/urlFilters";

export type Signal = Schemas["SignalRead"];
export type SignalPage = Schemas["SignalPage"];
export type FeedData = InfiniteData<SignalPage, unknown>;

/** Every feed list in the cache starts with this key (whatever its filters). */
export const FEED_ROOT = ["signals", "feed"] as const;
export const feedKey = (query: SignalsQuery) => [...FEED_ROOT, query] as const;
export const ANSWERS_ROOT = ["compliance", "answers"] as const;

export type Change =
  | { kind: "acknowledge" }
  | { kind: "action"; body: Schemas["ActionRequest"] }
  | { kind: "outcome"; body: Schemas["OutcomeRequest"] }
  | { kind: "dismiss"; body: Schemas["DismissRequest"] }
  | { kind: "feedback"; body: Schemas["FeedbackRequest"] };

const SIGNAL_TYPES = new Set<string>([
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
]);

/** What the signal will look like once the API accepts the change (the API's answer replaces it). */
export function optimistic(signal: Signal, change: Change, now: Date = new Date()): Signal {
  const at = now.toISOString();
  const firstAction = signal.first_action_at ?? at;
  switch (change.kind) {
    case "acknowledge":
      return signal.status === "new"
        ? { ...signal, status: "acknowledged", status_changed_at: at, first_action_at: firstAction }
        : signal;
    case "action":
      return {
        ...signal,
        status: "actioned",
        action: change.body.action,
        actioned_at: at,
        status_changed_at: at,
        status_reason: change.body.note ?? null,
        first_action_at: firstAction,
      };
    case "outcome":
      return { ...signal, status: "resolved", outcome: change.body.outcome, outcome_at: at, status_changed_at: at };
    case "dismiss":
      return {
        ...signal,
        status: "dismissed",
        dismiss_reason: change.body.reason,
        status_reason: change.body.note ?? null,
        status_changed_at: at,
        first_action_at: firstAction,
      };
    case "feedback": {
      const open = signal.status === "new" || signal.status === "acknowledged";
      const label = change.body.label?.trim().toLowerCase();
      if (change.body.correct || !open || !label) return signal;
      if (label === "none") return { ...signal, status: "dismissed", dismiss_reason: "not_relevant", status_changed_at: at };
      const type = signal.type.startsWith("intent_") && !label.startsWith("intent_") ? `intent_${label}` : label;
      return SIGNAL_TYPES.has(type) ? { ...signal, type: type as Signal["type"] } : signal;
    }
  }
}

/** The cached pages with one signal replaced (the same object when it is not there). */
export function replaceSignal(data: FeedData | undefined, id: string, update: (signal: Signal) => Signal): FeedData | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    if (!page.items.some((item) => item.id === id)) return page;
    changed = true;
    return { ...page, items: page.items.map((item) => (item.id === id ? update(item) : item)) };
  });
  return changed ? { ...data, pages } : data;
}

/** The order of the feed: newest first, or highest score first (then newest); the id breaks ties. */
export function compareSignals(sort: SortValue): (a: Signal, b: Signal) => number {
  const byTime = (a: Signal, b: Signal) =>
    Date.parse(b.detected_at) - Date.parse(a.detected_at) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
  if (sort === "detected_at") return byTime;
  return (a, b) => b.score - a.score || byTime(a, b);
}

/** Every signal loaded, in page order, each once. */
export function flatten(data: FeedData | undefined): Signal[] {
  if (!data) return [];
  const seen = new Set<string>();
  const out: Signal[] = [];
  for (const page of data.pages) {
    for (const item of page.items) {
      if (!seen.has(item.id)) {
        seen.add(item.id);
        out.push(item);
      }
    }
  }
  return out;
}

/** New signals merged into the loaded ones at their sorted place: only those that sort before the last loaded
 * signal (or anywhere when nothing more is to be loaded); the rest arrive with the next pages. Returns the data
 * and the ids actually added. */
export function mergeArrivals(data: FeedData | undefined, arrivals: Signal[], sort: SortValue): { data: FeedData | undefined; added: string[] } {
  if (!data || arrivals.length === 0) return { data, added: [] };
  const loaded = flatten(data);
  const known = new Set(loaded.map((item) => item.id));
  const compare = compareSignals(sort);
  const last = loaded[loaded.length - 1];
  const more = data.pages[data.pages.length - 1]?.next_cursor != null;
  const fresh = arrivals.filter(
    (item, index) =>
      !known.has(item.id) &&
      arrivals.findIndex((other) => other.id === item.id) === index &&
      (!more || !last || compare(item, last) < 0),
  );
  if (fresh.length === 0) return { data, added: [] };
  const merged = [...loaded, ...fresh].sort(compare);
  // The first page grows by the arrivals; the later pages keep their sizes (and the last its cursor).
  const sizes = data.pages.map((page) => page.items.length);
  sizes[0] = (sizes[0] ?? 0) + fresh.length;
  let start = 0;
  const pages = data.pages.map((page, index) => {
    const size = sizes[index] ?? 0;
    const items = merged.slice(start, start + size);
    start += size;
    return { ...page, items };
  });
  return { data: { ...data, pages }, added: fresh.map((item) => item.id) };
}

/** The newest detection time among these signals (ISO), or null. */
export function newestDetected(signals: Signal[]): string | null {
  let newest: string | null = null;
  for (const signal of signals) {
    if (newest === null || Date.parse(signal.detected_at) > Date.parse(newest)) newest = signal.detected_at;
  }
  return newest;
}
