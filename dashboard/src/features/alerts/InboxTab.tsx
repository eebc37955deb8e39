// The inbox: the user's alerts newest first (cursor pages), filters in the URL, summary counts, mark read / all
// read, and new alerts arriving without a reload.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, getAccessToken, unwrap, type Schemas } from "@/api/client";
import { connectSse, type SseEvent } from "@/lib/sse";
import { Empty, ErrorState, Loading, PriorityBadge } from "@/components/states";
import { formatAgo, formatDateTime } from "@/lib/datetime";
import { borrowerNow, describeGuard } from "./guard";
import { GUARD_CHANNEL_LABELS, KIND_LABELS, PRIORITIES, PRIORITY_LABELS } from "./labels";

type Alert = Schemas["AlertRead"];
type AlertPage = Schemas["AlertPage"];
type Filters = { status?: "unread" | "read"; priority?: Schemas["Priority"]; kind?: "signal" | "restricted" | "escalation" | "system" };

const PAGE_SIZE = 25;
/** While the live stream is down (or before it opens), the inbox looks every 10 s. */
const POLL_MS = 10_000;
const STREAM_EVENTS = new Set(["alert.created", "alert.updated", "alert.read", "alert.read_all"]);

export const alertKeys = {
  all: ["alerts"] as const,
  summary: ["alerts", "summary"] as const,
  list: (filters: Filters) => ["alerts", "list", filters] as const,
};

/** The user's live stream (lib/sse): any alert event refreshes the inbox and its counts. Returns whether the stream
 * is open (when it is not, the queries poll). */
export function useAlertStream(): boolean {
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);
  useEffect(() => {
    let soon: number | undefined;
    const connection = connectSse({
      url: "/api/v1/stream",
      getToken: getAccessToken,
      onStatus: setLive,
      onEvent: (event: SseEvent) => {
        if (!STREAM_EVENTS.has(event.event)) return;
        // A burst (a batch of signals, read-all) refreshes once.
        window.clearTimeout(soon);
        soon = window.setTimeout(() => void queryClient.invalidateQueries({ queryKey: alertKeys.all }), 150);
      },
    });
    return () => {
      window.clearTimeout(soon);
      connection.close();
    };
  }, [queryClient]);
  return live;
}

function filtersFrom(params: URLSearchParams): Filters {
  const filters: Filters = {};
  const status = params.get("status");
  if (status === "unread" || status === "read") filters.status = status;
  const priority = params.get("priority");
  if (priority && (PRIORITIES as string[]).includes(priority)) filters.priority = priority as Schemas["Priority"];
  const kind = params.get("kind");
  if (kind && kind in KIND_LABELS) filters.kind = kind as Filters["kind"];
  return filters;
}

