// Low-confidence texts: posts and news whose classifier guess is an event, but below that type's confidence
// threshold, so no signal was made. A person says what each one reports ("Yes", another type, or not an event):
// the text leaves the list at once (restored if the API refuses), becomes a training example, and an event label
// makes the signal.
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatPercent } from "@/features/leads/format";
import { typeLabel } from "@/features/signals/labels";
import { SIGNAL_TYPES, type SignalTypeValue } from "@/lib/urlFilters";
import { reviewKeys, safeUrl } from "./MatchesTab";

type Text = Schemas["LowConfidenceRead"];
type Pages = InfiniteData<Schemas["LowConfidencePage"], string | null>;
// portal_engagement is raised by consented portal behaviour, never read from a text: no label of the classifier.
type PersonEventType = Exclude<SignalTypeValue, `intent_${string}` | "portal_engagement">;

// The classifier labels texts about a person; company intents are read elsewhere, and the API refuses them here.
const PERSON_EVENT_TYPES = SIGNAL_TYPES.filter(
  (type): type is PersonEventType => !type.startsWith("intent_") && type !== "portal_engagement",
);
const NOT_AN_EVENT = "none";
const PAGE_SIZE = 50;
const labelMutationKey = [...reviewKeys.lowConfidence, "label"] as const;

function labelInWords(label: string): string {
  return label === NOT_AN_EVENT ? "not an event" : typeLabel(label).toLowerCase();
}

function headingIdOf(text: Text): string {
  return `low-confidence-${text.observation_id}`;
}

function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^www\./, "");
}

