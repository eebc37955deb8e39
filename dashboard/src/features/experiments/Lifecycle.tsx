// Start and End (administrators), each asked first: starting assigns the population to arms (stratified, by a keyed
// hash) and holds the control group out — their signals are not alerted or worked — while ending releases it. A
// refusal (409: not a draft, not running) is said in the dialog.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { ConfirmDialog } from "@/components/formFields";
import { experimentKeys, type Experiment, type ExperimentStart } from "./api";
import { formatCount } from "./report";

/** "1,234 leads assigned: 123 control, 1,111 treatment, in 8 strata." (and who was skipped). */
export function startSummary(name: string, result: ExperimentStart): string {
  const skipped = result.skipped_in_other_experiments
    ? ` ${formatCount(result.skipped_in_other_experiments)} skipped (in another running experiment).`
    : "";
  return (
    `${name} started: ${formatCount(result.assigned)} ${result.assigned === 1 ? "lead" : "leads"} assigned — ` +
    `${formatCount(result.control)} control, ${formatCount(result.treatment)} treatment, in ` +
    `${formatCount(result.strata)} ${result.strata === 1 ? "stratum" : "strata"}.${skipped}`
  );
}

export function LifecycleButtons({
  experiment,
  onDone,
}: {
  experiment: Experiment;
  /** What happened, for the page's announcement. */
  onDone: (message: string) => void;
}) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState<"start" | "end" | null>(null);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: experimentKeys.all });
  };
  const start = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/experiments/{experiment_id}/start", { params: { path: { experiment_id: experiment.id } } }),
      ),
    onSuccess: async (result) => {
      setAsking(null);
      onDone(startSummary(experiment.name, result));
      await refresh();
    },
  });
  const end = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/experiments/{experiment_id}/end", { params: { path: { experiment_id: experiment.id } } })),
    onSuccess: async () => {
      setAsking(null);
      onDone(`${experiment.name} ended: its control group is released (their signals are worked as usual again).`);
      await refresh();
    },
  });
  const close = (open: boolean) => {
    if (open) return;
    setAsking(null);
    start.reset();
    end.reset();
  };
  if (experiment.status === "ended") return null;
  return (
    <>
      {experiment.status === "draft" && (
        <button type="button" className="button button-primary" onClick={() => setAsking("start")} aria-label={`Start ${experiment.name}`}>
          Start
        </button>
      )}
      {experiment.status === "running" && (
        <button type="button" className="button button-danger" onClick={() => setAsking("end")} aria-label={`End ${experiment.name}`}>
          End
        </button>
      )}
      <ConfirmDialog
        open={asking === "start"}
        onOpenChange={close}
        title={`Start ${experiment.name}?`}
        confirmLabel="Start experiment"
        danger={false}
        busy={start.isPending}
        error={start.isError ? start.error.message : null}
        onConfirm={() => start.mutate()}
      >
        <p>
          Every lead of the population is assigned now: {Math.round(experiment.control_share * 100)}% of each stratum
          becomes the control group. Until the experiment ends, control leads&apos; signals are recorded but{" "}
          <strong>not alerted, pushed or worked</strong>. The assignment cannot be undone.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={asking === "end"}
        onOpenChange={close}
        title={`End ${experiment.name}?`}
        confirmLabel="End experiment"
        busy={end.isPending}
        error={end.isError ? end.error.message : null}
        onConfirm={() => end.mutate()}
      >
        <p>
          The control group is released: their later signals are alerted and worked as usual. The results so far stay
          in the report. An ended experiment cannot be restarted.
        </p>
      </ConfirmDialog>
    </>
  );
}
