// One experiment's report (/experiments/:experimentId, managers and administrators): GET …/{id}/report as JSON,
// read by report.ts. The headline is intention to treat over all leads (conversion per arm, the difference and the
// relative lift with their 95% intervals, the p-value and whether it is significant under the rule that applies —
// an interim look spends alpha); then dollars recovered per lead, days to first payment (medians, log-rank, the
// Kaplan–Meier curves), every section (all leads and each signal type) × comparison (intention to treat; per
// protocol, which is not randomised), the stratum balance and the notes. CSV and PDF downloads carry the token.
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, errorMessage } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { formatDate, formatDateTime } from "@/lib/datetime";
import { downloadReport, useExperiment, useReport, type Experiment, type ReportFile } from "./api";
import { KaplanMeierChart } from "./KaplanMeierChart";
import { LifecycleButtons } from "./Lifecycle";
import {
  formatCount,
  formatDaysValue,
  formatInterval,
  formatLift,
  formatMoney,
  formatP,
  formatPoints,
  formatRate,
  formatSignedMoney,
  formatThreshold,
  overallSection,
  sectionLabel,
  type Block,
  type ExperimentReport,
  type Section,
} from "./report";
import { Announce, StatusChip } from "./ui";
import "./experiments.css";

export default function ExperimentPage() {
  const { experimentId = "" } = useParams();
  const experiment = useExperiment(experimentId);
  if (experiment.isPending) return <Loading what="Loading the experiment" />;
  if (experiment.isError) {
    const missing = experiment.error instanceof ApiError && [404, 422].includes(experiment.error.status);
    return (
      <div className="stack" data-testid={missing ? "experiment-not-found" : undefined}>
        <PageHeader title={missing ? "Experiment not found" : "Experiment"} />
        {missing ? (
          <Empty title="No such experiment.">
            <Link to="/experiments">Back to the experiments</Link>
          </Empty>
        ) : (
          <ErrorState error={experiment.error} retry={() => void experiment.refetch()} />
        )}
      </div>
    );
  }
  return <ExperimentView experiment={experiment.data} />;
}

function ExperimentView({ experiment }: { experiment: Experiment }) {
  const user = useUser();
  const [notice, setNotice] = useState<string | null>(null);
  const started = experiment.status !== "draft";
  return (
    <div className="stack xp">
      <PageHeader title={experiment.name}>
        {started && (
          <>
            <DownloadLink experiment={experiment} format="csv" />
            <DownloadLink experiment={experiment} format="pdf" />
          </>
        )}
        {hasRole(user, "admin") && <LifecycleButtons experiment={experiment} onDone={setNotice} />}
        <Link to="/experiments" className="button">
          All experiments
        </Link>
      </PageHeader>
      <Announce ok={notice} />
      <section className="card xp-summary" aria-label="The experiment">
        <dl className="xp-facts">
          <div>
            <dt>Status</dt>
            <dd>
              <StatusChip status={experiment.status} />
            </dd>
          </div>
          <div>
            <dt>Control share</dt>
            <dd>{Math.round(experiment.control_share * 1000) / 10}%</dd>
          </div>
          <div>
            <dt>Conversion</dt>
            <dd>a payment within {experiment.conversion_days} days</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{experiment.started_at ? formatDate(experiment.started_at) : "not yet"}</dd>
          </div>
          <div>
            <dt>Planned end</dt>
            <dd>{formatDate(experiment.planned_end)}</dd>
          </div>
          {experiment.ended_at && (
            <div>
              <dt>Ended</dt>
              <dd>{formatDate(experiment.ended_at)}</dd>
            </div>
          )}
        </dl>
        {experiment.description && <p className="xp-description">{experiment.description}</p>}
      </section>
      {started ? (
        <ReportView experimentId={experiment.id} />
      ) : (
        <Empty title="Not started yet: no report.">
          The report comes once the experiment has started and its leads have been assigned to arms.
        </Empty>
      )}
    </div>
  );
}

