// The match review queue: each pending match with the profile's fields and the lead's side by side, agreed and
// disagreed fields marked (in words and with a sign, not by colour alone), the score, and Approve / Reject. A
// decision takes the match off the list at once (restored if the API refuses), then the queue is read again
// (approving one candidate closes the others for that profile).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { fieldLabel, formatDateTime, formatPercent } from "@/features/leads/format";
import { compareRows, otherFields } from "./compare";

type Match = Schemas["MatchRead"];
type Queue = Schemas["MatchPage"];
type Decision = "approve" | "reject";

export const reviewKeys = {
  matches: ["review", "matches"] as const,
  duplicates: ["review", "duplicates"] as const,
  merges: ["review", "merges"] as const,
  lowConfidence: ["review", "low-confidence"] as const,
};

/** The link, if it is a web address: a URL scraped from elsewhere must not run script (javascript:) when clicked. */
export function safeUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function MatchesTab() {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<{ tone: "ok" | "danger"; text: string } | null>(null);
  const queue = useQuery({
    queryKey: reviewKeys.matches,
    queryFn: async () => unwrap(await api.GET("/api/v1/matches/review", { params: { query: { limit: 50 } } })),
  });
  const decide = useMutation({
    mutationFn: async ({ match, decision }: { match: Match; decision: Decision }) => {
      const path = { params: { path: { match_id: match.id } } };
      return unwrap(
        decision === "approve"
          ? await api.POST("/api/v1/matches/{match_id}/approve", path)
          : await api.POST("/api/v1/matches/{match_id}/reject", path),
      );
    },
    onMutate: async ({ match }) => {
      setMessage(null);
      await queryClient.cancelQueries({ queryKey: reviewKeys.matches });
      const previous = queryClient.getQueryData<Queue>(reviewKeys.matches);
      queryClient.setQueryData<Queue>(reviewKeys.matches, (old) =>
        old ? { ...old, items: old.items.filter((item) => item.id !== match.id), total: Math.max(old.total - 1, 0) } : old,
      );
      return { previous };
    },
    onError: (error, { match }, context) => {
      if (context?.previous) queryClient.setQueryData(reviewKeys.matches, context.previous);
      setMessage({ tone: "danger", text: `Could not decide on ${match.profile_name ?? "the profile"}: ${error.message}` });
    },
    onSuccess: (result, { match, decision }) => {
      const who = `${match.profile_name ?? "The profile"} → ${match.lead_name}`;
      setMessage({
        tone: "ok",
        text:
          decision === "approve"
            ? `Approved ${who}: ${result.observations_linked} ${result.observations_linked === 1 ? "snapshot" : "snapshots"} linked, ` +
              `${result.signals_created} new ${result.signals_created === 1 ? "signal" : "signals"}.`
            : `Rejected ${who}: this profile will not be linked to that lead again.`,
      });
      void queryClient.invalidateQueries({ queryKey: ["leads"] });
      void queryClient.invalidateQueries({ queryKey: ["signals"] });
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: reviewKeys.matches }),
  });

  const items = queue.data?.items ?? [];
  return (
    <section className="stack" aria-label="Match review queue">
      <p className="muted review-intro">
        Profiles the linker was not sure about. Approve links the profile to the lead (its signals follow); Reject
        remembers that it is someone else.
      </p>
      <div role="status" aria-live="polite">
        {message && <p className={message.tone}>{message.text}</p>}
      </div>
      {queue.isPending ? (
        <Loading what="Loading the review queue" />
      ) : queue.isError ? (
        <ErrorState error={queue.error} retry={() => void queue.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="Nothing to review.">New uncertain matches appear here after each ingest.</Empty>
      ) : (
        <>
          {queue.data && queue.data.total > items.length && (
            <p className="muted">
              Showing {items.length} of {queue.data.total}, best score first.
            </p>
          )}
          <ul className="review-list">
            {items.map((match) => (
              <MatchCard
                key={match.id}
                match={match}
                busy={decide.isPending && decide.variables?.match.id === match.id}
                onDecide={(decision) => decide.mutate({ match, decision })}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function MatchCard({ match, busy, onDecide }: { match: Match; busy: boolean; onDecide: (decision: Decision) => void }) {
  const headingId = useId();
  const rows = compareRows(match);
  const others = otherFields(match);
  const profileUrl = safeUrl(match.profile_url);
  return (
    <li className="card review-card" data-testid="review-match" data-match-id={match.id}>
      <article aria-labelledby={headingId} className="stack">
        <header className="row review-card-head">
          <h2 id={headingId} className="review-title">
            {match.profile_name ?? "Unnamed profile"} <span aria-hidden="true">↔</span>
            <span className="visually-hidden"> may be </span> {match.lead_name}
          </h2>
          <span className="review-score" title="Probability that the profile is the lead">
            {formatPercent(match.score)} likely
          </span>
        </header>
        <div className="table-wrap" role="region" aria-label={`Comparison: ${match.profile_name ?? "profile"} and ${match.lead_name}`} tabIndex={0}>
          <table className="table review-compare">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">
                  Profile{" "}
                  {profileUrl && (
                    <a href={profileUrl} target="_blank" rel="noopener noreferrer">
                      open<span className="visually-hidden"> the profile (new tab)</span>
                    </a>
                  )}
                </th>
                <th scope="col">
                  Lead <Link to={`/leads/${match.lead_id}`}>{match.lead_external_id}</Link>
                </th>
                <th scope="col">Compared</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.label} className={row.verdict ? `review-${row.verdict}` : undefined}>
                  <th scope="row">{row.label}</th>
                  <td>{row.profile ?? <span className="muted">—</span>}</td>
                  <td>{row.lead ?? <span className="muted">—</span>}</td>
                  <td>
                    {row.verdict === "agreed" ? (
                      <span className="review-verdict">
                        <span aria-hidden="true">✓ </span>Agrees
                      </span>
                    ) : row.verdict === "disagreed" ? (
                      <span className="review-verdict">
                        <span aria-hidden="true">✗ </span>Differs
                      </span>
                    ) : (
                      <span className="muted">not compared</span>
                    )}
                    {row.how.length > 0 && <span className="muted review-how"> ({row.how.join("; ")})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {others.length > 0 && (
          <ul className="review-others" aria-label="Other fields compared">
            {others.map((entry) => (
              <li key={`${entry.agrees}-${entry.field}`} className={entry.agrees ? "review-chip-agreed" : "review-chip-disagreed"}>
                <span aria-hidden="true">{entry.agrees ? "✓" : "✗"} </span>
                <span className="visually-hidden">{entry.agrees ? "Agrees: " : "Differs: "}</span>
                {fieldLabel(entry.field)}: {entry.how}
              </li>
            ))}
          </ul>
        )}
        {match.profile_headline && <p className="muted review-headline">Headline: {match.profile_headline}</p>}
        <footer className="row review-actions">
          <span className="muted review-seen">
            Seen {formatDateTime(match.observed_at)} · {match.method}
          </span>
          <button
            type="button"
            className="button button-primary"
            disabled={busy}
            aria-describedby={headingId}
            onClick={() => onDecide("approve")}
          >
            Approve
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            aria-describedby={headingId}
            onClick={() => onDecide("reject")}
          >
            Reject
          </button>
        </footer>
      </article>
    </li>
  );
}
