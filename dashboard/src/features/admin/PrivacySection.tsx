// Privacy: the data-subject request queue, soonest deadline first, with what the API offers at each step
// (acknowledge, start, extend, export, erase, correct, opt out, complete, reject) and new requests.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { ConfirmDialog, FieldMessages, invalidProps, Modal } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate, formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import { AdminSection, Outcome, Pager } from "./adminUi";

type Request = Schemas["RequestRead"];
type Status = Schemas["RequestStatus"];
type Type = Schemas["RequestType"];

const TYPE_LABELS: Record<Type, string> = {
  access: "Access",
  erasure: "Erasure",
  correction: "Correction",
  opt_out: "Opt-out",
};
const STATUS_LABELS: Record<Status, string> = {
  received: "Received",
  acknowledged: "Acknowledged",
  in_progress: "In progress",
  completed: "Completed",
  rejected: "Rejected",
};
const PAGE = 50;
const key = ["admin", "dsar"] as const;

/** Days from now to a deadline, in words: "in 3 days", "today", "2 days late". */
export function deadlineText(due: string, now: Date = new Date()): string {
  const days = Math.floor((new Date(due).getTime() - now.getTime()) / 86_400_000);
  if (days < 0) return `${-days} day${days === -1 ? "" : "s"} late`;
  if (days === 0) return "due within a day";
  return `in ${days} day${days === 1 ? "" : "s"}`;
}

type Action = "acknowledge" | "start" | "extend" | "complete" | "erase" | "opt-out" | "export" | "correct" | "reject";

/** What may be done to a request now (the API refuses the rest with its reason). */
export function actionsFor(request: Request): Action[] {
  if (request.status === "completed" || request.status === "rejected") return [];
  const actions: Action[] = [];
  if (request.status === "received") actions.push("acknowledge");
  if (request.status !== "in_progress") actions.push("start");
  else {
    if (request.type === "access") actions.push("export", "complete");
    if (request.type === "erasure") actions.push("erase");
    if (request.type === "correction") actions.push("correct");
    if (request.type === "opt_out") actions.push("opt-out");
  }
  if (!request.extended) actions.push("extend");
  actions.push("reject");
  return actions;
}

const ACTION_LABELS: Record<Action, string> = {
  acknowledge: "Acknowledge",
  start: "Start",
  extend: "Extend deadline",
  complete: "Complete",
  erase: "Erase…",
  "opt-out": "Opt out",
  export: "Download export",
  correct: "Correct…",
  reject: "Reject…",
};

