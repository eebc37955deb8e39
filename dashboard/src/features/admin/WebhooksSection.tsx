// Webhook subscriptions: create, edit, delete, rotate the signing secret (shown once), send a test ping, and each
// subscription's deliveries with replay.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { CheckboxGroup, ConfirmDialog, FieldMessages, invalidProps, Modal, type Option } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatAgo, formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed } from "@/lib/fieldErrors";
import { AdminSection, Outcome } from "./adminUi";

type Subscription = Schemas["SubscriptionRead"];
type EventType = "alert.created" | "alert.updated" | "ping";
const EVENT_TYPES: Option[] = [
  { value: "alert.created", label: "Alert created" },
  { value: "alert.updated", label: "Alert updated" },
  { value: "ping", label: "Ping (tests)" },
];
const keys = {
  list: ["admin", "webhooks"] as const,
  deliveries: (id: string, status: string) => ["admin", "webhooks", id, "deliveries", status] as const,
};

export function WebhooksSection() {
  const subs = useQuery({ queryKey: keys.list, queryFn: async () => unwrap(await api.GET("/api/v1/webhooks")) });
  const [editing, setEditing] = useState<Subscription | "new" | null>(null);
  const [secret, setSecret] = useState<Schemas["SubscriptionWithSecret"] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const selected = subs.data?.find((s) => s.id === open) ?? null;
  return (
    <div className="stack">
      <AdminSection
        title="Webhooks"
        intro="Alert events POSTed to your systems, signed per Standard Webhooks. Failed deliveries retry with backoff; a subscription failing for days is switched off and its owner alerted."
        actions={
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New webhook
          </button>
        }
      >
        {subs.isPending ? (
          <Loading what="Loading webhooks" />
        ) : subs.isError ? (
          <ErrorState error={subs.error} retry={() => void subs.refetch()} />
        ) : subs.data.length === 0 ? (
          <Empty title="No webhooks yet.">Add one to send alerts to a CRM or a chat channel.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="admin-webhooks-table">
              <caption className="visually-hidden">Webhook subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {subs.data.map((sub) => (
                  <WebhookRow
                    key={sub.id}
                    sub={sub}
                    open={open === sub.id}
                    onToggleDeliveries={() => setOpen(open === sub.id ? null : sub.id)}
                    onEdit={() => setEditing(sub)}
                    onSecret={setSecret}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </AdminSection>
      {selected && <Deliveries sub={selected} onClose={() => setOpen(null)} />}
      {editing && (
        <WebhookDialog
          sub={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(created) => {
            setEditing(null);
            setSecret(created);
          }}
        />
      )}
      {secret && <SecretDialog sub={secret} onClose={() => setSecret(null)} />}
    </div>
  );
}

function WebhookRow({
  sub,
  open,
  onToggleDeliveries,
  onEdit,
  onSecret,
}: {
  sub: Subscription;
  open: boolean;
  onToggleDeliveries: () => void;
  onEdit: () => void;
  onSecret: (sub: Schemas["SubscriptionWithSecret"]) => void;
}) {
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<"delete" | "rotate" | null>(null);
  const path = { params: { path: { subscription_id: sub.id } } };
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.list });
  const ping = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhooks/{subscription_id}/test", path)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "webhooks", sub.id] }),
  });
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhooks/{subscription_id}/rotate-secret", path)),
    onSuccess: (data) => {
      setConfirm(null);
      onSecret(data);
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/webhooks/{subscription_id}", path)),
    onSuccess: () => {
      setConfirm(null);
      void refresh();
    },
  });
  return (
    <tr data-testid="admin-webhook-row">
      <td className="admin-url">
        <strong>{sub.url}</strong>
        {sub.description && <div className="muted">{sub.description}</div>}
      </td>
      <td>{sub.event_types.join(", ")}</td>
      <td>
        {sub.enabled ? <span className="ok">On</span> : <span className="muted">Off</span>}
        {sub.disabled_reason && <div className="danger admin-small">{sub.disabled_reason}</div>}
        {sub.consecutive_failures > 0 && (
          <div className="warn admin-small">
            {sub.consecutive_failures} failure{sub.consecutive_failures > 1 ? "s" : ""} in a row
            {sub.failing_since && <> since {formatDateTime(sub.failing_since)}</>}
          </div>
        )}
      </td>
      <td>{formatDateTime(sub.created_at)}</td>
      <td>
        <div className="admin-row-actions">
          <button type="button" className="button" onClick={onToggleDeliveries} aria-expanded={open} aria-label={`Deliveries of ${sub.url}`}>
            Deliveries
          </button>
          <button type="button" className="button" onClick={() => ping.mutate()} disabled={ping.isPending} aria-label={`Send a test ping to ${sub.url}`}>
            Test ping
          </button>
          <button type="button" className="button" onClick={onEdit} aria-label={`Edit ${sub.url}`}>
            Edit
          </button>
          <button type="button" className="button" onClick={() => setConfirm("rotate")} aria-label={`Rotate the secret of ${sub.url}`}>
            Rotate secret
          </button>
          <button type="button" className="button button-danger" onClick={() => setConfirm("delete")} aria-label={`Delete ${sub.url}`}>
            Delete
          </button>
        </div>
        <Outcome
          ok={ping.isSuccess && "Ping queued: see its delivery."}
          error={ping.isError ? ping.error.message : null}
        />
        <ConfirmDialog
          open={confirm === "rotate"}
          onOpenChange={(o) => setConfirm(o ? "rotate" : null)}
          title="Rotate the signing secret?"
          confirmLabel="Rotate secret"
          onConfirm={() => rotate.mutate()}
          busy={rotate.isPending}
          error={rotate.isError ? rotate.error.message : null}
          danger={false}
        >
          <p>The old secret stops working at once: the receiver must switch to the new one, shown once.</p>
        </ConfirmDialog>
        <ConfirmDialog
          open={confirm === "delete"}
          onOpenChange={(o) => setConfirm(o ? "delete" : null)}
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          onConfirm={() => remove.mutate()}
          busy={remove.isPending}
          error={remove.isError ? remove.error.message : null}
        >
          <p>
            No more events go to <strong>{sub.url}</strong>.
          </p>
        </ConfirmDialog>
      </td>
    </tr>
  );
}

