// Pieces every admin section uses: its heading with actions, a pager for offset pages, a status line.
import { useId, type ReactNode } from "react";

export function AdminSection({
  title,
  intro,
  actions,
  children,
  testId,
}: {
  title: string;
  intro?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  const headingId = useId();
  return (
    <section className="stack admin-section" aria-labelledby={headingId} data-testid={testId}>
      <div className="admin-section-head">
        <h2 id={headingId}>{title}</h2>
        {actions && <div className="row admin-actions">{actions}</div>}
      </div>
      {intro && <p className="muted admin-intro">{intro}</p>}
      {children}
    </section>
  );
}

/** Previous / next over an offset page; `total` when the API counts, else "more" when a page came back full. */
export function Pager({
  offset,
  limit,
  count,
  total,
  onOffset,
  label,
}: {
  offset: number;
  limit: number;
  count: number;
  total?: number;
  onOffset: (offset: number) => void;
  label: string;
}) {
  const more = total !== undefined ? offset + count < total : count === limit;
  if (offset === 0 && !more) return null;
  return (
    <nav className="row admin-pager" aria-label={`${label} pages`}>
      <button type="button" className="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span className="muted">
        {count === 0 ? "None" : `${offset + 1}–${offset + count}`}
        {total !== undefined && ` of ${total}`}
      </span>
      <button type="button" className="button" disabled={!more} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** A line that screen readers announce: what the last action did, or why it failed. */
export function Outcome({ ok, error }: { ok?: ReactNode; error?: string | null }) {
  return (
    <div aria-live="polite" className="admin-outcome">
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : ok ? (
        <p className="ok">{ok}</p>
      ) : null}
    </div>
  );
}

export function yesNo(value: boolean): string {
  return value ? "Yes" : "No";
}
