// CRM connections: each HubSpot or Salesforce account's state, last push and pull, the day's API calls against its
// budget, pushes waiting and open conflicts; add one (its credentials go to the API once and are never shown
// again), connect it, queue a sync or a reconcile (202: a task run), disconnect it, and list its open conflicts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { ConfirmDialog, FieldMessages, invalidProps, Modal } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, type FieldErrors, type FormErrors } from "@/lib/fieldErrors";
import { AdminSection, FormProblems, Outcome, TextField, When } from "./adminUi";

type Connection = Schemas["ConnectionRead"];
type ConnectionCreate = Schemas["ConnectionCreate"];
type Queued = Schemas["CrmRunQueued"];
type System = ConnectionCreate["system"];

const SYSTEMS: Record<System, string> = { hubspot: "HubSpot", salesforce: "Salesforce" };
const systemLabel = (system: string) => SYSTEMS[system as System] ?? system;
const STATUS_CLASS: Record<string, string> = { active: "ok", paused: "warn", error: "danger", disconnected: "muted" };
const STATUS_LABEL: Record<string, string> = {
  active: "Active",
  paused: "Paused",
  error: "Needs attention",
  disconnected: "Disconnected",
};
const DEFAULT_BUDGET = 10_000;
const MAX_BUDGET = 10_000_000;

const keys = {
  list: ["admin", "crm"] as const,
  conflicts: (id: string) => ["admin", "crm", id, "conflicts"] as const,
};

type Task = "connect" | "sync" | "reconcile";
const TASK_PATHS = {
  connect: "/api/v1/crm/connections/{connection_id}/connect",
  sync: "/api/v1/crm/connections/{connection_id}/sync",
  reconcile: "/api/v1/crm/connections/{connection_id}/reconcile",
} as const;
const TASK_LABEL: Record<Task, string> = { connect: "Connect", sync: "Sync", reconcile: "Reconcile" };

/** What a 202 says: the task is queued, with its run's id (to find it in the task runs). */
export function queuedText(task: Task, queued: Queued): string {
  return `${TASK_LABEL[task]} queued (task run ${queued.task_run_id}).`;
}

async function queue(task: Task, connectionId: string): Promise<Queued> {
  return unwrap(await api.POST(TASK_PATHS[task], { params: { path: { connection_id: connectionId } } }));
}

