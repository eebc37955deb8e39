// Compliance rules: every setting of the contact guard as a form. Saving sends only the changed settings (audited);
// "Restore default" sends null for one setting. The API validates the whole; its errors show at the setting.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { CheckboxGroup, FieldMessages, invalidProps, type Option } from "@/components/formFields";
import { ErrorState, Loading } from "@/components/states";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import { REASON_LABELS } from "@/features/alerts/labels";
import { AdminSection } from "./adminUi";

type Config = Schemas["RuleConfig"];
type Key = keyof Config;
type StateRule = Schemas["StateRule"];

/** The API's defaults (the strict reading of the rules), to mark a changed setting and restore it. */
export const COMPLIANCE_DEFAULTS: Required<Config> = {
  window_start: "08:00",
  window_end: "21:00",
  window_channels: ["call", "sms", "email", "social_dm"],
  tcpa_consent_required: true,
  unknown_phone_type_needs_consent: true,
  workplace_rule_enabled: true,
  public_social_blocked: true,
  social_dm_enabled: false,
  opt_out_enabled: true,
  blocked_windows_enabled: true,
  call_frequency_enabled: true,
  call_frequency_limit: 7,
  call_frequency_hours: 168,
  conversation_rule_enabled: true,
  conversation_quiet_hours: 168,
  override_roles: [],
  overridable_reasons: ["workplace", "time_window", "call_frequency_7in7", "after_conversation_7d"],
  flag_exempt_channels: {},
  state_rules: [
    {
      state: "MA",
      code: "state_ma_2in7",
      channels: ["call", "sms"],
      personal_limit: 2,
      personal_hours: 168,
      other_limit: 2,
      other_hours: 720,
      enabled: true,
    },
  ],
};

const CHANNELS: Option[] = [
  { value: "call", label: "Call" },
  { value: "sms", label: "Text" },
  { value: "email", label: "E-mail" },
  { value: "letter", label: "Letter" },
  { value: "social_dm", label: "Social DM" },
  { value: "social_public", label: "Public social" },
];
const FLAGS: Schemas["Flag"][] = ["cease", "attorney", "bankruptcy", "deceased", "dispute"];
const ROLES: Option[] = [
  { value: "admin", label: "Admin" },
  { value: "manager", label: "Manager" },
  { value: "agent", label: "Agent" },
];
const REASONS: Option[] = Object.entries(REASON_LABELS).map(([value, label]) => ({ value, label }));

/** JSON with object keys sorted, so equal settings compare equal whatever order the API wrote their keys in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** Settings whose form value differs from what the API holds. */
export function complianceChanges(form: Config, saved: Config): Partial<Record<Key, unknown>> {
  const changes: Partial<Record<Key, unknown>> = {};
  for (const key of Object.keys(COMPLIANCE_DEFAULTS) as Key[]) {
    if (!same(form[key], saved[key])) changes[key] = form[key];
  }
  return changes;
}

const key = ["admin", "compliance-rules"] as const;

export function ComplianceSection() {
  const rules = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET("/api/v1/compliance/rules")) });
  return (
    <AdminSection
      title="Compliance rules"
      intro="The contact guard's settings. The defaults are the strict reading of the rules; every change is audited."
    >
      {rules.isPending ? (
        <Loading what="Loading the rules" />
      ) : rules.isError ? (
        <ErrorState error={rules.error} retry={() => void rules.refetch()} />
      ) : (
        <ComplianceForm key={JSON.stringify(rules.data)} saved={{ ...COMPLIANCE_DEFAULTS, ...rules.data }} />
      )}
    </AdminSection>
  );
}

