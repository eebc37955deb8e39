// Assign (or unassign) one or many leads: POST /api/v1/leads/assign, one transaction, each change audited.
// Managers and admins only (the page shows the trigger to them; the API refuses the others).
import * as Dialog from "@radix-ui/react-dialog";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, errorMessage, unwrap, type Schemas } from "@/api/client";
import { leadKeys, useAssignees } from "./queries";

/** The API's limit of leads per assignment. */
export const MAX_ASSIGN = 500;
const UNASSIGN = "__nobody__";

export function AssignDialog({
  leadIds,
  open,
  onOpenChange,
  onDone,
  title,
}: {
  leadIds: readonly string[];
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onDone?: (result: Schemas["LeadAssignResult"], assignee: string | null) => void;
  title?: string;
}) {
  const queryClient = useQueryClient();
  const assignees = useAssignees(open);
  const [choice, setChoice] = useState("");
  const selectId = useId();
  const errorId = useId();
  const tooMany = leadIds.length > MAX_ASSIGN;
  const assign = useMutation({
    mutationFn: async (assignee: string | null) =>
      unwrap(await api.POST("/api/v1/leads/assign", { body: { lead_ids: [...leadIds], assignee } })),
    onSuccess: async (result, assignee) => {
      await queryClient.invalidateQueries({ queryKey: leadKeys.all });
      onDone?.(result, assignee);
      onOpenChange(false);
      setChoice("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!choice || tooMany) return;
    assign.mutate(choice === UNASSIGN ? null : choice);
  };
  const count = leadIds.length;
  const what = count === 1 ? "1 lead" : `${count.toLocaleString()} leads`;
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(next) => {
        if (!next) assign.reset();
        onOpenChange(next);
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className="leads-dialog-overlay" />
        <Dialog.Content className="leads-dialog card" aria-describedby={undefined}>
          <Dialog.Title>{title ?? `Assign ${what}`}</Dialog.Title>
          <form className="stack" onSubmit={submit} data-testid="assign-form">
            <label htmlFor={selectId}>
              Assign to
              <select
                id={selectId}
                value={choice}
                onChange={(event) => setChoice(event.target.value)}
                required
                aria-invalid={assign.isError || undefined}
                aria-describedby={assign.isError || tooMany ? errorId : undefined}
                disabled={assignees.isPending}
              >
                <option value="" disabled>
                  {assignees.isPending ? "Loading people…" : "Choose a person"}
                </option>
                <option value={UNASSIGN}>Nobody (unassign)</option>
                {(assignees.data ?? []).map((person) => (
                  <option key={person.id} value={person.username}>
                    {person.full_name ? `${person.full_name} (${person.username})` : person.username}
                    {person.team_name ? ` · ${person.team_name}` : ""} · {person.role}
                  </option>
                ))}
              </select>
            </label>
            <p className="muted leads-hint">
              The leads move to the person's team when they have one. Every change is recorded in each lead's audit
              trail.
            </p>
            {assignees.isError && <p className="form-error">Could not load people: {errorMessage(assignees.error)}</p>}
            {(assign.isError || tooMany) && (
              <p className="form-error" id={errorId} role="alert">
                {tooMany
                  ? `At most ${MAX_ASSIGN} leads at once: ${count.toLocaleString()} are selected.`
                  : assign.error instanceof Error
                    ? assign.error.message
                    : "Could not assign"}
              </p>
            )}
            <div className="row leads-dialog-actions">
              <Dialog.Close asChild>
                <button type="button" className="button">
                  Cancel
                </button>
              </Dialog.Close>
              <button
                type="submit"
                className="button button-primary"
                disabled={!choice || tooMany || assign.isPending}
              >
                {assign.isPending ? "Assigning…" : choice === UNASSIGN ? "Unassign" : "Assign"}
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
