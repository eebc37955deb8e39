// The feed's filter bar: every control writes the URL (so a filtered feed can be bookmarked and shared); the
// less used ones fold away on small screens.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { api, unwrap } from "@/api/client";
import {
  activeFilterCount,
  DEFAULT_FILTERS,
  PRIORITIES,
  SIGNAL_TYPES,
  STATUSES,
  type FeedFilters as Filters,
} from "@/lib/urlFilters";
import { STATUS_LABELS, typeLabel } from "./labels";

interface Props {
  filters: Filters;
  onChange: (next: Filters, options?: { replace?: boolean }) => void;
}

const PRIORITY_LABELS: Record<string, string> = { urgent: "Urgent", high: "High", medium: "Medium", low: "Low" };
const SEARCH_DELAY_MS = 350;

function Choice({
  label,
  testId,
  value,
  options,
  onChange,
  anyLabel,
}: {
  label: string;
  testId?: string;
  value: string | null;
  options: [string, string][];
  onChange: (value: string | null) => void;
  anyLabel?: string;
}) {
  const known = value === null || options.some(([option]) => option === value);
  return (
    <label className="feed-filter">
      {label}
      <select data-testid={testId} value={value ?? ""} onChange={(event) => onChange(event.target.value || null)}>
        {anyLabel !== undefined && <option value="">{anyLabel}</option>}
        {!known && value !== null && <option value={value}>{value}</option>}
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function TextFilter({
  label,
  value,
  onCommit,
  placeholder,
}: {
  label: string;
  value: string | null;
  onCommit: (value: string | null) => void;
  placeholder?: string;
}) {
  const [draft, setDraft] = useState(value ?? "");
  useEffect(() => setDraft(value ?? ""), [value]);
  const commit = () => {
    const next = draft.trim() || null;
    if (next !== value) onCommit(next);
  };
  return (
    <label className="feed-filter">
      {label}
      <input
        type="text"
        value={draft}
        placeholder={placeholder}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") commit();
        }}
      />
    </label>
  );
}

