// One signal in the feed: who, what happened, the evidence, the score (its breakdown on hover or tap), what the
// contact guard says now in the borrower's local time, and the actions the user's role allows.
import * as Popover from "@radix-ui/react-popover";
import { forwardRef, memo, useState, type CSSProperties, type FocusEvent } from "react";
import { Link } from "react-router-dom";
import { PriorityBadge } from "@/components/states";
import { formatDateTime, formatDay, localTimeIn, timeAgo } from "@/lib/time";
import type { Signal } from "./feedCache";
import { HoldoutBadge } from "./HoldoutBadge";
import { FACTOR_LABELS, OUTCOME_LABELS, ACTION_LABELS, DISMISS_LABELS, STATUS_LABELS, refusalText, typeLabel } from "./labels";
import type { GuardAnswer } from "./useGuardAnswers";
import type { CardError } from "./useSignalActions";

export type DialogKind = "action" | "outcome" | "dismiss" | "feedback";

interface Props {
  signal: Signal;
  index: number;
  /** The number of cards in the feed; -1 while more may load. */
  setSize: number;
  style?: CSSProperties;
  guard: GuardAnswer | undefined;
  guardFailed: boolean;
  canAct: boolean;
  error: CardError | undefined;
  busy: boolean;
  arrived: boolean;
  now: Date;
  onAcknowledge: (signal: Signal) => void;
  onOpen: (kind: DialogKind, signal: Signal) => void;
  onDismissError: (id: string) => void;
  onFocusCard: (index: number) => void;
}