function DownloadLink({ experiment, format }: { experiment: Experiment; format: ReportFile }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = format === "csv" ? "Download CSV" : "Download PDF";
  return (
    <span className="xp-download">
      <a
        className="button"
        href={`/api/v1/experiments/${experiment.id}/report?format=${format}`}
        download={`experiment-${experiment.name}.${format}`}
        aria-busy={busy || undefined}
        data-testid={`report-${format}`}
        onClick={(event) => {
          event.preventDefault();
          if (busy) return;
          setBusy(true);
          setError(null);
          downloadReport(experiment.id, experiment.name, format)
            .catch((failure: unknown) =>
              setError(failure instanceof Error ? failure.message : errorMessage(failure, "The download failed")),
            )
            .finally(() => setBusy(false));
        }}
      >
        {busy ? "Preparing…" : label}
      </a>
      {error && (
        <span className="form-error xp-small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

function ReportView({ experimentId }: { experimentId: string }) {
  const report = useReport(experimentId);
  if (report.isPending) return <Loading what="Running the analysis" />;
  if (report.isError) return <ErrorState error={report.error} retry={() => void report.refetch()} />;
  return <Report report={report.data} />;
}

/** The report itself (exported for tests, which hand it a parsed fixture). */
export function Report({ report }: { report: ExperimentReport }) {
  const overall = overallSection(report);
  if (!overall || report.leads === 0) {
    return (
      <Empty title="No leads have been assigned yet.">
        {report.notes.length > 0 ? report.notes.join(" ") : "The population had no leads when the experiment started."}
      </Empty>
    );
  }
  const headline = overall.itt;
  return (
    <div className="stack" data-testid="experiment-report">
      <p className="muted xp-asof">
        {formatCount(report.leads)} leads assigned
        {report.experiment.as_of ? ` · figures as of ${formatDateTime(report.experiment.as_of)}` : ""}
        {overall.still_in_followup ? ` · ${formatCount(overall.still_in_followup)} still in follow-up` : ""}
      </p>
      <Headline report={report} block={headline} />
      <div className="xp-pair">
        <Dollars block={headline} />
        <TimeToPayment block={headline} />
      </div>
      <section className="card stack" aria-labelledby="xp-km-title">
        <h2 id="xp-km-title">Days to first payment, all leads</h2>
        {headline.time_to_payment.control || headline.time_to_payment.treatment ? (
          <KaplanMeierChart
            control={headline.time_to_payment.control}
            treatment={headline.time_to_payment.treatment}
            label={`Kaplan–Meier curves of days to first payment: control median ${formatDaysValue(
              headline.time_to_payment.control_median_days,
            )}, treatment median ${formatDaysValue(headline.time_to_payment.treatment_median_days)}, log-rank p ${formatP(
              headline.time_to_payment.logrank_p_value,
            )}.`}
          />
        ) : (
          <p className="muted">No curves to draw: the report has none for this section.</p>
        )}
      </section>
      <SectionsTables report={report} />
      <StrataTable report={report} />
      <Notes report={report} />
    </div>
  );
}

function Headline({ report, block }: { report: ExperimentReport; block: Block }) {
  const c = block.conversion;
  const days = report.conversion_days;
  const rule = block.alpha_used ?? report.alpha_used;
  const verdict =
    c.p_value === null
      ? "No test possible yet: neither arm (or every lead in both) has paid."
      : block.significant
        ? `Significant: treatment converts ${(c.difference ?? 0) > 0 ? "higher" : "lower"} than control (p = ${formatP(
            c.p_value,
          )} < ${formatThreshold(rule)}).`
        : `Not significant: p = ${formatP(c.p_value)}, the rule is p < ${formatThreshold(rule)}${
            report.interim ? " at this interim look" : ""
          }.`;
  return (
    <section className="card stack xp-headline" aria-labelledby="xp-headline-title" data-testid="experiment-headline">
      <div className="xp-headline-head">
        <h2 id="xp-headline-title">Headline: intention to treat, all leads</h2>
        {report.interim ? (
          <span className="chip xp-interim" data-testid="interim-flag">
            Interim look
            {report.information_fraction !== null ? ` at ${Math.round(report.information_fraction * 100)}% of the horizon` : ""}
          </span>
        ) : (
          <span className="chip">Final (fixed horizon)</span>
        )}
      </div>
      <div className="xp-arms">
        <ArmRate
          arm="Control (held out)"
          rate={c.control_rate}
          converted={c.control_converted}
          n={c.control_n}
          days={days}
          className="xp-arm-control"
        />
        <ArmRate
          arm="Treatment (alerted)"
          rate={c.treatment_rate}
          converted={c.treatment_converted}
          n={c.treatment_n}
          days={days}
          className="xp-arm-treatment"
        />
      </div>
      <dl className="xp-facts xp-facts-big">
        <div>
          <dt>Difference (treatment − control)</dt>
          <dd data-testid="headline-difference">
            {formatPoints(c.difference)}
            <span className="xp-ci">95% CI {formatInterval(c.difference_ci, formatPoints)}</span>
          </dd>
        </div>
        <div>
          <dt>Relative lift</dt>
          <dd data-testid="headline-lift">
            {formatLift(c.relative_lift)}
            <span className="xp-ci">95% CI {formatInterval(c.relative_lift_ci, formatLift)}</span>
          </dd>
        </div>
        <div>
          <dt>p-value</dt>
          <dd data-testid="headline-p">{formatP(c.p_value)}</dd>
        </div>
      </dl>
      <p className={`xp-verdict ${block.significant ? "xp-verdict-yes" : "xp-verdict-no"}`} data-testid="headline-verdict">
        {verdict}
      </p>
      <div className="xp-rules">
        <p data-testid="significance-rule">
          <strong>Rule: </strong>
          {report.significance_rule || "—"}
        </p>
        <p data-testid="horizon-statement">
          <strong>Horizon: </strong>
          {report.horizon_statement || "—"}
        </p>
      </div>
    </section>
  );
}

function ArmRate({
  arm,
  rate,
  converted,
  n,
  days,
  className,
}: {
  arm: string;
  rate: number | null;
  converted: number;
  n: number;
  days: number | null;
  className: string;
}) {
  return (
    <div className={`xp-arm ${className}`}>
      <h3>{arm}</h3>
      <p className="xp-big">{formatRate(rate)}</p>
      <p className="muted">
        {formatCount(converted)} of {formatCount(n)} paid{days !== null ? ` within ${days} days` : ""}
      </p>
    </div>
  );
}

function Dollars({ block }: { block: Block }) {
  const r = block.recovered;
  const level = r.confidence_level !== null ? `${Math.round(r.confidence_level * 100)}%` : "95%";
  return (
    <section className="card stack" aria-labelledby="xp-dollars-title" data-testid="experiment-dollars">
      <h2 id="xp-dollars-title">Dollars recovered per lead</h2>
      <dl className="xp-facts">
        <div>
          <dt>Control</dt>
          <dd>{formatMoney(r.control_mean)}</dd>
        </div>
        <div>
          <dt>Treatment</dt>
          <dd>{formatMoney(r.treatment_mean)}</dd>
        </div>
        <div>
          <dt>Difference</dt>
          <dd>
            {formatSignedMoney(r.difference)}
            <span className="xp-ci">
              {level} CI {formatInterval(r.difference_ci, formatSignedMoney)}
            </span>
          </dd>
        </div>
      </dl>
      <p className="muted xp-small">
        Intention to treat, all leads; a bootstrap interval{r.resamples ? ` (${formatCount(r.resamples)} resamples)` : ""}: dollars
        are far from normally distributed.
      </p>
    </section>
  );
}

function TimeToPayment({ block }: { block: Block }) {
  const t = block.time_to_payment;
  return (
    <section className="card stack" aria-labelledby="xp-time-title" data-testid="experiment-time">
      <h2 id="xp-time-title">Days to first payment</h2>
      <dl className="xp-facts">
        <div>
          <dt>Control median</dt>
          <dd>{formatDaysValue(t.control_median_days)}</dd>
        </div>
        <div>
          <dt>Treatment median</dt>
          <dd>{formatDaysValue(t.treatment_median_days)}</dd>
        </div>
        <div>
          <dt>Log-rank p</dt>
          <dd>{formatP(t.logrank_p_value)}</dd>
        </div>
      </dl>
      <p className="muted xp-small">
        A median is “not reached” while more than half of an arm&apos;s leads have not paid. The log-rank test compares
        the whole curves, still-unpaid leads included.
      </p>
    </section>
  );
}

const BLOCK_LABEL = { itt: "Intention to treat", per_protocol: "Per protocol (not randomised)" } as const;

function blocksOf(section: Section): Block[] {
  return [section.itt, section.per_protocol];
}

function ComparisonCell({ block }: { block: Block }) {
  return (
    <td>
      {BLOCK_LABEL[block.block]}
      {block.block === "per_protocol" && <span className="xp-pp-flag"> may be biased</span>}
    </td>
  );
}

function SectionsTables({ report }: { report: ExperimentReport }) {
  return (
    <section className="card stack" aria-labelledby="xp-sections-title" data-testid="experiment-sections">
      <h2 id="xp-sections-title">Every section</h2>
      <p className="muted xp-small">
        All leads, then the leads that had each signal type (a lead with several types is in each). Intention to
        treat compares the arms as randomised. <strong>Per protocol</strong> compares control with the treatment leads
        whose alert was delivered: <strong>not randomised</strong>, so it may be biased — a sensitivity check, not the
        effect.
      </p>
      <div className="xp-table-box">
        <p className="xp-table-title" aria-hidden="true">
          Conversion
        </p>
        <div className="table-wrap xp-table-wrap" role="region" aria-label="Conversion per section (table)" tabIndex={0}>
          <table className="table xp-table" data-testid="sections-conversion">
            <caption className="visually-hidden">Conversion per section and comparison</caption>
            <thead>
              <tr>
                <th scope="col">Section</th>
                <th scope="col">Comparison</th>
                <th scope="col" className="xp-num">Control</th>
                <th scope="col" className="xp-num">Treatment</th>
                <th scope="col" className="xp-num">Difference (95% CI)</th>
                <th scope="col" className="xp-num">Relative lift (95% CI)</th>
                <th scope="col" className="xp-num">p</th>
                <th scope="col">Significant</th>
              </tr>
            </thead>
            {report.sections.map((section) => (
              <tbody key={section.section}>
                {blocksOf(section).map((block, index) => {
                  const c = block.conversion;
                  return (
                    <tr key={block.block} className={block.block === "per_protocol" ? "xp-pp" : undefined} data-testid="section-row">
                      {index === 0 && (
                        <th scope="rowgroup" rowSpan={2} className="xp-section">
                          {sectionLabel(section.section)}
                          <div className="muted xp-small">{formatCount(section.leads)} leads</div>
                        </th>
                      )}
                      <ComparisonCell block={block} />
                      <td className="xp-num">
                        {formatRate(c.control_rate)}
                        <div className="muted xp-small">
                          {formatCount(c.control_converted)}/{formatCount(c.control_n)}
                        </div>
                      </td>
                      <td className="xp-num">
                        {formatRate(c.treatment_rate)}
                        <div className="muted xp-small">
                          {formatCount(c.treatment_converted)}/{formatCount(c.treatment_n)}
                        </div>
                      </td>
                      <td className="xp-num">
                        {formatPoints(c.difference)}
                        <div className="muted xp-small">{formatInterval(c.difference_ci, formatPoints)}</div>
                      </td>
                      <td className="xp-num">
                        {formatLift(c.relative_lift)}
                        <div className="muted xp-small">{formatInterval(c.relative_lift_ci, formatLift)}</div>
                      </td>
                      <td className="xp-num">{formatP(c.p_value)}</td>
                      <td>{block.significant ? <span className="ok">Yes</span> : "No"}</td>
                    </tr>
                  );
                })}
              </tbody>
            ))}
          </table>
        </div>
      </div>
      <div className="xp-table-box">
        <p className="xp-table-title" aria-hidden="true">
          Dollars recovered and days to first payment
        </p>
        <div className="table-wrap xp-table-wrap" role="region" aria-label="Dollars and days to payment per section (table)" tabIndex={0}>
          <table className="table xp-table" data-testid="sections-dollars">
            <caption className="visually-hidden">Dollars recovered per lead and days to first payment per section and comparison</caption>
            <thead>
              <tr>
                <th scope="col">Section</th>
                <th scope="col">Comparison</th>
                <th scope="col" className="xp-num">$ per lead, control</th>
                <th scope="col" className="xp-num">$ per lead, treatment</th>
                <th scope="col" className="xp-num">Difference (95% CI)</th>
                <th scope="col" className="xp-num">Median days, control</th>
                <th scope="col" className="xp-num">Median days, treatment</th>
                <th scope="col" className="xp-num">Log-rank p</th>
              </tr>
            </thead>
            {report.sections.map((section) => (
              <tbody key={section.section}>
                {blocksOf(section).map((block, index) => {
                  const r = block.recovered;
                  const t = block.time_to_payment;
                  return (
                    <tr key={block.block} className={block.block === "per_protocol" ? "xp-pp" : undefined}>
                      {index === 0 && (
                        <th scope="rowgroup" rowSpan={2} className="xp-section">
                          {sectionLabel(section.section)}
                        </th>
                      )}
                      <ComparisonCell block={block} />
                      <td className="xp-num">{formatMoney(r.control_mean)}</td>
                      <td className="xp-num">{formatMoney(r.treatment_mean)}</td>
                      <td className="xp-num">
                        {formatSignedMoney(r.difference)}
                        <div className="muted xp-small">{formatInterval(r.difference_ci, formatSignedMoney)}</div>
                      </td>
                      <td className="xp-num">{formatDaysValue(t.control_median_days, "—")}</td>
                      <td className="xp-num">{formatDaysValue(t.treatment_median_days, "—")}</td>
                      <td className="xp-num">{formatP(t.logrank_p_value)}</td>
                    </tr>
                  );
                })}
              </tbody>
            ))}
          </table>
        </div>
        <p className="muted xp-small">A median shown as “—” is not reached: fewer than half of those leads have paid.</p>
      </div>
    </section>
  );
}

function StrataTable({ report }: { report: ExperimentReport }) {
  return (
    <section className="card stack" aria-labelledby="xp-strata-title" data-testid="experiment-strata">
      <h2 id="xp-strata-title">Stratum balance</h2>
      <p className="muted xp-small">
        Leads are randomised within each portfolio × balance band, so every stratum holds out the same share.
      </p>
      <div className="table-wrap xp-table-wrap" role="region" aria-label="Stratum balance (table)" tabIndex={0}>
        <table className="table xp-table">
          <caption className="visually-hidden">Leads per arm in each randomisation stratum</caption>
          <thead>
            <tr>
              <th scope="col">Stratum (portfolio | balance)</th>
              <th scope="col" className="xp-num">Control</th>
              <th scope="col" className="xp-num">Treatment</th>
              <th scope="col" className="xp-num">Control share</th>
            </tr>
          </thead>
          <tbody>
            {report.strata.length === 0 ? (
              <tr>
                <td colSpan={4} className="muted">
                  No strata.
                </td>
              </tr>
            ) : (
              report.strata.map((stratum) => (
                <tr key={stratum.stratum}>
                  <th scope="row" className="xp-section">
                    {stratum.stratum}
                  </th>
                  <td className="xp-num">{formatCount(stratum.control_n)}</td>
                  <td className="xp-num">{formatCount(stratum.treatment_n)}</td>
                  <td className="xp-num">
                    {stratum.control_share === null ? "—" : `${(stratum.control_share * 100).toFixed(1)}%`}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Notes({ report }: { report: ExperimentReport }) {
  return (
    <section className="card stack" aria-labelledby="xp-notes-title" data-testid="experiment-notes">
      <h2 id="xp-notes-title">Notes</h2>
      {report.notes.length > 0 && (
        <ul className="xp-notes">
          {report.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      {report.sections.map((section) => (
        <details key={section.section} className="xp-section-notes">
          <summary>{sectionLabel(section.section)}: what the numbers say</summary>
          {section.notes.length > 0 && (
            <ul className="xp-notes">
              {section.notes.map((note) => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          )}
          {blocksOf(section).map((block) => (
            <div key={block.block}>
              <h3>{block.label}</h3>
              <ul className="xp-notes">
                {block.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            </div>
          ))}
        </details>
      ))}
    </section>
  );
}
