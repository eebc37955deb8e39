// Users and teams: who may sign in, with which role and team; new users and teams; unlock after failed sign-ins.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { useUser } from "@/auth/AuthProvider";
import { FieldMessages, invalidProps, Modal } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDate } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import { AdminSection, Outcome } from "./adminUi";

type User = Schemas["UserRead"];
type Role = Schemas["Role"];

const ROLES: { value: Role; label: string }[] = [
  { value: "admin", label: "Admin" },
  { value: "manager", label: "Manager" },
  { value: "agent", label: "Agent" },
  { value: "viewer", label: "Viewer" },
];
const roleLabel = (role: string) => ROLES.find((r) => r.value === role)?.label ?? role;

const keys = { users: ["admin", "users"] as const, teams: ["teams"] as const };

export function UsersSection() {
  const users = useQuery({ queryKey: keys.users, queryFn: async () => unwrap(await api.GET("/api/v1/users")) });
  const teams = useQuery({ queryKey: keys.teams, queryFn: async () => unwrap(await api.GET("/api/v1/teams")) });
  const [editing, setEditing] = useState<User | null>(null);
  const [creating, setCreating] = useState(false);
  const teamName = (id: string | null) => (id ? (teams.data?.find((t) => t.id === id)?.name ?? "—") : "—");

  return (
    <div className="stack">
      <AdminSection
        title="Users"
        intro="Roles decide what each person may see and do; the API enforces them on every call."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New user
          </button>
        }
      >
        {users.isPending ? (
          <Loading what="Loading users" />
        ) : users.isError ? (
          <ErrorState error={users.error} retry={() => void users.refetch()} />
        ) : users.data.length === 0 ? (
          <Empty title="No users." />
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="admin-users-table">
              <caption className="visually-hidden">Users</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Team</th>
                  <th scope="col">Status</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((user) => (
                  <tr key={user.id} data-testid="admin-user-row" data-username={user.username}>
                    <td>
                      <strong>{user.username}</strong>
                      {user.full_name && <div className="muted">{user.full_name}</div>}
                    </td>
                    <td>{user.email ?? <span className="muted">none</span>}</td>
                    <td>{roleLabel(user.role)}</td>
                    <td>{teamName(user.team_id)}</td>
                    <td>{user.is_active ? <span className="ok">Active</span> : <span className="muted">Inactive</span>}</td>
                    <td>{formatDate(user.created_at)}</td>
                    <td>
                      <button
                        type="button"
                        className="button"
                        onClick={() => setEditing(user)}
                        aria-label={`Edit ${user.username}`}
                      >
                        Edit
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </AdminSection>
      <TeamsPanel teams={teams.data} users={users.data} pending={teams.isPending} error={teams.error} />
      {creating && <NewUserDialog teams={teams.data ?? []} onClose={() => setCreating(false)} />}
      {editing && (
        <EditUserDialog
          key={editing.id}
          user={editing}
          teamName={teamName(editing.team_id)}
          teams={teams.data ?? []}
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  );
}

function TextInput({
  label,
  name,
  errors,
  type = "text",
  value,
  onChange,
  required,
  autoComplete,
}: {
  label: string;
  name: string;
  errors: FormErrors;
  type?: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  autoComplete?: string;
}) {
  const id = useId();
  const messages = messagesFor(errors, name);
  return (
    <div className="admin-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        value={value}
        required={required}
        autoComplete={autoComplete}
        onChange={(e) => onChange(e.target.value)}
        {...invalidProps(`${id}-error`, messages)}
      />
      <FieldMessages id={`${id}-error`} messages={messages} />
    </div>
  );
}

function SelectInput({
  label,
  name,
  errors,
  value,
  onChange,
  options,
}: {
  label: string;
  name: string;
  errors: FormErrors;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
}) {
  const id = useId();
  const messages = messagesFor(errors, name);
  return (
    <div className="admin-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} value={value} onChange={(e) => onChange(e.target.value)} {...invalidProps(`${id}-error`, messages)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldMessages id={`${id}-error`} messages={messages} />
    </div>
  );
}

function FormProblems({ errors, known }: { errors: FormErrors; known: string[] }) {
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

function NewUserDialog({ teams, onClose }: { teams: Schemas["TeamRead"][]; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ username: "", full_name: "", email: "", password: "", role: "agent" as Role, team: "" });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/users", {
          body: {
            username: form.username.trim(),
            password: form.password,
            role: form.role,
            full_name: form.full_name.trim() || null,
            email: form.email.trim() || null,
            team: form.team || null,
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.users });
      onClose();
    },
  });
  const errors = create.isError ? formErrors(create.error) : NO_ERRORS;
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Modal open onOpenChange={(open) => !open && onClose()} title="New user">
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-new-user-form">
        <FormProblems errors={errors} known={["username", "password", "role", "full_name", "email", "team"]} />
        <div className="grid-2">
          <TextInput label="Username" name="username" errors={errors} value={form.username} onChange={(username) => set({ username })} required autoComplete="off" />
          <TextInput label="Full name" name="full_name" errors={errors} value={form.full_name} onChange={(full_name) => set({ full_name })} />
          <TextInput label="E-mail" name="email" type="email" errors={errors} value={form.email} onChange={(email) => set({ email })} />
          <TextInput
            label="Password (8 characters or more)"
            name="password"
            type="password"
            errors={errors}
            value={form.password}
            onChange={(password) => set({ password })}
            required
            autoComplete="new-password"
          />
          <SelectInput label="Role" name="role" errors={errors} value={form.role} onChange={(role) => set({ role: role as Role })} options={ROLES} />
          <SelectInput
            label="Team"
            name="team"
            errors={errors}
            value={form.team}
            onChange={(team) => set({ team })}
            options={[{ value: "", label: "No team" }, ...teams.map((t) => ({ value: t.name, label: t.name }))]}
          />
        </div>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create user"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function EditUserDialog({
  user,
  teamName,
  teams,
  onClose,
}: {
  user: User;
  teamName: string;
  teams: Schemas["TeamRead"][];
  onClose: () => void;
}) {
  const me = useUser();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    role: user.role,
    team: user.team_id ? teamName : "",
    is_active: user.is_active,
    email: user.email ?? "",
    password: "",
  });
  const save = useMutation({
    mutationFn: async () => {
      const body: Schemas["UserUpdate"] = {};
      if (form.role !== user.role) body.role = form.role;
      if (form.team && form.team !== teamName) body.team = form.team;
      if (form.is_active !== user.is_active) body.is_active = form.is_active;
      if (form.email.trim() !== (user.email ?? "")) body.email = form.email.trim() || null;
      if (form.password) body.password = form.password;
      return unwrap(await api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } }, body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.users });
      onClose();
    },
  });
  const unlock = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/users/{user_id}/unlock", { params: { path: { user_id: user.id } } })),
  });
  const errors = save.isError ? formErrors(save.error) : NO_ERRORS;
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  const activeId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const self = me.id === user.id;
  return (
    <Modal open onOpenChange={(open) => !open && onClose()} title={`Edit ${user.username}`} description={user.full_name ?? undefined}>
      <form className="stack" onSubmit={submit} noValidate data-testid="admin-edit-user-form">
        <FormProblems errors={errors} known={["role", "team", "is_active", "email", "password"]} />
        <div className="grid-2">
          <SelectInput label="Role" name="role" errors={errors} value={form.role} onChange={(role) => set({ role: role as Role })} options={ROLES} />
          <SelectInput
            label="Team"
            name="team"
            errors={errors}
            value={form.team}
            onChange={(team) => set({ team })}
            options={[...(user.team_id ? [] : [{ value: "", label: "No team" }]), ...teams.map((t) => ({ value: t.name, label: t.name }))]}
          />
          <TextInput label="E-mail (where alerts go)" name="email" type="email" errors={errors} value={form.email} onChange={(email) => set({ email })} />
          <TextInput
            label="New password (leave empty to keep)"
            name="password"
            type="password"
            errors={errors}
            value={form.password}
            onChange={(password) => set({ password })}
            autoComplete="new-password"
          />
        </div>
        <label className="ff-check" htmlFor={activeId}>
          <input id={activeId} type="checkbox" checked={form.is_active} onChange={(e) => set({ is_active: e.target.checked })} />
          Active (may sign in){self && " — this is you"}
        </label>
        {!form.is_active && user.is_active && (
          <p className="warn">Deactivating ends every session and token the user holds.</p>
        )}
        {form.password && <p className="warn">A new password ends every session and token the user holds.</p>}
        <div className="row">
          <button type="button" className="button" onClick={() => unlock.mutate()} disabled={unlock.isPending}>
            Clear failed sign-ins
          </button>
          <Outcome
            ok={
              unlock.data &&
              (unlock.data.was_locked
                ? `Unlocked (${unlock.data.failures} failed sign-ins cleared).`
                : `Not locked; ${unlock.data.failures} failed sign-ins cleared.`)
            }
            error={unlock.isError ? unlock.error.message : null}
          />
        </div>
        <div className="row admin-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save user"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function TeamsPanel({
  teams,
  users,
  pending,
  error,
}: {
  teams: Schemas["TeamRead"][] | undefined;
  users: User[] | undefined;
  pending: boolean;
  error: Error | null;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const inputId = useId();
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/teams", { body: { name: name.trim() } })),
    onSuccess: async (team) => {
      setName("");
      await queryClient.invalidateQueries({ queryKey: keys.teams });
      return team;
    },
  });
  const errors = create.isError ? formErrors(create.error) : NO_ERRORS;
  const messages = [...messagesFor(errors, "name"), ...(errors.general ? [errors.general] : [])];
  const members = (id: string) => users?.filter((u) => u.team_id === id) ?? [];
  return (
    <AdminSection title="Teams" intro="A team's leads, rules and digest defaults belong together; managers lead one team.">
      {pending ? (
        <Loading what="Loading teams" />
      ) : error ? (
        <ErrorState error={error} />
      ) : (
        <ul className="admin-teams" data-testid="admin-teams">
          {(teams ?? []).map((team) => {
            const people = members(team.id);
            const managers = people.filter((u) => u.role === "manager").map((u) => u.full_name ?? u.username);
            return (
              <li key={team.id} className="card">
                <strong>{team.name}</strong>
                <div className="muted">
                  {people.length} {people.length === 1 ? "member" : "members"}
                  {managers.length > 0 && ` · managed by ${managers.join(", ")}`}
                </div>
              </li>
            );
          })}
          {(teams ?? []).length === 0 && <li className="muted">No teams yet.</li>}
        </ul>
      )}
      <form
        className="row admin-inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <div className="admin-field">
          <label htmlFor={inputId}>New team name</label>
          <input id={inputId} value={name} onChange={(e) => setName(e.target.value)} maxLength={120} {...invalidProps(`${inputId}-error`, messages)} />
        </div>
        <button type="submit" className="button" disabled={create.isPending || !name.trim()}>
          Add team
        </button>
        <FieldMessages id={`${inputId}-error`} messages={messages} />
        {create.isSuccess && <span className="ok" role="status">Team {create.data.name} is ready.</span>}
      </form>
    </AdminSection>
  );
}
