// Pieces every admin section uses: its heading with actions, a pager for offset pages, a status line, a labelled
// form field tied to the API's messages for it, the form's other messages, and a moment as "3 min ago".
import { useId, useState, type ReactNode } from "react";
import { FieldMessages } from "@/components/formFields";
import { formatAgo, formatDateTime } from "@/lib/datetime";
import { messagesFor, unclaimed, type FormErrors } from "@/lib/fieldErrors";

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

/** A moment as "3 min ago" (the full date and time on hover), or "never". */
export function When({ at, never = "never" }: { at: string | null | undefined; never?: string }) {
  if (!at) return <span className="muted">{never}</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {formatAgo(at)}
    </time>
  );
}

/**
 * A labelled input (or textarea) whose API messages (by normalised field name, `name`) sit under it, tied with
 * aria-describedby. Secrets are `type="password"`: never shown, and never filled in from what the API holds.
 */
export function TextField({
  label,
  name,
  errors,
  value,
  onChange,
  type = "text",
  hint,
  required,
  autoComplete,
  placeholder,
  multiline,
  inputMode,
  min,
  max,
}: {
  label: string;
  name: string;
  errors: FormErrors;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  hint?: ReactNode;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  multiline?: boolean;
  inputMode?: "numeric" | "text" | "url";
  min?: number;
  max?: number;
}) {
  const id = useId();
  const messages = messagesFor(errors, name);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const invalid = messages.length > 0;
  const describedBy = [hintId, invalid ? errorId : undefined].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name,
    value,
    required,
    autoComplete,
    placeholder,
    "aria-invalid": invalid ? (true as const) : undefined,
    "aria-describedby": describedBy,
  };
  return (
    <div className="admin-field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={4} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input {...common} type={type} inputMode={inputMode} min={min} max={max} onChange={(e) => onChange(e.target.value)} />
      )}
      {hint && (
        <span id={hintId} className="ff-hint">
          {hint}
        </span>
      )}
      <FieldMessages id={errorId} messages={messages} />
    </div>
  );
}

/** The form's messages no field shows (a 403, a 409, a field the form has no input for), so none is lost. */
export function FormProblems({ errors, known }: { errors: FormErrors; known: readonly string[] }) {
  const rest = unclaimed(errors, known);
  if (!errors.general && rest.length === 0) return null;
  return (
    <div className="form-error" role="alert">
      {errors.general && <p>{errors.general}</p>}
      {rest.map((line) => (
        <p key={line}>{line}</p>
      ))}
    </div>
  );
}

/** A value shown once (a client id, a secret) in a read-only input, with a copy button. */
export function CopyField({ label, value, testId }: { label: string; value: string; testId?: string }) {
  const id = useId();
  return (
    <div className="admin-field">
      <label htmlFor={id}>{label}</label>
      <div className="admin-copy">
        <input id={id} readOnly value={value} onFocus={(e) => e.target.select()} data-testid={testId} className="admin-secret" />
        <CopyButton value={value} label={label} />
      </div>
    </div>
  );
}

function CopyButton({ value, label }: { value: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <button
      type="button"
      className="button"
      aria-label={`Copy ${label.toLowerCase()}`}
      onClick={() => {
        const clipboard = typeof navigator !== "undefined" ? navigator.clipboard : undefined;
        if (!clipboard) {
          setState("failed");
          return;
        }
        clipboard.writeText(value).then(
          () => setState("copied"),
          () => setState("failed"),
        );
      }}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Select and copy" : "Copy"}
    </button>
  );
}
