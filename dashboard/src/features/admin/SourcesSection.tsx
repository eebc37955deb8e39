// Sources: each connector's health and state, budgets used today, the last error; switch on or off, check the
// connection, or queue a run now.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatAgo, formatDateTime } from "@/lib/datetime";
import { AdminSection } from "./adminUi";

type Source = Schemas["SourceRead"];
const key = ["admin", "sources"] as const;

const STATE_CLASS: Record<string, string> = { ok: "ok", degraded: "warn", blocked: "danger", disabled: "muted" };
const STATE_LABEL: Record<string, string> = { ok: "Working", degraded: "Degraded", blocked: "Blocked", disabled: "Off" };

function When({ at }: { at: string | null }) {
  if (!at) return <span className="muted">never</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {formatAgo(at)}
    </time>
  );
}

export function SourcesSection() {
  const sources = useQuery({
    queryKey: key,
    queryFn: async () => unwrap(await api.GET("/api/v1/sources")),
    refetchInterval: 30_000,
  });
  return (
    <AdminSection
      title="Sources"
      intro="Where signals come from. A blocked source is not run on schedule until it is fixed; budgets cap each day's use of a paid service."
    >
      {sources.isPending ? (
        <Loading what="Loading sources" />
      ) : sources.isError ? (
        <ErrorState error={sources.error} retry={() => void sources.refetch()} />
      ) : sources.data.length === 0 ? (
        <Empty title="No sources are registered." />
      ) : (
        <div className="table-wrap">
          <table className="table admin-sources" data-testid="admin-sources-table">
            <caption className="visually-hidden">Sources</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col">Last run</th>
                <th scope="col">Last error</th>
                <th scope="col">Used today</th>
                <th scope="col">Leads</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sources.data.map((source) => (
                <SourceRow key={source.slug} source={source} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminSection>
  );
}

function SourceRow({ source }: { source: Source }) {
  const queryClient = useQueryClient();
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });
  const toggle = useMutation({
    mutationFn: async (enabled: boolean) =>
      unwrap(await api.PUT("/api/v1/sources/{slug}", { params: { path: { slug: source.slug } }, body: { enabled } })),
    onSuccess: (updated) => {
      setNote({ ok: true, text: updated.enabled ? "Switched on." : "Switched off." });
      void refresh();
    },
    onError: (error) => setNote({ ok: false, text: error.message }),
  });
  const run = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/sources/{slug}/run", { params: { path: { slug: source.slug } }, body: null })),
    onSuccess: (queued) => {
      setNote({
        ok: true,
        text: queued.task_run_id ? "Run queued: it starts in a moment." : "A run was queued in the last minute already.",
      });
      void refresh();
    },
    onError: (error) => setNote({ ok: false, text: error.message }),
  });
  const check = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/sources/{slug}/check", { params: { path: { slug: source.slug } } })),
    onSuccess: (health) => {
      setNote({ ok: health.ok, text: `${health.ok ? "Reachable" : "Not working"}: ${health.detail}` });
      void refresh();
    },
    onError: (error) => setNote({ ok: false, text: error.message }),
  });
  const busy = toggle.isPending || run.isPending || check.isPending;
  return (
    <tr data-testid="admin-source-row" data-slug={source.slug}>
      <td>
        <strong>{source.name}</strong>
        <div className="muted">
          {source.slug}
          {source.connector !== source.slug && ` · ${source.connector}`}
        </div>
        {source.capabilities && source.capabilities.length > 0 && (
          <div className="muted admin-small">{source.capabilities.join(", ")}</div>
        )}
      </td>
      <td>
        <span className={STATE_CLASS[source.state] ?? ""}>{STATE_LABEL[source.state] ?? source.state}</span>
        {source.consecutive_failures > 0 && (
          <div className="muted admin-small">
            {source.consecutive_failures} failure{source.consecutive_failures > 1 ? "s" : ""} in a row
          </div>
        )}
      </td>
      <td>
        <When at={source.last_run_at} />
        {source.last_run_at && (
          <div className="muted admin-small">
            last success <When at={source.last_success_at} />
          </div>
        )}
      </td>
      <td className="admin-error-cell">
        {source.last_error ? (
          <>
            <span className="danger">{source.last_error}</span>
            <div className="muted admin-small">
              <When at={source.last_error_at} />
            </div>
          </>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td>
        {source.budgets.length === 0 ? (
          <span className="muted">no budget</span>
        ) : (
          <ul className="admin-budgets">
            {source.budgets.map((budget) => (
              <li key={budget.name}>
                <BudgetMeter budget={budget} />
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {source.due_leads !== null && source.due_leads !== undefined && <div>{source.due_leads} due now</div>}
        <div className="muted admin-small">{source.watched_leads} watched</div>
      </td>
      <td>
        <div className="admin-row-actions">
          <button
            type="button"
            className="button"
            disabled={busy || !source.enabled}
            onClick={() => run.mutate()}
            aria-label={`Run ${source.name} now`}
          >
            Run now
          </button>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => check.mutate()}
            aria-label={`Check ${source.name}`}
          >
            Check
          </button>
          <button
            type="button"
            className={source.enabled ? "button button-danger" : "button"}
            disabled={busy}
            onClick={() => toggle.mutate(!source.enabled)}
            aria-label={`${source.enabled ? "Switch off" : "Switch on"} ${source.name}`}
          >
            {source.enabled ? "Switch off" : "Switch on"}
          </button>
        </div>
        <div aria-live="polite" className="admin-small">
          {note && <span className={note.ok ? "ok" : "danger"}>{note.text}</span>}
        </div>
      </td>
    </tr>
  );
}

function BudgetMeter({ budget }: { budget: Schemas["BudgetRead"] }) {
  const label = budget.name.replace(/_/g, " ");
  if (budget.limit === null) {
    return (
      <span>
        {label}: {budget.used_today} <span className="muted">(no limit)</span>
      </span>
    );
  }
  const share = budget.limit > 0 ? Math.min(1, budget.used_today / budget.limit) : 1;
  return (
    <span className="admin-budget">
      {label}: {budget.used_today} / {budget.limit}
      <meter min={0} max={budget.limit} value={budget.used_today} low={budget.limit * 0.7} high={budget.limit * 0.9} optimum={0} aria-label={`${label} used today`}>
        {Math.round(share * 100)}%
      </meter>
    </span>
  );
}
