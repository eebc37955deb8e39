// Discovery (/discovery, managers and administrators): a form that starts a run (area, radius, lead category,
// industry, company size), the run's live progress (polled: companies looked at, fetched, classified, prospects
// created, budget used, and why it stopped), and the prospects waiting for review, each with the intent its page
// showed and Approve / Reject. A prospect is nobody's work until approved. See docs/discovery.md.
import { useState, type FormEvent } from "react";
import { ApiError } from "@/api/client";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import {
  isWorking,
  useProspects,
  useReview,
  useRun,
  useStartDiscovery,
  type DiscoverRequest,
  type DiscoveryRun,
  type Prospect,
  type ReviewState,
} from "./api";
import "./discovery.css";

export const CATEGORIES: { value: DiscoverRequest["category"]; label: string }[] = [
  { value: "loan", label: "Loan need" },
  { value: "consulting", label: "Consulting need" },
  { value: "growth", label: "Growth" },
  { value: "expansion", label: "Expansion" },
  { value: "distress", label: "Financial distress" },
  { value: "any", label: "Any intent" },
];
const SIZES: NonNullable<DiscoverRequest["company_size"]>[] = ["any", "1-10", "11-50", "51-200", "201-1000", "1000+"];

export interface DiscoveryForm {
  area: string;
  radius_km: string;
  category: DiscoverRequest["category"];
  industry: string;
  company_size: NonNullable<DiscoverRequest["company_size"]>;
  max_companies: string;
}

export const emptyForm: DiscoveryForm = {
  area: "",
  radius_km: "25",
  category: "loan",
  industry: "",
  company_size: "any",
  max_companies: "20",
};

/** The request the form sends (numbers as numbers; an empty industry left out). */
export function discoverBody(form: DiscoveryForm): DiscoverRequest {
  return {
    area: form.area.trim(),
    radius_km: Number(form.radius_km),
    category: form.category,
    industry: form.industry.trim() || null,
    company_size: form.company_size,
    max_companies: Number(form.max_companies),
  };
}

const STATUS_WORDS: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  done: "Done",
  stopped_budget: "Stopped: budget spent",
  failed: "Failed",
};