function ScoreBreakdown({ signal }: { signal: Signal }) {
  // Open while hovered, or pinned by a click, tap or Enter; Escape or a click elsewhere closes it. Focus stays on
  // the button (the breakdown has nothing to operate).
  const [hover, setHover] = useState(false);
  const [pinned, setPinned] = useState(false);
  const breakdown = signal.score_breakdown ?? {};
  const rows: (readonly [string, number])[] = FACTOR_LABELS.filter(([key]) => key in breakdown).map(
    ([key, label]) => [label, breakdown[key] ?? 0] as const,
  );
  for (const key of Object.keys(breakdown)) {
    if (!FACTOR_LABELS.some(([known]) => known === key)) rows.push([key, breakdown[key] ?? 0]);
  }
  return (
    <Popover.Root
      open={hover || pinned}
      onOpenChange={(open) => {
        if (!open) {
          setPinned(false);
          setHover(false);
        }
      }}
    >
      <Popover.Trigger asChild>
        <button
          type="button"
          className="feed-score"
          aria-label={`Score ${signal.score} of 100: show breakdown`}
          onMouseEnter={() => setHover(true)}
          onMouseLeave={() => setHover(false)}
          onClick={(event) => {
            event.preventDefault(); // Radix's own toggle would close what hovering opened
            if (pinned) setHover(false);
            setPinned(!pinned);
          }}
        >
          <span className="feed-score-value">{signal.score}</span>
          <span className="feed-score-unit" aria-hidden="true">
            score
          </span>
        </button>
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content
          className="feed-popover"
          side="bottom"
          align="end"
          sideOffset={6}
          collisionPadding={8}
          onOpenAutoFocus={(event) => event.preventDefault()}
          onCloseAutoFocus={(event) => event.preventDefault()}
          onMouseEnter={() => setHover(true)}
          onMouseLeave={() => setHover(false)}
          aria-label="Score breakdown"
        >
          <p className="feed-popover-title">Score {signal.score}: points per factor</p>
          <table className="feed-breakdown">
            <tbody>
              {rows.map(([label, points]) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  <td className={points < 0 ? "feed-negative" : undefined}>
                    {points > 0 ? "+" : points < 0 ? "−" : ""}
                    {Math.abs(points).toFixed(1)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Popover.Arrow className="feed-popover-arrow" />
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}

function Guard({ guard, failed, now }: { guard: GuardAnswer | undefined; failed: boolean; now: Date }) {
  if (!guard) {
    return (
      <p className="feed-guard muted" data-testid="signal-guard">
        {failed ? "Contact rules could not be checked" : "Checking contact rules…"}
      </p>
    );
  }
  const local = localTimeIn(guard.lead_timezone, now);
  const tone = guard.restricted_by.length > 0 ? "danger" : guard.phrase.endsWith(" now") ? "ok" : "warn";
  return (
    <p className="feed-guard" data-testid="signal-guard">
      <span className={`feed-guard-phrase ${tone}`}>{guard.phrase}</span>
      {local && <span className="muted"> · their time {local}</span>}
    </p>
  );
}

export const SignalCard = memo(
  forwardRef<HTMLElement, Props>(function SignalCard(props, ref) {
    const { signal, index, setSize, style, guard, guardFailed, canAct, error, busy, arrived, now } = props;
    const titleId = `signal-${signal.id}-title`;
    const evidenceList = signal.evidence ?? [];
    const evidence = evidenceList[0];
    const snippet = evidence?.snippet ?? signal.evidence_snippet;
    const url = evidence?.url ?? signal.evidence_url;
    const what = [signal.title, signal.organization].filter(Boolean).join(" at ");
    const open = signal.status === "new" || signal.status === "acknowledged";
    const onFocus = (event: FocusEvent<HTMLElement>) => {
      if (event.currentTarget.contains(event.target)) props.onFocusCard(index);
    };
    return (
      <article
        ref={ref}
        data-index={index}
        data-testid="signal-card"
        data-signal-id={signal.id}
        data-lead-id={signal.lead_id}
        data-status={signal.status}
        aria-labelledby={titleId}
        aria-posinset={index + 1}
        aria-setsize={setSize}
        style={style}
        tabIndex={-1}
        className={`card feed-card feed-status-${signal.status}${arrived ? " feed-card-arrived" : ""}`}
        onFocus={onFocus}
      >
        <div className="feed-card-head">
          <div className="feed-card-titles">
            <h2 id={titleId} className="feed-card-title">
              <PriorityBadge priority={signal.priority} />
              <span>
                {typeLabel(signal.type)}
                {what && <span className="feed-card-what">: {what}</span>}
              </span>
            </h2>
            <p className="feed-card-lead">
              <Link to={`/leads/${signal.lead_id}`}>{signal.lead_name}</Link>{" "}
              <span className="muted">· {signal.lead_external_id}</span>
              {signal.holdout && <> <HoldoutBadge holdout={signal.holdout} /></>}
            </p>
          </div>
          <ScoreBreakdown signal={signal} />
        </div>

        <p className="feed-card-meta muted">
          {signal.effective_date && <>Event {formatDay(signal.effective_date)} · </>}
          Detected <time dateTime={signal.detected_at} title={formatDateTime(signal.detected_at)}>
            {formatDateTime(signal.detected_at)} ({timeAgo(signal.detected_at, now)})
          </time>
          {" · "}
          <span className={`feed-status feed-status-label-${signal.status}`}>{STATUS_LABELS[signal.status] ?? signal.status}</span>
          {signal.action && <> · {ACTION_LABELS[signal.action] ?? signal.action}</>}
          {signal.outcome && <> · {OUTCOME_LABELS[signal.outcome] ?? signal.outcome}</>}
          {signal.dismiss_reason && <> · {DISMISS_LABELS[signal.dismiss_reason] ?? signal.dismiss_reason}</>}
          {signal.escalation_level > 0 && <> · <span className="danger">Escalated (level {signal.escalation_level})</span></>}
        </p>

        {(snippet || url) && (
          <blockquote className="feed-evidence">
            {snippet && <p>{snippet}</p>}
            {url && (
              <footer>
                <a href={url} target="_blank" rel="noopener noreferrer nofollow">
                  Source{evidence?.source ? `: ${evidence.source}` : ""}
                  <span className="visually-hidden"> (opens in a new tab)</span>
                </a>
                {evidenceList.length > 1 && <span className="muted"> · {evidenceList.length} sources</span>}
              </footer>
            )}
          </blockquote>
        )}

        <Guard guard={guard} failed={guardFailed} now={now} />

        {error && (
          <div className="feed-card-error" role="alert">
            <span>{error.refusal ? refusalText(error.refusal, guard?.lead_timezone, now) : error.message}</span>
            <button type="button" className="feed-link-button" onClick={() => props.onDismissError(signal.id)}>
              Hide message
            </button>
          </div>
        )}

        {canAct && (
          <div className="feed-actions" role="group" aria-label="Actions">
            <button
              type="button"
              className="button button-primary"
              disabled={busy || signal.status !== "new"}
              onClick={() => props.onAcknowledge(signal)}
            >
              Acknowledge
            </button>
            <button
              type="button"
              className="button"
              disabled={busy || !(open || signal.status === "actioned")}
              onClick={() => props.onOpen("action", signal)}
            >
              Record action
            </button>
            <button
              type="button"
              className="button"
              disabled={busy || !(signal.status === "actioned" || (signal.status === "resolved" && signal.outcome !== "wrong_person"))}
              onClick={() => props.onOpen("outcome", signal)}
            >
              Record outcome
            </button>
            <button type="button" className="button button-danger" disabled={busy || !open} onClick={() => props.onOpen("dismiss", signal)}>
              Dismiss
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => props.onOpen("feedback", signal)}>
              Correct type
            </button>
          </div>
        )}
      </article>
    );
  }),
);