export function LowConfidenceTab() {
  const queryClient = useQueryClient();
  const [guess, setGuess] = useState<PersonEventType | null>(null);
  const [message, setMessage] = useState<{ tone: "ok" | "danger"; text: string } | null>(null);
  const filterRef = useRef<HTMLSelectElement>(null);
  const texts = useInfiniteQuery({
    queryKey: [...reviewKeys.lowConfidence, guess ?? "any"],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/v1/signals/low-confidence", {
          params: { query: { label: guess ?? undefined, limit: PAGE_SIZE, cursor: pageParam ?? undefined } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
  });
  const labelText = useMutation({
    mutationKey: labelMutationKey,
    mutationFn: async ({ text, label }: { text: Text; label: string }) =>
      unwrap(
        await api.POST("/api/v1/signals/low-confidence/{observation_id}/label", {
          params: { path: { observation_id: text.observation_id } },
          body: { label },
        }),
      ),
    onMutate: async ({ text }) => {
      setMessage(null);
      // Every cached filter may hold the text: take it out of all of them.
      await queryClient.cancelQueries({ queryKey: reviewKeys.lowConfidence });
      const previous = queryClient.getQueriesData<Pages>({ queryKey: reviewKeys.lowConfidence });
      queryClient.setQueriesData<Pages>({ queryKey: reviewKeys.lowConfidence }, (old) =>
        old
          ? {
              ...old,
              pages: old.pages.map((page) => ({
                ...page,
                items: page.items.filter((item) => item.observation_id !== text.observation_id),
              })),
            }
          : old,
      );
      return { previous };
    },
    onError: (error, { text }, context) => {
      for (const [key, data] of context?.previous ?? []) queryClient.setQueryData(key, data);
      setMessage({ tone: "danger", text: `Could not label the text about ${text.lead_name}: ${error.message}` });
    },
    onSuccess: (result, { text }) => {
      const outcome =
        result.label === NOT_AN_EVENT
          ? ""
          : result.signals_created > 0
            ? ` — signal made for ${text.lead_name}`
            : " — no new signal";
      setMessage({ tone: "ok", text: `Labelled: ${labelInWords(result.label)}${outcome}.` });
      if (result.signals_created > 0) void queryClient.invalidateQueries({ queryKey: ["signals"] });
    },
    onSettled: () => {
      // Read the list again only when the last label is answered: an earlier refetch would bring back texts
      // whose labels are still on their way.
      if (queryClient.isMutating({ mutationKey: labelMutationKey }) === 1) {
        void queryClient.invalidateQueries({ queryKey: reviewKeys.lowConfidence });
      }
    },
  });

  const items = texts.data?.pages.flatMap((page) => page.items) ?? [];

  function submitLabel(text: Text, value: string) {
    // The labelled row disappears: keyboard focus goes on to the next text (or the filter when none is left).
    const index = items.findIndex((item) => item.observation_id === text.observation_id);
    const neighbour = items[index + 1] ?? items[index - 1];
    const target = neighbour ? document.getElementById(headingIdOf(neighbour)) : filterRef.current;
    target?.focus();
    labelText.mutate({ text, label: value });
  }

  return (
    <section className="stack" aria-label="Low-confidence texts">
      <p className="muted review-intro">
        Posts and news that look like an event, but not surely enough to make a signal. Say what each one reports:
        your answer trains the model, and an event makes its signal.
      </p>
      <label className="review-filter">
        Guessed type
        <select
          ref={filterRef}
          value={guess ?? ""}
          onChange={(event) => setGuess((event.target.value || null) as PersonEventType | null)}
        >
          <option value="">Any type</option>
          {PERSON_EVENT_TYPES.map((type) => (
            <option key={type} value={type}>
              {typeLabel(type)}
            </option>
          ))}
        </select>
      </label>
      <div role="status" aria-live="polite">
        {message && <p className={message.tone}>{message.text}</p>}
      </div>
      {texts.isPending ? (
        <Loading what="Loading low-confidence texts" />
      ) : texts.isError ? (
        <ErrorState error={texts.error} retry={() => void texts.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="Nothing to label.">
          {guess
            ? `No unsure "${typeLabel(guess)}" guesses. Choose "Any type" to see the others.`
            : "Texts the classifier is unsure about appear here after each ingest."}
        </Empty>
      ) : (
        <>
          <ul className="review-list">
            {items.map((text) => (
              <TextCard key={text.observation_id} text={text} onLabel={(value) => submitLabel(text, value)} />
            ))}
          </ul>
          {texts.hasNextPage && (
            <button
              type="button"
              className="button review-more"
              disabled={texts.isFetchingNextPage}
              onClick={() => void texts.fetchNextPage()}
            >
              {texts.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function TextCard({ text, onLabel }: { text: Text; onLabel: (label: string) => void }) {
  const headingId = headingIdOf(text);
  const selectId = `${headingId}-other`;
  const [other, setOther] = useState("");
  const sourceUrl = safeUrl(text.url);
  const guess = typeLabel(text.best_label);
  // A separate Save rather than labelling on change: arrowing through a closed select must not send a label.
  const submitOther = (event: FormEvent) => {
    event.preventDefault();
    if (other) onLabel(other);
  };
  return (
    <li className="card review-card" data-testid="low-confidence-text" data-observation-id={text.observation_id}>
      <article aria-labelledby={headingId} className="stack">
        <header className="row review-card-head">
          <h2 id={headingId} className="review-title" tabIndex={-1}>
            <Link to={`/leads/${text.lead_id}`}>{text.lead_name}</Link>
          </h2>
          <span className="review-score" title="The classifier's confidence, below this type's threshold">
            {guess}? {formatPercent(text.confidence)} sure
          </span>
        </header>
        <blockquote className="review-snippet">{text.snippet}</blockquote>
        <footer className="row review-actions">
          <span className="muted review-seen">
            Seen <time dateTime={text.observed_at}>{formatDateTime(text.observed_at)}</time>
            {sourceUrl && (
              <>
                {" · "}
                <a href={sourceUrl} target="_blank" rel="noopener noreferrer">
                  {hostOf(sourceUrl)}
                  <span className="visually-hidden"> (the source, new tab)</span>
                </a>
              </>
            )}
          </span>
          <button
            type="button"
            className="button button-primary"
            aria-describedby={headingId}
            onClick={() => onLabel(text.best_label)}
          >
            Yes, {guess.toLowerCase()}
          </button>
          <form className="row review-relabel" onSubmit={submitOther}>
            <label htmlFor={selectId} className="visually-hidden">
              Something else: what the text about {text.lead_name} reports
            </label>
            <select id={selectId} value={other} onChange={(event) => setOther(event.target.value)}>
              <option value="">Something else…</option>
              {PERSON_EVENT_TYPES.filter((type) => type !== text.best_label).map((type) => (
                <option key={type} value={type}>
                  {typeLabel(type)}
                </option>
              ))}
            </select>
            <button type="submit" className="button" disabled={!other} aria-describedby={headingId}>
              Save
            </button>
          </form>
          <button type="button" className="button" aria-describedby={headingId} onClick={() => onLabel(NOT_AN_EVENT)}>
            Not an event
          </button>
        </footer>
      </article>
    </li>
  );
}
