// The reports: each a Recharts chart with its table under it, its notes and a CSV download.
import { keepPreviousData, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type LegendPayload,
} from "recharts";
import type { Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import {
  formatCount,
  formatDay,
  formatHours,
  formatMoney,
  formatMinutes,
  formatRate,
  chartRowsFor,
  CHART_ROWS,
  humanize,
  OTHER,
  pivotSignals,
  seriesLabel,
  type Bucket,
  type ReportName,
  type ReportQuery,
  type Reports,
  type SignalsBy,
  type TimesBy,
} from "./analytics";
import { fetchReport } from "./api";
import { ChartFigure, COLORS, DataTable, Notes, OTHER_COLOR, Section, Toggle, type Column } from "./ui";

const TICK = { fontSize: 12, fill: "#52606d" };
const NARROW = "(max-width: 600px)";

/** Room for the category labels of a horizontal bar chart: less on a phone. */
function useAxisWidth(): number {
  const query = typeof window !== "undefined" && window.matchMedia ? window.matchMedia(NARROW) : null;
  const [narrow, setNarrow] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const changed = () => setNarrow(query.matches);
    query.addEventListener("change", changed);
    return () => query.removeEventListener("change", changed);
  }, [query]);
  return narrow ? 96 : 150;
}

/** Legend items in the order the bars are drawn (Recharts sorts them by name otherwise). */
function inOrder(keys: readonly string[]): (item: LegendPayload) => number {
  return (item) => keys.indexOf(String(item.dataKey));
}

function useReport<N extends ReportName>(name: N, query: ReportQuery): UseQueryResult<Reports[N]> {
  return useQuery({
    queryKey: ["analytics", name, query],
    queryFn: () => fetchReport(name, query),
    placeholderData: keepPreviousData,
  });
}

/** Loading, error (a 403 says the API's reason) or the report. */
function Report<T>({ result, what, children }: { result: UseQueryResult<T>; what: string; children: (data: T) => ReactNode }) {
  if (result.isPending) return <Loading what={`Loading ${what}`} />;
  if (result.isError) return <ErrorState error={result.error} retry={() => void result.refetch()} />;
  return <div aria-busy={result.isFetching || undefined}>{children(result.data)}</div>;
}

function colorOf(key: string, index: number): string {
  return key === OTHER ? OTHER_COLOR : (COLORS[index % COLORS.length] ?? OTHER_COLOR);
}

function chartHeight(items: number, perItem: number, minimum = 220): number {
  return Math.max(minimum, 60 + items * perItem);
}

// ------------------------------------------------------------------------------------------------
// Signals per day or week
// ------------------------------------------------------------------------------------------------

