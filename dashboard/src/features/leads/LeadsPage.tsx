// Leads (/leads): search and filters kept in the URL, the server-sorted and paged table, bulk assignment
// (managers and admins), the CSV export of the current filter and the import with its error report.
import type { RowSelectionState } from "@tanstack/react-table";
import { useCallback, useEffect, useId, useMemo, useState, type ChangeEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { AssignDialog, MAX_ASSIGN } from "./AssignDialog";
import { downloadLeadsCsv } from "./download";
import {
  activeFilterCount,
  EMPTY_FILTERS,
  filtersToParams,
  LEAD_STATUSES,
  parseFilters,
  STATUS_LABELS,
  toApiQuery,
  type LeadFilterState,
} from "./filters";
import { formatCount } from "./format";
import { ImportPanel } from "./ImportPanel";
import { LeadsTable } from "./LeadsTable";
import { useAssignees, useLeadList, usePortfolios, useTeams } from "./queries";
import "./leads.css";

/** Typing pauses this long (ms) before the search goes to the URL and the API. */
export const SEARCH_DELAY = 350;

export default function LeadsPage() {
  const user = useUser();
  const manages = hasRole(user, "admin", "manager");
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseFilters(params), [params]);
  const query = useMemo(() => toApiQuery(filters), [filters]);
  const leads = useLeadList(query);
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [assigning, setAssigning] = useState(false);
  const [notice, setNotice] = useState("");
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState("");

  const update = useCallback(
    (change: Partial<LeadFilterState>, replace = false) => {
      setParams((current) => filtersToParams({ ...parseFilters(current), ...change }, current), { replace });
    },
    [setParams],
  );
  // Another filter, another list: a selection of rows no longer shown would assign leads the user cannot see.
  const queryKey = JSON.stringify(query);
  useEffect(() => setSelection({}), [queryKey]);

  const rows = useMemo(() => leads.data?.pages.flatMap((page) => page.items) ?? [], [leads.data]);
  const first = leads.data?.pages[0];
  const selected = Object.keys(selection).filter((id) => selection[id]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = leads;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const exportCsv = async () => {
    setExporting(true);
    setExportError("");
    try {
      const name = await downloadLeadsCsv(query);
      setNotice(`Exported ${name}.`);
    } catch (error) {
      setExportError(error instanceof Error ? error.message : "The export failed");
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="stack leads-page">
      <PageHeader title="Leads">
        <button
          type="button"
          className="button"
          data-testid="leads-export"
          onClick={() => void exportCsv()}
          disabled={exporting}
          aria-describedby="leads-export-help"
        >
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
        <span id="leads-export-help" className="visually-hidden">
          Downloads every lead of the current filter, without contact details
        </span>
      </PageHeader>

      <Filters filters={filters} onChange={update} manages={manages} />

      <div className="row leads-summary">
        <p className="leads-count" role="status" aria-live="polite">
          {first
            ? first.total === null
              ? `${formatCount(rows.length)} leads shown`
              : `${formatCount(first.total)}${first.total_is_exact === false ? "+" : ""} ${first.total === 1 ? "lead" : "leads"}`
            : ""}
          {leads.isFetching && !leads.isFetchingNextPage && first ? " · updating…" : ""}
        </p>
        {manages && (
          <div className="row leads-bulk" aria-label="Bulk actions" role="group">
            <span className="muted">
              {selected.length === 0 ? "Select leads to assign them" : `${formatCount(selected.length)} selected`}
            </span>
            <button
              type="button"
              className="button button-primary"
              data-testid="bulk-assign"
              disabled={selected.length === 0}
              onClick={() => setAssigning(true)}
            >
              Assign…
            </button>
            {selected.length > 0 && (
              <button type="button" className="button" onClick={() => setSelection({})}>
                Clear selection
              </button>
            )}
          </div>
        )}
      </div>
      {selected.length > MAX_ASSIGN && (
        <p className="warn">At most {MAX_ASSIGN} leads can be assigned at once; narrow the selection.</p>
      )}
      <div role="status" aria-live="polite" className="leads-notice">
        {notice && <p className="ok">{notice}</p>}
      </div>
      {exportError && (
        <p className="form-error" role="alert">
          Export failed: {exportError}
        </p>
      )}

      {leads.isPending ? (
        <Loading what="Loading leads" />
      ) : leads.isError && rows.length === 0 ? (
        <ErrorState error={leads.error} retry={() => void leads.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No leads match.">
          {activeFilterCount(filters) > 0 || filters.q ? (
            <button type="button" className="button" onClick={() => setParams(new URLSearchParams())}>
              Clear search and filters
            </button>
          ) : (
            "Import a lead file to start."
          )}
        </Empty>
      ) : (
        <>
          <LeadsTable
            rows={rows}
            total={first?.total_is_exact ? (first.total ?? null) : null}
            selectable={manages}
            selection={selection}
            onSelectionChange={setSelection}
            sort={filters.sort}
            onSortChange={(sort) => update({ sort })}
            hasMore={!!hasNextPage}
            loadingMore={isFetchingNextPage}
            onLoadMore={loadMore}
          />
          <div className="row leads-more">
            {isFetchingNextPage ? (
              <Loading what="Loading more leads" />
            ) : hasNextPage ? (
              <button type="button" className="button" onClick={loadMore}>
                Load more leads
              </button>
            ) : (
              <span className="muted">All {formatCount(rows.length)} matching leads are shown.</span>
            )}
            {leads.isFetchNextPageError && <p className="form-error">Could not load more: {leads.error?.message}</p>}
          </div>
        </>
      )}

      {manages && <ImportPanel />}
      {manages && (
        <AssignDialog
          leadIds={selected}
          open={assigning}
          onOpenChange={setAssigning}
          onDone={(result, assignee) => {
            setSelection({});
            setNotice(
              `${formatCount(result.updated)} ${result.updated === 1 ? "lead" : "leads"} ` +
                `${assignee === null ? "unassigned" : `assigned to ${assignee}`}` +
                (result.unchanged ? ` (${formatCount(result.unchanged)} already were)` : "") +
                ".",
            );
          }}
        />
      )}
    </div>
  );
}

function Filters({
  filters,
  onChange,
  manages,
}: {
  filters: LeadFilterState;
  onChange: (change: Partial<LeadFilterState>, replace?: boolean) => void;
  manages: boolean;
}) {
  const portfolios = usePortfolios();
  const teams = useTeams();
  const assignees = useAssignees(manages);
  const id = useId();
  const [search, setSearch] = useState(filters.q);
  const [state, setState] = useState(filters.state);
  const [minDays, setMinDays] = useState(filters.minDays);

  // The URL changed by itself (back, a link): show its values.
  useEffect(() => setSearch((typed) => (typed.trim() === filters.q ? typed : filters.q)), [filters.q]);
  useEffect(() => setState(filters.state), [filters.state]);
  useEffect(() => setMinDays(filters.minDays), [filters.minDays]);

  // Typing settles before the search reaches the URL (replacing the entry: one history step per search).
  useEffect(() => {
    if (search.trim() === filters.q.trim()) return;
    const timer = window.setTimeout(() => onChange({ q: search }, true), SEARCH_DELAY);
    return () => window.clearTimeout(timer);
  }, [search, filters.q, onChange]);

  const select = (key: "status" | "assignee" | "team" | "portfolio") => (event: ChangeEvent<HTMLSelectElement>) =>
    onChange({ [key]: event.target.value } as Partial<LeadFilterState>);
  const people = assignees.data ?? [];
  const knownAssignee = ["", "me", "none", ...people.map((person) => person.username)].includes(filters.assignee);
  const count = activeFilterCount(filters);

  return (
    <section className="card leads-filters" aria-label="Search and filters">
      <form
        role="search"
        className="leads-search"
        onSubmit={(event) => {
          event.preventDefault();
          onChange({ q: search });
        }}
      >
        <label htmlFor={`${id}-q`}>
          Search
          <input
            id={`${id}-q`}
            type="search"
            data-testid="leads-search"
            value={search}
            maxLength={200}
            placeholder="Name, external id, e-mail or phone"
            autoComplete="off"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
      </form>
      <div className="leads-filter-grid">
        <label htmlFor={`${id}-status`}>
          Status
          <select id={`${id}-status`} value={filters.status} onChange={select("status")}>
            <option value="">Any status</option>
            {LEAD_STATUSES.map((status) => (
              <option key={status} value={status}>
                {STATUS_LABELS[status]}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={`${id}-assignee`}>
          Assignee
          <select id={`${id}-assignee`} value={filters.assignee} onChange={select("assignee")}>
            <option value="">Anyone</option>
            <option value="me">Me</option>
            <option value="none">Unassigned</option>
            {people.map((person) => (
              <option key={person.id} value={person.username}>
                {person.full_name ?? person.username}
              </option>
            ))}
            {!knownAssignee && <option value={filters.assignee}>{filters.assignee}</option>}
          </select>
        </label>
        <label htmlFor={`${id}-team`}>
          Team
          <select id={`${id}-team`} value={filters.team} onChange={select("team")}>
            <option value="">Any team</option>
            {(teams.data ?? []).map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
            {filters.team && !teams.data?.some((team) => team.id === filters.team) && (
              <option value={filters.team}>{teams.isPending ? "Loading…" : "Unknown team"}</option>
            )}
          </select>
        </label>
        <label htmlFor={`${id}-portfolio`}>
          Portfolio
          <select id={`${id}-portfolio`} value={filters.portfolio} onChange={select("portfolio")}>
            <option value="">Any portfolio</option>
            {(portfolios.data ?? []).map((portfolio) => (
              <option key={portfolio.id} value={portfolio.name}>
                {portfolio.name}
              </option>
            ))}
            {filters.portfolio && !portfolios.data?.some((p) => p.name === filters.portfolio) && (
              <option value={filters.portfolio}>{filters.portfolio}</option>
            )}
          </select>
        </label>
        <label htmlFor={`${id}-state`}>
          State
          <input
            id={`${id}-state`}
            value={state}
            maxLength={2}
            placeholder="TX"
            autoComplete="off"
            className="leads-short"
            onChange={(event) => {
              const value = event.target.value.toUpperCase().replace(/[^A-Z]/g, "");
              setState(value);
              if (value.length === 2 || value.length === 0) onChange({ state: value });
            }}
          />
        </label>
        <label htmlFor={`${id}-days`}>
          At least days delinquent
          <input
            id={`${id}-days`}
            type="number"
            inputMode="numeric"
            min={0}
            max={100000}
            value={minDays}
            className="leads-short"
            onChange={(event) => setMinDays(event.target.value)}
            onBlur={() => onChange({ minDays: /^\d+$/.test(minDays) ? minDays : "" })}
            onKeyDown={(event) => {
              if (event.key === "Enter") onChange({ minDays: /^\d+$/.test(minDays) ? minDays : "" });
            }}
          />
        </label>
      </div>
      {(count > 0 || filters.q) && (
        <button
          type="button"
          className="button leads-clear"
          onClick={() => onChange({ ...EMPTY_FILTERS, sort: filters.sort })}
        >
          Clear {count > 0 ? `${count} ${count === 1 ? "filter" : "filters"}` : "search"}
        </button>
      )}
    </section>
  );
}