export function CrmSection() {
  const queryClient = useQueryClient();
  const connections = useQuery({
    queryKey: keys.list,
    queryFn: async () => unwrap(await api.GET("/api/v1/crm/connections")),
    refetchInterval: 30_000,
  });
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ ok?: string; error?: string } | null>(null);
  const selected = connections.data?.find((c) => c.id === open) ?? null;
  const connectNew = useMutation({
    mutationFn: async (created: Connection) => ({ created, queued: await queue("connect", created.id) }),
    onSuccess: ({ created, queued }) => {
      setNotice({ ok: `Connection ${created.name} added. ${queuedText("connect", queued)}` });
      void queryClient.invalidateQueries({ queryKey: keys.list });
    },
    onError: (error, created) =>
      setNotice({ error: `Connection ${created.name} added, but connecting it failed: ${error.message}` }),
  });
  return (
    <div className="stack">
      <AdminSection
        title="CRM connections"
        testId="admin-crm"
        intro="Signals go to your CRM as notes or tasks, and its owner and status changes come back. Connecting checks the credentials and creates Upswing's fields there; a sync pushes what is due and pulls changes; a reconcile re-sends whatever the CRM is missing."
        actions={
          <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
            Add connection
          </button>
        }
      >
        <Outcome ok={notice?.ok} error={notice?.error} />
        {connections.isPending ? (
          <Loading what="Loading CRM connections" />
        ) : connections.isError ? (
          <ErrorState error={connections.error} retry={() => void connections.refetch()} />
        ) : connections.data.length === 0 ? (
          <Empty title="No CRM connected yet.">Add a HubSpot or Salesforce account to send signals there.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table admin-crm" data-testid="admin-crm-table">
              <caption className="visually-hidden">CRM connections</caption>
              <thead>
                <tr>
                  <th scope="col">Connection</th>
                  <th scope="col">State</th>
                  <th scope="col">Last sync</th>
                  <th scope="col">Last error</th>
                  <th scope="col">API calls today</th>
                  <th scope="col">Pushes</th>
                  <th scope="col">Open conflicts</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {connections.data.map((connection) => (
                  <ConnectionRow
                    key={connection.id}
                    connection={connection}
                    open={open === connection.id}
                    onToggleConflicts={() => setOpen(open === connection.id ? null : connection.id)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </AdminSection>
      {selected && <Conflicts connection={selected} onClose={() => setOpen(null)} />}
      {adding && (
        <AddConnectionDialog
          onClose={() => setAdding(false)}
          onCreated={(created, connectNow) => {
            setAdding(false);
            if (connectNow) connectNew.mutate(created);
            else setNotice({ ok: `Connection ${created.name} added. Connect it to check the credentials.` });
          }}
        />
      )}
    </div>
  );
}

function ConnectionRow({
  connection,
  open,
  onToggleConflicts,
}: {
  connection: Connection;
  open: boolean;
  onToggleConflicts: () => void;
}) {
  const queryClient = useQueryClient();
  const [note, setNote] = useState<{ ok?: string; error?: string } | null>(null);
  const [confirm, setConfirm] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.list });
  const run = useMutation({
    mutationFn: async (task: Task) => ({ task, queued: await queue(task, connection.id) }),
    onSuccess: ({ task, queued }) => {
      setNote({ ok: queuedText(task, queued) });
      void refresh();
    },
    onError: (error, task) => setNote({ error: `${TASK_LABEL[task]} failed: ${error.message}` }),
  });
  const disconnect = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/crm/connections/{connection_id}/disconnect", {
          params: { path: { connection_id: connection.id } },
        }),
      ),
    onSuccess: () => {
      setConfirm(false);
      setNote({ ok: "Disconnected: nothing more is sent until it is connected again." });
      void refresh();
    },
  });
  const off = connection.status === "disconnected";
  const busy = run.isPending || disconnect.isPending;
  const pending = connection.pushes.pending ?? 0;
  const failed = connection.pushes.failed ?? 0;
  const sent = connection.pushes.sent ?? 0;
  const name = connection.name;
  return (
    <tr data-testid="admin-crm-row" data-name={name}>
      <td>
        <strong>{name}</strong>
        <div className="muted">{systemLabel(connection.system)}</div>
      </td>
      <td>
        <span className={STATUS_CLASS[connection.status] ?? ""}>{STATUS_LABEL[connection.status] ?? connection.status}</span>
        {connection.paused_until && (
          <div className="muted admin-small">
            until <time dateTime={connection.paused_until}>{formatDateTime(connection.paused_until)}</time>
          </div>
        )}
      </td>
      <td>
        <ul className="admin-stats">
          <li>
            pushed <When at={connection.last_push_at} />
          </li>
          <li>
            pulled <When at={connection.last_pull_at} />
          </li>
        </ul>
      </td>
      <td className="admin-error-cell">
        {connection.last_error ? <span className="danger">{connection.last_error}</span> : <span className="muted">none</span>}
      </td>
      <td>
        <CallsMeter used={connection.calls_today} budget={connection.daily_budget} name={name} />
      </td>
      <td>
        <ul className="admin-stats">
          <li>{pending} waiting</li>
          {failed > 0 && <li className="danger">{failed} failed</li>}
          <li className="muted">{sent} sent</li>
        </ul>
      </td>
      <td>
        {connection.open_conflicts > 0 ? (
          <span className="warn">{connection.open_conflicts}</span>
        ) : (
          <span className="muted">0</span>
        )}
      </td>
      <td>
        <div className="admin-row-actions">
          <button type="button" className="button" disabled={busy || off} onClick={() => run.mutate("sync")} aria-label={`Sync ${name} now`}>
            Sync now
          </button>
          <button type="button" className="button" disabled={busy || off} onClick={() => run.mutate("reconcile")} aria-label={`Reconcile ${name}`}>
            Reconcile
          </button>
          <button type="button" className="button" onClick={onToggleConflicts} aria-expanded={open} aria-label={`Conflicts of ${name}`}>
            Conflicts
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => run.mutate("connect")} aria-label={`${off ? "Reconnect" : "Connect"} ${name}`}>
            {off ? "Reconnect" : "Connect"}
          </button>
          {!off && (
            <button type="button" className="button button-danger" disabled={busy} onClick={() => setConfirm(true)} aria-label={`Disconnect ${name}`}>
              Disconnect
            </button>
          )}
        </div>
        <Outcome ok={note?.ok} error={note?.error} />
        <ConfirmDialog
          open={confirm}
          onOpenChange={setConfirm}
          title={`Disconnect ${name}?`}
          confirmLabel="Disconnect"
          onConfirm={() => disconnect.mutate()}
          busy={disconnect.isPending}
          error={disconnect.isError ? disconnect.error.message : null}
        >
          <p>
            Nothing more goes to {systemLabel(connection.system)} and its changes are no longer applied. Signals waiting to
            be pushed stay queued and go out if you connect it again.
          </p>
        </ConfirmDialog>
      </td>
    </tr>
  );
}

