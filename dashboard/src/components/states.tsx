// Designed empty, loading and error states: a page never sits blank.
import type { ReactNode } from "react";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error ?? "Something went wrong");
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>Could not load this.</strong> {message}
      </p>
      {retry && (
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}

const PRIORITY_LABELS: Record<string, string> = { urgent: "Urgent", high: "High", medium: "Medium", low: "Low" };

export function PriorityBadge({ priority }: { priority: string }) {
  return <span className={`badge badge-${priority}`}>{PRIORITY_LABELS[priority] ?? priority}</span>;
}
