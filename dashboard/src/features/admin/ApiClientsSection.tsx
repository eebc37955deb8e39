// API clients: the machine clients of the API (OAuth 2.0 client credentials). Register one with its scopes and the
// addresses it may call from, signing in with a secret (shown once, at creation or rotation) or with signed
// assertions (private_key_jwt, a public key or JWK set); edit, switch off or on, rotate the secret, revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { CheckboxGroup, ConfirmDialog, Modal } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate, formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS } from "@/lib/fieldErrors";
import { AdminSection, CopyField, FormProblems, Outcome, TextField } from "./adminUi";

type Client = Schemas["ApiClientRead"];
type ClientSecret = Schemas["ApiClientSecret"];
type Scope = Schemas["ApiClientCreate"]["scopes"][number];
type AuthMethod = Client["auth_method"];

/** Every scope the API grants (a Record, so a scope added to the schema fails the type check until it is here). */
const SCOPE_LABELS: Record<Scope, string> = {
  "leads:read": "Read leads",
  "leads:write": "Write leads",
  "signals:read": "Read signals",
  "signals:write": "Write signals",
  "outcomes:write": "Record outcomes",
  "webhooks:manage": "Manage webhooks",
};
const SCOPES = Object.keys(SCOPE_LABELS) as Scope[];
const SCOPE_OPTIONS = SCOPES.map((scope) => ({ value: scope, label: `${SCOPE_LABELS[scope]} (${scope})` }));
const AUTH_LABEL: Record<AuthMethod, string> = { client_secret: "Client secret", private_key_jwt: "Private key JWT" };

const key = ["admin", "api-clients"] as const;

/** "10.0.0.0/8, 192.0.2.7" or one per line → ["10.0.0.0/8", "192.0.2.7"]. */
export function parseAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