function CallsMeter({ used, budget, name }: { used: number; budget: number; name: string }) {
  const share = budget > 0 ? Math.min(1, used / budget) : 1;
  return (
    <span className="admin-budget">
      {used.toLocaleString()} / {budget.toLocaleString()}
      <meter min={0} max={budget} value={Math.min(used, budget)} low={budget * 0.7} high={budget * 0.9} optimum={0} aria-label={`API calls of ${name} used today`}>
        {Math.round(share * 100)}%
      </meter>
    </span>
  );
}

function Conflicts({ connection, onClose }: { connection: Connection; onClose: () => void }) {
  const conflicts = useQuery({
    queryKey: keys.conflicts(connection.id),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/crm/connections/{connection_id}/conflicts", {
          params: { path: { connection_id: connection.id } },
        }),
      ),
  });
  const crm = systemLabel(connection.system);
  return (
    <AdminSection
      title={`Open conflicts on ${connection.name}`}
      testId="admin-crm-conflicts"
      intro={`A shared field changed in Upswing and in ${crm} between two syncs: the later change was kept. Newest first.`}
      actions={
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      }
    >
      {conflicts.isPending ? (
        <Loading what="Loading conflicts" />
      ) : conflicts.isError ? (
        <ErrorState error={conflicts.error} retry={() => void conflicts.refetch()} />
      ) : conflicts.data.length === 0 ? (
        <Empty title="No open conflicts." />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="admin-crm-conflicts-table">
            <caption className="visually-hidden">Open conflicts on {connection.name}</caption>
            <thead>
              <tr>
                <th scope="col">Found</th>
                <th scope="col">Lead</th>
                <th scope="col">Field</th>
                <th scope="col">Upswing value</th>
                <th scope="col">{crm} value</th>
                <th scope="col">Kept</th>
              </tr>
            </thead>
            <tbody>
              {conflicts.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    <When at={c.created_at} />
                  </td>
                  <td>
                    <Link to={`/leads/${c.lead_id}`}>Open lead</Link>
                  </td>
                  <td>{c.field}</td>
                  <td className="admin-value">
                    {c.upswing_value ?? <span className="muted">empty</span>}
                    <div className="muted admin-small">
                      changed <When at={c.upswing_changed_at} never="—" />
                    </div>
                  </td>
                  <td className="admin-value">
                    {c.crm_value ?? <span className="muted">empty</span>}
                    <div className="muted admin-small">
                      changed <When at={c.crm_changed_at} never="—" />
                    </div>
                  </td>
                  <td>{c.winner === "crm" ? `${crm}'s value` : c.winner === "upswing" ? "Upswing's value" : c.winner}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminSection>
  );
}

// ------------------------------------------------------------------------------------------------------------
// Adding a connection
// ------------------------------------------------------------------------------------------------------------

export interface CrmForm {
  system: System;
  name: string;
  daily_budget: string;
  /** HubSpot: a private-app token, or an OAuth app (client id, client secret, refresh token). */
  hubspot_auth: "token" | "oauth";
  base_url: string;
  access_token: string;
  app_id: string;
  /** Salesforce: client credentials, or a JWT bearer signed with a private key. */
  salesforce_auth: "client_credentials" | "jwt_bearer";
  login_url: string;
  username: string;
  private_key: string;
  client_id: string;
  client_secret: string;
  refresh_token: string;
}

export const EMPTY_CRM_FORM: CrmForm = {
  system: "hubspot",
  name: "",
  daily_budget: String(DEFAULT_BUDGET),
  hubspot_auth: "token",
  base_url: "",
  access_token: "",
  app_id: "",
  salesforce_auth: "client_credentials",
  login_url: "",
  username: "",
  private_key: "",
  client_id: "",
  client_secret: "",
  refresh_token: "",
};

const CREDENTIALS: (keyof CrmForm)[] = ["access_token", "client_id", "client_secret", "refresh_token", "username", "private_key"];

/**
 * A PEM key typed into a password field comes without its line breaks (an input drops them): put them back, so
 * the header, the base64 body in 64-character lines and the footer are what a PEM reader expects.
 */
export function normalizePem(value: string): string {
  const text = value.trim();
  const match = /^(-----BEGIN [A-Z0-9 ]+-----)([\s\S]*?)(-----END [A-Z0-9 ]+-----)$/.exec(text);
  if (!match) return text;
  const body = (match[2] ?? "").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/=]+$/.test(body)) return text; // headers (an encrypted key): keep what was typed
  return [match[1], ...(body.match(/.{1,64}/g) ?? []), match[3]].join("\n") + "\n";
}

