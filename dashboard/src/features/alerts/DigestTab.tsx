// Digest preferences: each field with where its value comes from (you / your team / the default) and a reset to
// inherit; a preview of the e-mail as it would go now (sandboxed, no scripts); and "send me today's digest now".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, api, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { CheckboxGroup, FieldMessages, invalidProps, TokenInput, type Option } from "@/components/formFields";
import { ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed } from "@/lib/fieldErrors";
import {
  changedFields,
  DIGEST_FIELDS,
  digestFromApi,
  digestPatch,
  sourceLabel,
  type DigestField,
  type DigestForm,
} from "./digestForm";
import { PRIORITIES, PRIORITY_LABELS, SIGNAL_TYPE_OPTIONS, WEEKDAYS } from "./labels";
import { decodeRfc2047 } from "./rfc2047";
import { useRuleOptions, useTeams } from "./queries";

const digestKeys = {
  prefs: ["digest", "preferences"] as const,
  preview: ["digest", "preview"] as const,
};

export function DigestTab() {
  const prefs = useQuery({
    queryKey: digestKeys.prefs,
    queryFn: async () => unwrap(await api.GET("/api/v1/digest/preferences")),
  });
  if (prefs.isPending) return <Loading what="Loading your digest settings" />;
  if (prefs.isError) return <ErrorState error={prefs.error} retry={() => void prefs.refetch()} />;
  const effective = prefs.data.effective;
  if (!effective) return <ErrorState error={new Error("No preferences in force")} />;
  return (
    <div className="stack">
      <PreferencesForm key={JSON.stringify(effective)} effective={effective} />
      <div className="alerts-digest-side">
        <Preview />
        <SendNow />
      </div>
    </div>
  );
}

