// The lead list as a table: TanStack Table for the columns, the selection and the (server-side) order; TanStack
// Virtual renders only the rows in view, so a list scrolled to thousands of leads stays light. The API sorts,
// filters and pages (by cursor); the table asks for the next page as its end comes into view. On a phone the table
// scrolls sideways inside its frame (the page itself never does).
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type RowSelectionState,
  type SortingState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";
import { Link } from "react-router-dom";
import { STATUS_LABELS, type LeadSort } from "./filters";
import { formatDays, formatMoney } from "./format";
import type { Lead } from "./queries";

/** Rows' height estimate (px) until measured: one line of name and one of external id. */
const ROW_HEIGHT = 56;
/** Ask for the next page when the last rendered row is this close to the end of what is loaded. */
const PREFETCH_ROWS = 30;

const column = createColumnHelper<Lead>();

function place(lead: Lead): string {
  return [lead.city, lead.state ?? lead.region ?? lead.country].filter(Boolean).join(", ") || "—";
}

export function LeadsTable({
  rows,
  total,
  selectable,
  selection,
  onSelectionChange,
  sort,
  onSortChange,
  hasMore,
  loadingMore,
  onLoadMore,
}: {
  rows: Lead[];
  /** All matching leads, if known (for aria-rowcount). */
  total: number | null;
  selectable: boolean;
  selection: RowSelectionState;
  onSelectionChange: (next: RowSelectionState) => void;
  sort: LeadSort;
  onSortChange: (next: LeadSort) => void;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
}) {
  const columns = useMemo(
    () => [
      ...(selectable
        ? [
            column.display({
              id: "select",
              header: ({ table }) => (
                <input
                  type="checkbox"
                  aria-label="Select every loaded lead"
                  checked={table.getIsAllRowsSelected()}
                  ref={(element) => {
                    if (element) element.indeterminate = table.getIsSomeRowsSelected();
                  }}
                  onChange={table.getToggleAllRowsSelectedHandler()}
                />
              ),
              cell: ({ row }) => (
                <input
                  type="checkbox"
                  aria-label={`Select ${row.original.full_name}`}
                  checked={row.getIsSelected()}
                  onChange={row.getToggleSelectedHandler()}
                />
              ),
            }),
          ]
        : []),
      column.accessor("full_name", {
        header: "Lead",
        cell: ({ row }) => (
          <div className="leads-name">
            <Link to={`/leads/${row.original.id}`}>{row.original.full_name}</Link>
            <span className="muted">{row.original.external_id}</span>
          </div>
        ),
      }),
      column.accessor("status", {
        header: "Status",
        cell: ({ getValue }) => <span className={`chip leads-status leads-status-${getValue()}`}>{STATUS_LABELS[getValue()]}</span>,
      }),
      column.accessor("days_delinquent", {
        id: "days_delinquent",
        header: "Days delinquent",
        enableSorting: true,
        cell: ({ getValue }) => <span className="leads-number">{formatDays(getValue())}</span>,
      }),
      column.accessor("balance", {
        header: "Balance",
        cell: ({ getValue }) => <span className="leads-number">{formatMoney(getValue())}</span>,
      }),
      column.accessor("assignee_name", {
        header: "Assignee",
        cell: ({ getValue, row }) =>
          row.original.assignee_id ? (getValue() ?? "Someone") : <span className="muted">Unassigned</span>,
      }),
      column.accessor("team_name", { header: "Team", cell: ({ getValue }) => getValue() ?? "—" }),
      column.accessor("portfolio_name", { header: "Portfolio", cell: ({ getValue }) => getValue() ?? "—" }),
      column.display({ id: "place", header: "Location", cell: ({ row }) => place(row.original) }),
      column.display({
        id: "job",
        header: "Current job",
        cell: ({ row }) =>
          row.original.employer || row.original.title ? (
            <div className="leads-name">
              <span>{row.original.employer ?? "—"}</span>
              {row.original.title && <span className="muted">{row.original.title}</span>}
            </div>
          ) : (
            "—"
          ),
      }),
    ],
    [selectable],
  );

  const sorting: SortingState = [{ id: "days_delinquent", desc: sort === "-days_delinquent" }];
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: (lead) => lead.id,
    getCoreRowModel: getCoreRowModel(),
    // The API sorts, filters and pages: the table shows what it was given, in that order.
    manualSorting: true,
    manualFiltering: true,
    manualPagination: true,
    enableSortingRemoval: false,
    enableMultiSort: false,
    enableRowSelection: selectable,
    state: { sorting, rowSelection: selection },
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      onSortChange(next[0]?.desc === false ? "days_delinquent" : "-days_delinquent");
    },
    onRowSelectionChange: (updater) => onSelectionChange(typeof updater === "function" ? updater(selection) : updater),
  });

  const frame = useRef<HTMLDivElement>(null);
  const tableRows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: tableRows.length,
    getScrollElement: () => frame.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // Before the frame is measured (and where nothing is laid out, as in tests) assume a screenful.
    initialRect: { width: 1200, height: 800 },
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= tableRows.length - PREFETCH_ROWS) onLoadMore();
  }, [lastIndex, tableRows.length, hasMore, loadingMore, onLoadMore]);

  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = items.length > 0 ? virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0) : 0;
  const width = table.getVisibleLeafColumns().length;
  const header = table.getHeaderGroups()[0];

  return (
    <div
      ref={frame}
      className="table-wrap leads-frame"
      role="region"
      aria-label="Leads (scrolls to load more)"
      tabIndex={0}
    >
      <table
        className="table leads-table"
        data-testid="leads-table"
        aria-rowcount={total !== null ? total + 1 : hasMore ? -1 : rows.length + 1}
      >
        <caption className="visually-hidden">
          Leads matching the filters, {sort === "-days_delinquent" ? "most" : "least"} delinquent first
        </caption>
        <thead>
          <tr aria-rowindex={1}>
            {header?.headers.map((cell) => {
              const sortable = cell.column.getCanSort() && cell.column.id === "days_delinquent";
              const direction = cell.column.getIsSorted();
              return (
                <th
                  key={cell.id}
                  scope="col"
                  className={cell.column.id === "select" ? "leads-select" : undefined}
                  aria-sort={sortable ? (direction === "asc" ? "ascending" : "descending") : undefined}
                >
                  {sortable ? (
                    <button
                      type="button"
                      className="leads-sort"
                      onClick={() => onSortChange(sort === "-days_delinquent" ? "days_delinquent" : "-days_delinquent")}
                      title="Change the order"
                    >
                      {flexRender(cell.column.columnDef.header, cell.getContext())}
                      <span aria-hidden="true">{direction === "asc" ? " ▲" : " ▼"}</span>
                      <span className="visually-hidden">
                        {direction === "asc" ? ", least first; activate for most first" : ", most first; activate for least first"}
                      </span>
                    </button>
                  ) : (
                    flexRender(cell.column.columnDef.header, cell.getContext())
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {paddingTop > 0 && (
            <tr aria-hidden="true" className="leads-spacer">
              <td colSpan={width} style={{ height: paddingTop }} />
            </tr>
          )}
          {items.map((item) => {
            const row = tableRows[item.index];
            if (!row) return null;
            return (
              <tr
                key={row.id}
                ref={virtualizer.measureElement}
                data-testid="lead-row"
                data-lead-id={row.original.id}
                data-index={item.index}
                aria-rowindex={item.index + 2}
                className={row.getIsSelected() ? "leads-row-selected" : undefined}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={cell.column.id === "select" ? "leads-select" : undefined}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
            );
          })}
          {paddingBottom > 0 && (
            <tr aria-hidden="true" className="leads-spacer">
              <td colSpan={width} style={{ height: paddingBottom }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
