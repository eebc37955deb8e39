// Small pieces of the experiments pages: a labelled field tied to the API's messages for it, the form's other
// messages, a status chip, and a line that screen readers announce.
import { useId, type ReactNode } from "react";
import { FieldMessages } from "@/components/formFields";
import { messagesFor, unclaimed, type FormErrors } from "@/lib/fieldErrors";

/** What a field gives its control: the id its label names and, when the API complained, aria-invalid/-describedby. */
export interface ControlProps {
  id: string;
  "aria-invalid"?: true;
  "aria-describedby"?: string;
}

/** A label, a hint, the control (rendered by `children` with the props that tie it up) and the API's messages. */
export function Field({
  label,
  name,
  errors,
  hint,
  children,
  className,
}: {
  label: string;
  /** The normalised field name the API's errors use ("control_share", "population.states"). */
  name: string;
  errors: FormErrors;
  hint?: ReactNode;
  children: (props: ControlProps) => ReactNode;
  className?: string;
}) {
  const id = useId();
  const messages = messagesFor(errors, name);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const describedBy = [hintId, messages.length ? errorId : undefined].filter(Boolean).join(" ");
  return (
    <div className={className ? `xp-field ${className}` : "xp-field"}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(messages.length ? { "aria-invalid": true as const } : {}),
        ...(describedBy ? { "aria-describedby": describedBy } : {}),
      })}
      {hint && (
        <span id={hintId} className="ff-hint">
          {hint}
        </span>
      )}
      <FieldMessages id={errorId} messages={messages} />
    </div>
  );
}

/** The form's messages no field shows (a 403, a 409, a field without an input), so none is lost. */
export function FormProblems({ errors, known }: { errors: FormErrors; known: readonly string[] }) {
  const rest = unclaimed(errors, known);
  if (!errors.general && rest.length === 0) return null;
  return (
    <div className="form-error" role="alert" data-testid="form-problems">
      {errors.general && <p>{errors.general}</p>}
      {rest.map((line) => (
        <p key={line}>{line}</p>
      ))}
    </div>
  );
}

const STATUS_LABELS: Record<string, string> = { draft: "Draft", running: "Running", ended: "Ended" };

export function StatusChip({ status }: { status: string }) {
  return <span className={`chip xp-status xp-status-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}

/** A line that screen readers announce: what the last action did, or why it failed. */
export function Announce({ ok, error, testId }: { ok?: ReactNode; error?: string | null; testId?: string }) {
  return (
    <div aria-live="polite" className="xp-announce" data-testid={testId}>
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
