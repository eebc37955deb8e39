// The dialogs a card opens (record an action or an outcome, dismiss with a reason, correct the type) and the
// keyboard shortcuts' help. Radix dialogs: focus moves in, stays in, and returns to where it was on close.
import * as Dialog from "@radix-ui/react-dialog";
import { useState, type FormEvent, type ReactNode } from "react";
import type { Schemas } from "@/api/client";
import type { Change, Signal } from "./feedCache";
import { ACTION_LABELS, DISMISS_LABELS, OUTCOME_LABELS, TYPE_LABELS, typeLabel } from "./labels";
import type { DialogKind } from "./SignalCard";

function Frame({
  title,
  description,
  children,
  onClose,
}: {
  title: string;
  description?: ReactNode;
  children: ReactNode;
  onClose: () => void;
}) {
  // Opened by a shortcut as often as by a button: focus goes back to whatever had it (the card), not to the page.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  return (
    <Dialog.Root open onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="feed-overlay" />
        <Dialog.Content
          className="feed-dialog"
          onCloseAutoFocus={(event) => {
            if (opener?.isConnected) {
              event.preventDefault();
              opener.focus({ preventScroll: true });
            }
          }}
        >
          <Dialog.Title className="feed-dialog-title">{title}</Dialog.Title>
          {description ? (
            <Dialog.Description className="muted">{description}</Dialog.Description>
          ) : (
            <Dialog.Description className="visually-hidden">{title}</Dialog.Description>
          )}
          {children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function Buttons({ submit }: { submit: string }) {
  return (
    <div className="feed-dialog-buttons">
      <Dialog.Close asChild>
        <button type="button" className="button">
          Cancel
        </button>
      </Dialog.Close>
      <button type="submit" className="button button-primary">
        {submit}
      </button>
    </div>
  );
}

function Note({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <label>
      Note (optional)
      <textarea rows={3} maxLength={2000} value={value} onChange={(event) => onChange(event.target.value)} />
    </label>
  );
}

const note = (text: string) => (text.trim() ? text.trim() : null);

const PERSON_LABELS = Object.keys(TYPE_LABELS).filter((type) => !type.startsWith("intent_"));
const COMPANY_LABELS = Object.keys(TYPE_LABELS).filter((type) => type.startsWith("intent_"));

interface Props {
  kind: DialogKind;
  signal: Signal;
  onClose: () => void;
  onSubmit: (signal: Signal, change: Change) => void;
}

export function SignalDialog({ kind, signal, onClose, onSubmit }: Props) {
  const [action, setAction] = useState<Schemas["SignalAction"]>("call");
  const [outcome, setOutcome] = useState<Schemas["SignalOutcome"]>("conversation");
  const [reason, setReason] = useState<Schemas["DismissReason"]>("not_relevant");
  const [correct, setCorrect] = useState<"yes" | "no">("no");
  const labels = signal.type.startsWith("intent_") ? COMPANY_LABELS : PERSON_LABELS;
  const [label, setLabel] = useState<string>(labels.find((value) => value !== signal.type) ?? "none");
  const [text, setText] = useState("");
  const who = `${typeLabel(signal.type)} · ${signal.lead_name} (${signal.lead_external_id})`;

  const submit = (change: Change) => (event: FormEvent) => {
    event.preventDefault();
    onSubmit(signal, change);
    onClose();
  };

  if (kind === "action") {
    return (
      <Frame title="Record an action" description={<>{who}. Calls, texts, e-mails and letters are checked by the contact guard.</>} onClose={onClose}>
        <form className="stack" onSubmit={submit({ kind: "action", body: { action, note: note(text), autodialed: false } })}>
          <label>
            Action
            <select value={action} onChange={(event) => setAction(event.target.value as typeof action)}>
              {Object.entries(ACTION_LABELS).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </label>
          <Note value={text} onChange={setText} />
          <Buttons submit="Save action" />
        </form>
      </Frame>
    );
  }
  if (kind === "outcome") {
    return (
      <Frame title="Record the outcome" description={who} onClose={onClose}>
        <form className="stack" onSubmit={submit({ kind: "outcome", body: { outcome, note: note(text) } })}>
          <label>
            Outcome
            <select value={outcome} onChange={(event) => setOutcome(event.target.value as typeof outcome)}>
              {Object.entries(OUTCOME_LABELS).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </label>
          <Note value={text} onChange={setText} />
          <Buttons submit="Save outcome" />
        </form>
      </Frame>
    );
  }
  if (kind === "dismiss") {
    return (
      <Frame title="Dismiss this signal" description={<>{who}. A dismissed signal cannot be reopened.</>} onClose={onClose}>
        <form className="stack" onSubmit={submit({ kind: "dismiss", body: { reason, note: note(text) } })}>
          <fieldset className="feed-fieldset">
            <legend>Reason</legend>
            {Object.entries(DISMISS_LABELS).map(([value, text]) => (
              <label key={value} className="feed-choice">
                <input
                  type="radio"
                  name="dismiss-reason"
                  value={value}
                  checked={reason === value}
                  onChange={() => setReason(value as typeof reason)}
                />
                {text}
              </label>
            ))}
          </fieldset>
          <Note value={text} onChange={setText} />
          <Buttons submit="Dismiss signal" />
        </form>
      </Frame>
    );
  }
  const change: Change =
    correct === "yes" ? { kind: "feedback", body: { correct: true } } : { kind: "feedback", body: { correct: false, label } };
  return (
    <Frame
      title="Correct the type"
      description={<>{who}. Your answer becomes a labelled example for retraining the detector.</>}
      onClose={onClose}
    >
      <form className="stack" onSubmit={submit(change)}>
        <fieldset className="feed-fieldset">
          <legend>Is “{typeLabel(signal.type)}” right?</legend>
          <label className="feed-choice">
            <input type="radio" name="feedback-correct" checked={correct === "yes"} onChange={() => setCorrect("yes")} />
            Yes, the type is right
          </label>
          <label className="feed-choice">
            <input type="radio" name="feedback-correct" checked={correct === "no"} onChange={() => setCorrect("no")} />
            No, it is another type
          </label>
        </fieldset>
        <label>
          The right type
          <select value={label} disabled={correct === "yes"} onChange={(event) => setLabel(event.target.value)}>
            {labels
              .filter((value) => value !== signal.type)
              .map((value) => (
                <option key={value} value={value}>
                  {typeLabel(value)}
                </option>
              ))}
            <option value="none">No event at all (dismisses it)</option>
          </select>
        </label>
        <Buttons submit="Save correction" />
      </form>
    </Frame>
  );
}

export const SHORTCUTS: [string, string][] = [
  ["j", "Next signal"],
  ["k", "Previous signal"],
  ["a", "Acknowledge the focused signal"],
  ["d", "Dismiss the focused signal (asks for a reason)"],
  ["?", "Show these shortcuts"],
];

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Frame title="Keyboard shortcuts" description="In the feed, when you are not typing in a field." onClose={onClose}>
      <table className="feed-shortcuts">
        <tbody>
          {SHORTCUTS.map(([key, text]) => (
            <tr key={key}>
              <th scope="row">
                <kbd>{key}</kbd>
              </th>
              <td>{text}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="feed-dialog-buttons">
        <Dialog.Close asChild>
          <button type="button" className="button button-primary">
            Close
          </button>
        </Dialog.Close>
      </div>
    </Frame>
  );
}
