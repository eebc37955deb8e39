// The audit log: entries newest first, filtered (kept in the URL) and paged; "Verify chain" seals what was
// appended and checks the whole hash chain, naming the first entry that was tampered with.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { api, unwrap } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import { AdminSection, Pager } from "./adminUi";

const PAGE = 50;
const FILTERS = ["entity_type", "entity_id", "actor", "action", "since", "until"] as const;
type Filter = (typeof FILTERS)[number];
const LABELS: Record<Filter, string> = {
  entity_type: "Entity type",
  entity_id: "Entity id",
  actor: "Actor",
  action: "Action",
  since: "From",
  until: "Before",
};

/** A datetime-local value ("2026-12-06T09:30", the viewer's zone) as ISO 8601 with the zone, for the API. */
function toIso(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

export function AuditSection() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
  const applied = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Record<Filter, string>;
  const [draft, setDraft] = useState(applied);
  const ids = useId();
  const entries = useQuery({
    queryKey: ["admin", "audit", applied, offset],
    queryFn: async () => {
      const query: Record<string, string | number> = { limit: PAGE, offset };
      for (const f of FILTERS) {
        const value = applied[f].trim();
        if (value) query[f] = f === "since" || f === "until" ? toIso(value) : value;
      }
      return unwrap(await api.GET("/api/v1/audit", { params: { query } }));
    },
  });
  const verify = useMutation({ mutationFn: async () => unwrap(await api.GET("/api/v1/audit/verify")) });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f].trim()) next.set(f, draft[f].trim());
    setParams(next);
  };
  const setOffset = (value: number) => {
    const next = new URLSearchParams(params);
    if (value) next.set("offset", String(value));
    else next.delete("offset");
    setParams(next);
  };
  const filtered = FILTERS.some((f) => applied[f]);

  return (
    <AdminSection
      title="Audit log"
      intro="Append-only and hash-chained: each entry's hash covers its content and the one before it."
      actions={
        <button type="button" className="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? "Verifying…" : "Verify chain"}
        </button>
      }
    >
      <div aria-live="polite" data-testid="audit-verify-result" className="admin-verify">
        {verify.isError ? (
          <p className="form-error">Could not verify: {verify.error.message}</p>
        ) : verify.data ? (
          verify.data.intact ? (
            <p className="ok">
              Chain intact: {verify.data.entries} entries checked
              {verify.data.last_id !== null && <> up to #{verify.data.last_id}</>}.
            </p>
          ) : (
            <p className="danger">
              Chain broken at entry #{verify.data.first_broken_id}: it was changed, inserted or deleted outside the
              application ({verify.data.entries} entries checked before it).
            </p>
          )
        ) : null}
      </div>
      <form className="admin-filters" aria-label="Filter the audit log" onSubmit={apply}>
        {FILTERS.map((f) => (
          <div className="admin-field" key={f}>
            <label htmlFor={`${ids}-${f}`}>{LABELS[f]}</label>
            <input
              id={`${ids}-${f}`}
              type={f === "since" || f === "until" ? "datetime-local" : "text"}
              value={draft[f]}
              placeholder={f === "actor" ? "user:admin" : f === "action" ? "lead.view" : f === "entity_type" ? "lead" : undefined}
              onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            />
          </div>
        ))}
        <div className="row admin-filter-buttons">
          <button type="submit" className="button button-primary">
            Apply
          </button>
          {filtered && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setDraft(Object.fromEntries(FILTERS.map((f) => [f, ""])) as Record<Filter, string>);
                setParams(new URLSearchParams());
              }}
            >
              Clear
            </button>
          )}
        </div>
      </form>
      {entries.isPending ? (
        <Loading what="Loading the audit log" />
      ) : entries.isError ? (
        <ErrorState error={entries.error} retry={() => void entries.refetch()} />
      ) : entries.data.items.length === 0 ? (
        <Empty title={filtered ? "No entry matches these filters." : "The audit log is empty."} />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table admin-audit" data-testid="admin-audit-table">
              <caption className="visually-hidden">Audit entries</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Entity</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{entry.id}</td>
                    <td>
                      <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
                    </td>
                    <td>{entry.actor}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td>
                      {entry.entity_type}
                      {entry.entity_id && <div className="muted admin-small admin-id">{entry.entity_id}</div>}
                    </td>
                    <td className="admin-details">
                      {Object.keys(entry.details).length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        <details>
                          <summary>{summarize(entry.details)}</summary>
                          <pre>{JSON.stringify(entry.details, null, 2)}</pre>
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Audit log" offset={offset} limit={PAGE} count={entries.data.items.length} total={entries.data.total} onOffset={setOffset} />
        </>
      )}
    </AdminSection>
  );
}

function summarize(details: Record<string, unknown>): string {
  const keys = Object.keys(details);
  const shown = keys.slice(0, 3).join(", ");
  return keys.length > 3 ? `${shown} +${keys.length - 3}` : shown;
}