export function SignalsSection({
  query,
  bucket,
  onBucket,
}: {
  query: ReportQuery;
  bucket: Bucket;
  onBucket: (bucket: Bucket) => void;
}) {
  const [by, setBy] = useState<SignalsBy>("type");
  const report = useReport("signals", { ...query, bucket });
  const unit = bucket === "week" ? "week" : "day";
  return (
    <Section
      name="signals"
      title="Signals detected"
      intro={`Signals detected per ${unit}, by type or by the source that saw the event first.`}
      query={{ ...query, bucket }}
      controls={
        <div className="row analytics-controls">
          <Toggle
            label="Per"
            value={bucket}
            options={[
              { value: "day", label: "Day" },
              { value: "week", label: "Week" },
            ]}
            onChange={onBucket}
          />
          <Toggle
            label="By"
            value={by}
            options={[
              { value: "type", label: "Type" },
              { value: "source", label: "Source" },
            ]}
            onChange={setBy}
          />
        </div>
      }
    >
      <Report result={report} what="signals">
        {(data) => {
          const pivot = pivotSignals(data.rows, by, data.from, data.to, data.bucket);
          const label = (key: string) => seriesLabel(by, key);
          const columns: Column<(typeof pivot.data)[number]>[] = [
            {
              key: "bucket",
              label: data.bucket === "week" ? "Week of" : "Day",
              render: (row) => <time dateTime={row.bucket}>{formatDay(row.bucket, true)}</time>,
            },
            ...pivot.series.map((key) => ({
              key,
              label: label(key),
              numeric: true,
              render: (row: (typeof pivot.data)[number]) => formatCount(Number(row[key] ?? 0)),
            })),
            { key: "total", label: "Total", numeric: true, render: (row) => formatCount(row.total) },
          ];
          return (
            <>
              {pivot.total === 0 ? (
                <Empty title="No signals were detected in this range.">Try a longer range or another team.</Empty>
              ) : (
                <ChartFigure
                  label={`Stacked bar chart of ${formatCount(pivot.total)} signals per ${unit} by ${by}. The table below lists the figures.`}
                  caption={`Signals per ${unit} (UTC) by ${by}${pivot.series.includes(OTHER) ? "; the smaller ones are summed into Other" : ""}.`}
                >
                  <ResponsiveContainer width="100%" height={280}>
                    <BarChart data={pivot.data} accessibilityLayer={false} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="bucket" tickFormatter={(value: string) => formatDay(value)} tick={TICK} minTickGap={12} />
                      <YAxis allowDecimals={false} tick={TICK} width={40} />
                      <Tooltip labelFormatter={(value) => formatDay(String(value), true)} />
                      <Legend formatter={(value: string) => label(value)} itemSorter={inOrder(pivot.series)} />
                      {pivot.series.map((key, index) => (
                        <Bar key={key} dataKey={key} name={key} stackId="signals" fill={colorOf(key, index)} isAnimationActive={false} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                </ChartFigure>
              )}
              <DataTable
                caption={`Signals per ${unit} by ${by}`}
                columns={columns}
                rows={pivot.total === 0 ? [] : pivot.data}
                rowKey={(row) => row.bucket}
                empty="No signals in this range."
              />
              <Notes notes={data.notes} />
            </>
          );
        }}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Funnel
// ------------------------------------------------------------------------------------------------

const STAGES = [
  { key: "acknowledged_rate", label: "Acknowledged" },
  { key: "actioned_rate", label: "Actioned" },
  { key: "promised_rate", label: "Promise to pay" },
  { key: "paid_rate", label: "Payment" },
] as const;

type FunnelRow = Schemas["FunnelRow"];

const FUNNEL_COLUMNS: Column<FunnelRow>[] = [
  { key: "type", label: "Signal type", render: (r) => humanize(r.type) },
  { key: "signals", label: "Signals", numeric: true, render: (r) => formatCount(r.signals) },
  { key: "acknowledged", label: "Acknowledged", numeric: true, render: (r) => `${formatCount(r.acknowledged)} (${formatRate(r.acknowledged_rate)})` },
  { key: "actioned", label: "Actioned (contacted)", numeric: true, render: (r) => `${formatCount(r.actioned)} (${formatRate(r.actioned_rate)})` },
  { key: "promised", label: "Promise to pay", numeric: true, render: (r) => `${formatCount(r.promised)} (${formatRate(r.promised_rate)})` },
  { key: "paid", label: "Payment", numeric: true, render: (r) => `${formatCount(r.paid)} (${formatRate(r.paid_rate)})` },
  { key: "dismissed", label: "Dismissed", numeric: true, render: (r) => formatCount(r.dismissed) },
];

export function FunnelSection({ query }: { query: ReportQuery }) {
  const axisWidth = useAxisWidth();
  const report = useReport("funnel", query);
  return (
    <Section
      name="funnel"
      title="Conversion by signal type"
      intro="Of the signals detected in the range: how many were acknowledged, actioned (contacted), led to a promise to pay and to a payment."
      query={query}
    >
      <Report result={report} what="the funnel">
        {(data) => (
          <>
            {data.rows.length === 0 ? (
              <Empty title="No signals were detected in this range." />
            ) : (
              <ChartFigure
                label={`Bar chart of the share of signals reaching each stage, for ${data.rows.length} signal types. The table below lists the figures.`}
                caption="Share of each type's signals that reached each stage."
              >
                <ResponsiveContainer width="100%" height={chartHeight(data.rows.length, 64)}>
                  <BarChart
                    layout="vertical"
                    data={data.rows.map((row) => ({ ...row, label: humanize(row.type) }))}
                    accessibilityLayer={false}
                    margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
                  >
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" domain={[0, 1]} tickFormatter={(value: number) => formatRate(value)} tick={TICK} />
                    <YAxis type="category" dataKey="label" width={axisWidth} tick={TICK} />
                    <Tooltip formatter={(value) => formatRate(Number(value))} />
                    <Legend itemSorter={inOrder(STAGES.map((stage) => stage.key))} />
                    {STAGES.map((stage, index) => (
                      <Bar key={stage.key} dataKey={stage.key} name={stage.label} fill={colorOf(stage.key, index)} isAnimationActive={false} />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </ChartFigure>
            )}
            <DataTable
              caption="Conversion by signal type (count and share of signals)"
              columns={FUNNEL_COLUMNS}
              rows={data.rows}
              rowKey={(row) => row.type}
              empty="No signals in this range."
            />
            <Notes notes={data.notes} />
          </>
        )}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Response times
// ------------------------------------------------------------------------------------------------

type TimeRow = Schemas["ResponseTimeRow"];

const GROUP_LABELS: Record<string, string> = { all: "All", team: "Team", agent: "Agent" };

const TIME_COLUMNS: Column<TimeRow>[] = [
  { key: "name", label: "Name", render: (r) => r.name },
  { key: "group", label: "Group", render: (r) => GROUP_LABELS[r.group] ?? r.group },
  { key: "priority", label: "Priority", render: (r) => (r.priority === "all" ? "All" : humanize(r.priority)) },
  { key: "signals", label: "Signals", numeric: true, render: (r) => formatCount(r.signals) },
  { key: "responded", label: "Responded", numeric: true, render: (r) => formatCount(r.responded) },
  { key: "median", label: "Median", numeric: true, render: (r) => formatMinutes(r.median_minutes) },
  { key: "p90", label: "p90", numeric: true, render: (r) => formatMinutes(r.p90_minutes) },
];

export function ResponseTimesSection({ query, isAgent }: { query: ReportQuery; isAgent: boolean }) {
  const axisWidth = useAxisWidth();
  const [by, setBy] = useState<TimesBy>(isAgent ? "priority" : "team");
  const report = useReport("response-times", query);
  const options: { value: TimesBy; label: string }[] = isAgent
    ? [{ value: "priority", label: "Priority" }]
    : [
        { value: "team", label: "Team" },
        { value: "agent", label: "Agent" },
        { value: "priority", label: "Priority" },
      ];
  return (
    <Section
      name="response-times"
      title="Response times"
      intro="From detection to the first acknowledgement, action or dismissal: median and 90th percentile, per team and agent (the signal's assignee), by priority."
      query={query}
      controls={options.length > 1 ? <Toggle label="Chart per" value={by} options={options} onChange={setBy} /> : null}
    >
      <Report result={report} what="response times">
        {(data) => {
          const chart = chartRowsFor(data.rows, by);
          return (
            <>
              {chart.length === 0 ? (
                <Empty title="Nobody has responded to a signal detected in this range yet." />
              ) : (
                <ChartFigure
                  label={`Bar chart of median and 90th percentile response times per ${by}, ${chart.length} bars each. The table below lists the figures.`}
                  caption={`Median and p90 time to first action per ${by}${chart.length === CHART_ROWS ? ` (the first ${CHART_ROWS})` : ""}.`}
                >
                  <ResponsiveContainer width="100%" height={chartHeight(chart.length, 48)}>
                    <BarChart layout="vertical" data={chart} accessibilityLayer={false} margin={{ top: 8, right: 16, left: 0, bottom: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                      <XAxis type="number" tickFormatter={(value: number) => formatMinutes(value)} tick={TICK} />
                      <YAxis type="category" dataKey="label" width={axisWidth} tick={TICK} />
                      <Tooltip formatter={(value) => formatMinutes(Number(value))} />
                      <Legend itemSorter={inOrder(["median_minutes", "p90_minutes"])} />
                      <Bar dataKey="median_minutes" name="Median" fill={COLORS[0]} isAnimationActive={false} />
                      <Bar dataKey="p90_minutes" name="p90" fill={COLORS[1]} isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </ChartFigure>
              )}
              <DataTable
                caption="Response times per team, agent and priority"
                columns={TIME_COLUMNS}
                rows={data.rows}
                rowKey={(row) => `${row.group}:${row.id ?? "none"}:${row.priority}`}
                empty="No signals in this range."
              />
              <Notes notes={data.notes} />
            </>
          );
        }}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Outcomes
// ------------------------------------------------------------------------------------------------

type OutcomeRow = Schemas["OutcomeCountRow"];

const OUTCOME_COLUMNS: Column<OutcomeRow>[] = [
  { key: "outcome", label: "Outcome", render: (r) => humanize(r.outcome) },
  { key: "signals", label: "Signals", numeric: true, render: (r) => formatCount(r.signals) },
  { key: "share", label: "Share of outcomes", numeric: true, render: (r) => formatRate(r.share) },
];

export function OutcomesSection({ query }: { query: ReportQuery }) {
  const axisWidth = useAxisWidth();
  const report = useReport("outcomes", query);
  return (
    <Section
      name="outcomes"
      title="Outcomes"
      intro="The outcomes recorded on the signals detected in the range."
      query={query}
    >
      <Report result={report} what="outcomes">
        {(data) => (
          <>
            <p className="analytics-summary">
              {formatCount(data.with_outcome)} of {formatCount(data.signals)} signals have an outcome.
            </p>
            {data.with_outcome === 0 ? (
              <Empty title="No outcomes recorded on these signals yet." />
            ) : (
              <ChartFigure
                label={`Bar chart of ${formatCount(data.with_outcome)} outcomes by type. The table below lists the figures.`}
                caption="Signals per outcome."
              >
                <ResponsiveContainer width="100%" height={chartHeight(data.rows.length, 36)}>
                  <BarChart
                    layout="vertical"
                    data={data.rows.map((row) => ({ ...row, label: humanize(row.outcome) }))}
                    accessibilityLayer={false}
                    margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
                  >
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} tick={TICK} />
                    <YAxis type="category" dataKey="label" width={axisWidth} tick={TICK} />
                    <Tooltip />
                    <Bar dataKey="signals" name="Signals" fill={COLORS[2]} isAnimationActive={false} />
                  </BarChart>
                </ResponsiveContainer>
              </ChartFigure>
            )}
            <DataTable
              caption="Outcomes"
              columns={OUTCOME_COLUMNS}
              rows={data.rows}
              rowKey={(row) => row.outcome}
              empty="No outcomes."
            />
            <Notes notes={data.notes} />
          </>
        )}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Model quality
// ------------------------------------------------------------------------------------------------

type QualityRow = Schemas["ModelQualityRow"];

const QUALITY_COLUMNS: Column<QualityRow>[] = [
  { key: "type", label: "Signal type", render: (r) => humanize(r.type) },
  { key: "confirmed", label: "Confirmed", numeric: true, render: (r) => formatCount(r.confirmed) },
  { key: "corrected", label: "Corrected", numeric: true, render: (r) => formatCount(r.corrected) },
  { key: "not_an_event", label: "Not an event", numeric: true, render: (r) => formatCount(r.not_an_event) },
  { key: "confirmed_share", label: "Confirmed share", numeric: true, render: (r) => formatRate(r.confirmed_share) },
  { key: "examples", label: "Examples", numeric: true, render: (r) => formatCount(r.examples) },
];

export function ModelQualitySection({ query }: { query: ReportQuery }) {
  const axisWidth = useAxisWidth();
  const report = useReport("model-quality", query);
  return (
    <Section
      name="model-quality"
      title="Model quality"
      intro="Feedback given in the range on each signal type: confirmed against corrected."
      query={query}
    >
      <Report result={report} what="model quality">
        {(data) => (
          <>
            {data.rows.length === 0 ? (
              <Empty title="No feedback was given in this range.">
                Confirm or correct a signal's type from the feed to see it here.
              </Empty>
            ) : (
              <ChartFigure
                label={`Stacked bar chart of confirmed and corrected signals for ${data.rows.length} signal types. The table below lists the figures.`}
                caption="Signals confirmed and corrected per type."
              >
                <ResponsiveContainer width="100%" height={chartHeight(data.rows.length, 40)}>
                  <BarChart
                    layout="vertical"
                    data={data.rows.map((row) => ({ ...row, label: humanize(row.type) }))}
                    accessibilityLayer={false}
                    margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
                  >
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} tick={TICK} />
                    <YAxis type="category" dataKey="label" width={axisWidth} tick={TICK} />
                    <Tooltip />
                    <Legend itemSorter={inOrder(["confirmed", "corrected"])} />
                    <Bar dataKey="confirmed" name="Confirmed" stackId="feedback" fill={COLORS[2]} isAnimationActive={false} />
                    <Bar dataKey="corrected" name="Corrected" stackId="feedback" fill={COLORS[4]} isAnimationActive={false} />
                  </BarChart>
                </ResponsiveContainer>
              </ChartFigure>
            )}
            <DataTable
              caption="Feedback per signal type"
              columns={QUALITY_COLUMNS}
              rows={data.rows}
              rowKey={(row) => `${row.kind}:${row.type}`}
              empty="No feedback in this range."
            />
            <Notes notes={data.notes} />
          </>
        )}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Recovery: dollars recovered, promises kept, days to first payment
// ------------------------------------------------------------------------------------------------

type RecoveryRow = Schemas["RecoveryRow"];

const RECOVERY_COLUMNS: Column<RecoveryRow>[] = [
  { key: "bucket", label: "Period", render: (r) => formatDay(r.bucket, true) },
  { key: "recovered", label: "Recovered", numeric: true, render: (r) => formatMoney(r.recovered) },
  { key: "payments", label: "Payments", numeric: true, render: (r) => formatCount(r.payments) },
  { key: "leads_paying", label: "Leads paying", numeric: true, render: (r) => formatCount(r.leads_paying) },
  { key: "promises", label: "Promises", numeric: true, render: (r) => formatCount(r.promises) },
  { key: "promises_kept", label: "Kept", numeric: true, render: (r) => formatCount(r.promises_kept) },
  { key: "promises_broken", label: "Broken", numeric: true, render: (r) => formatCount(r.promises_broken) },
  { key: "kept_rate", label: "Kept rate", numeric: true, render: (r) => formatRate(r.kept_rate) },
];

export function RecoverySection({ query, bucket }: { query: ReportQuery; bucket: Bucket }) {
  const report = useReport("recovery", { ...query, bucket });
  return (
    <Section
      name="recovery"
      title="Recovery"
      intro="Dollars recovered and promises to pay, and how long leads took from their first signal to their first payment."
      query={{ ...query, bucket }}
    >
      <Report result={report} what="recovery">
        {(data) => {
          const recovered = data.rows.reduce((sum, row) => sum + row.recovered, 0);
          return (
            <>
              <dl className="analytics-figures" data-testid="recovery-figures">
                <div>
                  <dt>Recovered</dt>
                  <dd>{formatMoney(recovered)}</dd>
                </div>
                <div>
                  <dt>First payments</dt>
                  <dd>{formatCount(data.first_payments)}</dd>
                </div>
                <div>
                  <dt>Days to first payment (median / 90th percentile)</dt>
                  <dd>
                    {data.days_to_first_payment_median ?? "—"} / {data.days_to_first_payment_p90 ?? "—"}
                  </dd>
                </div>
              </dl>
              {data.rows.some((row) => row.recovered > 0) && (
                <ChartFigure
                  label={`Bar chart of dollars recovered per ${bucket} over ${data.rows.length} periods. The table below lists the figures.`}
                  caption={`Dollars recovered per ${bucket}.`}
                >
                  <ResponsiveContainer width="100%" height={240}>
                    <BarChart
                      data={data.rows.map((row) => ({ ...row, label: formatDay(row.bucket) }))}
                      accessibilityLayer={false}
                      margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
                    >
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="label" tick={TICK} minTickGap={16} />
                      <YAxis tick={TICK} tickFormatter={(value: number) => formatMoney(value)} width={72} />
                      <Tooltip formatter={(value) => formatMoney(Number(value))} />
                      <Bar dataKey="recovered" name="Recovered" fill={COLORS[2]} isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </ChartFigure>
              )}
              <DataTable
                caption="Recovery per period"
                columns={RECOVERY_COLUMNS}
                rows={data.rows}
                rowKey={(row) => row.bucket}
                empty="No payments or promises in this range."
              />
              <Notes notes={data.notes} />
            </>
          );
        }}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Coverage: share of leads monitored and how fresh their latest observation is
// ------------------------------------------------------------------------------------------------

type CoverageRow = Schemas["CoverageRow"];

const COVERAGE_COLUMNS: Column<CoverageRow>[] = [
  { key: "bucket", label: "Period", render: (r) => formatDay(r.bucket, true) },
  { key: "leads", label: "Leads", numeric: true, render: (r) => formatCount(r.leads) },
  { key: "monitored_share", label: "Monitored", numeric: true, render: (r) => formatRate(r.monitored_share) },
  { key: "under_1_day", label: "Seen < 1 day", numeric: true, render: (r) => formatCount(r.under_1_day) },
  { key: "days_1_to_7", label: "1–7 days", numeric: true, render: (r) => formatCount(r.days_1_to_7) },
  { key: "days_7_to_30", label: "7–30 days", numeric: true, render: (r) => formatCount(r.days_7_to_30) },
  { key: "older", label: "Older", numeric: true, render: (r) => formatCount(r.older) },
  { key: "never", label: "Never", numeric: true, render: (r) => formatCount(r.never) },
  { key: "median_hours", label: "Median age", numeric: true, render: (r) => formatHours(r.median_hours) },
  { key: "p90_hours", label: "90th pct age", numeric: true, render: (r) => formatHours(r.p90_hours) },
];

const FRESHNESS = [
  ["under_1_day", "Seen < 1 day"],
  ["days_1_to_7", "1–7 days"],
  ["days_7_to_30", "7–30 days"],
  ["older", "Older"],
  ["never", "Never"],
] as const;

export function CoverageSection({ query, bucket }: { query: ReportQuery; bucket: Bucket }) {
  const report = useReport("coverage", { ...query, bucket });
  return (
    <Section
      name="coverage"
      title="Coverage"
      intro="How many leads are monitored, and how fresh each one's latest observation is."
      query={{ ...query, bucket }}
    >
      <Report result={report} what="coverage">
        {(data) => (
          <>
            {data.rows.length > 0 && (
              <ChartFigure
                label={`Stacked bar chart of leads by the age of their latest observation over ${data.rows.length} periods. The table below lists the figures.`}
                caption="Leads by the age of their latest observation."
              >
                <ResponsiveContainer width="100%" height={240}>
                  <BarChart
                    data={data.rows.map((row) => ({ ...row, label: formatDay(row.bucket) }))}
                    accessibilityLayer={false}
                    margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
                  >
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="label" tick={TICK} minTickGap={16} />
                    <YAxis tick={TICK} allowDecimals={false} />
                    <Tooltip />
                    <Legend itemSorter={inOrder(FRESHNESS.map(([key]) => key))} />
                    {FRESHNESS.map(([key, label], index) => (
                      <Bar key={key} dataKey={key} name={label} stackId="age" fill={COLORS[index % COLORS.length]} isAnimationActive={false} />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </ChartFigure>
            )}
            <DataTable
              caption="Coverage per period"
              columns={COVERAGE_COLUMNS}
              rows={data.rows}
              rowKey={(row) => row.bucket}
              empty="No coverage snapshot in this range yet: snapshots are taken hourly."
            />
            <Notes notes={data.notes} />
          </>
        )}
      </Report>
    </Section>
  );
}

// ------------------------------------------------------------------------------------------------
// Source health
// ------------------------------------------------------------------------------------------------

type SourceRow = Schemas["SourceHealthRow"];

function formatWhen(value: string | null): string {
  return value ? new Date(value).toLocaleString() : "—";
}

const SOURCE_COLUMNS: Column<SourceRow>[] = [
  { key: "name", label: "Source", render: (r) => r.name },
  { key: "state", label: "State", render: (r) => (r.enabled ? humanize(r.state) : "Disabled") },
  { key: "observations", label: "Observations", numeric: true, render: (r) => formatCount(r.observations) },
  { key: "last_success_at", label: "Last success", render: (r) => formatWhen(r.last_success_at) },
  { key: "consecutive_failures", label: "Failures in a row", numeric: true, render: (r) => formatCount(r.consecutive_failures) },
  { key: "last_error", label: "Last error", render: (r) => r.last_error ?? "—" },
  {
    key: "budget_used",
    label: "Budget used today",
    numeric: true,
    render: (r) =>
      r.budget_limit === null
        ? formatCount(r.budget_used)
        : `${formatCount(r.budget_used)} / ${formatCount(r.budget_limit)}`,
  },
];

export function SourceHealthSection({ query }: { query: ReportQuery }) {
  const report = useReport("source-health", query);
  return (
    <Section
      name="source-health"
      title="Source health"
      intro="Each source's state, what it observed in the range, its last error and today's budget."
      query={query}
    >
      <Report result={report} what="source health">
        {(data) => (
          <>
            <DataTable
              caption="Sources"
              columns={SOURCE_COLUMNS}
              rows={data.rows}
              rowKey={(row) => row.source}
              empty="No sources are configured."
            />
            <Notes notes={data.notes} />
          </>
        )}
      </Report>
    </Section>
  );
}
