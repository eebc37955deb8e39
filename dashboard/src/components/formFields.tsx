// Form building blocks for the settings-like pages (alert rules, digest, admin): messages under a field, checkbox
// groups, a token input for names (with suggestions, free text allowed), and Radix dialogs. Every control has a
// label; a field's API errors are linked to it with aria-describedby.
import * as Dialog from "@radix-ui/react-dialog";
import { useId, useState, type KeyboardEvent, type ReactNode } from "react";
import "./formFields.css";

export function FieldMessages({ id, messages }: { id: string; messages: readonly string[] }) {
  if (messages.length === 0) return null;
  return (
    <span id={id} className="ff-error" role="alert">
      {messages.join("; ")}
    </span>
  );
}

/** Props that tie an input to its messages: aria-invalid and aria-describedby. */
export function invalidProps(id: string, messages: readonly string[]) {
  return messages.length > 0 ? { "aria-invalid": true as const, "aria-describedby": id } : {};
}

export interface Option {
  value: string;
  label: string;
}

export function CheckboxGroup({
  legend,
  options,
  value,
  onChange,
  messages = [],
  hint,
  disabled,
  testId,
}: {
  legend: string;
  options: readonly Option[];
  value: readonly string[];
  onChange: (next: string[]) => void;
  messages?: readonly string[];
  hint?: ReactNode;
  disabled?: boolean;
  testId?: string;
}) {
  const errorId = useId();
  const toggle = (option: string, checked: boolean) =>
    onChange(
      checked
        ? [
            ...value.filter((v) => !options.some((o) => o.value === v)), // kept: values this list does not offer
            ...options.map((o) => o.value).filter((v) => v === option || value.includes(v)),
          ]
        : value.filter((v) => v !== option),
    );
  return (
    <fieldset
      className={messages.length ? "ff-group ff-group-invalid" : "ff-group"}
      data-testid={testId}
      aria-describedby={messages.length ? errorId : undefined}
    >
      <legend>{legend}</legend>
      {hint && <p className="ff-hint">{hint}</p>}
      <div className="ff-checks">
        {options.map((option) => (
          <label key={option.value} className="ff-check">
            <input
              type="checkbox"
              checked={value.includes(option.value)}
              disabled={disabled}
              onChange={(event) => toggle(option.value, event.target.checked)}
            />
            {option.label}
          </label>
        ))}
      </div>
      <FieldMessages id={errorId} messages={messages} />
    </fieldset>
  );
}

/** Names picked from suggestions or typed (Enter or comma adds one); each chip has a remove button. */
export function TokenInput({
  label,
  value,
  onChange,
  suggestions = [],
  messages = [],
  hint,
  placeholder,
  disabled,
}: {
  label: string;
  value: readonly string[];
  onChange: (next: string[]) => void;
  suggestions?: readonly Option[];
  messages?: readonly string[];
  hint?: string;
  placeholder?: string;
  disabled?: boolean;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const listId = `${id}-list`;
  const [draft, setDraft] = useState("");
  const add = (raw: string) => {
    const names = raw
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name && !value.includes(name));
    if (names.length) onChange([...value, ...names]);
    setDraft("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      add(draft);
    } else if (event.key === "Backspace" && draft === "" && value.length > 0) {
      onChange(value.slice(0, -1));
    }
  };
  const labelOf = (name: string) => suggestions.find((s) => s.value === name)?.label ?? name;
  const open = suggestions.filter((s) => !value.includes(s.value));
  return (
    <div className="ff-tokens">
      <label htmlFor={id}>{label}</label>
      {hint && <span className="ff-hint">{hint}</span>}
      {value.length > 0 && (
        <ul className="ff-chips" aria-label={`${label}: chosen`}>
          {value.map((name) => (
            <li key={name} className="chip ff-chip">
              {labelOf(name)}
              <button
                type="button"
                className="ff-chip-remove"
                aria-label={`Remove ${labelOf(name)}`}
                disabled={disabled}
                onClick={() => onChange(value.filter((v) => v !== name))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="ff-token-entry">
        <input
          id={id}
          list={open.length ? listId : undefined}
          value={draft}
          placeholder={placeholder ?? (open.length ? "Type or pick, then Enter" : "Type a name, then Enter")}
          disabled={disabled}
          onChange={(event) => {
            const next = event.target.value;
            // Picking from the datalist replaces the text (no inputType "insertText"): add the pick at once. Typing
            // a name that happens to be a suggestion does not (it may be the start of a longer one).
            const inputType = (event.nativeEvent as InputEvent).inputType;
            const picked = !inputType || inputType === "insertReplacementText";
            if (picked && open.some((s) => s.value === next)) add(next);
            else setDraft(next);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => draft.trim() && add(draft)}
          {...invalidProps(errorId, messages)}
        />
        <button type="button" className="button" disabled={disabled || !draft.trim()} onClick={() => add(draft)}>
          Add
        </button>
      </div>
      {open.length > 0 && (
        <datalist id={listId}>
          {open.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </datalist>
      )}
      <FieldMessages id={errorId} messages={messages} />
    </div>
  );
}

/** A Radix dialog with a title, an optional description and a close button. */
export function Modal({
  open,
  onOpenChange,
  title,
  description,
  children,
  wide,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="ff-overlay" />
        <Dialog.Content className={wide ? "ff-dialog ff-dialog-wide" : "ff-dialog"} aria-describedby={undefined}>
          <div className="ff-dialog-head">
            <Dialog.Title className="ff-dialog-title">{title}</Dialog.Title>
            <Dialog.Close className="button button-quiet" aria-label="Close">
              ×
            </Dialog.Close>
          </div>
          {description && <Dialog.Description className="muted">{description}</Dialog.Description>}
          {children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** "Are you sure?" for an action that cannot be taken back. */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  children,
  confirmLabel,
  onConfirm,
  busy,
  error,
  danger = true,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  error?: string | null;
  danger?: boolean;
}) {
  return (
    <Modal open={open} onOpenChange={onOpenChange} title={title}>
      {children}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row ff-dialog-actions">
        <Dialog.Close className="button">Cancel</Dialog.Close>
        <button
          type="button"
          className={danger ? "button button-danger" : "button button-primary"}
          disabled={busy}
          onClick={onConfirm}
        >
          {busy ? "Working…" : confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
