// New signals without a reload. Two triggers: the live stream (GET /api/v1/stream: an alert about a signal means
// there is something new) and, because not every signal makes an alert, a poll every 4 s while the tab is
// visible. Each asks GET /api/v1/signals for what was detected since the newest signal seen (same filters,
// newest first): the "watermark". At the top of the list new signals slide in; further down they wait behind
// an "N new" pill, so the list never moves under the reader.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, getAccessToken, unwrap } from "@/api/client";
import { connectSse, type SseEvent } from "@/lib/sse";
import type { SignalsQuery } from "@/lib/urlFilters";
import { feedKey, flatten, mergeArrivals, type FeedData, type Signal } from "./feedCache";

export const POLL_MS = 4000;
const PAGE = 50;
const ARRIVED_MS = 2500;

interface Watermark {
  /** The newest detected_at seen (ISO), or null: nothing matches yet (the next poll takes everything). */
  at: string | null;
  /** Ids already seen (loaded, waiting or reported): a signal is new only once. */
  seen: Set<string>;
}

interface Options {
  query: SignalsQuery;
  /** The first page is in the cache (the watermark starts from it). */
  ready: boolean;
  /** Whether the reader is at the top of the list (new signals may then go in at once). */
  isAtTop: () => boolean;
  enabled?: boolean;
}

function later(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

export function useLiveFeed({ query, ready, isAtTop, enabled = true }: Options) {
  const queryClient = useQueryClient();
  const key = feedKey(query);
  const keyText = JSON.stringify(query);
  const [pending, setPending] = useState<Signal[]>([]);
  const [overflow, setOverflow] = useState(false);
  const [arrived, setArrived] = useState<ReadonlySet<string>>(new Set());
  const [live, setLive] = useState(false);
  const watermark = useRef<Watermark | null>(null);
  const polling = useRef(false);
  const again = useRef(false);
  const generation = useRef(0);
  const isAtTopRef = useRef(isAtTop);
  isAtTopRef.current = isAtTop;
  const queryRef = useRef(query);
  queryRef.current = query;

  const markArrived = useCallback((ids: string[]) => {
    if (ids.length === 0) return;
    setArrived((current) => new Set([...current, ...ids]));
    window.setTimeout(() => {
      setArrived((current) => {
        const next = new Set(current);
        for (const id of ids) next.delete(id);
        return next;
      });
    }, ARRIVED_MS);
  }, []);

  const merge = useCallback(
    (items: Signal[]) => {
      let added: string[] = [];
      queryClient.setQueryData<FeedData>(feedKey(queryRef.current), (data) => {
        // The feed offers newest first and highest score first (updated_at is the sync clients' order).
        const result = mergeArrivals(data, items, queryRef.current.sort === "score" ? "score" : "detected_at");
        added = result.added;
        return result.data;
      });
      markArrived(added);
    },
    [queryClient, markArrived],
  );

  // The watermark starts from the list as loaded (newest first), or from the newest matching signal when the
  // list is sorted by score.
  useEffect(() => {
    watermark.current = null;
    setPending([]);
    setOverflow(false);
    if (!ready || !enabled) return;
    const current = ++generation.current;
    const data = queryClient.getQueryData<FeedData>(key);
    const loaded = flatten(data);
    const seen = new Set(loaded.map((item) => item.id));
    if ((query.sort ?? "detected_at") === "detected_at") {
      watermark.current = { at: loaded[0]?.detected_at ?? null, seen };
      return;
    }
    void api
      .GET("/api/v1/signals", { params: { query: { ...query, sort: "detected_at", limit: 1 } } })
      .then(unwrap)
      .then((page) => {
        if (generation.current !== current) return;
        const newest = page.items[0];
        if (newest) seen.add(newest.id);
        watermark.current = { at: newest?.detected_at ?? null, seen };
      })
      .catch(() => {
        if (generation.current === current) watermark.current = { at: null, seen };
      });
  }, [keyText, ready, enabled, queryClient]); // keyText stands for query (a new object on every render)

  const poll = useCallback(async () => {
    const mark = watermark.current;
    if (!mark) return;
    if (polling.current) {
      again.current = true;
      return;
    }
    polling.current = true;
    const current = generation.current;
    try {
      const base = queryRef.current;
      const since = later(mark.at, base.since ?? null);
      const page = unwrap(
        await api.GET("/api/v1/signals", {
          params: { query: { ...base, sort: "detected_at", limit: PAGE, ...(since ? { since } : {}) } },
        }),
      );
      if (generation.current !== current) return;
      const fresh = page.items.filter((item) => !mark.seen.has(item.id));
      for (const item of fresh) mark.seen.add(item.id);
      mark.at = later(mark.at, page.items[0]?.detected_at ?? null);
      if (fresh.length === 0) return;
      const tooMany = page.next_cursor != null && fresh.length === page.items.length;
      if (isAtTopRef.current() && !tooMany) {
        merge(fresh);
      } else {
        setPending((waiting) => [...fresh, ...waiting]);
        if (tooMany) setOverflow(true);
      }
    } catch {
      // A failed poll is retried by the next tick.
    } finally {
      polling.current = false;
      if (again.current) {
        again.current = false;
        void poll();
      }
    }
  }, [merge]);

  /** Show what waits behind the pill (the page scrolls to the top first). */
  const reveal = useCallback(() => {
    if (overflow) {
      // More arrived than one poll carries: load the list afresh from the top.
      void queryClient.resetQueries({ queryKey: feedKey(queryRef.current), exact: true });
    } else {
      merge(pending);
    }
    setPending([]);
    setOverflow(false);
  }, [overflow, pending, merge, queryClient]);

  // The poll: every 4 s while the tab is visible, and at once when it becomes visible again.
  useEffect(() => {
    if (!enabled || !ready) return;
    let timer: number | undefined;
    const start = () => {
      window.clearInterval(timer);
      if (document.visibilityState === "visible") timer = window.setInterval(() => void poll(), POLL_MS);
    };
    const onVisibility = () => {
      start();
      if (document.visibilityState === "visible") void poll();
    };
    start();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [enabled, ready, poll]);

  // The live stream: an alert about a signal → poll now.
  useEffect(() => {
    if (!enabled) return;
    let soon: number | undefined;
    const connection = connectSse({
      url: "/api/v1/stream",
      getToken: getAccessToken,
      onStatus: setLive,
      onEvent: (event: SseEvent) => {
        if (event.event !== "alert.created" && event.event !== "alert.updated") return;
        try {
          const data = JSON.parse(event.data) as { signal_id?: string | null };
          if (!data.signal_id) return;
        } catch {
          return;
        }
        window.clearTimeout(soon);
        soon = window.setTimeout(() => void poll(), 150);
      },
    });
    return () => {
      window.clearTimeout(soon);
      connection.close();
    };
  }, [enabled, poll]);

  // Scrolled back to the top by hand: what waited goes in.
  useEffect(() => {
    if (pending.length === 0) return;
    const onScroll = () => {
      if (isAtTopRef.current()) reveal();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }, [pending.length, reveal]);

  return { pending: pending.length, overflow, reveal, arrived, live, pollNow: poll };
}
