// Holdout experiments (/experiments, managers and administrators): the list with each experiment's status, arm
// sizes, exposure and horizon; for administrators a "New experiment" form and Start / End (each confirmed); and a
// power calculator. A row's name opens its report (/experiments/:experimentId). See docs/experiments.md.
import { useState } from "react";
import { Link } from "react-router-dom";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { formatDate } from "@/lib/datetime";
import { useExperiments, type Experiment } from "./api";
import { LifecycleButtons } from "./Lifecycle";
import { NewExperimentDialog } from "./NewExperimentForm";
import { PowerCalculator } from "./PowerCalculator";
import { formatCount } from "./report";
import { Announce, StatusChip } from "./ui";
import "./experiments.css";

function population(experiment: Experiment): string {
  const raw = experiment.population ?? {};
  const parts: string[] = [];
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((v) => typeof v === "string").join(", ") : "");
  if (list(raw.portfolios)) parts.push(list(raw.portfolios));
  if (list(raw.states)) parts.push(list(raw.states));
  if (typeof raw.min_days_delinquent === "number") parts.push(`${raw.min_days_delinquent}+ days delinquent`);
  return parts.length ? parts.join(" · ") : "Every lead";
}

export default function ExperimentsPage() {
  const user = useUser();
  const admin = hasRole(user, "admin");
  const experiments = useExperiments();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <div className="stack xp">
      <PageHeader title="Experiments">
        {admin && (
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New experiment
          </button>
        )}
      </PageHeader>
      <p className="muted xp-intro">
        Does acting on signals lift recovery? A random control group of leads gets business as usual — their signals
        are stored but nobody is alerted — and the difference in what the two groups pay, with its confidence
        interval, is the lift.
      </p>
      <Announce ok={notice} testId="experiments-notice" />
      {admin && (
        <NewExperimentDialog
          open={creating}
          onOpenChange={setCreating}
          onCreated={(experiment) => {
            setCreating(false);
            setNotice(`Experiment ${experiment.name} created as a draft: start it when you are ready.`);
          }}
        />
      )}
      <section className="card stack" aria-labelledby="experiments-list-title">
        <h2 id="experiments-list-title">All experiments</h2>
        {experiments.isPending ? (
          <Loading what="Loading experiments" />
        ) : experiments.isError ? (
          <ErrorState error={experiments.error} retry={() => void experiments.refetch()} />
        ) : experiments.data.length === 0 ? (
          <Empty title="No experiments yet.">
            {admin ? "Create one with “New experiment”." : "An administrator creates and starts them."}
          </Empty>
        ) : (
          <div className="table-wrap" role="region" aria-label="Experiments (table)" tabIndex={0}>
            <table className="table xp-table" data-testid="experiments-table">
              <caption className="visually-hidden">Experiments: status, arm sizes, exposure and dates</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="xp-num">
                    Control
                  </th>
                  <th scope="col" className="xp-num">
                    Treatment
                  </th>
                  <th scope="col" className="xp-num">
                    Exposed
                  </th>
                  <th scope="col">Started</th>
                  <th scope="col">Planned end</th>
                  {admin && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {experiments.data.map((experiment) => (
                  <tr key={experiment.id} data-testid="experiment-row" data-name={experiment.name}>
                    <th scope="row" className="xp-name">
                      <Link to={`/experiments/${experiment.id}`}>{experiment.name}</Link>
                      <div className="muted xp-small">{population(experiment)}</div>
                    </th>
                    <td>
                      <StatusChip status={experiment.status} />
                    </td>
                    <td className="xp-num">{formatCount(experiment.arms?.control ?? 0)}</td>
                    <td className="xp-num">{formatCount(experiment.arms?.treatment ?? 0)}</td>
                    <td className="xp-num">{formatCount(experiment.exposed)}</td>
                    <td>{experiment.started_at ? formatDate(experiment.started_at) : <span className="muted">not yet</span>}</td>
                    <td>
                      {formatDate(experiment.planned_end)}
                      {experiment.ended_at && <div className="muted xp-small">ended {formatDate(experiment.ended_at)}</div>}
                    </td>
                    {admin && (
                      <td>
                        <div className="xp-row-actions">
                          <LifecycleButtons experiment={experiment} onDone={setNotice} />
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <PowerCalculator />
    </div>
  );
}
