// Building blocks of the Analytics page: a section with its CSV link, a chart figure (an image to assistive
// technology: the table under it is the accessible alternative), the data table, toggles and notes.
import { useState, type ReactNode } from "react";
import { errorMessage } from "@/api/client";
import type { ReportName, ReportQuery } from "./analytics";
import { csvHref, csvName, downloadCsv } from "./api";

/** Series colours: each at least 4.5:1 on white (legend text is drawn in them), told apart by hue. */
export const COLORS = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#9d174d"];
export const OTHER_COLOR = "#52606d";

export function Section({
  name,
  title,
  intro,
  query,
  controls,
  children,
}: {
  name: ReportName;
  title: string;
  intro: string;
  query: ReportQuery;
  controls?: ReactNode;
  children: ReactNode;
}) {
  const id = `analytics-${name}`;
  return (
    <section className="card analytics-section" aria-labelledby={`${id}-title`} data-testid={id}>
      <div className="analytics-section-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <CsvLink name={name} query={query} describedBy={`${id}-title`} />
      </div>
      <p className="muted analytics-intro">{intro}</p>
      {controls}
      {children}
    </section>
  );
}

/** "Download CSV": a real link (keyboard, middle-click shows the address); its click fetches with the token. */
export function CsvLink({ name, query, describedBy }: { name: ReportName; query: ReportQuery; describedBy: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="analytics-csv">
      <a
        className="button"
        href={csvHref(name, query)}
        download={csvName(name, query)}
        aria-describedby={describedBy}
        aria-busy={busy || undefined}
        onClick={(event) => {
          event.preventDefault();
          if (busy) return;
          setBusy(true);
          setError(null);
          downloadCsv(name, query)
            .catch((failure: unknown) =>
              setError(failure instanceof Error ? failure.message : errorMessage(failure, "The download failed")),
            )
            .finally(() => setBusy(false));
        }}
      >
        Download CSV
      </a>
      {error && (
        <span className="form-error analytics-csv-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

export function ChartFigure({ label, caption, children }: { label: string; caption: string; children: ReactNode }) {
  return (
    <figure className="analytics-figure">
      <div className="analytics-chart" role="img" aria-label={label}>
        {children}
      </div>
      <figcaption className="muted">{caption}</figcaption>
    </figure>
  );
}

export interface Column<R> {
  key: string;
  label: string;
  numeric?: boolean;
  render: (row: R) => ReactNode;
}

export function DataTable<R>({
  caption,
  columns,
  rows,
  rowKey,
  empty,
  footer,
}: {
  caption: string;
  columns: Column<R>[];
  rows: R[];
  rowKey: (row: R, index: number) => string;
  empty: string;
  footer?: ReactNode;
}) {
  return (
    <div className="analytics-table-box">
      {/* Shown above the scrolling box (a caption would scroll away sideways); the caption names the table. */}
      <p className="analytics-table-title" aria-hidden="true">
        {caption}
      </p>
      {/* Focusable so a keyboard can scroll it on a phone. */}
      <div className="table-wrap analytics-table-wrap" tabIndex={0} role="region" aria-label={`${caption} (table)`}>
        <table className="table analytics-table">
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.key} scope="col" className={column.numeric ? "analytics-num" : undefined}>
                  {column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={columns.length} className="muted">
                  {empty}
                </td>
              </tr>
            ) : (
              rows.map((row, index) => (
                <tr key={rowKey(row, index)}>
                  {columns.map((column, i) =>
                    i === 0 ? (
                      <th key={column.key} scope="row" className={column.numeric ? "analytics-num" : undefined}>
                        {column.render(row)}
                      </th>
                    ) : (
                      <td key={column.key} className={column.numeric ? "analytics-num" : undefined}>
                        {column.render(row)}
                      </td>
                    ),
                  )}
                </tr>
              ))
            )}
          </tbody>
          {footer}
        </table>
      </div>
    </div>
  );
}

export function Toggle<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  return (
    <div className="analytics-toggle" role="group" aria-label={label}>
      <span className="analytics-toggle-label" aria-hidden="true">
        {label}:
      </span>
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          className="button"
          aria-pressed={value === option.value}
          onClick={() => onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}

export function Notes({ notes }: { notes?: string[] }) {
  if (!notes || notes.length === 0) return null;
  return (
    <ul className="analytics-notes muted">
      {notes.map((note) => (
        <li key={note}>{note}</li>
      ))}
    </ul>
  );
}
