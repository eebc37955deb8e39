// The contact guard's state per channel (call, text, e-mail) for one lead, from POST /api/v1/compliance/answers:
// allowed now, or when next (in the viewer's zone, with the borrower's local time next to it), or "do not contact"
// and why. Asked again every minute while the page is open (windows open and close with the clock).
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { ErrorState, Loading } from "@/components/states";
import { formatMoment, formatTime, isKnownZone } from "./format";
import { BLOCKING_REASONS, CHANNEL_LABELS, reasonLabel } from "./labels";

type Answer = Schemas["ContactAnswer"];
type ChannelAnswer = Schemas["ChannelAnswer"];
const CHANNELS = ["call", "sms", "email"] as const;

export function useContactAnswer(leadId: string) {
  return useQuery({
    queryKey: ["leads", "answers", leadId],
    queryFn: async () => {
      const result = unwrap(await api.POST("/api/v1/compliance/answers", { body: { lead_ids: [leadId] } }));
      return result.items[0] ?? null;
    },
    refetchInterval: 60_000,
    staleTime: 30_000,
  });
}

export interface ChannelView {
  tone: "ok" | "warn" | "danger";
  /** "Allowed now", "Not before …", "Do not contact". */
  headline: string;
  reasons: string[];
  /** The next allowed moment in the viewer's zone, and on the borrower's clock. */
  next: { viewer: string; borrower: string | null } | null;
}

/** How one channel's answer reads (exported for tests; `viewerZone` too). */
export function describeChannel(answer: ChannelAnswer, leadZone: string | null, viewerZone?: string): ChannelView {
  const reasons = answer.reasons.map(reasonLabel);
  if (answer.allowed) return { tone: "ok", headline: "Allowed now", reasons: [], next: null };
  if (answer.reasons.some((code) => BLOCKING_REASONS.has(code)) || !answer.next_allowed_at) {
    return { tone: "danger", headline: "Do not contact", reasons, next: null };
  }
  const at = answer.next_allowed_at;
  return {
    tone: "warn",
    headline: "Not now",
    reasons,
    next: {
      viewer: formatMoment(at, viewerZone),
      borrower: isKnownZone(leadZone) ? formatMoment(at, leadZone) : null,
    },
  };
}

export function ContactRules({ leadId, leadTimezone }: { leadId: string; leadTimezone: string | null }) {
  const answer = useContactAnswer(leadId);
  const headingId = useId();
  return (
    <section className="card stack lead-card" aria-labelledby={headingId} data-testid="lead-contact-rules">
      <h2 id={headingId}>Contact rules</h2>
      {answer.isPending ? (
        <Loading what="Asking the contact guard" />
      ) : answer.isError ? (
        <ErrorState error={answer.error} retry={() => void answer.refetch()} />
      ) : !answer.data ? (
        <p className="muted">The contact guard has no answer for this lead.</p>
      ) : (
        <Answers answer={answer.data} fallbackZone={leadTimezone} />
      )}
    </section>
  );
}

function Answers({ answer, fallbackZone }: { answer: Answer; fallbackZone: string | null }) {
  const zone = answer.lead_timezone ?? fallbackZone;
  const known = isKnownZone(zone);
  return (
    <>
      <p className={answer.contactable ? "ok" : answer.restricted_by.length ? "danger" : "warn"}>
        <span className="visually-hidden">In short: </span>
        {answer.phrase}
      </p>
      <p className="muted lead-local-time">
        {known && answer.lead_local_time ? (
          <>
            Borrower's local time: <strong>{formatTime(answer.lead_local_time, zone)}</strong>{" "}
            {answer.lead_zone_label ?? zone} ({zone})
          </>
        ) : (
          "The borrower's time zone is unknown: the guard allows only hours that suit every US zone."
        )}
      </p>
      <ul className="lead-channels">
        {CHANNELS.map((channel) => {
          const view = describeChannel(answer.channels[channel], known ? zone : null);
          return (
            <li key={channel} data-testid={`contact-rule-${channel}`} data-allowed={answer.channels[channel].allowed}>
              <div className="row">
                <strong className="lead-channel-name">{CHANNEL_LABELS[channel]}</strong>
                <span className={`lead-tone lead-tone-${view.tone}`}>{view.headline}</span>
              </div>
              {view.next && (
                <p className="lead-next">
                  Next allowed: <time dateTime={answer.channels[channel].next_allowed_at ?? undefined}>{view.next.viewer}</time>
                  {view.next.borrower && (
                    <span className="muted"> · {view.next.borrower} borrower's time</span>
                  )}
                </p>
              )}
              {view.reasons.length > 0 && <p className="muted lead-reasons">Why: {view.reasons.join("; ")}</p>}
            </li>
          );
        })}
      </ul>
    </>
  );
}