export function FeedFilters({ filters, onChange }: Props) {
  const set = <K extends keyof Filters>(key: K, value: Filters[K], replace = false) =>
    onChange({ ...filters, [key]: value }, { replace });
  const searchId = useId();
  const panelId = useId();
  const [panelOpen, setPanelOpen] = useState(false);
  const [search, setSearch] = useState(filters.q ?? "");
  const typed = useRef(false);
  useEffect(() => {
    if (!typed.current) setSearch(filters.q ?? "");
  }, [filters.q]);
  // Typing searches after a pause (replacing the URL entry, so Back does not step through every letter).
  useEffect(() => {
    if (!typed.current) return;
    const timer = window.setTimeout(() => {
      typed.current = false;
      const q = search.trim() || null;
      if (q !== filters.q) set("q", q, true);
    }, SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [search]); // only the text typed restarts the pause

  const teams = useQuery({
    queryKey: ["teams"],
    queryFn: async () => unwrap(await api.GET("/api/v1/teams")),
    staleTime: 5 * 60_000,
  });
  const portfolios = useQuery({
    queryKey: ["leads", "portfolios"],
    queryFn: async () => unwrap(await api.GET("/api/v1/leads/portfolios")),
    staleTime: 5 * 60_000,
  });
  const more = activeFilterCount({ ...filters, q: null, type: null, priority: null, status: null, assignee: null });
  const active = activeFilterCount(filters);

  const primary = activeFilterCount({ ...DEFAULT_FILTERS, type: filters.type, priority: filters.priority,
    status: filters.status, assignee: filters.assignee });

  return (
    <form className="feed-filters" role="search" aria-label="Filter signals" onSubmit={(event) => event.preventDefault()}>
      <div className="feed-filters-main">
        <label className="feed-filter feed-filter-search" htmlFor={searchId}>
          Search leads
          <input
            id={searchId}
            type="search"
            placeholder="Name or external id"
            value={search}
            maxLength={200}
            onChange={(event) => {
              typed.current = true;
              setSearch(event.target.value);
            }}
          />
        </label>
        <Choice
          label="Sort"
          testId="sort-select"
          value={filters.sort}
          options={[
            ["detected_at", "Newest first"],
            ["score", "Highest score"],
          ]}
          onChange={(value) => set("sort", value === "score" ? "score" : "detected_at")}
        />
        {/* On phones the filters fold behind this button; from 768 px they are always shown. */}
        <button
          type="button"
          className="button feed-filters-toggle"
          aria-expanded={panelOpen}
          aria-controls={panelId}
          onClick={() => setPanelOpen(!panelOpen)}
        >
          Filters{primary + more > 0 ? ` (${primary + more})` : ""}
        </button>
        <div id={panelId} className={`feed-filters-panel${panelOpen ? " feed-filters-panel-open" : ""}`}>
          <Choice
            label="Priority"
            testId="filter-priority"
            anyLabel="Any priority"
            value={filters.priority}
            options={PRIORITIES.map((value) => [value, PRIORITY_LABELS[value] ?? value])}
            onChange={(value) => set("priority", value as Filters["priority"])}
          />
          <Choice
            label="Type"
            testId="filter-type"
            anyLabel="Any type"
            value={filters.type}
            options={SIGNAL_TYPES.map((value) => [value, typeLabel(value)])}
            onChange={(value) => set("type", value as Filters["type"])}
          />
          <Choice
            label="Status"
            testId="filter-status"
            anyLabel="Any status"
            value={filters.status}
            options={STATUSES.map((value) => [value, STATUS_LABELS[value] ?? value])}
            onChange={(value) => set("status", value as Filters["status"])}
          />
          <Choice
            label="Assignee"
            testId="filter-assignee"
            anyLabel="Anyone"
            value={filters.assignee}
            options={[
              ["me", "Assigned to me"],
              ["none", "Unassigned"],
            ]}
            onChange={(value) => set("assignee", value)}
          />
          <details className="feed-more" open={more > 0 ? true : undefined}>
            <summary>More filters{more > 0 ? ` (${more})` : ""}</summary>
            <div className="feed-filters-more">
              <Choice
                label="Team"
                anyLabel="Any team"
                value={filters.team}
                options={[["none", "No team"], ...(teams.data ?? []).map((team): [string, string] => [team.name, team.name])]}
                onChange={(value) => set("team", value)}
              />
              <Choice
                label="Portfolio"
                anyLabel="Any portfolio"
                value={filters.portfolio}
                options={(portfolios.data ?? []).map((portfolio): [string, string] => [portfolio.name, portfolio.name])}
                onChange={(value) => set("portfolio", value)}
              />
              <TextFilter
                label="Source"
                value={filters.source}
                placeholder="e.g. apify-linkedin"
                onCommit={(value) => set("source", value)}
              />
              <label className="feed-filter">
                Event from
                <input
                  type="date"
                  value={filters.effectiveFrom ?? ""}
                  onChange={(event) => set("effectiveFrom", event.target.value || null)}
                />
              </label>
              <label className="feed-filter">
                Event to
                <input
                  type="date"
                  value={filters.effectiveTo ?? ""}
                  onChange={(event) => set("effectiveTo", event.target.value || null)}
                />
              </label>
              <Choice
                label="Escalation"
                anyLabel="Escalated or not"
                value={filters.escalated === null ? null : filters.escalated ? "true" : "false"}
                options={[
                  ["true", "Escalated only"],
                  ["false", "Not escalated"],
                ]}
                onChange={(value) => set("escalated", value === null ? null : value === "true")}
              />
            </div>
          </details>
        </div>
      </div>
      {(filters.lead || filters.since || filters.until) && (
        <ul className="feed-chips" aria-label="Other filters from the address">
          {(
            [
              ["lead", "Lead", filters.lead],
              ["since", "Detected since", filters.since],
              ["until", "Detected before", filters.until],
            ] as const
          )
            .filter(([, , value]) => value)
            .map(([key, text, value]) => (
              <li key={key} className="chip">
                {text} {value}{" "}
                <button type="button" className="feed-link-button" onClick={() => set(key, null)}>
                  Remove<span className="visually-hidden"> filter {text}</span>
                </button>
              </li>
            ))}
        </ul>
      )}
      {active > 0 && (
        <button
          type="button"
          className="button feed-clear"
          onClick={() => {
            typed.current = false;
            setSearch("");
            onChange({ ...DEFAULT_FILTERS, sort: filters.sort });
          }}
        >
          Clear filters ({active})
        </button>
      )}
    </form>
  );
}
