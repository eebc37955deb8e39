// Acting on a signal from the feed: optimistic (the card changes at once), rolled back with the API's message
// when it refuses (a contact the guard refuses answers 409 with its reasons and the next allowed time).
// The API has no way back from acknowledged or dismissed, so there is no "Undo": the dismiss dialog asks first.
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { api, ApiError, unwrap } from "@/api/client";
import { ANSWERS_ROOT, FEED_ROOT, optimistic, replaceSignal, type Change, type FeedData, type Signal } from "./feedCache";

export interface Refusal {
  channel: string | null;
  reasons: string[];
  nextAllowedAt: string | null;
}

export interface CardError {
  message: string;
  /** Set when the contact guard refused (409 with reasons). */
  refusal: Refusal | null;
}

interface Variables {
  signal: Signal;
  change: Change;
}

interface Context {
  /** Per cached list, the signal as it was before (a rollback restores only this signal, so that another
   * card's change made meanwhile stays). */
  before: [QueryKey, Signal][];
}

async function send({ signal, change }: Variables): Promise<Signal> {
  const path = { params: { path: { signal_id: signal.id } } };
  switch (change.kind) {
    case "acknowledge":
      return unwrap(await api.POST("/api/v1/signals/{signal_id}/acknowledge", path));
    case "action":
      return unwrap(await api.POST("/api/v1/signals/{signal_id}/action", { ...path, body: change.body }));
    case "outcome":
      return unwrap(await api.POST("/api/v1/signals/{signal_id}/outcome", { ...path, body: change.body }));
    case "dismiss":
      return unwrap(await api.POST("/api/v1/signals/{signal_id}/dismiss", { ...path, body: change.body }));
    case "feedback":
      return unwrap(await api.POST("/api/v1/signals/{signal_id}/feedback", { ...path, body: change.body })).signal;
  }
}

/** The guard's refusal in an API error (409 with reasons), or null. */
export function refusalOf(error: unknown): Refusal | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const body = error.body as { reasons?: unknown; channel?: unknown; next_allowed_at?: unknown } | null;
  if (!body || !Array.isArray(body.reasons) || body.reasons.length === 0) return null;
  return {
    channel: typeof body.channel === "string" ? body.channel : null,
    reasons: body.reasons.map(String),
    nextAllowedAt: typeof body.next_allowed_at === "string" ? body.next_allowed_at : null,
  };
}

export function useSignalActions() {
  const queryClient = useQueryClient();
  const [errors, setErrors] = useState<Record<string, CardError>>({});
  const [pending, setPending] = useState<Record<string, Change["kind"]>>({});

  const setError = useCallback((id: string, error: CardError | null) => {
    setErrors((current) => {
      if (!error && !(id in current)) return current;
      const next = { ...current };
      if (error) next[id] = error;
      else delete next[id];
      return next;
    });
  }, []);

  const mutation = useMutation<Signal, unknown, Variables, Context>({
    mutationFn: send,
    onMutate: async ({ signal, change }) => {
      setError(signal.id, null);
      setPending((current) => ({ ...current, [signal.id]: change.kind }));
      await queryClient.cancelQueries({ queryKey: FEED_ROOT });
      const before: [QueryKey, Signal][] = [];
      for (const [key, data] of queryClient.getQueriesData<FeedData>({ queryKey: FEED_ROOT })) {
        const found = data?.pages.flatMap((page) => page.items).find((item) => item.id === signal.id);
        if (found) before.push([key, found]);
      }
      queryClient.setQueriesData<FeedData>({ queryKey: FEED_ROOT }, (data) =>
        replaceSignal(data, signal.id, (current) => optimistic(current, change)),
      );
      return { before };
    },
    onError: (error, { signal }, context) => {
      for (const [key, previous] of context?.before ?? []) {
        queryClient.setQueryData<FeedData>(key, (data) => replaceSignal(data, signal.id, () => previous));
      }
      setError(signal.id, {
        message: error instanceof Error ? error.message : "The change was not saved",
        refusal: refusalOf(error),
      });
    },
    onSuccess: (saved) => {
      queryClient.setQueriesData<FeedData>({ queryKey: FEED_ROOT }, (data) => replaceSignal(data, saved.id, () => saved));
    },
    onSettled: (_saved, _error, { signal, change }) => {
      setPending((current) => {
        const next = { ...current };
        delete next[signal.id];
        return next;
      });
      // A contact (or its outcome) changes what the guard answers for the lead.
      if (change.kind === "action" || change.kind === "outcome") {
        void queryClient.invalidateQueries({ queryKey: ANSWERS_ROOT });
      }
    },
  });

  const { mutateAsync } = mutation;
  const run = useCallback(
    (signal: Signal, change: Change) => mutateAsync({ signal, change }).then(
      () => true,
      () => false,
    ),
    [mutateAsync],
  );

  const clearError = useCallback((id: string) => setError(id, null), [setError]);
  return { run, errors, pending, clearError };
}