/**
 * The request body for the form, or the fields it still misses (keyed as the API names them: "name",
 * "config.access_token"): only the chosen system's settings go, empty optional ones are left out.
 */
export function crmCreateBody(form: CrmForm): { body: ConnectionCreate; missing: FieldErrors } {
  const missing: FieldErrors = {};
  const config: Record<string, string> = {};
  const put = (key: keyof CrmForm, required: boolean, value = form[key].trim()) => {
    if (value) config[key] = value;
    else if (required) missing[`config.${key}`] = ["Required"];
  };
  if (form.system === "hubspot") {
    put("base_url", false);
    if (form.hubspot_auth === "token") {
      put("access_token", true);
      put("client_secret", false);
    } else {
      put("client_id", true);
      put("client_secret", true);
      put("refresh_token", true);
    }
    put("app_id", false);
  } else {
    config.auth = form.salesforce_auth;
    put("login_url", form.salesforce_auth === "client_credentials");
    put("client_id", true);
    if (form.salesforce_auth === "client_credentials") {
      put("client_secret", true);
    } else {
      put("username", true);
      put("private_key", true, form.private_key.trim() ? normalizePem(form.private_key) : "");
    }
  }
  const name = form.name.trim();
  if (!name) missing.name = ["Required"];
  const budget = Number(form.daily_budget);
  if (!Number.isInteger(budget) || budget < 1 || budget > MAX_BUDGET) {
    missing.daily_budget = [`A whole number from 1 to ${MAX_BUDGET.toLocaleString("en-US")}`];
  }
  return { body: { system: form.system, name, daily_budget: budget, config }, missing };
}

const KNOWN_FIELDS = [
  "system",
  "name",
  "daily_budget",
  "config",
  ...["base_url", "access_token", "app_id", "login_url", "username", "private_key", "client_id", "client_secret", "refresh_token", "auth"].map(
    (key) => `config.${key}`,
  ),
];

function AddConnectionDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (created: Connection, connectNow: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<CrmForm>(EMPTY_CRM_FORM);
  const [connectNow, setConnectNow] = useState(true);
  const [missing, setMissing] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: async (body: ConnectionCreate) => unwrap(await api.POST("/api/v1/crm/connections", { body })),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.list });
      onCreated(created, connectNow);
    },
  });
  const errors: FormErrors =
    Object.keys(missing).length > 0 ? { fields: missing, general: null } : create.isError ? formErrors(create.error) : NO_ERRORS;
  const set = (patch: Partial<CrmForm>) => setForm((f) => ({ ...f, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { body, missing: gaps } = crmCreateBody(form);
    setMissing(gaps);
    if (Object.keys(gaps).length === 0) create.mutate(body);
  };
  const field = (key: keyof CrmForm, label: string, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
    <TextField
      label={label}
      name={key === "name" || key === "daily_budget" ? key : `config.${key}`}
      errors={errors}
      value={form[key] as string}
      onChange={(value) => set({ [key]: value } as Partial<CrmForm>)}
      {...extra}
    />
  );
  const secret = { type: "password", autoComplete: "new-password" } as const;
  const configMessages = messagesFor(errors, "config");
  const configErrorId = useId();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title="Add a CRM connection" wide>
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-crm-form">
        <FormProblems errors={errors} known={KNOWN_FIELDS} />
        <div className="grid-2">
          <SystemSelect
            value={form.system}
            errors={errors}
            // Credentials of one system mean nothing to the other: switching clears them.
            onChange={(system) => set({ system, ...Object.fromEntries(CREDENTIALS.map((k) => [k, ""])) })}
          />
          {field("name", "Name", { required: true, autoComplete: "off", hint: "How it is listed here, e.g. “HubSpot – collections”." })}
          {field("daily_budget", "API calls allowed per day (UTC)", { type: "number", inputMode: "numeric", min: 1, max: MAX_BUDGET })}
        </div>
        <fieldset className="ff-group stack" aria-describedby={configMessages.length ? configErrorId : undefined}>
          <legend>{SYSTEMS[form.system]} credentials (stored encrypted, never shown again)</legend>
          {form.system === "hubspot" ? (
            <>
              <AuthChoice
                name="hubspot-auth"
                value={form.hubspot_auth}
                onChange={(hubspot_auth) => set({ hubspot_auth })}
                options={[
                  ["token", "Private app access token"],
                  ["oauth", "OAuth app (client id, secret and refresh token)"],
                ]}
              />
              <div className="grid-2">
                {form.hubspot_auth === "token" ? (
                  <>
                    {field("access_token", "Access token", { ...secret, required: true })}
                    {field("client_secret", "App client secret (optional)", { ...secret, hint: "Verifies HubSpot's webhooks." })}
                  </>
                ) : (
                  <>
                    {field("client_id", "Client id", { required: true, autoComplete: "off" })}
                    {field("client_secret", "Client secret", { ...secret, required: true, hint: "Also verifies HubSpot's webhooks." })}
                    {field("refresh_token", "Refresh token", { ...secret, required: true })}
                  </>
                )}
                {field("base_url", "API address (optional)", { type: "url", placeholder: "https://api.hubapi.com" })}
                {field("app_id", "App id (optional)", { autoComplete: "off", hint: "Tells Upswing's own changes apart in webhooks." })}
              </div>
            </>
          ) : (
            <>
              <AuthChoice
                name="salesforce-auth"
                value={form.salesforce_auth}
                onChange={(salesforce_auth) => set({ salesforce_auth })}
                options={[
                  ["client_credentials", "Client credentials (client id and secret)"],
                  ["jwt_bearer", "JWT bearer (consumer key, user and private key)"],
                ]}
              />
              <div className="grid-2">
                {field("login_url", form.salesforce_auth === "client_credentials" ? "My Domain address" : "Login address (optional)", {
                  type: "url",
                  required: form.salesforce_auth === "client_credentials",
                  placeholder: form.salesforce_auth === "client_credentials" ? "https://acme.my.salesforce.com" : "https://login.salesforce.com",
                })}
                {field("client_id", form.salesforce_auth === "client_credentials" ? "Client id" : "Consumer key", { required: true, autoComplete: "off" })}
                {form.salesforce_auth === "client_credentials" ? (
                  field("client_secret", "Client secret", { ...secret, required: true })
                ) : (
                  <>
                    {field("username", "Integration user's username", { required: true, autoComplete: "off" })}
                    {field("private_key", "Private key (PEM)", { ...secret, required: true, hint: "Paste the whole key, BEGIN and END lines included." })}
                  </>
                )}
              </div>
            </>
          )}
          <FieldMessages id={configErrorId} messages={configMessages} />
        </fieldset>
        <label className="ff-check">
          <input type="checkbox" checked={connectNow} onChange={(e) => setConnectNow(e.target.checked)} />
          Connect now (checks the credentials and creates Upswing's fields in the CRM)
        </label>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add connection"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SystemSelect({ value, errors, onChange }: { value: System; errors: FormErrors; onChange: (system: System) => void }) {
  const messages = messagesFor(errors, "system");
  const id = useId();
  return (
    <div className="admin-field">
      <label htmlFor={id}>CRM</label>
      <select id={id} name="system" value={value} onChange={(e) => onChange(e.target.value as System)} {...invalidProps(`${id}-error`, messages)}>
        {(Object.keys(SYSTEMS) as System[]).map((system) => (
          <option key={system} value={system}>
            {SYSTEMS[system]}
          </option>
        ))}
      </select>
      <FieldMessages id={`${id}-error`} messages={messages} />
    </div>
  );
}

function AuthChoice<T extends string>({
  name,
  value,
  onChange,
  options,
}: {
  name: string;
  value: T;
  onChange: (value: T) => void;
  options: [T, string][];
}) {
  return (
    <fieldset className="ff-group">
      <legend>Sign-in</legend>
      <div className="ff-checks">
        {options.map(([option, label]) => (
          <label key={option} className="ff-check">
            <input type="radio" name={name} value={option} checked={value === option} onChange={() => onChange(option)} />
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
