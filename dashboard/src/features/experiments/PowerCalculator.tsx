// How many leads an experiment needs: GET /api/v1/experiments/power (a two-sided test of two proportions) for a
// base conversion rate, the relative lift to detect, the power and the control share, all typed in percent. The
// answer's sentence and its numbers (control, treatment, total) are shown; a refused value is said at its field.
import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { formErrors, NO_ERRORS } from "@/lib/fieldErrors";
import { experimentKeys, fetchPower, type PowerQuery } from "./api";
import { formatCount } from "./report";
import { Field, FormProblems } from "./ui";

interface PowerForm {
  baseRate: string;
  lift: string;
  power: string;
  controlShare: string;
}

const DEFAULTS: PowerForm = { baseRate: "5", lift: "20", power: "80", controlShare: "10" };

/** Percent as typed → the API's share (5 → 0.05); exported for tests. */
export function powerQuery(form: PowerForm): PowerQuery {
  const share = (value: string) => Math.round(Number(value) * 10_000) / 1_000_000;
  return {
    base_rate: share(form.baseRate),
    relative_lift: share(form.lift),
    power: share(form.power),
    control_share: share(form.controlShare),
  };
}

const KNOWN = ["base_rate", "relative_lift", "power", "control_share"];

export function PowerCalculator() {
  const headingId = useId();
  const [form, setForm] = useState<PowerForm>(DEFAULTS);
  const [asked, setAsked] = useState<PowerQuery | null>(null);
  const answer = useQuery({
    queryKey: experimentKeys.power(asked ?? powerQuery(DEFAULTS)),
    queryFn: () => fetchPower(asked!),
    enabled: asked !== null,
    staleTime: Infinity,
  });
  const errors = answer.isError ? formErrors(answer.error) : NO_ERRORS;
  const set = (patch: Partial<PowerForm>) => setForm((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked(powerQuery(form));
  };
  const percent = (label: string, key: keyof PowerForm, name: string, hint: string, min: number, max: number) => (
    <Field label={label} name={name} errors={errors} hint={hint}>
      {(props) => (
        <input
          {...props}
          type="number"
          name={name}
          inputMode="decimal"
          step="any"
          min={min}
          max={max}
          value={form[key]}
          onChange={(e) => set({ [key]: e.target.value })}
        />
      )}
    </Field>
  );
  return (
    <section className="card stack xp-power" aria-labelledby={headingId} data-testid="power-calculator">
      <h2 id={headingId}>How many leads? (power)</h2>
      <p className="muted xp-intro">
        The leads an experiment needs to detect a lift in conversion (a payment within the window), for a two-sided
        test at 5% significance.
      </p>
      <form className="stack" onSubmit={submit} noValidate aria-label="Power calculator">
        <FormProblems errors={errors} known={KNOWN} />
        <div className="xp-form-grid xp-form-grid-4">
          {percent("Base conversion rate (%)", "baseRate", "base_rate", "Without alerts, e.g. 5", 0, 100)}
          {percent("Lift to detect (%)", "lift", "relative_lift", "Relative: 20 = a fifth more", 0, 1000)}
          {percent("Power (%)", "power", "power", "The chance of seeing it: 80 or 90", 50, 100)}
          {percent("Control share (%)", "controlShare", "control_share", "Held out, e.g. 10", 0, 50)}
        </div>
        <div className="row">
          <button type="submit" className="button button-primary" disabled={answer.isFetching}>
            {answer.isFetching ? "Calculating…" : "Calculate"}
          </button>
        </div>
      </form>
      <div aria-live="polite" data-testid="power-answer">
        {answer.isSuccess && (
          <div className="stack xp-power-answer">
            <p className="xp-power-sentence">{answer.data.sentence}</p>
            <dl className="xp-facts">
              <div>
                <dt>Control leads</dt>
                <dd>{formatCount(answer.data.control)}</dd>
              </div>
              <div>
                <dt>Treatment leads</dt>
                <dd>{formatCount(answer.data.treatment)}</dd>
              </div>
              <div>
                <dt>Total</dt>
                <dd>{formatCount(answer.data.total)}</dd>
              </div>
            </dl>
          </div>
        )}
      </div>
    </section>
  );
}
