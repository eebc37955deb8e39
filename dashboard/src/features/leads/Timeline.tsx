// A lead's full timeline (GET /api/v1/leads/{id}/timeline): snapshots, signals with their evidence, what was done
// (acknowledged, actions, outcomes, dismissals, escalations), contacts, flags, consents and opt-outs. Grouped by day
// in the viewer's zone, newest first, with filter chips by kind.
import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { dayLabel, formatTime, groupByDay } from "./format";
import { actorLabel, TIMELINE_GROUPS, TIMELINE_KIND_LABELS } from "./labels";
import { leadKeys } from "./queries";

type Item = Schemas["TimelineItem"];

/** Items shown before "Show more". */
const FIRST_ITEMS = 60;

/** The items of the chosen groups (none chosen: all). */
export function filterTimeline(items: readonly Item[], groups: ReadonlySet<string>): Item[] {
  if (groups.size === 0) return [...items];
  const kinds = new Set(TIMELINE_GROUPS.filter((group) => groups.has(group.id)).flatMap((group) => group.kinds));
  return items.filter((item) => kinds.has(item.kind));
}

function safeUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function Timeline({ leadId }: { leadId: string }) {
  const timeline = useQuery({
    queryKey: leadKeys.timeline(leadId),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/leads/{lead_id}/timeline", { params: { path: { lead_id: leadId } } })),
  });
  const [groups, setGroups] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState(FIRST_ITEMS);
  const headingId = useId();
  const items = useMemo(() => timeline.data?.items ?? [], [timeline.data]);
  const counts = useMemo(() => {
    const byGroup = new Map<string, number>();
    for (const group of TIMELINE_GROUPS) {
      const kinds = new Set<string>(group.kinds);
      byGroup.set(group.id, items.filter((item) => kinds.has(item.kind)).length);
    }
    return byGroup;
  }, [items]);
  const visible = useMemo(() => filterTimeline(items, groups), [items, groups]);
  const days = useMemo(() => groupByDay(visible.slice().reverse().slice(0, shown), (item) => item.at), [visible, shown]);

  const toggle = (id: string) => {
    setShown(FIRST_ITEMS);
    setGroups((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  return (
    <section className="card stack" aria-labelledby={headingId} data-testid="lead-timeline">
      <h2 id={headingId}>Timeline</h2>
      {timeline.isPending ? (
        <Loading what="Loading the timeline" />
      ) : timeline.isError ? (
        <ErrorState error={timeline.error} retry={() => void timeline.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="Nothing has happened on this lead yet." />
      ) : (
        <>
          <div className="row lead-chips" role="group" aria-label="Show kinds">
            <button
              type="button"
              className="lead-chip"
              aria-pressed={groups.size === 0}
              onClick={() => {
                setGroups(new Set());
                setShown(FIRST_ITEMS);
              }}
            >
              All <span className="lead-chip-count">{items.length}</span>
            </button>
            {TIMELINE_GROUPS.map((group) => (
              <button
                key={group.id}
                type="button"
                className="lead-chip"
                aria-pressed={groups.has(group.id)}
                disabled={(counts.get(group.id) ?? 0) === 0}
                onClick={() => toggle(group.id)}
              >
                {group.label} <span className="lead-chip-count">{counts.get(group.id) ?? 0}</span>
              </button>
            ))}
          </div>
          <p className="visually-hidden" role="status" aria-live="polite">
            {visible.length} of {items.length} entries shown
          </p>
          {visible.length === 0 ? (
            <Empty title="No entries of these kinds." />
          ) : (
            <ol className="lead-days">
              {days.map(([day, entries]) => (
                <li key={day}>
                  <h3 className="lead-day">{dayLabel(day)}</h3>
                  <ol className="lead-items">
                    {entries.map((item, index) => (
                      <TimelineEntry key={`${item.at}-${item.kind}-${index}`} item={item} />
                    ))}
                  </ol>
                </li>
              ))}
            </ol>
          )}
          {visible.length > shown && (
            <button type="button" className="button" onClick={() => setShown((count) => count + FIRST_ITEMS * 2)}>
              Show older entries ({visible.length - shown} more)
            </button>
          )}
        </>
      )}
    </section>
  );
}

function TimelineEntry({ item }: { item: Item }) {
  const url = safeUrl(item.details?.url);
  return (
    <li className={`lead-item lead-item-${item.kind}`} data-testid="timeline-item" data-kind={item.kind}>
      <time className="lead-item-time muted" dateTime={item.at}>
        {formatTime(item.at)}
      </time>
      <div className="lead-item-body">
        <span className="chip lead-kind">{TIMELINE_KIND_LABELS[item.kind] ?? item.kind}</span>{" "}
        <span className="lead-item-summary">{item.summary}</span>
        <div className="row lead-item-meta">
          {item.actor && <span className="muted">by {actorLabel(item.actor)}</span>}
          {item.signal_id && item.kind !== "signal" && (
            <a href={`#signal-${item.signal_id}`}>Its signal</a>
          )}
          {item.kind === "signal" && item.signal_id && <a href={`#signal-${item.signal_id}`}>Signal details</a>}
          {url && (
            <a href={url} target="_blank" rel="noopener noreferrer">
              Source<span className="visually-hidden"> (opens in a new tab)</span>
            </a>
          )}
        </div>
      </div>
    </li>
  );
}
