// The alert rule editor: a form (never raw JSON) with a live dry run. As the conditions change, a debounced
// POST /alert-rules/dry-run answers how many of the newest 200 signals they would have matched; its validation
// errors show next to the field they name, as the save's do.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import {
  CheckboxGroup,
  ConfirmDialog,
  FieldMessages,
  invalidProps,
  TokenInput,
  type Option,
} from "@/components/formFields";
import { Empty, ErrorState, Loading, PriorityBadge } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import {
  ALERT_CHANNEL_OPTIONS,
  LEAD_STATUS_OPTIONS,
  PRIORITIES,
  PRIORITY_LABELS,
  RULE_TYPE_LABELS,
  SIGNAL_TYPE_OPTIONS,
  signalTypeLabel,
} from "./labels";
import {
  conditionsToApi,
  createBody,
  emptyRule,
  RULE_FIELDS,
  ruleFromApi,
  updateBody,
  type ConditionsForm,
  type RuleForm,
} from "./ruleForm";
import { canManageRule, ruleKeys, useRuleOptions, useTeams } from "./queries";

export const DRY_RUN_LAST = 200;
const DRY_RUN_DELAY_MS = 400;

export function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), delay);
    return () => window.clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

export function RuleEditor({ ruleId }: { ruleId: string | null }) {
  const user = useUser();
  const teams = useTeams();
  const options = useRuleOptions();
  const rule = useQuery({
    queryKey: [...ruleKeys.all, "one", ruleId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/alert-rules/{rule_id}", { params: { path: { rule_id: ruleId ?? "" } } })),
    enabled: ruleId !== null,
  });

  if (ruleId !== null && rule.isPending) return <Loading what="Loading the rule" />;
  if (ruleId !== null && rule.isError) {
    return (
      <div className="stack">
        <ErrorState error={rule.error} retry={() => void rule.refetch()} />
        <Link to="?tab=rules">Back to the rules</Link>
      </div>
    );
  }
  if (teams.isPending) return <Loading what="Loading teams" />;
  const existing = rule.data ?? null;
  if (existing && !canManageRule(user, existing)) {
    return (
      <Empty title="You cannot change this rule.">
        Rules for every team are the administrators&apos;. <Link to="?tab=rules">Back to the rules</Link>
      </Empty>
    );
  }
  const teamName = (id: string | null | undefined) => teams.data?.find((t) => t.id === id)?.name ?? "";
  const initial = existing
    ? ruleFromApi(existing, teamName(existing.team_id))
    : { ...emptyRule(), team: hasRole(user, "manager") ? teamName(user.team_id) : "" };
  return (
    <RuleFormView
      key={existing?.id ?? "new"}
      existing={existing}
      initial={initial}
      options={options.data}
      teams={teams.data ?? []}
      isManager={hasRole(user, "manager")}
    />
  );
}

function RuleFormView({
  existing,
  initial,
  options,
  teams,
  isManager,
}: {
  existing: Schemas["RuleRead"] | null;
  initial: RuleForm;
  options: Schemas["RuleOptions"] | undefined;
  teams: Schemas["TeamRead"][];
  isManager: boolean;
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const headingId = useId();
  const [form, setForm] = useState<RuleForm>(initial);
  const [confirmDelete, setConfirmDelete] = useState(false);

  const save = useMutation({
    mutationFn: async (value: RuleForm) =>
      existing
        ? unwrap(
            await api.PATCH("/api/v1/alert-rules/{rule_id}", {
              params: { path: { rule_id: existing.id } },
              body: updateBody(value),
            }),
          )
        : unwrap(await api.POST("/api/v1/alert-rules", { body: createBody(value) })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ruleKeys.all });
      navigate("?tab=rules");
    },
  });
  const remove = useMutation({
    mutationFn: async () => {
      if (!existing) return;
      const result = await api.DELETE("/api/v1/alert-rules/{rule_id}", {
        params: { path: { rule_id: existing.id } },
      });
      unwrap(result);
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ruleKeys.all });
      navigate("?tab=rules");
    },
  });

  // The live dry run: the conditions (and the rule's team) as they are, a moment after the last keystroke.
  const probe = useMemo(
    () => JSON.stringify({ conditions: conditionsToApi(form.conditions, form.extra), team: form.team || null }),
    [form.conditions, form.extra, form.team],
  );
  const debounced = useDebounced(probe, DRY_RUN_DELAY_MS);
  const dryRun = useQuery({
    queryKey: ["alert-rules", "dry-run", debounced],
    queryFn: async ({ signal }) => {
      const { conditions, team } = JSON.parse(debounced) as { conditions: Record<string, unknown>; team: string | null };
      return unwrap(
        await api.POST("/api/v1/alert-rules/dry-run", { body: { conditions, last: DRY_RUN_LAST, team }, signal }),
      );
    },
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 30_000,
  });

  // Save errors are about the form as it was sent: the first change clears them.
  const saveErrors = save.isError ? formErrors(save.error) : NO_ERRORS;
  const dryErrors = dryRun.isError && !dryRun.isFetching ? formErrors(dryRun.error) : NO_ERRORS;
  const errors: FormErrors = {
    fields: { ...dryErrors.fields, ...saveErrors.fields },
    general: saveErrors.general,
  };
  const change = (patch: Partial<RuleForm>) => {
    if (save.isError) save.reset();
    setForm((current) => ({ ...current, ...patch }));
  };
  const changeCondition = (patch: Partial<ConditionsForm>) =>
    change({ conditions: { ...form.conditions, ...patch } });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(form);
  };

  const msg = (key: string, nested = false) => messagesFor(errors, key, nested);
  const userOptions: Option[] = (options?.users ?? []).map((u) => ({
    value: u.username,
    label: u.full_name ? `${u.full_name} (${u.username})` : u.username,
  }));
  const teamOptions: Option[] = (options?.teams ?? teams.map((t) => t.name)).map((name) => ({ value: name, label: name }));
  const portfolioOptions: Option[] = (options?.portfolios ?? []).map((name) => ({ value: name, label: name }));
  const sourceOptions: Option[] = (options?.sources ?? []).map((name) => ({ value: name, label: name }));
  const signalTypes: Option[] = options
    ? options.signal_types.map((value) => ({ value, label: signalTypeLabel(value) }))
    : SIGNAL_TYPE_OPTIONS;
  const leftover = unclaimed(errors, RULE_FIELDS);
  const c = form.conditions;

  return (
    <section className="alerts-editor" aria-labelledby={headingId}>
      <div className="alerts-section-head">
        <h2 id={headingId}>{existing ? `Edit rule: ${existing.name}` : "New alert rule"}</h2>
        <Link to="?tab=rules">Back to the rules</Link>
      </div>
      <div className="alerts-editor-grid">
        <form className="stack" data-testid="rule-form" aria-labelledby={headingId} onSubmit={submit} noValidate>
          {(errors.general || leftover.length > 0) && (
            <div className="form-error alerts-form-errors" role="alert">
              {errors.general && <p>{errors.general}</p>}
              {leftover.map((line) => (
                <p key={line}>{line}</p>
              ))}
            </div>
          )}

          <Fieldset legend="Rule">
            <div className="grid-2">
              <Field label="Name" messages={[...msg("rule_name"), ...msg("name")]}>
                {(props) => (
                  <input {...props} value={form.name} onChange={(e) => change({ name: e.target.value })} required maxLength={200} />
                )}
              </Field>
              <Field label="Type" messages={msg("rule_type")}>
                {(props) => (
                  <select
                    {...props}
                    value={form.rule_type}
                    onChange={(e) => change({ rule_type: e.target.value as RuleForm["rule_type"] })}
                  >
                    {Object.entries(RULE_TYPE_LABELS).map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {existing ? (
                <p className="muted alerts-team-note">
                  Covers: {form.team ? `team ${form.team}'s leads` : "every team's leads"}
                </p>
              ) : isManager ? (
                <p className="muted alerts-team-note">Covers your team&apos;s leads{form.team && ` (${form.team})`}.</p>
              ) : (
                <Field label="Covers the leads of" messages={msg("team")}>
                  {(props) => (
                    <select {...props} value={form.team} onChange={(e) => change({ team: e.target.value })}>
                      <option value="">Every team</option>
                      {teams.map((team) => (
                        <option key={team.id} value={team.name}>
                          {team.name}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              )}
              <label className="ff-check alerts-enabled">
                <input type="checkbox" checked={form.enabled} onChange={(e) => change({ enabled: e.target.checked })} />
                Enabled
              </label>
            </div>
          </Fieldset>

          <Fieldset legend="Delivery">
            <CheckboxGroup
              legend="Channels"
              options={ALERT_CHANNEL_OPTIONS}
              value={form.channels}
              onChange={(channels) => change({ channels })}
              messages={[...msg("alert_channels"), ...msg("channels")]}
              hint="Webhooks go to the subscriptions set up under Admin → Webhooks."
            />
            <Field label="Alert priority" messages={msg("priority")}>
              {(props) => (
                <select
                  {...props}
                  value={form.priority}
                  onChange={(e) => change({ priority: e.target.value as RuleForm["priority"] })}
                >
                  <option value="">The signal&apos;s own priority</option>
                  {PRIORITIES.map((p) => (
                    <option key={p} value={p}>
                      {PRIORITY_LABELS[p]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <fieldset className="ff-group" aria-describedby={msg("recipients").length ? "rule-recipients-error" : undefined}>
              <legend>Recipients</legend>
              <div className="ff-checks">
                {(
                  [
                    ["owner", "The lead's owner (assignee, else the team in turn)"],
                    ["manager", "The team's manager"],
                    ["named", "Named people or teams"],
                  ] as const
                ).map(([value, label]) => (
                  <label key={value} className="ff-check">
                    <input
                      type="radio"
                      name="recipients_to"
                      value={value}
                      checked={form.recipients_to === value}
                      onChange={() => change({ recipients_to: value })}
                    />
                    {label}
                  </label>
                ))}
              </div>
              <FieldMessages id="rule-recipients-error" messages={[...msg("recipients"), ...msg("recipients.to")]} />
              {form.recipients_to === "named" && (
                <div className="grid-2">
                  <TokenInput
                    label="People (usernames)"
                    value={form.recipient_users}
                    onChange={(recipient_users) => change({ recipient_users })}
                    suggestions={userOptions}
                    messages={msg("recipients.users")}
                  />
                  <TokenInput
                    label="Teams (the next member in turn)"
                    value={form.recipient_teams}
                    onChange={(recipient_teams) => change({ recipient_teams })}
                    suggestions={teamOptions}
                    messages={msg("recipients.teams")}
                  />
                </div>
              )}
            </fieldset>
          </Fieldset>

          <Fieldset legend="Conditions" hint="Every condition you fill in must hold; leave one empty to ignore it.">
            <FieldMessages id="rule-conditions-error" messages={msg("conditions")} />
            <CheckboxGroup
              legend="Signal types (none ticked: every type)"
              options={signalTypes}
              value={c.signal_types}
              onChange={(signal_types) => changeCondition({ signal_types })}
              messages={msg("conditions.signal_types")}
            />
            <div className="alerts-grid-3">
              <NumberField
                label="Minimum score (0–100)"
                value={c.min_score}
                min={0}
                max={100}
                onChange={(min_score) => changeCondition({ min_score })}
                messages={msg("conditions.min_score")}
              />
              <Field label="Minimum priority" messages={msg("conditions.min_priority")}>
                {(props) => (
                  <select {...props} value={c.min_priority} onChange={(e) => changeCondition({ min_priority: e.target.value })}>
                    <option value="">Any</option>
                    {[...PRIORITIES].reverse().map((p) => (
                      <option key={p} value={p}>
                        {PRIORITY_LABELS[p]} and up
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <NumberField
                label="Minimum confidence (0–1)"
                value={c.min_confidence}
                min={0}
                max={1}
                step={0.05}
                onChange={(min_confidence) => changeCondition({ min_confidence })}
                messages={msg("conditions.min_confidence")}
              />
            </div>
            <div className="grid-2">
              <TokenInput
                label="Portfolios"
                value={c.portfolios}
                onChange={(portfolios) => changeCondition({ portfolios })}
                suggestions={portfolioOptions}
                messages={msg("conditions.portfolios")}
              />
              <TokenInput
                label="Lead's team"
                value={c.teams}
                onChange={(teams) => changeCondition({ teams })}
                suggestions={teamOptions}
                messages={msg("conditions.teams")}
              />
              <TokenInput
                label="Assigned to (usernames)"
                value={c.assignees}
                onChange={(assignees) => changeCondition({ assignees })}
                suggestions={userOptions}
                messages={msg("conditions.assignees")}
              />
              <TokenInput
                label="Evidence sources"
                value={c.sources}
                onChange={(sources) => changeCondition({ sources })}
                suggestions={sourceOptions}
                messages={msg("conditions.sources")}
              />
            </div>
            <CheckboxGroup
              legend="Lead status (none ticked: any)"
              options={LEAD_STATUS_OPTIONS}
              value={c.lead_statuses}
              onChange={(lead_statuses) => changeCondition({ lead_statuses })}
              messages={msg("conditions.lead_statuses")}
            />
            <div className="alerts-grid-4">
              <NumberField
                label="Balance at least"
                value={c.balance_min}
                min={0}
                step={0.01}
                onChange={(balance_min) => changeCondition({ balance_min })}
                messages={msg("conditions.balance_min")}
              />
              <NumberField
                label="Balance at most"
                value={c.balance_max}
                min={0}
                step={0.01}
                onChange={(balance_max) => changeCondition({ balance_max })}
                messages={msg("conditions.balance_max")}
              />
              <NumberField
                label="Days delinquent at least"
                value={c.days_delinquent_min}
                min={0}
                onChange={(days_delinquent_min) => changeCondition({ days_delinquent_min })}
                messages={msg("conditions.days_delinquent_min")}
              />
              <NumberField
                label="Days delinquent at most"
                value={c.days_delinquent_max}
                min={0}
                onChange={(days_delinquent_max) => changeCondition({ days_delinquent_max })}
                messages={msg("conditions.days_delinquent_max")}
              />
            </div>
            <div className="alerts-grid-3">
              <NumberField
                label="Event at most this many days old"
                value={c.max_event_age_days}
                min={0}
                onChange={(max_event_age_days) => changeCondition({ max_event_age_days })}
                messages={msg("conditions.max_event_age_days")}
              />
            </div>
          </Fieldset>

          {/* On phones the dry run sits below the form: its count also rides along at the bottom of the screen. */}
          <p className="alerts-dry-run-mini" aria-hidden="true">
            {dryRun.data && !dryRun.isError
              ? `Dry run: would have matched ${dryRun.data.matched} of the last ${dryRun.data.tested} signals`
              : "Dry run: checking…"}
          </p>
          <div className="row alerts-form-actions">
            <button type="submit" className="button button-primary" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save rule"}
            </button>
            <Link className="button" to="?tab=rules">
              Cancel
            </Link>
            {existing && (
              <button type="button" className="button button-danger alerts-delete" onClick={() => setConfirmDelete(true)}>
                Delete rule
              </button>
            )}
          </div>
        </form>
        <DryRunPanel
          result={dryRun.data}
          pending={dryRun.isPending}
          fetching={dryRun.isFetching || probe !== debounced}
          problem={
            !dryRun.isError
              ? null
              : Object.keys(dryErrors.fields).length > 0
                ? "Fix the conditions marked in the form to see what they match."
                : `The dry run failed: ${dryRun.error.message}`
          }
        />
      </div>
      {existing && (
        <ConfirmDialog
          open={confirmDelete}
          onOpenChange={setConfirmDelete}
          title={`Delete the rule "${existing.name}"?`}
          confirmLabel="Delete rule"
          onConfirm={() => remove.mutate()}
          busy={remove.isPending}
          error={remove.isError ? remove.error.message : null}
        >
          <p>Signals stop alerting through this rule. Alerts it already made stay in people&apos;s inboxes.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function DryRunPanel({
  result,
  pending,
  fetching,
  problem,
}: {
  result: Schemas["DryRunResult"] | undefined;
  pending: boolean;
  fetching: boolean;
  problem: string | null;
}) {
  const headingId = useId();
  return (
    <aside className="card alerts-dry-run" aria-labelledby={headingId} aria-busy={fetching}>
      <h3 id={headingId}>Dry run</h3>
      <p
        className="alerts-dry-run-count"
        data-testid="rule-dry-run-count"
        data-state={problem ? "invalid" : pending || !result ? "loading" : fetching ? "updating" : "ready"}
        aria-live="polite"
      >
        {problem ? (
          problem
        ) : pending || !result ? (
          "Checking…"
        ) : (
          <>
            Would have matched <strong>{result.matched}</strong> of the last {result.tested} signals
          </>
        )}
      </p>
      <p className="muted alerts-dry-run-note">
        {fetching && !pending ? "Updating…" : "Nothing is sent by a dry run."}
      </p>
      {result && !problem && result.matches.length > 0 && (
        <ul className="alerts-dry-run-list" aria-label="Signals it would have matched">
          {result.matches.slice(0, 8).map((match) => (
            <li key={match.signal_id}>
              <PriorityBadge priority={match.priority} /> {signalTypeLabel(match.type)} · score {match.score}
              <div className="muted">
                {formatDateTime(match.detected_at)} · <Link to={`/leads/${match.lead_id}`}>Open lead</Link>
              </div>
            </li>
          ))}
          {result.matches.length > 8 && <li className="muted">…and {result.matches.length - 8} more</li>}
        </ul>
      )}
    </aside>
  );
}

function Fieldset({ legend, hint, children }: { legend: string; hint?: string; children: ReactNode }) {
  return (
    <fieldset className="card alerts-fieldset">
      <legend>{legend}</legend>
      {hint && <p className="ff-hint">{hint}</p>}
      <div className="stack">{children}</div>
    </fieldset>
  );
}

type InputProps = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

function Field({
  label,
  messages,
  children,
}: {
  label: string;
  messages: readonly string[];
  children: (props: InputProps) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="alerts-field">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...invalidProps(errorId, messages) })}
      <FieldMessages id={errorId} messages={messages} />
    </div>
  );
}

function NumberField({
  label,
  value,
  onChange,
  messages,
  min,
  max,
  step,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  messages: readonly string[];
  min?: number;
  max?: number;
  step?: number;
}) {
  return (
    <Field label={label} messages={messages}>
      {(props) => (
        <input
          {...props}
          type="number"
          inputMode="decimal"
          value={value}
          min={min}
          max={max}
          step={step ?? 1}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
