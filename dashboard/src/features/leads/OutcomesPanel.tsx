// What came of a lead (GET /api/v1/leads/{id}/outcomes): the summary — dollars recovered, payments, the first
// payment and the days to it, promises pending/kept/broken, disputes — and every outcome, newest first. Workers
// (agents, managers, admins; not viewers) record one (POST /api/v1/outcomes, with an Idempotency-Key so a double
// submit records one outcome) and settle a pending promise as kept or broken (PATCH /api/v1/outcomes/{id} with
// If-Match set to the ETag of a fresh GET: a change made meanwhile answers 412, and the panel says to reload).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";
import { api, ApiError, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { FieldMessages } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import { formatCount, formatDays, formatMoney } from "./format";

type Outcome = Schemas["OutcomeRead"];
type OutcomeKind = Schemas["OutcomeKind"];
type PromiseStatus = "pending" | "kept" | "broken";

export const outcomeKeys = { lead: (leadId: string) => ["leads", "outcomes", leadId] as const };

export const KIND_LABELS: Record<OutcomeKind, string> = {
  payment: "Payment",
  promise: "Promise to pay",
  arrangement: "Arrangement",
  dispute: "Dispute",
  complaint: "Complaint",
  closure: "Account closed",
};

const SOURCE_LABELS: Record<string, string> = {
  import: "Lender's file",
  api: "Recorded (API)",
  signal: "On a signal",
};

const PROMISE_LABELS: Record<PromiseStatus, string> = { pending: "Pending", kept: "Kept", broken: "Broken" };

/** The message said when an outcome changed between reading it and saving (412). */
export const CHANGED_MEANWHILE = "This outcome was changed meanwhile: reload to see it, then try again.";

export function useLeadOutcomes(leadId: string) {
  return useQuery({
    queryKey: outcomeKeys.lead(leadId),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/leads/{lead_id}/outcomes", { params: { path: { lead_id: leadId } } })),
  });
}

/** Today in the viewer's zone, as YYYY-MM-DD (what a date input holds). */
function today(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

const FIELDS = ["kind", "amount", "occurred_on", "due_on", "note"] as const;

/**
 * The outcome model's own checks answer on the whole body ("amount: a payment needs an amount above 0"): such a
 * message goes to the field it names, so it shows next to that input.
 */
export function outcomeFormErrors(error: unknown): FormErrors {
  const errors = formErrors(error);
  const fields: FormErrors["fields"] = {};
  for (const [field, messages] of Object.entries(errors.fields)) {
    for (const message of messages) {
      const named = field === "body" || field === "" ? /^([a-z_]+): (.+)$/.exec(message) : null;
      const target = named && (FIELDS as readonly string[]).includes(named[1] ?? "") ? named[1]! : field;
      (fields[target] ??= []).push(named && target !== field ? named[2]! : message);
    }
  }
  return { fields, general: errors.general };
}

interface OutcomeForm {
  kind: OutcomeKind;
  amount: string;
  occurredOn: string;
  dueOn: string;
  note: string;
}

function emptyForm(): OutcomeForm {
  return { kind: "payment", amount: "", occurredOn: today(), dueOn: "", note: "" };
}

export function outcomeBody(leadId: string, form: OutcomeForm): Schemas["OutcomeCreate"] {
  const body = {
    lead_id: leadId,
    kind: form.kind,
    occurred_on: form.occurredOn,
  } as Schemas["OutcomeCreate"];
  if (form.amount.trim()) body.amount = form.amount.trim().replace(/[$,\s]/g, "");
  if (form.kind === "promise" && form.dueOn) body.due_on = form.dueOn;
  if (form.note.trim()) body.note = form.note.trim();
  return body;
}

export function OutcomesPanel({ leadId }: { leadId: string }) {
  const headingId = useId();
  const user = useUser();
  const works = hasRole(user, "admin", "manager", "agent");
  const outcomes = useLeadOutcomes(leadId);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<{ ok?: string; error?: string; reload?: boolean } | null>(null);

  return (
    <section className="card stack lead-outcomes" aria-labelledby={headingId} data-testid="lead-outcomes">
      <div className="lead-outcomes-head">
        <h2 id={headingId}>Outcomes</h2>
        {works && !adding && (
          <button type="button" className="button" onClick={() => { setAdding(true); setNotice(null); }}>
            Add outcome
          </button>
        )}
      </div>
      <div aria-live="polite" data-testid="outcomes-notice">
        {notice?.error ? (
          <p className="form-error" role="alert">
            {notice.error}{" "}
            {notice.reload && (
              <button
                type="button"
                className="button lead-inline-button"
                onClick={() => {
                  setNotice(null);
                  void outcomes.refetch();
                }}
              >
                Reload
              </button>
            )}
          </p>
        ) : notice?.ok ? (
          <p className="ok">{notice.ok}</p>
        ) : null}
      </div>
      {works && adding && (
        <AddOutcomeForm
          leadId={leadId}
          onCancel={() => setAdding(false)}
          onAdded={(outcome) => {
            setAdding(false);
            setNotice({ ok: `${KIND_LABELS[outcome.kind]} recorded.` });
          }}
        />
      )}
      {outcomes.isPending ? (
        <Loading what="Loading outcomes" />
      ) : outcomes.isError ? (
        <ErrorState error={outcomes.error} retry={() => void outcomes.refetch()} />
      ) : (
        <>
          <Summary summary={outcomes.data.summary} />
          {outcomes.data.items.length === 0 ? (
            <Empty title="No outcomes recorded yet." />
          ) : (
            <OutcomesTable items={outcomes.data.items} leadId={leadId} canSettle={works} onNotice={setNotice} />
          )}
        </>
      )}
    </section>
  );
}

function Summary({ summary }: { summary: Schemas["LeadOutcomeSummary"] }) {
  const first = summary.first_payment_on;
  return (
    <dl className="lead-facts lead-outcome-summary" data-testid="outcomes-summary">
      <div className="lead-fact">
        <dt>Recovered</dt>
        <dd className="lead-outcome-big">{formatMoney(summary.recovered)}</dd>
      </div>
      <div className="lead-fact">
        <dt>Payments</dt>
        <dd>{formatCount(summary.payments)}</dd>
      </div>
      <div className="lead-fact">
        <dt>First payment</dt>
        <dd>
          {first ? formatDate(first) : "none yet"}
          {summary.days_to_first_payment !== null && (
            <span className="muted lead-outcome-sub">{formatDays(summary.days_to_first_payment)} after placement</span>
          )}
          {summary.days_from_first_signal !== null && (
            <span className="muted lead-outcome-sub">{formatDays(summary.days_from_first_signal)} after the first signal</span>
          )}
        </dd>
      </div>
      <div className="lead-fact">
        <dt>Promises</dt>
        <dd>
          {formatCount(summary.promises_pending)} pending · {formatCount(summary.promises_kept)} kept ·{" "}
          {formatCount(summary.promises_broken)} broken
        </dd>
      </div>
      <div className="lead-fact">
        <dt>Disputes</dt>
        <dd>{formatCount(summary.open_disputes)}</dd>
      </div>
    </dl>
  );
}

function OutcomesTable({
  items,
  leadId,
  canSettle,
  onNotice,
}: {
  items: Outcome[];
  leadId: string;
  canSettle: boolean;
  onNotice: (notice: { ok?: string; error?: string; reload?: boolean } | null) => void;
}) {
  const queryClient = useQueryClient();
  const settle = useMutation({
    mutationFn: async ({ outcome, status }: { outcome: Outcome; status: "kept" | "broken" }) => {
      // Read it again for its current version: the PATCH then names it, and a change made since answers 412.
      const current = await api.GET("/api/v1/outcomes/{outcome_id}", { params: { path: { outcome_id: outcome.id } } });
      unwrap(current);
      const etag = current.response.headers.get("ETag");
      return unwrap(
        await api.PATCH("/api/v1/outcomes/{outcome_id}", {
          params: { path: { outcome_id: outcome.id }, ...(etag ? { header: { "if-match": etag } } : {}) },
          body: { promise_status: status },
        }),
      );
    },
    onMutate: () => onNotice(null),
    onSuccess: (outcome) =>
      onNotice({ ok: `Promise marked ${outcome.promise_status === "kept" ? "kept" : "broken"}.` }),
    onError: (error) =>
      onNotice(
        error instanceof ApiError && error.status === 412
          ? { error: CHANGED_MEANWHILE, reload: true }
          : { error: error instanceof Error ? error.message : "The promise could not be updated." },
      ),
    onSettled: async (_data, error) => {
      // After a 412 the list stays as it was until the user reloads (the message says so).
      if (error instanceof ApiError && error.status === 412) return;
      await queryClient.invalidateQueries({ queryKey: outcomeKeys.lead(leadId) });
    },
  });
  return (
    <div className="table-wrap" role="region" aria-label="Outcomes (table)" tabIndex={0}>
      <table className="table lead-outcomes-table" data-testid="outcomes-table">
        <caption className="visually-hidden">The lead's outcomes, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Kind</th>
            <th scope="col" className="lead-num">
              Amount
            </th>
            <th scope="col">Due</th>
            <th scope="col">Promise</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {items.map((outcome) => {
            const pending = outcome.kind === "promise" && outcome.promise_status === "pending";
            const what = `${KIND_LABELS[outcome.kind]} of ${formatDate(outcome.occurred_on)}`;
            return (
              <tr key={outcome.id} data-testid="outcome-row" data-kind={outcome.kind}>
                <td className="lead-date">{formatDate(outcome.occurred_on)}</td>
                <td>
                  {KIND_LABELS[outcome.kind] ?? outcome.kind}
                  {outcome.note && <div className="muted lead-outcome-note">{outcome.note}</div>}
                </td>
                <td className="lead-num">{outcome.amount === null ? "—" : formatMoney(outcome.amount)}</td>
                <td className="lead-date">{outcome.due_on ? formatDate(outcome.due_on) : "—"}</td>
                <td>
                  {outcome.promise_status ? (
                    <span className={`chip lead-promise-${outcome.promise_status}`}>
                      {PROMISE_LABELS[outcome.promise_status as PromiseStatus] ?? outcome.promise_status}
                    </span>
                  ) : (
                    "—"
                  )}
                  {pending && canSettle && (
                    <span className="lead-promise-actions">
                      <button
                        type="button"
                        className="button lead-inline-button"
                        disabled={settle.isPending}
                        aria-label={`Mark the ${what} kept`}
                        onClick={() => settle.mutate({ outcome, status: "kept" })}
                      >
                        Kept
                      </button>
                      <button
                        type="button"
                        className="button lead-inline-button"
                        disabled={settle.isPending}
                        aria-label={`Mark the ${what} broken`}
                        onClick={() => settle.mutate({ outcome, status: "broken" })}
                      >
                        Broken
                      </button>
                    </span>
                  )}
                </td>
                <td>{SOURCE_LABELS[outcome.source] ?? outcome.source}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AddOutcomeForm({
  leadId,
  onCancel,
  onAdded,
}: {
  leadId: string;
  onCancel: () => void;
  onAdded: (outcome: Outcome) => void;
}) {
  const queryClient = useQueryClient();
  const ids = { kind: useId(), amount: useId(), occurred: useId(), due: useId(), note: useId() };
  const [form, setForm] = useState<OutcomeForm>(emptyForm);
  // One key per request: a repeat of the same submit (a double click, a retry) carries it and is recorded once;
  // any change to the form makes it another request, with a key of its own.
  const key = useRef<string | null>(null);
  const add = useMutation({
    mutationFn: async (body: Schemas["OutcomeCreate"]) => {
      key.current ??= crypto.randomUUID();
      return unwrap(await api.POST("/api/v1/outcomes", { body, headers: { "Idempotency-Key": key.current } }));
    },
    onSuccess: async (outcome) => {
      key.current = null;
      await queryClient.invalidateQueries({ queryKey: outcomeKeys.lead(leadId) });
      onAdded(outcome);
    },
  });
  const errors = add.isError ? outcomeFormErrors(add.error) : NO_ERRORS;
  const set = (patch: Partial<OutcomeForm>) => {
    key.current = null;
    setForm((current) => ({ ...current, ...patch }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!add.isPending) add.mutate(outcomeBody(leadId, form));
  };
  const tie = (id: string, name: string) => {
    const messages = messagesFor(errors, name);
    return {
      control: messages.length ? { "aria-invalid": true as const, "aria-describedby": `${id}-error` } : {},
      messages: <FieldMessages id={`${id}-error`} messages={messages} />,
    };
  };
  const kind = tie(ids.kind, "kind");
  const amount = tie(ids.amount, "amount");
  const occurred = tie(ids.occurred, "occurred_on");
  const due = tie(ids.due, "due_on");
  const note = tie(ids.note, "note");
  const rest = unclaimed(errors, FIELDS);
  return (
    <form className="stack lead-outcome-form" onSubmit={submit} noValidate data-testid="outcome-form" aria-label="Add an outcome">
      {(errors.general || rest.length > 0) && (
        <div className="form-error" role="alert">
          {errors.general && <p>{errors.general}</p>}
          {rest.map((line) => (
            <p key={line}>{line}</p>
          ))}
        </div>
      )}
      <div className="lead-outcome-fields">
        <div className="lead-outcome-field">
          <label htmlFor={ids.kind}>Kind</label>
          <select id={ids.kind} value={form.kind} onChange={(e) => set({ kind: e.target.value as OutcomeKind })} {...kind.control}>
            {(Object.keys(KIND_LABELS) as OutcomeKind[]).map((value) => (
              <option key={value} value={value}>
                {KIND_LABELS[value]}
              </option>
            ))}
          </select>
          {kind.messages}
        </div>
        <div className="lead-outcome-field">
          <label htmlFor={ids.amount}>Amount ($){form.kind === "payment" ? "" : " (optional)"}</label>
          <input
            id={ids.amount}
            inputMode="decimal"
            autoComplete="off"
            value={form.amount}
            onChange={(e) => set({ amount: e.target.value })}
            {...amount.control}
          />
          {amount.messages}
        </div>
        <div className="lead-outcome-field">
          <label htmlFor={ids.occurred}>{form.kind === "payment" ? "Paid on" : "Date"}</label>
          <input id={ids.occurred} type="date" value={form.occurredOn} onChange={(e) => set({ occurredOn: e.target.value })} {...occurred.control} />
          {occurred.messages}
        </div>
        {form.kind === "promise" && (
          <div className="lead-outcome-field">
            <label htmlFor={ids.due}>Due on</label>
            <input id={ids.due} type="date" value={form.dueOn} min={form.occurredOn || undefined} onChange={(e) => set({ dueOn: e.target.value })} {...due.control} />
            {due.messages}
          </div>
        )}
      </div>
      <div className="lead-outcome-field">
        <label htmlFor={ids.note}>Note (optional)</label>
        <textarea id={ids.note} rows={2} maxLength={2000} value={form.note} onChange={(e) => set({ note: e.target.value })} {...note.control} />
        {note.messages}
      </div>
      <div className="row">
        <button type="submit" className="button button-primary" disabled={add.isPending}>
          {add.isPending ? "Saving…" : "Save outcome"}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
