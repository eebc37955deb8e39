// Duplicate leads: pairs the dedupe model takes for one person, with the fields that agreed and disagreed. Merge
// folds the second lead into the first (its history moves; the merge can be undone exactly); "Not the same person"
// remembers the pair is two people. Recent merges are listed with Undo.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatPercent } from "@/features/leads/format";
import { actorLabel } from "@/features/leads/labels";
import { Explanation } from "@/features/leads/LeadActivity";
import { reviewKeys } from "./MatchesTab";

type Pair = Schemas["DuplicateRead"];
type Merge = Schemas["LeadMergeRead"];
type Duplicates = Schemas["DuplicateList"];

function pairKey(pair: Pick<Pair, "survivor_id" | "merged_id">): string {
  return `${pair.survivor_id}:${pair.merged_id}`;
}

export function DuplicatesTab() {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ tone: "ok" | "danger"; text: string } | null>(null);
  const duplicates = useQuery({
    queryKey: reviewKeys.duplicates,
    queryFn: async () => unwrap(await api.GET("/api/v1/leads/duplicates")),
  });
  const merges = useQuery({
    queryKey: reviewKeys.merges,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/leads/merges", { params: { query: { status: "applied", limit: 20 } } })),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: reviewKeys.duplicates });
    void queryClient.invalidateQueries({ queryKey: reviewKeys.merges });
    void queryClient.invalidateQueries({ queryKey: ["leads"] });
  };

  const decide = useMutation({
    mutationFn: async ({ pair, decision }: { pair: Pair; decision: "apply" | "reject" }) =>
      unwrap(
        await api.POST("/api/v1/leads/merges", {
          body: { survivor_id: pair.survivor_id, merged_id: pair.merged_id, decision },
        }),
      ),
    onMutate: async ({ pair }) => {
      setMessage(null);
      await queryClient.cancelQueries({ queryKey: reviewKeys.duplicates });
      const previous = queryClient.getQueryData<Duplicates>(reviewKeys.duplicates);
      queryClient.setQueryData<Duplicates>(reviewKeys.duplicates, (old) =>
        old
          ? { ...old, items: old.items.filter((item) => pairKey(item) !== pairKey(pair)), total: Math.max(old.total - 1, 0) }
          : old,
      );
      return { previous };
    },
    onError: (error, _vars, context) => {
      if (context?.previous) queryClient.setQueryData(reviewKeys.duplicates, context.previous);
      setMessage({ tone: "danger", text: `Could not do that: ${error.message}` });
    },
    onSuccess: (_merge, { pair, decision }) =>
      setMessage({
        tone: "ok",
        text:
          decision === "apply"
            ? `Merged ${pair.merged_name} (${pair.merged_external_id}) into ${pair.survivor_name} (${pair.survivor_external_id}). Undo it below if that was wrong.`
            : `${pair.survivor_name} and ${pair.merged_name} are kept as two people.`,
      }),
    onSettled: refresh,
  });

  const undo = useMutation({
    mutationFn: async (merge: Merge) =>
      unwrap(await api.POST("/api/v1/leads/merges/{merge_id}/undo", { params: { path: { merge_id: merge.id } } })),
    onSuccess: (_result, merge) =>
      setMessage({
        tone: "ok",
        text: `Undone: ${merge.merged_name ?? "the merged lead"} is a lead of its own again, with its history.`,
      }),
    onError: (error) => setMessage({ tone: "danger", text: `Could not undo: ${error.message}` }),
    onSettled: refresh,
  });

  const pairs = duplicates.data?.items ?? [];
  const applied = merges.data?.items ?? [];
  return (
    <div className="stack">
      <div role="status" aria-live="polite">
        {message && <p className={message.tone}>{message.text}</p>}
      </div>
      <section className="stack" aria-labelledby="review-duplicates-heading">
        <h2 id="review-duplicates-heading">Probable duplicates</h2>
        {duplicates.isPending ? (
          <Loading what="Looking for duplicate leads" />
        ) : duplicates.isError ? (
          <ErrorState error={duplicates.error} retry={() => void duplicates.refetch()} />
        ) : pairs.length === 0 ? (
          <Empty title="No duplicate leads found.">
            Pairs scoring at least {formatPercent(duplicates.data.threshold)} show here.
          </Empty>
        ) : (
          <ul className="review-list">
            {pairs.map((pair) => (
              <PairCard
                key={pairKey(pair)}
                pair={pair}
                busy={decide.isPending && decide.variables && pairKey(decide.variables.pair) === pairKey(pair)}
                onDecide={(decision) => decide.mutate({ pair, decision })}
              />
            ))}
          </ul>
        )}
      </section>

      <section className="card stack" aria-labelledby="review-merges-heading">
        <h2 id="review-merges-heading">Recent merges</h2>
        {merges.isPending ? (
          <Loading what="Loading recent merges" />
        ) : merges.isError ? (
          <ErrorState error={merges.error} retry={() => void merges.refetch()} />
        ) : applied.length === 0 ? (
          <p className="muted">No merges to undo.</p>
        ) : (
          <ul className="review-merges">
            {applied.map((merge) => {
              const describedBy = `merge-${merge.id}`;
              return (
                <li key={merge.id} className="row" data-testid="review-merge" data-merge-id={merge.id}>
                  <span id={describedBy} className="review-merge-text">
                    <strong>{merge.merged_name ?? merge.merged_id}</strong>
                    {merge.merged_external_id ? ` (${merge.merged_external_id})` : ""} into{" "}
                    <Link to={`/leads/${merge.survivor_id}`}>{merge.survivor_name ?? merge.survivor_id}</Link>
                    {merge.survivor_external_id ? ` (${merge.survivor_external_id})` : ""}
                    <span className="muted">
                      {" "}
                      · {merge.applied_at ? formatDateTime(merge.applied_at) : ""} by {actorLabel(merge.applied_by)}
                    </span>
                  </span>
                  <button
                    type="button"
                    className="button"
                    aria-describedby={describedBy}
                    disabled={undo.isPending && undo.variables?.id === merge.id}
                    onClick={() => undo.mutate(merge)}
                  >
                    Undo
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}

function PairCard({
  pair,
  busy,
  onDecide,
}: {
  pair: Pair;
  busy: boolean | undefined;
  onDecide: (decision: "apply" | "reject") => void;
}) {
  const headingId = useId();
  return (
    <li
      className="card review-card"
      data-testid="review-duplicate"
      data-survivor-id={pair.survivor_id}
      data-merged-id={pair.merged_id}
    >
      <article className="stack" aria-labelledby={headingId}>
        <header className="row review-card-head">
          <h3 id={headingId} className="review-title">
            {pair.survivor_name} <span className="muted">and</span> {pair.merged_name}
          </h3>
          <span className="review-score">{formatPercent(pair.score)} likely one person</span>
        </header>
        <div className="review-pair">
          <div>
            <p className="review-role">Keeps</p>
            <Link to={`/leads/${pair.survivor_id}`}>{pair.survivor_name}</Link>{" "}
            <span className="muted">{pair.survivor_external_id}</span>
          </div>
          <div>
            <p className="review-role">Merged into it</p>
            <Link to={`/leads/${pair.merged_id}`}>{pair.merged_name}</Link>{" "}
            <span className="muted">{pair.merged_external_id}</span>
          </div>
        </div>
        <Explanation agreed={pair.agreed} disagreed={pair.disagreed} />
        <p className="muted review-seen">Portfolio {pair.portfolio}</p>
        <footer className="row review-actions">
          <button
            type="button"
            className="button button-primary"
            disabled={busy}
            aria-describedby={headingId}
            onClick={() => onDecide("apply")}
          >
            Merge
          </button>
          <button
            type="button"
            className="button"
            disabled={busy}
            aria-describedby={headingId}
            onClick={() => onDecide("reject")}
          >
            Not the same person
          </button>
        </footer>
      </article>
    </li>
  );
}