function WebhookDialog({
  sub,
  onClose,
  onCreated,
}: {
  sub: Subscription | null;
  onClose: () => void;
  onCreated: (sub: Schemas["SubscriptionWithSecret"]) => void;
}) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    url: sub?.url ?? "https://",
    description: sub?.description ?? "",
    event_types: (sub?.event_types ?? ["alert.created"]) as string[],
    enabled: sub?.enabled ?? true,
  });
  const save = useMutation({
    mutationFn: async () => {
      const event_types = form.event_types as EventType[];
      if (!sub) {
        return unwrap(
          await api.POST("/api/v1/webhooks", {
            body: { url: form.url.trim(), description: form.description.trim() || null, event_types },
          }),
        );
      }
      return unwrap(
        await api.PATCH("/api/v1/webhooks/{subscription_id}", {
          params: { path: { subscription_id: sub.id } },
          body: { url: form.url.trim(), description: form.description.trim() || null, event_types, enabled: form.enabled },
        }),
      );
    },
    onSuccess: async (data) => {
      await queryClient.invalidateQueries({ queryKey: keys.list });
      if (!sub) onCreated(data as Schemas["SubscriptionWithSecret"]);
      else onClose();
    },
  });
  const errors = save.isError ? formErrors(save.error) : NO_ERRORS;
  const urlId = useId();
  const descId = useId();
  const rest = unclaimed(errors, ["url", "description", "event_types", "enabled"]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={sub ? "Edit webhook" : "New webhook"}>
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-webhook-form">
        {(errors.general || rest.length > 0) && (
          <div className="form-error" role="alert">
            {errors.general && <p>{errors.general}</p>}
            {rest.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        )}
        <div className="admin-field">
          <label htmlFor={urlId}>URL (https)</label>
          <input
            id={urlId}
            type="url"
            value={form.url}
            onChange={(e) => setForm({ ...form, url: e.target.value })}
            {...invalidProps(`${urlId}-error`, messagesFor(errors, "url"))}
          />
          <FieldMessages id={`${urlId}-error`} messages={messagesFor(errors, "url")} />
        </div>
        <div className="admin-field">
          <label htmlFor={descId}>Description</label>
          <input
            id={descId}
            value={form.description}
            maxLength={300}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
            {...invalidProps(`${descId}-error`, messagesFor(errors, "description"))}
          />
          <FieldMessages id={`${descId}-error`} messages={messagesFor(errors, "description")} />
        </div>
        <CheckboxGroup
          legend="Events"
          options={EVENT_TYPES}
          value={form.event_types}
          onChange={(event_types) => setForm({ ...form, event_types })}
          messages={messagesFor(errors, "event_types")}
        />
        {sub && (
          <label className="ff-check">
            <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
            Enabled
          </label>
        )}
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : sub ? "Save webhook" : "Create webhook"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SecretDialog({ sub, onClose }: { sub: Schemas["SubscriptionWithSecret"]; onClose: () => void }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title="The signing secret" description="Copy it now: it is not shown again.">
      <div className="admin-field">
        <label htmlFor={id}>Secret for {sub.url}</label>
        <input id={id} readOnly value={sub.secret} onFocus={(e) => e.target.select()} data-testid="webhook-secret" className="admin-secret" />
      </div>
      <div className="row admin-dialog-actions">
        <button
          type="button"
          className="button"
          onClick={() => {
            void navigator.clipboard?.writeText(sub.secret).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}

function Deliveries({ sub, onClose }: { sub: Subscription; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState("");
  const statusId = useId();
  const deliveries = useQuery({
    queryKey: keys.deliveries(sub.id, status),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/webhooks/{subscription_id}/deliveries", {
          params: {
            path: { subscription_id: sub.id },
            query: { limit: 100, ...(status ? { status: status as "pending" | "sent" | "failed" } : {}) },
          },
        }),
      ),
    refetchInterval: 10_000,
  });
  const replay = useMutation({
    mutationFn: async (deliveryId: string) =>
      unwrap(
        await api.POST("/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/replay", {
          params: { path: { subscription_id: sub.id, delivery_id: deliveryId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "webhooks", sub.id] }),
  });
  return (
    <AdminSection
      title={`Deliveries to ${sub.url}`}
      testId="admin-webhook-deliveries"
      actions={
        <>
          <label htmlFor={statusId} className="admin-inline-label">
            Status
            <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All</option>
              <option value="pending">Pending</option>
              <option value="sent">Sent</option>
              <option value="failed">Failed</option>
            </select>
          </label>
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </>
      }
    >
      <Outcome ok={replay.isSuccess && "Replay queued as a new delivery."} error={replay.isError ? replay.error.message : null} />
      {deliveries.isPending ? (
        <Loading what="Loading deliveries" />
      ) : deliveries.isError ? (
        <ErrorState error={deliveries.error} retry={() => void deliveries.refetch()} />
      ) : deliveries.data.length === 0 ? (
        <Empty title="No deliveries.">Send a test ping to see one.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="admin-deliveries-table">
            <caption className="visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Response</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <time dateTime={d.created_at} title={formatDateTime(d.created_at)}>
                      {formatAgo(d.created_at)}
                    </time>
                    {d.replay_of && <div className="muted admin-small">replay</div>}
                  </td>
                  <td>{d.event_type ?? "—"}</td>
                  <td>
                    <span className={d.status === "sent" ? "ok" : d.status === "failed" ? "danger" : "warn"}>{d.status}</span>
                    {d.sent_at && <div className="muted admin-small">{formatDateTime(d.sent_at)}</div>}
                    {d.status === "pending" && <div className="muted admin-small">next try {formatDateTime(d.run_after)}</div>}
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.response_status ?? "—"}</td>
                  <td className="admin-error-cell">{d.last_error ?? <span className="muted">none</span>}</td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      onClick={() => replay.mutate(d.id)}
                      disabled={replay.isPending}
                      aria-label={`Replay the ${d.event_type ?? ""} delivery of ${formatDateTime(d.created_at)}`}
                    >
                      Replay
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminSection>
  );
}