export function ApiClientsSection() {
  const clients = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET("/api/v1/api-clients")) });
  const [editing, setEditing] = useState<Client | "new" | null>(null);
  const [secret, setSecret] = useState<{ client: ClientSecret; rotated: boolean } | null>(null);
  return (
    <div className="stack">
      <AdminSection
        title="API clients"
        testId="admin-api-clients"
        intro="Systems that call the Upswing API on their own (a lending system, a data warehouse) get a client id and sign in with a secret or a key. Scopes limit what each may do; allowed addresses limit where it may call from."
        actions={
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New API client
          </button>
        }
      >
        {clients.isPending ? (
          <Loading what="Loading API clients" />
        ) : clients.isError ? (
          <ErrorState error={clients.error} retry={() => void clients.refetch()} />
        ) : clients.data.length === 0 ? (
          <Empty title="No API clients yet.">Add one to let another system read leads or record outcomes.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table admin-clients" data-testid="admin-api-clients-table">
              <caption className="visually-hidden">API clients</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Client id</th>
                  <th scope="col">Sign-in</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Allowed addresses</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {clients.data.map((client) => (
                  <ClientRow
                    key={client.id}
                    client={client}
                    onEdit={() => setEditing(client)}
                    onSecret={(rotated) => setSecret({ client: rotated, rotated: true })}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </AdminSection>
      {editing && (
        <ClientDialog
          key={editing === "new" ? "new" : editing.id}
          client={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(created) => {
            setEditing(null);
            setSecret({ client: created, rotated: false });
          }}
        />
      )}
      {secret && <SecretDialog client={secret.client} rotated={secret.rotated} onClose={() => setSecret(null)} />}
    </div>
  );
}

function ClientRow({
  client,
  onEdit,
  onSecret,
}: {
  client: Client;
  onEdit: () => void;
  onSecret: (client: ClientSecret) => void;
}) {
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<"delete" | "rotate" | null>(null);
  const path = { params: { path: { client_id: client.id } } };
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });
  const toggle = useMutation({
    mutationFn: async (is_active: boolean) =>
      unwrap(await api.PATCH("/api/v1/api-clients/{client_id}", { ...path, body: { is_active } })),
    onSuccess: () => void refresh(),
  });
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/api-clients/{client_id}/rotate-secret", path)),
    onSuccess: (data) => {
      setConfirm(null);
      onSecret(data);
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/api-clients/{client_id}", path)),
    onSuccess: () => {
      setConfirm(null);
      void refresh();
    },
  });
  const busy = toggle.isPending || rotate.isPending || remove.isPending;
  const name = client.name;
  return (
    <tr data-testid="admin-api-client-row" data-name={name}>
      <td>
        <strong>{name}</strong>
        <div className="muted admin-small">by {client.created_by}</div>
      </td>
      <td className="admin-id admin-client-id">{client.id}</td>
      <td>{AUTH_LABEL[client.auth_method] ?? client.auth_method}</td>
      <td>
        <ul className="admin-list" aria-label={`Scopes of ${name}`}>
          {client.scopes.map((scope) => (
            <li key={scope} className="chip" title={SCOPE_LABELS[scope as Scope]}>
              {scope}
            </li>
          ))}
        </ul>
      </td>
      <td>
        {client.allowed_ips.length === 0 ? (
          <span className="muted">any</span>
        ) : (
          <ul className="admin-list" aria-label={`Allowed addresses of ${name}`}>
            {client.allowed_ips.map((ip) => (
              <li key={ip} className="chip admin-id">
                {ip}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>{client.is_active ? <span className="ok">On</span> : <span className="muted">Off</span>}</td>
      <td>
        <time dateTime={client.created_at} title={formatDateTime(client.created_at)}>
          {formatDate(client.created_at)}
        </time>
      </td>
      <td>
        <div className="admin-row-actions">
          <button type="button" className="button" onClick={onEdit} aria-label={`Edit ${name}`}>
            Edit
          </button>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => toggle.mutate(!client.is_active)}
            aria-label={`${client.is_active ? "Disable" : "Enable"} ${name}`}
          >
            {client.is_active ? "Disable" : "Enable"}
          </button>
          {client.auth_method === "client_secret" && (
            <button type="button" className="button" disabled={busy} onClick={() => setConfirm("rotate")} aria-label={`Rotate the secret of ${name}`}>
              Rotate secret
            </button>
          )}
          <button type="button" className="button button-danger" disabled={busy} onClick={() => setConfirm("delete")} aria-label={`Revoke ${name}`}>
            Revoke
          </button>
        </div>
        <Outcome
          ok={toggle.isSuccess && (toggle.data.is_active ? "Enabled." : "Disabled: its tokens stop working.")}
          error={toggle.isError ? toggle.error.message : null}
        />
        <ConfirmDialog
          open={confirm === "rotate"}
          onOpenChange={(o) => setConfirm(o ? "rotate" : null)}
          title={`Rotate the secret of ${name}?`}
          confirmLabel="Rotate secret"
          onConfirm={() => rotate.mutate()}
          busy={rotate.isPending}
          error={rotate.isError ? rotate.error.message : null}
          danger={false}
        >
          <p>The old secret and every token issued with it stop working at once: the client must switch to the new one, shown once.</p>
        </ConfirmDialog>
        <ConfirmDialog
          open={confirm === "delete"}
          onOpenChange={(o) => setConfirm(o ? "delete" : null)}
          title={`Revoke ${name}?`}
          confirmLabel="Revoke client"
          onConfirm={() => remove.mutate()}
          busy={remove.isPending}
          error={remove.isError ? remove.error.message : null}
        >
          <p>
            <strong>{name}</strong> and its tokens stop working for good. To pause it instead, disable it.
          </p>
        </ConfirmDialog>
      </td>
    </tr>
  );
}

const KNOWN_FIELDS = ["name", "scopes", "allowed_ips", "public_key", "is_active"];

function ClientDialog({
  client,
  onClose,
  onCreated,
}: {
  client: Client | null;
  onClose: () => void;
  onCreated: (client: ClientSecret) => void;
}) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    name: client?.name ?? "",
    scopes: (client?.scopes ?? []) as string[],
    allowed_ips: (client?.allowed_ips ?? []).join("\n"),
    auth_method: (client?.auth_method ?? "client_secret") as AuthMethod,
    public_key: "",
  });
  const save = useMutation({
    mutationFn: async () => {
      const scopes = form.scopes as Scope[];
      const allowed_ips = parseAddresses(form.allowed_ips);
      const public_key = form.public_key.trim();
      if (!client) {
        return unwrap(
          await api.POST("/api/v1/api-clients", {
            body: {
              name: form.name.trim(),
              scopes,
              allowed_ips,
              ...(form.auth_method === "private_key_jwt" ? { public_key: public_key || null } : {}),
            },
          }),
        );
      }
      const body: Schemas["ApiClientUpdate"] = {};
      if (form.name.trim() !== client.name) body.name = form.name.trim();
      if (!sameSet(scopes, client.scopes)) body.scopes = scopes;
      if (!sameSet(allowed_ips, client.allowed_ips)) body.allowed_ips = allowed_ips;
      if (client.auth_method === "private_key_jwt" && public_key) body.public_key = public_key;
      return unwrap(await api.PATCH("/api/v1/api-clients/{client_id}", { params: { path: { client_id: client.id } }, body }));
    },
    onSuccess: async (data) => {
      await queryClient.invalidateQueries({ queryKey: key });
      if (!client) onCreated(data as ClientSecret);
      else onClose();
    },
  });
  const errors = save.isError ? formErrors(save.error) : NO_ERRORS;
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  const authName = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const jwt = form.auth_method === "private_key_jwt";
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={client ? `Edit ${client.name}` : "New API client"} wide>
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-api-client-form">
        <FormProblems errors={errors} known={KNOWN_FIELDS} />
        <TextField label="Name" name="name" errors={errors} value={form.name} onChange={(name) => set({ name })} required autoComplete="off" />
        <CheckboxGroup
          legend="Scopes (what it may do)"
          options={SCOPE_OPTIONS}
          value={form.scopes}
          onChange={(scopes) => set({ scopes })}
          messages={messagesFor(errors, "scopes")}
        />
        <TextField
          label="Allowed addresses"
          name="allowed_ips"
          errors={errors}
          value={form.allowed_ips}
          onChange={(allowed_ips) => set({ allowed_ips })}
          multiline
          placeholder={"203.0.113.10\n10.20.0.0/16"}
          hint="IP addresses or CIDR networks, separated by commas or new lines. Empty: any address."
        />
        {!client ? (
          <fieldset className="ff-group stack">
            <legend>Sign-in</legend>
            <div className="ff-checks">
              {(Object.keys(AUTH_LABEL) as AuthMethod[]).map((method) => (
                <label key={method} className="ff-check">
                  <input type="radio" name={authName} value={method} checked={form.auth_method === method} onChange={() => set({ auth_method: method })} />
                  {method === "client_secret" ? "Client secret (shown once)" : "Private key JWT (the client keeps its private key)"}
                </label>
              ))}
            </div>
            {jwt && (
              <TextField
                label="Public key"
                name="public_key"
                errors={errors}
                value={form.public_key}
                onChange={(public_key) => set({ public_key })}
                multiline
                required
                hint="A PEM public key, or a JWK or JWK set as JSON (RSA or P-256)."
              />
            )}
          </fieldset>
        ) : (
          client.auth_method === "private_key_jwt" && (
            <TextField
              label="New public key (leave empty to keep)"
              name="public_key"
              errors={errors}
              value={form.public_key}
              onChange={(public_key) => set({ public_key })}
              multiline
              hint="A PEM public key, or a JWK or JWK set as JSON (RSA or P-256)."
            />
          )
        )}
        {client && !sameSet(form.scopes, client.scopes) && <p className="warn">New scopes apply to the tokens it asks for from now on.</p>}
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : client ? "Save client" : "Create client"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SecretDialog({ client, rotated, onClose }: { client: ClientSecret; rotated: boolean; onClose: () => void }) {
  const hasSecret = client.client_secret !== null;
  return (
    <Modal
      open
      onOpenChange={(o) => !o && onClose()}
      title={rotated ? `New secret for ${client.name}` : `${client.name} is ready`}
      description={
        hasSecret
          ? "Copy the client id and the secret now, and keep the secret somewhere safe."
          : "This client signs its assertions with its private key: there is no secret. Give it its client id."
      }
    >
      <div className="stack" data-testid="api-client-credentials">
        <CopyField label="Client id" value={client.id} testId="api-client-id" />
        {client.client_secret !== null && <CopyField label="Client secret" value={client.client_secret} testId="api-client-secret" />}
        {hasSecret && (
          <p className="warn admin-once" role="note">
            The secret will not be shown again: if it is lost, rotate it for a new one.
          </p>
        )}
      </div>
      <div className="row admin-dialog-actions">
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
