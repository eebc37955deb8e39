// The feed (home page): the signals the user may see, newest or highest-scored first, filtered from the URL,
// loaded page by page as the reader scrolls (only the cards on screen are in the DOM), new ones arriving live.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { api, ApiError, unwrap } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { filtersToParams, filtersToQuery, parseFilters, type FeedFilters as Filters } from "@/lib/urlFilters";
import { feedKey, flatten, type Change, type Signal } from "./feedCache";
import { FeedFilters } from "./FeedFilters";
import { SignalCard, type DialogKind } from "./SignalCard";
import { ShortcutsDialog, SignalDialog } from "./SignalDialogs";
import { useGuardAnswers } from "./useGuardAnswers";
import { useLiveFeed } from "./useLiveFeed";
import { useSignalActions } from "./useSignalActions";
import "./feed.css";

const PAGE_SIZE = 50;
const GAP = 12;

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return !!target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"], [role="dialog"]');
}

function useNow(everyMs: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function FeedPage() {
  const user = useUser();
  const canAct = hasRole(user, "admin", "manager", "agent");
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseFilters(params), [params]);
  const query = useMemo(() => filtersToQuery(filters), [filters]);
  const setFilters = useCallback(
    (next: Filters, options?: { replace?: boolean }) =>
      setParams((current) => filtersToParams(next, current), { replace: options?.replace ?? false }),
    [setParams],
  );

  const feed = useInfiniteQuery({
    queryKey: feedKey(query),
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/v1/signals", {
          params: { query: { ...query, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // Pages are never refetched behind the reader's back (that would move cards); new signals come live.
    staleTime: Infinity,
  });
  const items = useMemo(() => flatten(feed.data), [feed.data]);
  const guard = useGuardAnswers(feed.data);
  const actions = useSignalActions();
  const now = useNow(30_000);

  const listRef = useRef<HTMLDivElement>(null);
  const [listTop, setListTop] = useState(0);
  useLayoutEffect(() => {
    const measure = () => {
      if (listRef.current) setListTop(listRef.current.getBoundingClientRect().top + window.scrollY);
    };
    measure();
    const observer = new ResizeObserver(measure);
    if (listRef.current?.parentElement) observer.observe(listRef.current.parentElement);
    window.addEventListener("resize", measure);
    return () => {
      observer.disconnect();
      window.removeEventListener("resize", measure);
    };
  }, [feed.status]);
  const isAtTop = useCallback(() => window.scrollY <= Math.max(0, listTop - 16) + 48, [listTop]);
  const live = useLiveFeed({ query, ready: feed.isSuccess, isAtTop });

  const virtualizer = useWindowVirtualizer({
    count: items.length,
    estimateSize: () => 270,
    overscan: 6,
    gap: GAP,
    scrollMargin: listTop,
    getItemKey: (index) => items[index]?.id ?? index,
  });
  const virtualItems = virtualizer.getVirtualItems();

  // Infinite scroll: the next page when the last cards come near.
  const lastIndex = virtualItems[virtualItems.length - 1]?.index ?? -1;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = feed;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= items.length - 8) void fetchNextPage();
  }, [lastIndex, items.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // The focused card (j/k) and the open dialog.
  const [active, setActive] = useState<number | null>(null);
  const [dialog, setDialog] = useState<{ kind: DialogKind; signal: Signal } | null>(null);
  const [help, setHelp] = useState(false);

  const focusCard = useCallback(
    (index: number) => {
      if (index < 0 || index >= items.length) return;
      setActive(index);
      virtualizer.scrollToIndex(index, { align: "auto" });
      let tries = 0;
      const attempt = () => {
        const card = listRef.current?.querySelector<HTMLElement>(`[data-testid="signal-card"][data-index="${index}"]`);
        if (card) {
          card.focus({ preventScroll: true });
          card.scrollIntoView({ block: "nearest" });
        } else if (tries++ < 20) {
          requestAnimationFrame(attempt);
        }
      };
      requestAnimationFrame(attempt);
    },
    [items.length, virtualizer],
  );

  const { run } = actions;
  const acknowledge = useCallback((signal: Signal) => void run(signal, { kind: "acknowledge" }), [run]);
  const openDialog = useCallback((kind: DialogKind, signal: Signal) => setDialog({ kind, signal }), []);
  const submit = useCallback((signal: Signal, change: Change) => void run(signal, change), [run]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (dialog || help || isTyping(event.target)) return;
      const current = active !== null ? items[active] : undefined;
      switch (event.key) {
        case "j":
          event.preventDefault();
          focusCard(active === null ? 0 : Math.min(active + 1, items.length - 1));
          break;
        case "k":
          event.preventDefault();
          focusCard(active === null ? 0 : Math.max(active - 1, 0));
          break;
        case "a":
          if (canAct && current?.status === "new") {
            event.preventDefault();
            acknowledge(current);
          }
          break;
        case "d":
          if (canAct && current && (current.status === "new" || current.status === "acknowledged")) {
            event.preventDefault();
            openDialog("dismiss", current);
          }
          break;
        case "?":
          event.preventDefault();
          setHelp(true);
          break;
        default:
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [active, items, dialog, help, canAct, focusCard, acknowledge, openDialog]);

  // The dialog's signal as it is now (an answer may have replaced it meanwhile).
  const dialogSignal = dialog ? (items.find((item) => item.id === dialog.signal.id) ?? dialog.signal) : null;

  const showPill = live.pending > 0;
  const reveal = () => {
    window.scrollTo({ top: 0 });
    live.reveal();
    requestAnimationFrame(() => focusCard(0));
  };

  let body;
  if (feed.isPending) {
    body = <Loading what="Loading signals" />;
  } else if (feed.isError) {
    const error = feed.error;
    body =
      error instanceof ApiError && error.status === 422 ? (
        <ErrorState error={new Error(`These filters cannot be used: ${error.message}`)} />
      ) : (
        <ErrorState error={error} retry={() => void feed.refetch()} />
      );
  } else if (items.length === 0) {
    const filtered = params.toString() !== "" && params.toString() !== "sort=score";
    body = (
      <Empty title={filtered ? "No signals match these filters." : "No signals yet."}>
        {filtered
          ? "Change or clear the filters above. New signals that match appear here as they arrive."
          : "Signals appear here as the sources find news about your leads: this page updates by itself."}
      </Empty>
    );
  }

  return (
    <div className="feed">
      <PageHeader title="Feed">
        <span className={`feed-live${live.live ? " feed-live-on" : ""}`}>
          <span className="feed-live-dot" aria-hidden="true" />
          {live.live ? "Live" : "Connecting…"}
        </span>
        <button type="button" className="button" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          Keyboard shortcuts
        </button>
      </PageHeader>

      <FeedFilters filters={filters} onChange={setFilters} />

      <p className="visually-hidden" aria-live="polite">
        {live.pending > 0 ? `${live.pending} new ${live.pending === 1 ? "signal" : "signals"}` : ""}
      </p>

      {showPill && (
        <button type="button" className="feed-pill" data-testid="new-signals-pill" onClick={reveal}>
          <span aria-hidden="true">↑ </span>
          {live.overflow ? "New signals" : `${live.pending} new`}
          <span className="visually-hidden"> — show them at the top</span>
        </button>
      )}

      {body ?? (
        <>
          <p className="feed-count muted">
            {items.length} {items.length === 1 ? "signal" : "signals"}
            {feed.hasNextPage ? " loaded; more as you scroll" : ""}
            {guard.failed ? " · contact rules could not be checked for some" : ""}
          </p>
          <div
            ref={listRef}
            role="feed"
            aria-label="Signals"
            aria-busy={feed.isFetchingNextPage}
            data-testid="feed-list"
            className="feed-list"
            style={{ height: virtualizer.getTotalSize() }}
          >
            {virtualItems.map((row) => {
              const signal = items[row.index];
              if (!signal) return null;
              return (
                <SignalCard
                  key={signal.id}
                  ref={virtualizer.measureElement}
                  style={{ transform: `translateY(${row.start - virtualizer.options.scrollMargin}px)` }}
                  index={row.index}
                  setSize={feed.hasNextPage ? -1 : items.length}
                  signal={signal}
                  guard={guard.answers.get(signal.lead_id)}
                  guardFailed={guard.failed}
                  canAct={canAct}
                  error={actions.errors[signal.id]}
                  busy={signal.id in actions.pending}
                  arrived={live.arrived.has(signal.id)}
                  now={now}
                  onAcknowledge={acknowledge}
                  onOpen={openDialog}
                  onDismissError={actions.clearError}
                  onFocusCard={setActive}
                />
              );
            })}
          </div>
          <div className="feed-end">
            {feed.isFetchingNextPage ? (
              <Loading what="Loading more signals" />
            ) : feed.hasNextPage ? (
              <button type="button" className="button" onClick={() => void feed.fetchNextPage()}>
                Load more signals
              </button>
            ) : (
              <p className="muted">That is all {items.length === 1 ? "there is" : `${items.length} signals`}.</p>
            )}
          </div>
        </>
      )}

      {dialog && dialogSignal && (
        <SignalDialog kind={dialog.kind} signal={dialogSignal} onClose={() => setDialog(null)} onSubmit={submit} />
      )}
      {help && <ShortcutsDialog onClose={() => setHelp(false)} />}
    </div>
  );
}
