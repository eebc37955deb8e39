// Import a lead file (CSV, XLSX, JSON, JSONL) through POST /api/v1/leads/import and show what came of it: the
// counts, and each rejected row's field and problem as a table. Managers and admins only. The upload starts when a
// file is chosen (the options above the file input apply); "Upload again" re-sends the same file.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState } from "react";
import { api, ApiError, unwrap, type Schemas } from "@/api/client";
import { fieldLabel, formatCount } from "./format";
import { leadKeys, usePortfolios } from "./queries";

type Report = Schemas["ImportReport"];
type RowError = Schemas["ImportRowError"];

/** What an import answered: its report, or the refusal of an invalid file (422: nothing written). */
export interface ImportOutcome {
  ok: boolean;
  message: string;
  report: Partial<Report> & { errors: RowError[] };
}

interface Refusal {
  detail?: string;
  errors?: { row?: number | null; field?: string | null; message?: string; value?: unknown }[];
  error_count?: number;
  errors_by_field?: Record<string, number>;
  rejected?: number;
  total?: number;
}

/** The outcome shown for an import's answer or error (exported for tests). */
export function importOutcome(result: Report | unknown, failed: boolean): ImportOutcome {
  if (!failed) {
    const report = result as Report;
    const wrote = report.dry_run ? "would create" : "created";
    return {
      ok: report.rejected === 0,
      message:
        `${formatCount(report.total)} rows read: ${formatCount(report.created)} ${wrote}, ` +
        `${formatCount(report.updated)} updated, ${formatCount(report.unchanged)} unchanged` +
        (report.rejected ? `, ${formatCount(report.rejected)} rejected` : "") +
        (report.dry_run ? " (checked only: nothing was written)." : "."),
      report: { ...report, errors: report.errors ?? [] },
    };
  }
  const status = result instanceof ApiError ? result.status : 0;
  const body = (result instanceof ApiError ? result.body : null) as Refusal | null;
  if (status === 422 && body?.errors) {
    const errors: RowError[] = body.errors.map((error) => ({
      row: error.row ?? null,
      field: error.field ?? null,
      message: error.message ?? "",
      value: error.value ?? null,
    }));
    const count = body.error_count ?? errors.length;
    return {
      ok: false,
      message:
        `Nothing was imported: ${formatCount(count)} ${count === 1 ? "problem" : "problems"}` +
        (body.rejected !== undefined && body.total !== undefined
          ? ` in ${formatCount(body.rejected)} of ${formatCount(body.total)} rows`
          : "") +
        ". Fix the file, or tick “Skip invalid rows” to import the others.",
      report: {
        errors,
        error_count: count,
        errors_by_field: body.errors_by_field ?? {},
        rejected: body.rejected,
        total: body.total,
      },
    };
  }
  const message = result instanceof Error ? result.message : "The upload failed";
  return { ok: false, message: status === 413 ? `The file is too large. ${message}` : message, report: { errors: [] } };
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function ImportErrors({ report }: { report: ImportOutcome["report"] }) {
  const byField = Object.entries(report.errors_by_field ?? {}).sort((a, b) => b[1] - a[1]);
  if (report.errors.length === 0) return null;
  const more = (report.error_count ?? report.errors.length) - report.errors.length;
  // A refused file's errors come without the values (the API does not echo them): no empty column then.
  const withValues = report.errors.some((error) => error.value !== null && error.value !== undefined);
  return (
    <div className="stack">
      {byField.length > 0 && (
        <p className="row leads-import-fields">
          <span className="muted">Problems per field:</span>
          {byField.map(([field, count]) => (
            <span key={field} className="chip">
              {fieldLabel(field)}: {formatCount(count)}
            </span>
          ))}
        </p>
      )}
      <div className="table-wrap" role="region" aria-label="Rejected rows" tabIndex={0}>
        <table className="table" data-testid="import-errors">
          <caption className="visually-hidden">Rows the import rejected, with the field and the problem</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Field</th>
              {withValues && <th scope="col">Value in the file</th>}
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((error, index) => (
              <tr key={`${error.row}-${error.field}-${index}`}>
                <td>{error.row ?? "—"}</td>
                <td>{error.field ? fieldLabel(error.field) : "whole row"}</td>
                {withValues && <td className="leads-import-value">{shown(error.value)}</td>}
                <td>{error.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {more > 0 && <p className="muted">…and {formatCount(more)} more not listed.</p>}
    </div>
  );
}

export function ImportPanel() {
  const queryClient = useQueryClient();
  const portfolios = usePortfolios();
  const [open, setOpen] = useState(false);
  const [portfolio, setPortfolio] = useState("default");
  const [dryRun, setDryRun] = useState(false);
  const [skipInvalid, setSkipInvalid] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = { portfolio: useId(), list: useId(), file: useId(), status: useId() };

  const upload = useMutation({
    mutationFn: async (chosen: File) => {
      const form = new FormData();
      form.append("file", chosen, chosen.name);
      form.append("portfolio", portfolio.trim() || "default");
      form.append("dry_run", String(dryRun));
      form.append("skip_invalid", String(skipInvalid));
      // openapi-fetch sends FormData as it is (multipart, the browser sets the boundary).
      return unwrap(await api.POST("/api/v1/leads/import", { body: form as never }));
    },
    onSuccess: async (report) => {
      setOutcome(importOutcome(report, false));
      if (!report.dry_run) {
        await queryClient.invalidateQueries({ queryKey: leadKeys.all });
      }
    },
    onError: (error) => setOutcome(importOutcome(error, true)),
  });

  const send = (chosen: File | null) => {
    if (!chosen) return;
    setOpen(true); // a file chosen with the panel closed (keyboard, tests) still shows its report
    setOutcome(null);
    upload.mutate(chosen);
  };

  return (
    <details
      className="card leads-import"
      open={open}
      onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        <strong>Import leads</strong> <span className="muted">CSV, XLSX, JSON or JSONL</span>
      </summary>
      <div className="stack leads-import-body">
        <div className="leads-import-form">
          <label htmlFor={ids.portfolio}>
            Portfolio
            <input
              id={ids.portfolio}
              list={ids.list}
              value={portfolio}
              maxLength={200}
              onChange={(event) => setPortfolio(event.target.value)}
            />
            <datalist id={ids.list}>
              {(portfolios.data ?? []).map((item) => (
                <option key={item.id} value={item.name} />
              ))}
            </datalist>
          </label>
          <label className="leads-check">
            <input type="checkbox" checked={dryRun} onChange={(event) => setDryRun(event.target.checked)} />
            Check only (write nothing)
          </label>
          <label className="leads-check">
            <input
              type="checkbox"
              checked={skipInvalid}
              onChange={(event) => setSkipInvalid(event.target.checked)}
            />
            Skip invalid rows
          </label>
          <label htmlFor={ids.file}>
            File (the upload starts when you choose it)
            <input
              ref={inputRef}
              id={ids.file}
              type="file"
              accept=".csv,.xlsx,.json,.jsonl,text/csv,application/json,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              data-testid="leads-import-input"
              aria-describedby={ids.status}
              onChange={(event) => {
                const chosen = event.target.files?.[0] ?? null;
                setFile(chosen);
                send(chosen);
              }}
            />
          </label>
          {file && !upload.isPending && (
            <button type="button" className="button" onClick={() => send(file)}>
              Upload again
            </button>
          )}
        </div>
        <div id={ids.status} role="status" aria-live="polite">
          {upload.isPending && (
            <p>
              <span className="spinner" aria-hidden="true" /> Uploading {file?.name}…
            </p>
          )}
          {outcome && (
            <p className={outcome.ok ? "ok" : "danger"}>
              {file ? `${file.name}: ` : ""}
              {outcome.message}
            </p>
          )}
        </div>
        {outcome && <ImportErrors report={outcome.report} />}
      </div>
    </details>
  );
}
