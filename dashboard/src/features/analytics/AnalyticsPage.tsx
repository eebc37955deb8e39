// Analytics: signals per day or week, conversion by signal type, response times, outcomes and model quality, each a
// chart with its table and CSV download, over a date range (presets or typed) and, for managers, admins and
// viewers, a team. The range, team and bucket live in the URL. Lazy-loaded: Recharts stays out of the first bundle.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { api, unwrap } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { PageHeader } from "@/components/states";
import {
  bucketFor,
  formatRange,
  PRESETS,
  rangeFromParams,
  rangeProblem,
  reportQuery,
  todayUtc,
  type Bucket,
  type Range,
} from "./analytics";
import { fetchReport } from "./api";
import {
  CoverageSection,
  FunnelSection,
  ModelQualitySection,
  OutcomesSection,
  RecoverySection,
  ResponseTimesSection,
  SignalsSection,
  SourceHealthSection,
} from "./sections";
import "./analytics.css";

type Changes = Record<string, string | null>;

function useUrlState() {
  const [params, setParams] = useSearchParams();
  const update = (changes: Changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, value);
    }
    setParams(next, { replace: true });
  };
  return [params, update] as const;
}

function RangeControl({ range, onChange }: { range: Range; onChange: (changes: Changes) => void }) {
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  useEffect(() => {
    setFrom(range.from);
    setTo(range.to);
  }, [range.from, range.to]);
  const problem = rangeProblem(from, to);
  const typed = (nextFrom: string, nextTo: string) => {
    setFrom(nextFrom);
    setTo(nextTo);
    if (rangeProblem(nextFrom, nextTo) === null) onChange({ from: nextFrom, to: nextTo, days: null });
  };
  return (
    <fieldset className="analytics-range" data-testid="analytics-range" aria-describedby="analytics-range-help">
      <legend>Date range</legend>
      <div className="analytics-presets">
        {PRESETS.map((days) => (
          <button
            key={days}
            type="button"
            className="button"
            aria-pressed={range.preset === days}
            onClick={() => onChange({ days: String(days), from: null, to: null })}
          >
            Last {days} days
          </button>
        ))}
      </div>
      <div className="analytics-dates">
        <label>
          From
          <input
            type="date"
            name="from"
            value={from}
            max={to || undefined}
            aria-invalid={problem !== null || undefined}
            onChange={(event) => typed(event.target.value, to)}
          />
        </label>
        <label>
          To
          <input
            type="date"
            name="to"
            value={to}
            min={from || undefined}
            aria-invalid={problem !== null || undefined}
            onChange={(event) => typed(from, event.target.value)}
          />
        </label>
      </div>
      <p id="analytics-range-help" className="muted analytics-help">
        Days are UTC days, both included; at most 366.
      </p>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </fieldset>
  );
}

function TeamControl({ value, onChange }: { value: string; onChange: (team: string) => void }) {
  const teams = useQuery({
    queryKey: ["analytics", "teams"],
    queryFn: async () => unwrap(await api.GET("/api/v1/teams")),
    staleTime: 5 * 60_000,
  });
  const options = teams.data ?? [];
  return (
    <label className="analytics-team">
      Team
      <select
        data-testid="analytics-team"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-busy={teams.isPending || undefined}
      >
        <option value="all">All teams</option>
        {options.map((team) => (
          <option key={team.id} value={team.id}>
            {team.name}
          </option>
        ))}
        {/* A team in the URL that is not (yet) listed stays selectable, so the select shows what is asked. */}
        {value !== "all" && !options.some((team) => team.id === value) && <option value={value}>{value}</option>}
      </select>
      {teams.isError && <span className="form-error">Could not load the teams.</span>}
    </label>
  );
}

export default function AnalyticsPage() {
  const user = useUser();
  const [params, update] = useUrlState();
  const today = todayUtc();
  const range = rangeFromParams(params, today);
  const bucket: Bucket = bucketFor(params, range);
  const isAgent = user.role === "agent";
  const canChooseTeam = hasRole(user, "admin", "manager", "viewer");
  const urlTeam = canChooseTeam ? params.get("team") : null;
  // Without a team in the URL the API answers a manager's own team and everyone else's all teams.
  const shownTeam = urlTeam ?? (user.role === "manager" && user.team_id ? user.team_id : "all");
  const query = useMemo(() => reportQuery(range, urlTeam), [range.from, range.to, urlTeam]);
  // The signals section's own query (same key: one request): the API says whose signals these are.
  const signalsQuery = { ...query, bucket };
  const scope = useQuery({
    queryKey: ["analytics", "signals", signalsQuery],
    queryFn: () => fetchReport("signals", signalsQuery),
  });
  const scopeLabel = isAgent ? "Your signals" : (scope.data?.scope.label ?? null);

  return (
    <div className="analytics">
      <PageHeader title="Analytics" />
      <div className="card analytics-filters">
        <RangeControl range={range} onChange={update} />
        {canChooseTeam && <TeamControl value={shownTeam} onChange={(team) => update({ team })} />}
      </div>
      <p className="analytics-showing" aria-live="polite">
        Showing {scopeLabel ? <strong>{scopeLabel}</strong> : "your scope"}, {formatRange(range.from, range.to)} ({range.days}{" "}
        {range.days === 1 ? "day" : "days"}).
      </p>
      <div className="analytics-sections">
        <SignalsSection query={query} bucket={bucket} onBucket={(next) => update({ bucket: next })} />
        <FunnelSection query={query} />
        <ResponseTimesSection query={query} isAgent={isAgent} />
        <div className="analytics-pair">
          <OutcomesSection query={query} />
          <ModelQualitySection query={query} />
        </div>
        <RecoverySection query={query} bucket={bucket} />
        <CoverageSection query={query} bucket={bucket} />
        {!isAgent && <SourceHealthSection query={query} />}
      </div>
    </div>
  );
}