export function InboxTab() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const queryClient = useQueryClient();
  const headingId = useId();
  const live = useAlertStream();
  const poll = live ? false : POLL_MS;

  const summary = useQuery({
    queryKey: alertKeys.summary,
    queryFn: async () => unwrap(await api.GET("/api/v1/alerts/summary")),
    refetchInterval: poll,
  });
  const list = useInfiniteQuery({
    queryKey: alertKeys.list(filters),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v1/alerts", {
          params: { query: { ...filters, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last: AlertPage) => last.next_cursor,
    refetchInterval: poll,
  });

  const readOne = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST("/api/v1/alerts/{alert_id}/read", { params: { path: { alert_id: id } } })),
    onMutate: async (id) => {
      // Optimistic: the item reads as read at once; a failure puts it back.
      await queryClient.cancelQueries({ queryKey: alertKeys.list(filters) });
      const before = queryClient.getQueryData<InfiniteData<AlertPage>>(alertKeys.list(filters));
      queryClient.setQueryData<InfiniteData<AlertPage>>(alertKeys.list(filters), (data) =>
        data && {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            items: page.items.map((a) => (a.id === id ? { ...a, status: "read", read_at: new Date().toISOString() } : a)),
          })),
        },
      );
      return { before };
    },
    onError: (_error, _id, context) => {
      if (context?.before) queryClient.setQueryData(alertKeys.list(filters), context.before);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: alertKeys.all }),
  });
  const readAll = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/alerts/read-all")),
    onSettled: () => queryClient.invalidateQueries({ queryKey: alertKeys.all }),
  });

  const setFilter = (name: keyof Filters, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const filtered = Object.keys(filters).length > 0;
  const alerts = list.data?.pages.flatMap((page) => page.items) ?? [];
  const unread = summary.data?.unread ?? 0;

  return (
    <section className="stack" aria-labelledby={headingId}>
      <div className="alerts-section-head">
        <h2 id={headingId}>
          Your alerts{" "}
          <span className={live ? "alerts-live alerts-live-on" : "alerts-live"} data-testid="alerts-live">
            {live ? "Live" : "Checking every 10 s"}
          </span>
        </h2>
        <button
          type="button"
          className="button"
          onClick={() => readAll.mutate()}
          disabled={readAll.isPending || unread === 0}
        >
          Mark all read
        </button>
      </div>
      {readAll.isError && (
        <p className="form-error" role="alert">
          {readAll.error.message}
        </p>
      )}
      {readAll.isSuccess && (
        <p className="muted" role="status">
          {readAll.data.marked === 1 ? "1 alert marked read." : `${readAll.data.marked} alerts marked read.`}
        </p>
      )}

      <Summary summary={summary.data} onPriority={(p) => setFilter("priority", p)} />

      <form className="alerts-filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filters.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">All</option>
            <option value="unread">Unread</option>
            <option value="read">Read</option>
          </select>
        </label>
        <label>
          Priority
          <select value={filters.priority ?? ""} onChange={(e) => setFilter("priority", e.target.value)}>
            <option value="">All</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select value={filters.kind ?? ""} onChange={(e) => setFilter("kind", e.target.value)}>
            <option value="">All</option>
            {Object.entries(KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <button type="button" className="button" onClick={() => setParams({}, { replace: true })}>
            Clear filters
          </button>
        )}
      </form>

      {list.isPending ? (
        <Loading what="Loading alerts" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : alerts.length === 0 ? (
        <Empty title={filtered ? "No alerts match these filters." : "No alerts yet."}>
          {filtered
            ? "Clear a filter to see more."
            : "When a signal matches a rule for one of your leads, it arrives here within seconds."}
        </Empty>
      ) : (
        <>
          <ul className="alerts-list" aria-label="Alerts">
            {alerts.map((alert) => (
              <li key={alert.id}>
                <AlertItem alert={alert} onRead={() => readOne.mutate(alert.id)} reading={readOne.isPending && readOne.variables === alert.id} />
              </li>
            ))}
          </ul>
          {readOne.isError && (
            <p className="form-error" role="alert">
              Could not mark it read: {readOne.error.message}
            </p>
          )}
          {list.hasNextPage && (
            <button
              type="button"
              className="button alerts-more"
              onClick={() => void list.fetchNextPage()}
              disabled={list.isFetchingNextPage}
            >
              {list.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function Summary({
  summary,
  onPriority,
}: {
  summary: Schemas["AlertSummary"] | undefined;
  onPriority: (priority: string) => void;
}) {
  if (!summary) return null;
  return (
    <div className="alerts-summary" data-testid="alerts-summary">
      <p className="alerts-summary-total">
        <strong>{summary.unread}</strong> unread of {summary.total}
      </p>
      <ul className="alerts-summary-list" aria-label="Unread by priority">
        {PRIORITIES.map((priority) => {
          const counts = summary.by_priority[priority] ?? {};
          return (
            <li key={priority}>
              <button
                type="button"
                className="alerts-summary-chip"
                onClick={() => onPriority(priority)}
                aria-label={`${PRIORITY_LABELS[priority]}: ${counts.unread ?? 0} unread of ${(counts.unread ?? 0) + (counts.read ?? 0)}; show only these`}
              >
                <PriorityBadge priority={priority} /> {counts.unread ?? 0}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function AlertItem({ alert, onRead, reading }: { alert: Alert; onRead: () => void; reading: boolean }) {
  const titleId = useId();
  const unread = alert.status === "unread";
  const zone = alert.lead_timezone ?? null;
  const channels = Object.entries(alert.guard);
  return (
    <article
      className={unread ? "card alerts-item alerts-item-unread" : "card alerts-item"}
      data-testid="alert-item"
      data-alert-id={alert.id}
      data-status={alert.status}
      aria-labelledby={titleId}
    >
      <div className="alerts-item-head">
        <PriorityBadge priority={alert.priority} />
        <span className="chip">{KIND_LABELS[alert.kind] ?? alert.kind}</span>
        {unread && <span className="alerts-unread">Unread</span>}
        <time className="muted alerts-when" dateTime={alert.created_at} title={formatDateTime(alert.created_at)}>
          {formatAgo(alert.created_at)}
        </time>
        {unread && (
          <button type="button" className="button alerts-read" onClick={onRead} disabled={reading}>
            Mark read
          </button>
        )}
      </div>
      <h3 id={titleId} className="alerts-item-title">
        {alert.title}
        {alert.signal_count > 1 && <span className="muted"> ({alert.signal_count} signals)</span>}
      </h3>
      {alert.lead_id && (
        <p className="alerts-lead">
          Lead:{" "}
          <Link to={`/leads/${alert.lead_id}`}>
            {alert.lead_name ?? "Unnamed"}
            {alert.lead_external_id && <span className="muted"> · {alert.lead_external_id}</span>}
          </Link>
          {zone && <span className="muted"> · their time now {borrowerNow(zone)}</span>}
        </p>
      )}
      {!alert.actionable && (
        <p className="warn">Do not contact about this signal: the lead is restricted (a note for you only).</p>
      )}
      {channels.length > 0 && (
        <div className="alerts-guard">
          <span className="muted alerts-guard-caption">Contact guard when alerted:</span>
          <ul className="alerts-guard-list">
            {channels.map(([channel, answer]) => {
              const view = describeGuard(answer, { leadZone: zone });
              return (
                <li key={channel} className={`alerts-guard-${view.tone}`}>
                  <span className="alerts-guard-channel">{GUARD_CHANNEL_LABELS[channel] ?? channel}:</span>{" "}
                  <span className={view.tone === "ok" ? "ok" : view.tone === "warn" ? "warn" : "danger"}>{view.text}</span>
                  {view.borrower && <span className="muted"> ({view.borrower})</span>}
                  {view.tone === "warn" && view.reasons.length > 0 && (
                    <span className="muted"> · {view.reasons.join(", ")}</span>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </article>
  );
}