export function PrivacySection() {
  const [filters, setFilters] = useState<{ status: string; type: string; overdue: boolean; offset: number }>({
    status: "",
    type: "",
    overdue: false,
    offset: 0,
  });
  const [creating, setCreating] = useState(false);
  const queue = useQuery({
    queryKey: [...key, filters],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/privacy/dsar", {
          params: {
            query: {
              limit: PAGE,
              offset: filters.offset,
              ...(filters.status ? { status: filters.status as Status } : {}),
              ...(filters.type ? { type: filters.type as Type } : {}),
              ...(filters.overdue ? { overdue: true } : {}),
            },
          },
        }),
      ),
  });
  const statusId = useId();
  const typeId = useId();
  return (
    <AdminSection
      title="Privacy requests"
      intro="Data-subject requests (GDPR / CCPA), soonest deadline first. The queue holds no personal data: people are referenced by lead ids."
      actions={
        <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
          New request
        </button>
      }
    >
      <form className="admin-filters" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
        <div className="admin-field">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.target.value, offset: 0 })}>
            <option value="">Any</option>
            {Object.entries(STATUS_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="admin-field">
          <label htmlFor={typeId}>Type</label>
          <select id={typeId} value={filters.type} onChange={(e) => setFilters({ ...filters, type: e.target.value, offset: 0 })}>
            <option value="">Any</option>
            {Object.entries(TYPE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <label className="ff-check">
          <input type="checkbox" checked={filters.overdue} onChange={(e) => setFilters({ ...filters, overdue: e.target.checked, offset: 0 })} />
          Overdue only
        </label>
      </form>
      {queue.isPending ? (
        <Loading what="Loading requests" />
      ) : queue.isError ? (
        <ErrorState error={queue.error} retry={() => void queue.refetch()} />
      ) : queue.data.items.length === 0 ? (
        <Empty title={filters.status || filters.type || filters.overdue ? "No request matches." : "No requests."}>
          Requests arrive by e-mail or post; record each here the day it arrives.
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="admin-dsar-table">
              <caption className="visually-hidden">Data-subject requests</caption>
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Received</th>
                  <th scope="col">Deadline</th>
                  <th scope="col">Leads</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {queue.data.items.map((request) => (
                  <RequestRow key={request.id} request={request} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Requests"
            offset={filters.offset}
            limit={PAGE}
            count={queue.data.items.length}
            total={queue.data.total}
            onOffset={(offset) => setFilters({ ...filters, offset })}
          />
        </>
      )}
      {creating && <NewRequestDialog onClose={() => setCreating(false)} />}
      <RetentionPanel />
    </AdminSection>
  );
}

/** The retention purge: count what would go (the API's dry run), then purge with a confirmation. */
function RetentionPanel() {
  const [confirm, setConfirm] = useState(false);
  const headingId = useId();
  const purge = useMutation({
    mutationFn: async (dryRun: boolean) => unwrap(await api.POST("/api/v1/privacy/purge", { body: { dry_run: dryRun } })),
    onSuccess: () => setConfirm(false),
  });
  const report = purge.data;
  return (
    <section className="card stack admin-retention" aria-labelledby={headingId}>
      <h3 id={headingId}>Retention</h3>
      <p className="muted">
        Data past its retention period is removed daily. Count what would go now, or remove it now (audited).
      </p>
      <div className="row">
        <button type="button" className="button" onClick={() => purge.mutate(true)} disabled={purge.isPending}>
          Count what would go
        </button>
        <button type="button" className="button button-danger" onClick={() => setConfirm(true)} disabled={purge.isPending}>
          Purge now…
        </button>
      </div>
      <Outcome error={purge.isError && !confirm ? purge.error.message : null} />
      {report && (
        <div className="table-wrap" aria-live="polite">
          <table className="table" data-testid="admin-purge-report">
            <caption className="admin-caption">
              {report.dry_run ? "Would be removed" : "Removed"} ({report.mode} mode, {formatDateTime(report.now)})
            </caption>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Older than</th>
                <th scope="col">Rows</th>
              </tr>
            </thead>
            <tbody>
              {report.items.map((item) => (
                <tr key={`${item.table}-${item.what}`}>
                  <td>
                    {item.what}
                    <div className="muted admin-small">{item.table}</div>
                  </td>
                  <td>{formatDate(item.cutoff)}</td>
                  <td>{item.count}</td>
                </tr>
              ))}
              {report.items.length === 0 && (
                <tr>
                  <td colSpan={3} className="muted">
                    Nothing is past its retention period.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title="Remove everything past its retention period now?"
        confirmLabel="Purge now"
        onConfirm={() => purge.mutate(false)}
        busy={purge.isPending}
        error={purge.isError ? purge.error.message : null}
      >
        <p>What is removed cannot be recovered. Count it first to see what goes.</p>
      </ConfirmDialog>
    </section>
  );
}

function RequestRow({ request }: { request: Request }) {
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<"erase" | "reject" | "correct" | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const path = { params: { path: { request_id: request.id } } };
  const act = useMutation({
    mutationFn: async (action: Exclude<Action, "export" | "correct" | "reject">) => {
      switch (action) {
        case "acknowledge":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/acknowledge", path));
        case "start":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/start", path));
        case "extend":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/extend", path));
        case "complete":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/complete", path));
        case "erase":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/erase", path));
        case "opt-out":
          return unwrap(await api.POST("/api/v1/privacy/dsar/{request_id}/opt-out", path));
      }
    },
    onSuccess: (_data, action) => {
      setDone(`${ACTION_LABELS[action].replace("…", "")}: done.`);
      setDialog(null);
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const download = useMutation({
    mutationFn: async () => {
      const result = await api.POST("/api/v1/privacy/dsar/{request_id}/export", { ...path, parseAs: "blob" });
      const blob = unwrap(result) as unknown as Blob;
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `dsar-${request.id}.zip`;
      link.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    onSuccess: () => setDone("Export downloaded; complete the request once it is sent."),
  });
  const actions = actionsFor(request);
  const error = act.isError ? act.error.message : download.isError ? download.error.message : null;
  return (
    <tr data-testid="admin-dsar-row" data-status={request.status}>
      <td>
        <strong>{TYPE_LABELS[request.type]}</strong> <span className="muted">({request.regime.toUpperCase()})</span>
        <div className="muted admin-small">by {request.created_by}</div>
        {request.rejection_reason && <div className="admin-small">Rejected: {request.rejection_reason}</div>}
      </td>
      <td>
        {STATUS_LABELS[request.status]}
        {request.completed_at && <div className="muted admin-small">{formatDateTime(request.completed_at)}</div>}
      </td>
      <td>{formatDate(request.received_at)}</td>
      <td>
        {request.status === "received" && request.acknowledge_by && (
          <div className="admin-small">acknowledge by {formatDate(request.acknowledge_by)}</div>
        )}
        <span className={request.overdue ? "danger" : ""}>{formatDate(request.due_at)}</span>
        {request.status !== "completed" && request.status !== "rejected" && (
          <div className={request.overdue ? "danger admin-small" : "muted admin-small"}>
            {request.overdue ? "Overdue · " : ""}
            {deadlineText(request.due_at)}
            {request.extended && " · extended"}
          </div>
        )}
      </td>
      <td>{request.lead_ids.length}</td>
      <td>
        <div className="admin-row-actions">
          {actions.length === 0 && <span className="muted">Closed</span>}
          {actions.map((action) => (
            <button
              key={action}
              type="button"
              className={action === "erase" || action === "reject" ? "button button-danger" : "button"}
              disabled={act.isPending || download.isPending}
              onClick={() => {
                if (action === "export") download.mutate();
                else if (action === "erase" || action === "reject" || action === "correct") setDialog(action);
                else act.mutate(action);
              }}
            >
              {ACTION_LABELS[action]}
            </button>
          ))}
        </div>
        <Outcome ok={done} error={dialog ? null : error} />
        <ConfirmDialog
          open={dialog === "erase"}
          onOpenChange={(o) => setDialog(o ? "erase" : null)}
          title="Erase everything about this person?"
          confirmLabel="Erase"
          onConfirm={() => act.mutate("erase")}
          busy={act.isPending}
          error={act.isError ? act.error.message : null}
        >
          <p>
            Every row about them is deleted, on {request.lead_ids.length} lead{request.lead_ids.length === 1 ? "" : "s"} and
            everything linked; only hashed tombstones stay so they are never collected again. This cannot be undone.
          </p>
        </ConfirmDialog>
        {dialog === "reject" && <RejectDialog request={request} onClose={() => setDialog(null)} onDone={setDone} />}
        {dialog === "correct" && <CorrectDialog request={request} onClose={() => setDialog(null)} onDone={setDone} />}
      </td>
    </tr>
  );
}

function RejectDialog({ request, onClose, onDone }: { request: Request; onClose: () => void; onDone: (text: string) => void }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const id = useId();
  const reject = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/privacy/dsar/{request_id}/reject", {
          params: { path: { request_id: request.id } },
          body: { reason: reason.trim() },
        }),
      ),
    onSuccess: () => {
      onDone("Rejected.");
      void queryClient.invalidateQueries({ queryKey: key });
      onClose();
    },
  });
  const errors = reject.isError ? formErrors(reject.error) : NO_ERRORS;
  const messages = [...messagesFor(errors, "reason"), ...(errors.general ? [errors.general] : [])];
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title="Reject the request">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          reject.mutate();
        }}
        noValidate
      >
        <div className="admin-field">
          <label htmlFor={id}>Why (the legal ground; no personal data)</label>
          <textarea id={id} value={reason} rows={4} maxLength={2000} onChange={(e) => setReason(e.target.value)} {...invalidProps(`${id}-error`, messages)} />
          <FieldMessages id={`${id}-error`} messages={messages} />
        </div>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-danger" disabled={reject.isPending || !reason.trim()}>
            Reject request
          </button>
        </div>
      </form>
    </Modal>
  );
}

const CORRECTABLE = ["first_name", "last_name", "email", "phone", "country", "linkedin_url", "city", "state", "postal_code"];

function CorrectDialog({ request, onClose, onDone }: { request: Request; onClose: () => void; onDone: (text: string) => void }) {
  const queryClient = useQueryClient();
  const [rows, setRows] = useState<{ field: string; value: string }[]>([{ field: "last_name", value: "" }]);
  const correct = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/privacy/dsar/{request_id}/correct", {
          params: { path: { request_id: request.id } },
          body: { changes: Object.fromEntries(rows.filter((r) => r.field).map((r) => [r.field, r.value.trim() || null])) },
        }),
      ),
    onSuccess: () => {
      onDone("Corrected on every lead of the person.");
      void queryClient.invalidateQueries({ queryKey: key });
      onClose();
    },
  });
  const errors = correct.isError ? formErrors(correct.error) : NO_ERRORS;
  const fieldId = useId();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title="Correct the person's data" description="Applied to every lead of the person; audited with field names only.">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          correct.mutate();
        }}
        noValidate
      >
        <Problems errors={errors} known={[]} />
        {rows.map((row, index) => {
          const messages = [...messagesFor(errors, row.field), ...messagesFor(errors, `changes.${row.field}`)];
          return (
            <div key={index} className="row admin-correct-row">
              <div className="admin-field">
                <label htmlFor={`${fieldId}-f${index}`}>Field</label>
                <select
                  id={`${fieldId}-f${index}`}
                  value={row.field}
                  onChange={(e) => setRows(rows.map((r, i) => (i === index ? { ...r, field: e.target.value } : r)))}
                >
                  {CORRECTABLE.map((field) => (
                    <option key={field} value={field}>
                      {field.replace(/_/g, " ")}
                    </option>
                  ))}
                </select>
              </div>
              <div className="admin-field">
                <label htmlFor={`${fieldId}-v${index}`}>Corrected value (empty: clear)</label>
                <input
                  id={`${fieldId}-v${index}`}
                  value={row.value}
                  onChange={(e) => setRows(rows.map((r, i) => (i === index ? { ...r, value: e.target.value } : r)))}
                  {...invalidProps(`${fieldId}-e${index}`, messages)}
                />
                <FieldMessages id={`${fieldId}-e${index}`} messages={messages} />
              </div>
              {rows.length > 1 && (
                <button type="button" className="button" onClick={() => setRows(rows.filter((_, i) => i !== index))}>
                  Remove
                </button>
              )}
            </div>
          );
        })}
        <div>
          <button type="button" className="button" onClick={() => setRows([...rows, { field: "first_name", value: "" }])}>
            Add a field
          </button>
        </div>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={correct.isPending}>
            Apply correction
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Problems({ errors, known }: { errors: FormErrors; known: string[] }) {
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

const SUBJECT_FIELDS = [
  ["email", "E-mail", "email"],
  ["phone", "Phone", "tel"],
  ["external_id", "Account (external id)", "text"],
  ["linkedin", "LinkedIn URL or id", "text"],
  ["first_name", "First name", "text"],
  ["last_name", "Last name", "text"],
  ["birth_date", "Birth date", "date"],
] as const;

function NewRequestDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [type, setType] = useState<Type>("access");
  const [regime, setRegime] = useState("");
  const [receivedAt, setReceivedAt] = useState("");
  const [subject, setSubject] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: async () => {
      const given = Object.fromEntries(Object.entries(subject).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
      return unwrap(
        await api.POST("/api/v1/privacy/dsar", {
          body: {
            type,
            subject: given,
            regime: (regime || null) as Schemas["Regime"] | null,
            received_at: receivedAt ? new Date(receivedAt).toISOString() : null,
          },
        }),
      );
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: key });
      onClose();
    },
  });
  const errors = create.isError ? formErrors(create.error) : NO_ERRORS;
  const ids = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title="New data-subject request" wide>
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-dsar-form">
        <Problems errors={errors} known={["type", "regime", "received_at", "subject", ...SUBJECT_FIELDS.map(([k]) => `subject.${k}`)]} />
        <div className="admin-grid-3">
          <div className="admin-field">
            <label htmlFor={`${ids}-type`}>Type</label>
            <select id={`${ids}-type`} value={type} onChange={(e) => setType(e.target.value as Type)}>
              {Object.entries(TYPE_LABELS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div className="admin-field">
            <label htmlFor={`${ids}-regime`}>Law</label>
            <select id={`${ids}-regime`} value={regime} onChange={(e) => setRegime(e.target.value)}>
              <option value="">The privacy mode&apos;s default</option>
              <option value="gdpr">GDPR</option>
              <option value="ccpa">CCPA</option>
            </select>
          </div>
          <div className="admin-field">
            <label htmlFor={`${ids}-received`}>Received (default: now)</label>
            <input
              id={`${ids}-received`}
              type="datetime-local"
              value={receivedAt}
              onChange={(e) => setReceivedAt(e.target.value)}
              {...invalidProps(`${ids}-received-error`, messagesFor(errors, "received_at"))}
            />
            <FieldMessages id={`${ids}-received-error`} messages={messagesFor(errors, "received_at")} />
          </div>
        </div>
        <fieldset className="ff-group">
          <legend>What the requester gave to be found (at least one)</legend>
          <FieldMessages id={`${ids}-subject-error`} messages={messagesFor(errors, "subject")} />
          <div className="admin-grid-3">
            {SUBJECT_FIELDS.map(([name, label, inputType]) => {
              const messages = messagesFor(errors, `subject.${name}`);
              return (
                <div className="admin-field" key={name}>
                  <label htmlFor={`${ids}-${name}`}>{label}</label>
                  <input
                    id={`${ids}-${name}`}
                    type={inputType}
                    value={subject[name] ?? ""}
                    onChange={(e) => setSubject({ ...subject, [name]: e.target.value })}
                    {...invalidProps(`${ids}-${name}-error`, messages)}
                  />
                  <FieldMessages id={`${ids}-${name}-error`} messages={messages} />
                </div>
              );
            })}
          </div>
        </fieldset>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            Record request
          </button>
        </div>
      </form>
    </Modal>
  );
}
