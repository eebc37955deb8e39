// "New experiment" (administrators): POST /api/v1/experiments with the name, description, control share (10% by
// default), the population (portfolios, states, minimum days delinquent; none: every lead not in another running
// experiment), the conversion window (90 days by default) and the planned end. The experiment is created as a
// draft: starting it is a separate, confirmed step. The API's field errors (422) sit next to their fields; a name
// that exists (409) is said above the form.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "@/api/client";
import { CheckboxGroup, Modal, TokenInput } from "@/components/formFields";
import { usePortfolios } from "@/features/leads/queries";
import { formErrors, messagesFor, NO_ERRORS } from "@/lib/fieldErrors";
import { experimentKeys, type Experiment, type ExperimentCreate } from "./api";
import { Field, FormProblems } from "./ui";

export interface ExperimentForm {
  name: string;
  description: string;
  /** Percent, as typed ("10"). */
  controlShare: string;
  portfolios: string[];
  states: string[];
  minDaysDelinquent: string;
  conversionDays: string;
  /** YYYY-MM-DD: the experiment's horizon ends at the end of that day, in the viewer's zone. */
  plannedEnd: string;
}

function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function emptyForm(now: Date = new Date()): ExperimentForm {
  const end = new Date(now.getTime());
  end.setDate(end.getDate() + 180); // a 90-day window needs the leads' follow-up too
  return {
    name: "",
    description: "",
    controlShare: "10",
    portfolios: [],
    states: [],
    minDaysDelinquent: "",
    conversionDays: "90",
    plannedEnd: isoDay(end),
  };
}

/** A typed number, or undefined when empty (the API's default applies); NaN passes through for the API to refuse. */
function typedNumber(value: string): number | undefined {
  return value.trim() === "" ? undefined : Number(value);
}

/** The request body for the form (exported for tests). */
export function experimentBody(form: ExperimentForm): ExperimentCreate {
  const share = typedNumber(form.controlShare);
  const days = typedNumber(form.conversionDays);
  const minDays = typedNumber(form.minDaysDelinquent);
  const population: NonNullable<ExperimentCreate["population"]> = {};
  if (form.portfolios.length) population.portfolios = form.portfolios;
  if (form.states.length) population.states = form.states.map((state) => state.trim().toUpperCase());
  if (minDays !== undefined) population.min_days_delinquent = minDays;
  const body: ExperimentCreate = {
    name: form.name.trim(),
    // The end of the chosen day where the viewer is (an empty date is sent as typed: the API says it is missing).
    planned_end: form.plannedEnd ? new Date(`${form.plannedEnd}T23:59:59`).toISOString() : "",
    population,
  } as ExperimentCreate;
  if (form.description.trim()) body.description = form.description.trim();
  if (share !== undefined) body.control_share = Math.round(share * 100) / 10_000; // 10 (%) → 0.1
  if (days !== undefined) body.conversion_days = days;
  return body;
}

const KNOWN = [
  "name",
  "description",
  "control_share",
  "population.portfolios",
  "population.states",
  "population.min_days_delinquent",
  "conversion_days",
  "planned_end",
];

export function NewExperimentDialog({
  open,
  onOpenChange,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (experiment: Experiment) => void;
}) {
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="New experiment" wide>
      {/* Mounted only while open: a new dialog starts from an empty form. */}
      {open && <NewExperimentForm onCancel={() => onOpenChange(false)} onCreated={onCreated} />}
    </Modal>
  );
}

function NewExperimentForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (experiment: Experiment) => void }) {
  const queryClient = useQueryClient();
  const portfolios = usePortfolios();
  const [form, setForm] = useState<ExperimentForm>(() => emptyForm());
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/experiments", { body: experimentBody(form) })),
    onSuccess: async (experiment) => {
      await queryClient.invalidateQueries({ queryKey: experimentKeys.all });
      onCreated(experiment);
    },
  });
  const errors = create.isError ? formErrors(create.error) : NO_ERRORS;
  const set = (patch: Partial<ExperimentForm>) => setForm((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!create.isPending) create.mutate();
  };
  const portfolioOptions = (portfolios.data ?? []).map((portfolio) => ({ value: portfolio.name, label: portfolio.name }));
  return (
    <form className="stack" onSubmit={submit} noValidate data-testid="experiment-form">
      <FormProblems errors={errors} known={KNOWN} />
      <div className="xp-form-grid">
        <Field label="Name" name="name" errors={errors} hint="Unique, e.g. timing-2027">
          {(props) => (
            <input {...props} name="name" value={form.name} maxLength={120} autoComplete="off" required onChange={(e) => set({ name: e.target.value })} />
          )}
        </Field>
        <Field label="Planned end" name="planned_end" errors={errors} hint="The fixed horizon: the analysis is final then">
          {(props) => (
            <input {...props} type="date" name="planned_end" value={form.plannedEnd} required onChange={(e) => set({ plannedEnd: e.target.value })} />
          )}
        </Field>
        <Field label="Control share (%)" name="control_share" errors={errors} hint="Held out in every stratum; under 50%">
          {(props) => (
            <input
              {...props}
              type="number"
              name="control_share"
              inputMode="decimal"
              min={1}
              max={49}
              step="any"
              value={form.controlShare}
              onChange={(e) => set({ controlShare: e.target.value })}
            />
          )}
        </Field>
        <Field label="Conversion window (days)" name="conversion_days" errors={errors} hint="A payment within this many days of assignment">
          {(props) => (
            <input
              {...props}
              type="number"
              name="conversion_days"
              inputMode="numeric"
              min={7}
              max={730}
              value={form.conversionDays}
              onChange={(e) => set({ conversionDays: e.target.value })}
            />
          )}
        </Field>
      </div>
      <Field label="Description" name="description" errors={errors}>
        {(props) => (
          <textarea {...props} name="description" rows={2} maxLength={2000} value={form.description} onChange={(e) => set({ description: e.target.value })} />
        )}
      </Field>
      <fieldset className="xp-population">
        <legend>Population</legend>
        <p className="ff-hint">Every condition given must hold. None: every lead not merged away and not in another running experiment.</p>
        {portfolios.isError ? (
          <p className="form-error">Could not load the portfolios.</p>
        ) : (
          <CheckboxGroup
            legend="Portfolios"
            options={portfolioOptions}
            value={form.portfolios}
            onChange={(next) => set({ portfolios: next })}
            messages={messagesFor(errors, "population.portfolios")}
            hint={portfolios.isPending ? "Loading the portfolios…" : portfolioOptions.length === 0 ? "No portfolios yet." : "None ticked: every portfolio."}
            testId="experiment-portfolios"
          />
        )}
        <div className="xp-form-grid">
          <TokenInput
            label="States"
            value={form.states}
            onChange={(next) => set({ states: next.map((state) => state.toUpperCase()) })}
            messages={messagesFor(errors, "population.states")}
            hint="USPS codes (TX, CA); none: every state"
            placeholder="Type a code, then Enter"
          />
          <Field label="Minimum days delinquent" name="population.min_days_delinquent" errors={errors} hint="Empty: any">
            {(props) => (
              <input
                {...props}
                type="number"
                name="min_days_delinquent"
                inputMode="numeric"
                min={0}
                value={form.minDaysDelinquent}
                onChange={(e) => set({ minDaysDelinquent: e.target.value })}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <div className="row ff-dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create experiment"}
        </button>
      </div>
    </form>
  );
}