export function RunProgress({ run, total }: { run: DiscoveryRun; total: number }) {
  const budget = Object.entries(run.budget_used ?? {});
  return (
    <section className="card stack disc-run" aria-labelledby="disc-run-title" data-testid="discovery-run">
      <h2 id="disc-run-title">
        Run in {run.area}{" "}
        <span className={`chip disc-status disc-status-${run.status}`}>{STATUS_WORDS[run.status] ?? run.status}</span>
      </h2>
      <label className="disc-progress">
        <span>
          Companies looked at: {run.found} of at most {total}
        </span>
        <progress
          max={total}
          value={run.status === "done" ? total : Math.min(run.found, total)}
          aria-valuetext={`${run.found} of ${total}`}
        />
      </label>
      <dl className="disc-facts">
        <div>
          <dt>Fetched</dt>
          <dd>{run.fetched}</dd>
        </div>
        <div>
          <dt>Classified</dt>
          <dd>{run.classified}</dd>
        </div>
        <div>
          <dt>Prospects created</dt>
          <dd>{run.created}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd>{run.skipped}</dd>
        </div>
      </dl>
      {budget.length > 0 && (
        <p className="muted">Budget used: {budget.map(([name, used]) => `${name} ${used}`).join(", ")}</p>
      )}
      {run.stop_reason && (
        <p className={run.status === "failed" ? "form-error" : "disc-stop"} role="status">
          {run.stop_reason}
        </p>
      )}
      {run.errors.length > 0 && (
        <details>
          <summary>{run.errors.length} note(s) from the run</summary>
          <ul className="disc-errors">
            {run.errors.map((error) => (
              <li key={error}>{error}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function ProspectRow({ prospect }: { prospect: Prospect }) {
  const review = useReview();
  const failed = review.error instanceof ApiError ? review.error.message : review.error ? String(review.error) : null;
  return (
    <tr>
      <th scope="row">
        {prospect.name}
        <div className="muted">
          <a href={prospect.website} target="_blank" rel="noreferrer noopener">
            {prospect.company_domain ?? prospect.website}
          </a>
        </div>
      </th>
      <td className="disc-intent">
        {prospect.intents.map((intent) => (
          <div key={intent.intent}>
            <strong>{intent.intent.replace("_", " ")}</strong> ({Math.round(intent.confidence * 100)}%)
            <blockquote className="disc-snippet">{intent.snippet}</blockquote>
          </div>
        ))}
      </td>
      <td>{[prospect.city, prospect.state].filter(Boolean).join(", ")}</td>
      <td>{formatDateTime(prospect.created_at)}</td>
      <td>
        {prospect.review_state === "pending" ? (
          <div className="row">
            <button
              type="button"
              className="button button-primary"
              disabled={review.isPending}
              onClick={() => review.mutate({ leadId: prospect.lead_id, decision: "approve" })}
            >
              Approve
            </button>
            <button
              type="button"
              className="button"
              disabled={review.isPending}
              onClick={() => review.mutate({ leadId: prospect.lead_id, decision: "reject" })}
            >
              Reject
            </button>
          </div>
        ) : (
          <span className="chip">{prospect.review_state}</span>
        )}
        {failed && (
          <p className="form-error" role="alert">
            {failed}
          </p>
        )}
      </td>
    </tr>
  );
}

function ProspectList() {
  const [state, setState] = useState<ReviewState>("pending");
  const prospects = useProspects(state);
  return (
    <section className="card stack" aria-labelledby="disc-prospects-title">
      <div className="row disc-list-head">
        <h2 id="disc-prospects-title">Prospects</h2>
        <label>
          Show{" "}
          <select value={state} onChange={(e) => setState(e.target.value as ReviewState)}>
            <option value="pending">Waiting for review</option>
            <option value="approved">Approved</option>
            <option value="rejected">Rejected</option>
            <option value="all">All</option>
          </select>
        </label>
      </div>
      {prospects.isPending ? (
        <Loading what="Loading prospects" />
      ) : prospects.isError ? (
        <ErrorState error={prospects.error} retry={() => void prospects.refetch()} />
      ) : prospects.data.items.length === 0 ? (
        <Empty title={state === "pending" ? "No prospects waiting for review." : "No prospects here."}>
          Start a discovery run above; the companies it finds wait here until you approve or reject them.
        </Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Prospects (table)" tabIndex={0}>
          <table className="table" data-testid="prospects-table">
            <caption className="visually-hidden">Prospect companies, the intent their pages showed, and review</caption>
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col">Intent and evidence</th>
                <th scope="col">Area</th>
                <th scope="col">Found</th>
                <th scope="col">Review</th>
              </tr>
            </thead>
            <tbody>
              {prospects.data.items.map((prospect) => (
                <ProspectRow key={prospect.lead_id} prospect={prospect} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function DiscoveryPage() {
  const [form, setForm] = useState<DiscoveryForm>(emptyForm);
  const [runId, setRunId] = useState<string | null>(null);
  const [total, setTotal] = useState(20);
  const start = useStartDiscovery();
  const run = useRun(runId);
  const set = (patch: Partial<DiscoveryForm>) => setForm((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = discoverBody(form);
    start.mutate(body, {
      onSuccess: (created) => {
        setRunId(created.id);
        setTotal(body.max_companies ?? 20);
      },
    });
  };
  const error = start.error instanceof ApiError ? start.error.message : start.error ? String(start.error) : null;
  return (
    <div className="stack disc">
      <PageHeader title="Discovery" />
      <p className="muted disc-intro">
        Find companies in an area whose own pages show a need you serve — a loan, consulting, growth, expansion or
        financial distress. Upswing searches the web within the sources&apos; daily budgets, reads each site as its
        robots.txt allows, and keeps the companies whose pages show the intent as prospects for you to review.
      </p>
      <section className="card stack" aria-labelledby="disc-form-title">
        <h2 id="disc-form-title">New discovery run</h2>
        <form className="stack" onSubmit={submit} aria-label="Discovery criteria">
          <div className="disc-grid">
            <label className="disc-field">
              Area
              <input
                name="area"
                required
                placeholder="Austin, TX or 30.27,-97.74"
                value={form.area}
                onChange={(e) => set({ area: e.target.value })}
              />
            </label>
            <label className="disc-field">
              Radius (km)
              <input
                name="radius_km"
                type="number"
                min={1}
                max={500}
                value={form.radius_km}
                onChange={(e) => set({ radius_km: e.target.value })}
              />
            </label>
            <label className="disc-field">
              Lead category
              <select
                name="category"
                value={form.category}
                onChange={(e) => set({ category: e.target.value as DiscoveryForm["category"] })}
              >
                {CATEGORIES.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="disc-field">
              Industry
              <input
                name="industry"
                placeholder="e.g. construction"
                value={form.industry}
                onChange={(e) => set({ industry: e.target.value })}
              />
            </label>
            <label className="disc-field">
              Company size
              <select
                name="company_size"
                value={form.company_size}
                onChange={(e) => set({ company_size: e.target.value as DiscoveryForm["company_size"] })}
              >
                {SIZES.map((size) => (
                  <option key={size} value={size}>
                    {size === "any" ? "Any size" : `${size} people`}
                  </option>
                ))}
              </select>
            </label>
            <label className="disc-field">
              Companies at most
              <input
                name="max_companies"
                type="number"
                min={1}
                max={100}
                value={form.max_companies}
                onChange={(e) => set({ max_companies: e.target.value })}
              />
            </label>
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="row">
            <button type="submit" className="button button-primary" disabled={start.isPending || isWorking(run.data)}>
              Start discovery
            </button>
          </div>
        </form>
      </section>
      {runId !== null &&
        (run.isPending ? (
          <Loading what="Starting the run" />
        ) : run.isError ? (
          <ErrorState error={run.error} retry={() => void run.refetch()} />
        ) : (
          <RunProgress run={run.data} total={total} />
        ))}
      <ProspectList />
    </div>
  );
}