function ComplianceForm({ saved }: { saved: Required<Config> }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<Required<Config>>(saved);
  const update = useMutation({
    mutationFn: async (changes: Record<string, unknown>) =>
      unwrap(await api.PUT("/api/v1/compliance/rules", { body: { changes } })),
    onSuccess: (data) => queryClient.setQueryData(key, data),
  });
  const errors = update.isError ? formErrors(update.error) : NO_ERRORS;
  const changes = complianceChanges(form, saved);
  const changed = Object.keys(changes).length;
  const set = <K extends Key>(name: K, value: Required<Config>[K]) => {
    if (update.isError) update.reset();
    setForm((f) => ({ ...f, [name]: value }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate(changes);
  };
  const restore = (name: Key) => update.mutate({ [name]: null });
  const common = { form, saved, errors, restore, busy: update.isPending };
  const leftover = unclaimed(
    errors,
    Object.keys(COMPLIANCE_DEFAULTS).flatMap((k) => [k, `changes.${k}`]),
  ).filter((line) => !line.startsWith("state_rules") && !line.startsWith("flag_exempt_channels"));

  return (
    <form className="stack" onSubmit={submit} noValidate data-testid="admin-compliance-form">
      {(errors.general || leftover.length > 0) && (
        <div className="form-error" role="alert">
          {errors.general && <p>{errors.general}</p>}
          {leftover.map((line) => (
            <p key={line}>{line}</p>
          ))}
        </div>
      )}
      <Group title="Calling hours" hint="The borrower's local time; an address with several zones must fit all.">
        <div className="grid-2">
          <Setting {...common} name="window_start" label="Earliest (inclusive)">
            {(props) => <input {...props} type="time" value={form.window_start} onChange={(e) => set("window_start", e.target.value)} />}
          </Setting>
          <Setting {...common} name="window_end" label="Latest (exclusive)">
            {(props) => <input {...props} type="time" value={form.window_end} onChange={(e) => set("window_end", e.target.value)} />}
          </Setting>
        </div>
        <Setting {...common} name="window_channels" label="Channels the hours apply to" group>
          {() => (
            <CheckboxGroup
              legend="Channels the hours apply to"
              options={CHANNELS}
              value={form.window_channels}
              onChange={(value) => set("window_channels", value as Schemas["Channel"][])}
              messages={fieldMessages(errors, "window_channels")}
            />
          )}
        </Setting>
      </Group>

      <Group title="Consent and channels">
        <Toggle {...common} name="tcpa_consent_required" label="Texts and autodialled calls to a cell number need TCPA consent" set={set} />
        <Toggle {...common} name="unknown_phone_type_needs_consent" label="Treat a number of unknown type as a cell number" set={set} />
        <Toggle {...common} name="workplace_rule_enabled" label="Refuse contact at a workplace (number or address)" set={set} />
        <Toggle {...common} name="public_social_blocked" label="Refuse public social posts" set={set} />
        <Toggle {...common} name="social_dm_enabled" label="Allow private social messages (with the disclosure)" set={set} />
        <Toggle {...common} name="opt_out_enabled" label="Honour opt-outs" set={set} />
        <Toggle {...common} name="blocked_windows_enabled" label="Honour times the borrower asked not to be contacted" set={set} />
      </Group>

      <Group title="Call frequency">
        <Toggle {...common} name="call_frequency_enabled" label="Limit calls per period" set={set} />
        <div className="grid-2">
          <Setting {...common} name="call_frequency_limit" label="Calls blocked once this many were placed…">
            {(props) => (
              <input {...props} type="number" min={1} max={1000} value={form.call_frequency_limit} onChange={(e) => set("call_frequency_limit", Number(e.target.value))} />
            )}
          </Setting>
          <Setting {...common} name="call_frequency_hours" label="…in this many hours before">
            {(props) => (
              <input {...props} type="number" min={1} max={8784} value={form.call_frequency_hours} onChange={(e) => set("call_frequency_hours", Number(e.target.value))} />
            )}
          </Setting>
        </div>
        <Toggle {...common} name="conversation_rule_enabled" label="No call for a while after a conversation" set={set} />
        <Setting {...common} name="conversation_quiet_hours" label="Hours without calls after a conversation">
          {(props) => (
            <input {...props} type="number" min={1} max={8784} value={form.conversation_quiet_hours} onChange={(e) => set("conversation_quiet_hours", Number(e.target.value))} />
          )}
        </Setting>
      </Group>

      <Group title="Overrides" hint="Who may act despite a refusal, with a written reason (a documented consumer consent).">
        <Setting {...common} name="override_roles" label="Roles that may override" group>
          {() => (
            <CheckboxGroup
              legend="Roles that may override (none: nobody)"
              options={ROLES}
              value={form.override_roles}
              onChange={(value) => set("override_roles", value)}
              messages={fieldMessages(errors, "override_roles")}
            />
          )}
        </Setting>
        <Setting {...common} name="overridable_reasons" label="Refusals an override may set aside" group>
          {() => (
            <CheckboxGroup
              legend="Refusals an override may set aside"
              options={REASONS}
              value={form.overridable_reasons}
              onChange={(value) => set("overridable_reasons", value as Schemas["Reason"][])}
              messages={fieldMessages(errors, "overridable_reasons")}
            />
          )}
        </Setting>
      </Group>

      <Group title="Channels a flag does not block" hint="None by default: a flag blocks every channel.">
        <Setting {...common} name="flag_exempt_channels" label="Exemptions" group>
          {() => (
            <div className="stack">
              {FLAGS.map((flag) => (
                <CheckboxGroup
                  key={flag}
                  legend={`Allowed despite "${flag}"`}
                  options={CHANNELS}
                  value={form.flag_exempt_channels[flag] ?? []}
                  onChange={(value) => {
                    const next = { ...form.flag_exempt_channels };
                    if (value.length) next[flag] = value as Schemas["Channel"][];
                    else delete next[flag];
                    set("flag_exempt_channels", next);
                  }}
                  messages={fieldMessages(errors, `flag_exempt_channels.${flag}`)}
                />
              ))}
            </div>
          )}
        </Setting>
      </Group>

      <Group title="State limits" hint="A state's limit on calls and texts per debt, by the borrower's state of residence.">
        <Setting {...common} name="state_rules" label="State rules" group>
          {() => <StateRules rules={form.state_rules} onChange={(value) => set("state_rules", value)} errors={errors} />}
        </Setting>
      </Group>

      <div className="row admin-sticky-actions">
        <button type="submit" className="button button-primary" disabled={update.isPending || changed === 0}>
          {update.isPending ? "Saving…" : "Save rules"}
        </button>
        {changed > 0 && (
          <button type="button" className="button" onClick={() => setForm(saved)}>
            Undo changes
          </button>
        )}
        <span role="status" className="muted">
          {update.isSuccess && changed === 0 ? "Saved." : changed > 0 ? `${changed} unsaved change${changed > 1 ? "s" : ""}` : ""}
        </span>
      </div>
    </form>
  );
}

/** The API names a setting as `window_end` or, from the whole-config check, `changes.window_end`. */
function fieldMessages(errors: FormErrors, name: string): string[] {
  return [...messagesFor(errors, name, true), ...messagesFor(errors, `changes.${name}`, true)];
}

function Group({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <fieldset className="card admin-fieldset">
      <legend>{title}</legend>
      {hint && <p className="ff-hint">{hint}</p>}
      <div className="stack">{children}</div>
    </fieldset>
  );
}

type ControlProps = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

function Setting({
  name,
  label,
  form,
  saved,
  errors,
  restore,
  busy,
  group,
  children,
}: {
  name: Key;
  label: string;
  form: Required<Config>;
  saved: Required<Config>;
  errors: FormErrors;
  restore: (name: Key) => void;
  busy: boolean;
  group?: boolean;
  children: (props: ControlProps) => ReactNode;
}) {
  const id = useId();
  const messages = group ? [] : fieldMessages(errors, name);
  const isDefault = same(saved[name], COMPLIANCE_DEFAULTS[name]);
  const edited = !same(form[name], saved[name]);
  return (
    <div className="admin-setting" data-setting={name}>
      <div className="admin-field">
        {!group && <label htmlFor={id}>{label}</label>}
        {children({ id, ...invalidProps(`${id}-error`, messages) })}
        <FieldMessages id={`${id}-error`} messages={messages} />
      </div>
      <div className="admin-setting-meta">
        {edited ? (
          <span className="admin-tag admin-tag-changed">Changed, not saved</span>
        ) : isDefault ? (
          <span className="admin-tag">Default</span>
        ) : (
          <>
            <span className="admin-tag admin-tag-set">Changed from the default</span>
            <button type="button" className="admin-link-button" onClick={() => restore(name)} disabled={busy} aria-label={`Restore the default: ${label}`}>
              Restore default
            </button>
          </>
        )}
      </div>
    </div>
  );
}

function Toggle({
  name,
  label,
  set,
  ...common
}: {
  name: Key;
  label: string;
  form: Required<Config>;
  saved: Required<Config>;
  errors: FormErrors;
  restore: (name: Key) => void;
  busy: boolean;
  set: <K extends Key>(name: K, value: Required<Config>[K]) => void;
}) {
  return (
    <Setting {...common} name={name} label={label} group>
      {() => (
        <label className="ff-check">
          <input type="checkbox" checked={Boolean(common.form[name])} onChange={(e) => set(name, e.target.checked as never)} />
          {label}
        </label>
      )}
    </Setting>
  );
}

const NEW_STATE_RULE: StateRule = {
  state: "",
  code: "",
  channels: ["call", "sms"],
  personal_limit: 2,
  personal_hours: 168,
  other_limit: 2,
  other_hours: 720,
  enabled: true,
};

function StateRules({ rules, onChange, errors }: { rules: StateRule[]; onChange: (rules: StateRule[]) => void; errors: FormErrors }) {
  const messages = fieldMessages(errors, "state_rules");
  const edit = (index: number, patch: Partial<StateRule>) =>
    onChange(rules.map((rule, i) => (i === index ? { ...rule, ...patch } : rule)));
  return (
    <div className="stack">
      {messages.length > 0 && (
        <p className="ff-error" role="alert">
          {messages.join("; ")}
        </p>
      )}
      {rules.length === 0 && <p className="muted">No state limits.</p>}
      {rules.map((rule, index) => (
        <fieldset key={index} className="ff-group admin-state-rule">
          <legend>{rule.state ? `State rule: ${rule.state}` : "New state rule"}</legend>
          <div className="admin-grid-4">
            <NumberOrText label="State (USPS code)" value={rule.state} onChange={(state) => edit(index, { state: state.toUpperCase() })} maxLength={2} />
            <NumberOrText label="Reason code" value={rule.code} onChange={(code) => edit(index, { code })} maxLength={40} />
            <NumberOrText label="Personal numbers: limit" type="number" value={String(rule.personal_limit ?? 2)} onChange={(v) => edit(index, { personal_limit: Number(v) })} />
            <NumberOrText label="…in hours" type="number" value={String(rule.personal_hours ?? 168)} onChange={(v) => edit(index, { personal_hours: Number(v) })} />
            <NumberOrText label="Other numbers: limit" type="number" value={String(rule.other_limit ?? 2)} onChange={(v) => edit(index, { other_limit: Number(v) })} />
            <NumberOrText label="…in hours" type="number" value={String(rule.other_hours ?? 720)} onChange={(v) => edit(index, { other_hours: Number(v) })} />
          </div>
          <CheckboxGroup
            legend="Channels"
            options={CHANNELS}
            value={rule.channels ?? []}
            onChange={(channels) => edit(index, { channels: channels as Schemas["Channel"][] })}
          />
          <div className="row">
            <label className="ff-check">
              <input type="checkbox" checked={rule.enabled ?? true} onChange={(e) => edit(index, { enabled: e.target.checked })} />
              Enabled
            </label>
            <button type="button" className="button button-danger" onClick={() => onChange(rules.filter((_, i) => i !== index))}>
              Remove {rule.state || "this rule"}
            </button>
          </div>
        </fieldset>
      ))}
      <div>
        <button type="button" className="button" onClick={() => onChange([...rules, { ...NEW_STATE_RULE }])}>
          Add a state rule
        </button>
      </div>
    </div>
  );
}

function NumberOrText({
  label,
  value,
  onChange,
  type = "text",
  maxLength,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  maxLength?: number;
}) {
  const id = useId();
  return (
    <div className="admin-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={value} maxLength={maxLength} min={type === "number" ? 1 : undefined} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