function PreferencesForm({ effective }: { effective: Schemas["Preferences"] }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const headingId = useId();
  const [form, setForm] = useState<DigestForm>(() => digestFromApi(effective));
  const teams = useTeams();
  const options = useRuleOptions(hasRole(user, "admin", "manager")); // the names list is theirs; others type names

  const patch = useMutation({
    mutationFn: async (body: Schemas["PreferencesUpdate"]) =>
      unwrap(await api.PATCH("/api/v1/digest/preferences", { body })),
    onSuccess: (data) => {
      queryClient.setQueryData(digestKeys.prefs, data);
      void queryClient.invalidateQueries({ queryKey: digestKeys.preview });
    },
  });
  const errors = patch.isError ? formErrors(patch.error) : NO_ERRORS;
  const changed = changedFields(form, effective);
  const change = (values: Partial<DigestForm>) => {
    if (patch.isError || patch.isSuccess) patch.reset();
    setForm((current) => ({ ...current, ...values }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    patch.mutate(digestPatch(form, effective));
  };
  const reset = (field: DigestField) => patch.mutate({ [field]: null } as Schemas["PreferencesUpdate"]);

  const row = (field: DigestField, label: string, control: (props: ControlProps) => ReactNode, hint?: string) => (
    <PreferenceRow
      key={field}
      field={field}
      label={label}
      hint={hint}
      source={effective.sources?.[field]}
      changed={changed.includes(field)}
      messages={messagesFor(errors, field)}
      onReset={() => reset(field)}
      busy={patch.isPending}
      control={control}
    />
  );
  const teamOptions: Option[] = (teams.data ?? []).map((t) => ({ value: t.name, label: t.name }));
  const portfolioOptions: Option[] = (options.data?.portfolios ?? []).map((p) => ({ value: p, label: p }));
  const leftover = unclaimed(errors, DIGEST_FIELDS);

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>Your daily digest</h2>
      <p className="muted">
        One e-mail with what is new for you. Times are in your time zone, <strong>{effective.timezone}</strong>. A value
        you set yourself wins over your team&apos;s default; reset it to inherit again.
      </p>
      <form className="stack" data-testid="digest-prefs-form" aria-labelledby={headingId} onSubmit={submit} noValidate>
        {(errors.general || leftover.length > 0) && (
          <div className="form-error" role="alert">
            {errors.general && <p>{errors.general}</p>}
            {leftover.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        )}
        <div className="alerts-prefs">
          {row("frequency", "How often", (props) => (
            <select {...props} value={form.frequency} onChange={(e) => change({ frequency: e.target.value as DigestForm["frequency"] })}>
              <option value="daily">Every day</option>
              <option value="weekdays">Weekdays</option>
              <option value="weekly">Once a week</option>
              <option value="off">Off</option>
            </select>
          ))}
          {row("send_time", "Send at", (props) => (
            <input {...props} type="time" value={form.send_time} onChange={(e) => change({ send_time: e.target.value })} />
          ))}
          {row(
            "weekly_day",
            "Day of the week",
            (props) => (
              <select {...props} value={form.weekly_day} onChange={(e) => change({ weekly_day: Number(e.target.value) })}>
                {WEEKDAYS.map((day, index) => (
                  <option key={day} value={index}>
                    {day}
                  </option>
                ))}
              </select>
            ),
            "For weekly digests",
          )}
          {row("min_priority", "Lowest priority included", (props) => (
            <select
              {...props}
              value={form.min_priority}
              onChange={(e) => change({ min_priority: e.target.value as DigestForm["min_priority"] })}
            >
              <option value="">Any priority</option>
              {[...PRIORITIES].reverse().map((p) => (
                <option key={p} value={p}>
                  {PRIORITY_LABELS[p]} and up
                </option>
              ))}
            </select>
          ))}
          {row("format", "Format", (props) => (
            <select {...props} value={form.format} onChange={(e) => change({ format: e.target.value as DigestForm["format"] })}>
              <option value="html">Formatted (HTML with a text part)</option>
              <option value="text">Plain text</option>
            </select>
          ))}
          {row("include_not_contactable", "Leads I cannot contact today", (props) => (
            <label className="ff-check">
              <input
                {...props}
                type="checkbox"
                checked={form.include_not_contactable}
                onChange={(e) => change({ include_not_contactable: e.target.checked })}
              />
              Include them
            </label>
          ))}
          {row("send_empty", "Quiet days", (props) => (
            <label className="ff-check">
              <input
                {...props}
                type="checkbox"
                checked={form.send_empty}
                onChange={(e) => change({ send_empty: e.target.checked })}
              />
              Send a digest even when nothing is new
            </label>
          ))}
        </div>
        <PreferenceGroupRow
          label="Signal types"
          source={effective.sources?.signal_types}
          changed={changed.includes("signal_types")}
          onReset={() => reset("signal_types")}
          busy={patch.isPending}
        >
          <CheckboxGroup
            legend="Signal types (none ticked: every type)"
            options={SIGNAL_TYPE_OPTIONS}
            value={form.signal_types}
            onChange={(signal_types) => change({ signal_types })}
            messages={messagesFor(errors, "signal_types")}
          />
        </PreferenceGroupRow>
        <div className="grid-2">
          <PreferenceGroupRow
            label="Portfolios"
            source={effective.sources?.portfolios}
            changed={changed.includes("portfolios")}
            onReset={() => reset("portfolios")}
            busy={patch.isPending}
          >
            <TokenInput
              label="Only these portfolios (empty: all)"
              value={form.portfolios}
              onChange={(portfolios) => change({ portfolios })}
              suggestions={portfolioOptions}
              messages={messagesFor(errors, "portfolios")}
            />
          </PreferenceGroupRow>
          <PreferenceGroupRow
            label="Teams"
            source={effective.sources?.teams}
            changed={changed.includes("teams")}
            onReset={() => reset("teams")}
            busy={patch.isPending}
          >
            <TokenInput
              label="Only these teams' leads (empty: all)"
              value={form.teams}
              onChange={(teams) => change({ teams })}
              suggestions={teamOptions}
              messages={messagesFor(errors, "teams")}
            />
          </PreferenceGroupRow>
        </div>
        <div className="row">
          <button type="submit" className="button button-primary" disabled={patch.isPending || changed.length === 0}>
            {patch.isPending ? "Saving…" : "Save preferences"}
          </button>
          {changed.length > 0 && (
            <button type="button" className="button" onClick={() => setForm(digestFromApi(effective))}>
              Undo changes
            </button>
          )}
          <span role="status" className="muted">
            {patch.isSuccess ? "Saved." : changed.length > 0 ? `${changed.length} unsaved change${changed.length > 1 ? "s" : ""}` : ""}
          </span>
        </div>
      </form>
    </section>
  );
}

type ControlProps = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

function SourceTag({ source, changed }: { source: string | undefined; changed: boolean }) {
  return (
    <span className={`alerts-source alerts-source-${changed ? "changed" : (source ?? "default")}`}>
      {changed ? "Changed, not saved" : sourceLabel(source)}
    </span>
  );
}

function ResetButton({ label, onReset, busy }: { label: string; onReset: () => void; busy: boolean }) {
  return (
    <button type="button" className="alerts-reset" onClick={onReset} disabled={busy} aria-label={`Reset ${label} to inherit`}>
      Reset to inherit
    </button>
  );
}

function PreferenceRow({
  field,
  label,
  hint,
  source,
  changed,
  messages,
  onReset,
  busy,
  control,
}: {
  field: DigestField;
  label: string;
  hint?: string;
  source: string | undefined;
  changed: boolean;
  messages: string[];
  onReset: () => void;
  busy: boolean;
  control: (props: ControlProps) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const checkbox = field === "include_not_contactable" || field === "send_empty";
  return (
    <div className="alerts-pref" data-field={field}>
      {checkbox ? <span className="alerts-pref-label">{label}</span> : <label htmlFor={id} className="alerts-pref-label">{label}</label>}
      <div className="alerts-pref-control">
        {control({ id, ...invalidProps(errorId, messages) })}
        {hint && <span className="ff-hint">{hint}</span>}
        <FieldMessages id={errorId} messages={messages} />
      </div>
      <div className="alerts-pref-meta">
        <SourceTag source={source} changed={changed} />
        {source === "user" && !changed && <ResetButton label={label} onReset={onReset} busy={busy} />}
      </div>
    </div>
  );
}

function PreferenceGroupRow({
  label,
  source,
  changed,
  onReset,
  busy,
  children,
}: {
  label: string;
  source: string | undefined;
  changed: boolean;
  onReset: () => void;
  busy: boolean;
  children: ReactNode;
}) {
  return (
    <div className="alerts-pref-group">
      {children}
      <div className="alerts-pref-meta">
        <SourceTag source={source} changed={changed} />
        {source === "user" && !changed && <ResetButton label={label} onReset={onReset} busy={busy} />}
      </div>
    </div>
  );
}

function Preview() {
  const headingId = useId();
  const [shown, setShown] = useState(true);
  const preview = useQuery({
    queryKey: digestKeys.preview,
    queryFn: async () => {
      const result = await api.GET("/api/v1/digest/preview", { params: { query: { format: "html" } }, parseAs: "text" });
      const html = unwrap(result) as unknown as string;
      return { html, subject: decodeRfc2047(result.response.headers.get("X-Subject")) };
    },
    enabled: shown,
    staleTime: 0,
  });
  return (
    <section className="card stack alerts-preview" aria-labelledby={headingId}>
      <div className="alerts-section-head">
        <h2 id={headingId}>Preview</h2>
        <button
          type="button"
          className="button"
          onClick={() => (shown ? void preview.refetch() : setShown(true))}
          disabled={preview.isFetching}
        >
          {preview.isFetching ? "Loading…" : "Preview"}
        </button>
      </div>
      <p className="muted">The digest as it would be sent now. Nothing is sent.</p>
      {preview.isPending ? (
        <Loading what="Making the preview" />
      ) : preview.isError ? (
        <ErrorState error={preview.error} retry={() => void preview.refetch()} />
      ) : (
        <>
          <p className="alerts-subject">
            <span className="muted">Subject:</span> <strong data-testid="digest-preview-subject">{preview.data.subject}</strong>
          </p>
          <iframe
            className="alerts-preview-frame"
            data-testid="digest-preview-frame"
            title="Digest e-mail preview"
            // No scripts, no same origin: the e-mail cannot touch the app. Its links open in a new tab.
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            srcDoc={withLinksInNewTab(preview.data.html)}
          />
        </>
      )}
    </section>
  );
}

/** The e-mail's links open a new tab (a link followed inside the sandboxed frame would show a blank app). */
export function withLinksInNewTab(html: string): string {
  const base = '<base target="_blank">';
  return /<head[^>]*>/i.test(html) ? html.replace(/<head([^>]*)>/i, `<head$1>${base}`) : base + html;
}

function SendNow() {
  const headingId = useId();
  const send = useMutation({
    mutationFn: async (force: boolean) => unwrap(await api.POST("/api/v1/digest/send", { body: { force } })),
  });
  const alreadySent = send.isError && send.error instanceof ApiError && send.error.status === 409;
  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>Send it now</h2>
      <p className="muted">Make today&apos;s digest and e-mail it to you now, whatever your schedule says.</p>
      <div className="row">
        <button type="button" className="button button-primary" onClick={() => send.mutate(false)} disabled={send.isPending}>
          Send me today&apos;s digest now
        </button>
      </div>
      <div role="status" aria-live="polite">
        {send.isSuccess && <SentReport digest={send.data} />}
        {alreadySent && (
          <div className="stack alerts-already">
            <p className="warn">Today&apos;s digest was made already. {send.error.message}</p>
            <div>
              <button type="button" className="button" onClick={() => send.mutate(true)} disabled={send.isPending}>
                Send again
              </button>
            </div>
          </div>
        )}
      </div>
      {send.isError && !alreadySent && (
        <p className="form-error" role="alert">
          {send.error.message}
        </p>
      )}
    </section>
  );
}

const DIGEST_STATUS: Record<string, string> = {
  queued: "Queued for e-mail",
  sent: "Sent",
  failed: "The e-mail failed",
  empty: "Nothing new, so not sent",
  suppressed: "Not sent",
};

function SentReport({ digest }: { digest: Schemas["DigestRead"] }) {
  return (
    <p className={digest.status === "failed" || digest.status === "suppressed" ? "warn" : "ok"}>
      {DIGEST_STATUS[digest.status] ?? digest.status}
      {digest.subject && <>: “{digest.subject}”</>} · {formatDateTime(digest.created_at)}
      {digest.error && <span className="muted"> · {digest.error}</span>}
    </p>
  );
}
