// The lead page's lists: its signals (with evidence links), why its profiles were matched to it (fields that agreed
// and disagreed), and its audit trail (managers and admins).
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading, PriorityBadge } from "@/components/states";
import { HoldoutBadge } from "@/features/signals/HoldoutBadge";
import { fieldLabel, formatDateTime, formatPercent } from "./format";
import { actorLabel, MATCH_OUTCOME_LABELS, signalTypeLabel } from "./labels";
import { leadKeys } from "./queries";
import "./leads.css";

function externalUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function Source({ url, children }: { url: string | null | undefined; children: string }) {
  const href = externalUrl(url);
  if (!href) return null;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
      <span className="visually-hidden"> (opens in a new tab)</span>
    </a>
  );
}

export function LeadSignals({ leadId }: { leadId: string }) {
  const headingId = useId();
  const signals = useQuery({
    queryKey: ["signals", "lead", leadId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/signals", { params: { query: { lead_id: leadId, limit: 100, count: true } } })),
  });
  const items = signals.data?.items ?? [];
  return (
    <section className="card stack" aria-labelledby={headingId} data-testid="lead-signals">
      <h2 id={headingId}>
        Signals{signals.data?.total ? <span className="muted"> ({signals.data.total})</span> : null}
      </h2>
      {signals.isPending ? (
        <Loading what="Loading signals" />
      ) : signals.isError ? (
        <ErrorState error={signals.error} retry={() => void signals.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="No signals for this lead yet." />
      ) : (
        <ul className="lead-signal-list">
          {items.map((signal) => (
            <SignalItem key={signal.id} signal={signal} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SignalItem({ signal }: { signal: Schemas["SignalRead"] }) {
  const what = [signal.title, signal.organization].filter(Boolean).join(" at ");
  const evidence = signal.evidence?.length ? signal.evidence : null;
  return (
    <li id={`signal-${signal.id}`} className="lead-signal" tabIndex={-1}>
      <div className="row">
        <PriorityBadge priority={signal.priority} />
        <strong>{signalTypeLabel(signal.type)}</strong>
        {what && <span>{what}</span>}
        <span className="muted">score {signal.score}</span>
        <span className="chip">{fieldLabel(signal.status)}</span>
        <HoldoutBadge holdout={signal.holdout} />
      </div>
      <p className="muted lead-signal-meta">
        Detected {formatDateTime(signal.detected_at)}
        {signal.effective_date ? ` · event date ${signal.effective_date}` : ""}
        {signal.action ? ` · action: ${fieldLabel(signal.action)}` : ""}
        {signal.outcome ? ` · outcome: ${fieldLabel(signal.outcome)}` : ""}
      </p>
      {evidence ? (
        <ul className="lead-evidence">
          {evidence.map((item) => (
            <li key={item.id}>
              {item.snippet && <q>{item.snippet}</q>}{" "}
              <span className="muted">{item.source ?? item.kind}</span>{" "}
              <Source url={item.url}>Source</Source>
            </li>
          ))}
        </ul>
      ) : (
        (signal.evidence_snippet || signal.evidence_url) && (
          <p className="lead-evidence">
            {signal.evidence_snippet && <q>{signal.evidence_snippet}</q>}{" "}
            <Source url={signal.evidence_url}>Source</Source>
          </p>
        )
      )}
    </li>
  );
}

/** Agreed and disagreed fields of a comparison, as chips (words and a sign, not colour alone). */
export function Explanation({ agreed, disagreed }: { agreed: Record<string, string>; disagreed: Record<string, string> }) {
  const entries = [
    ...Object.entries(agreed).map(([field, how]) => ({ field, how, agrees: true })),
    ...Object.entries(disagreed).map(([field, how]) => ({ field, how, agrees: false })),
  ];
  if (entries.length === 0) return <p className="muted">No field-by-field explanation was stored.</p>;
  return (
    <ul className="lead-explanation" aria-label="How the fields compared">
      {entries.map(({ field, how, agrees }) => (
        <li key={`${agrees}-${field}`} className={agrees ? "lead-agree" : "lead-disagree"}>
          <span aria-hidden="true">{agrees ? "✓" : "✗"}</span>
          <span className="visually-hidden">{agrees ? "Agrees: " : "Disagrees: "}</span>
          {fieldLabel(field)}: {how}
        </li>
      ))}
    </ul>
  );
}

export function LeadMatches({ leadId }: { leadId: string }) {
  const headingId = useId();
  const matches = useQuery({
    queryKey: ["matches", "lead", leadId],
    queryFn: async () => unwrap(await api.GET("/api/v1/matches", { params: { query: { lead_id: leadId, limit: 50 } } })),
  });
  const items = matches.data?.items ?? [];
  return (
    <section className="card stack" aria-labelledby={headingId} data-testid="lead-matches">
      <h2 id={headingId}>Why these profiles are this borrower</h2>
      {matches.isPending ? (
        <Loading what="Loading match explanations" />
      ) : matches.isError ? (
        <ErrorState error={matches.error} retry={() => void matches.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="No profile has been matched to this lead.">Profiles found later will show here.</Empty>
      ) : (
        <ul className="lead-match-list">
          {items.map((match) => (
            <li key={match.id} className="lead-match">
              <div className="row">
                <strong>{match.profile_name ?? "A profile"}</strong>
                <Source url={match.profile_url}>Profile</Source>
                <span className="chip">{MATCH_OUTCOME_LABELS[match.outcome] ?? match.outcome}</span>
                <span className="muted">
                  {formatPercent(match.score)} likely · {match.method}
                </span>
              </div>
              {(match.profile_headline || match.profile_location) && (
                <p className="muted">
                  {[match.profile_headline, match.profile_location].filter(Boolean).join(" · ")}
                </p>
              )}
              <Explanation agreed={match.agreed} disagreed={match.disagreed} />
              <p className="muted lead-match-meta">
                Seen {formatDateTime(match.observed_at)}
                {match.decided_by ? ` · decided by ${actorLabel(match.decided_by)}` : ""}
                {match.decided_at ? ` on ${formatDateTime(match.decided_at)}` : ""}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const AUDIT_PAGE = 25;

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => {
      const shown =
        value && typeof value === "object" && !Array.isArray(value)
          ? Object.entries(value as Record<string, unknown>)
              .map(([k, v]) => `${k} ${String(v)}`)
              .join(", ")
          : Array.isArray(value)
            ? value.join(", ")
            : String(value);
      return `${fieldLabel(key)}: ${shown}`;
    })
    .join(" · ");
}

export function LeadAudit({ leadId }: { leadId: string }) {
  const headingId = useId();
  const toggleId = useId();
  const [views, setViews] = useState(true);
  const audit = useInfiniteQuery({
    queryKey: leadKeys.audit(leadId, views),
    initialPageParam: 0,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v1/leads/{lead_id}/audit", {
          params: { path: { lead_id: leadId }, query: { views, limit: AUDIT_PAGE, offset: pageParam } },
        }),
      ),
    getNextPageParam: (last) => (last.offset + last.items.length < last.total ? last.offset + last.items.length : null),
  });
  const entries = audit.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="card stack" aria-labelledby={headingId} data-testid="lead-audit">
      <div className="row">
        <h2 id={headingId}>Audit trail</h2>
        <label className="leads-check lead-audit-toggle" htmlFor={toggleId}>
          <input id={toggleId} type="checkbox" checked={views} onChange={(event) => setViews(event.target.checked)} />
          Include views
        </label>
      </div>
      {audit.isPending ? (
        <Loading what="Loading the audit trail" />
      ) : audit.isError ? (
        <ErrorState error={audit.error} retry={() => void audit.refetch()} />
      ) : entries.length === 0 ? (
        <Empty title="No audit entries about this lead." />
      ) : (
        <>
          <div className="table-wrap" role="region" aria-labelledby={headingId} tabIndex={0}>
            <table className="table lead-audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id} data-testid="audit-entry">
                    <td className="lead-nowrap">
                      <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
                    </td>
                    <td>{actorLabel(entry.actor)}</td>
                    <td>{entry.action}</td>
                    <td className="lead-audit-details">{detailText(entry.details) || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {audit.hasNextPage && (
            <button
              type="button"
              className="button"
              onClick={() => void audit.fetchNextPage()}
              disabled={audit.isFetchingNextPage}
            >
              {audit.isFetchingNextPage ? "Loading…" : "Show older entries"}
            </button>
          )}
        </>
      )}
    </section>
  );
}
