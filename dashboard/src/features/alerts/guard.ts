// The contact guard's answer for one channel, in a few words: "now", "after 9:00 AM" (with the borrower's local
// time next to it), "do not contact: cease". Times are the viewer's; the borrower's clock is added when their zone
// is known.
import type { Schemas } from "@/api/client";
import { dayIn, formatClock, formatDay, zoneLabel } from "@/lib/datetime";
import { reasonLabel } from "./labels";

export type GuardTone = "ok" | "warn" | "danger";

export interface GuardView {
  tone: GuardTone;
  /** "now", "after 9:00 AM", "from Mon 7 Dec, 9:00 AM", "do not contact: cease", "not allowed: workplace contact". */
  text: string;
  /** The same moment on the borrower's clock: "8:00 AM CT borrower's time"; null when it adds nothing. */
  borrower: string | null;
  /** Why not (reason words), when refused. */
  reasons: string[];
}

const FLAGS = new Set(["cease", "attorney", "bankruptcy", "deceased", "dispute", "opted_out"]);

export function describeGuard(
  answer: Schemas["GuardAnswer"],
  { leadZone, viewerZone, now = new Date() }: { leadZone: string | null; viewerZone?: string; now?: Date },
): GuardView {
  const reasons = answer.reasons.map(reasonLabel);
  if (answer.allowed) return { tone: "ok", text: "now", borrower: null, reasons: [] };
  const next = answer.next_allowed_at ? new Date(answer.next_allowed_at) : null;
  if (answer.reasons.some((code) => FLAGS.has(code))) {
    return { tone: "danger", text: `do not contact: ${reasons.join(", ")}`, borrower: null, reasons };
  }
  if (!next) return { tone: "danger", text: `not allowed: ${reasons.join(", ") || "refused"}`, borrower: null, reasons };
  const sameDay = dayIn(next, viewerZone) === dayIn(now, viewerZone);
  const clock = formatClock(next, viewerZone);
  const text = sameDay ? `after ${clock}` : `from ${formatDay(next, viewerZone)}, ${clock}`;
  let borrower: string | null = null;
  if (leadZone) {
    const theirDay = dayIn(next, leadZone) === dayIn(now, leadZone) ? "" : `${formatDay(next, leadZone)}, `;
    borrower = `${theirDay}${formatClock(next, leadZone)} ${zoneLabel(leadZone, next)} borrower's time`;
  }
  return { tone: "warn", text, borrower, reasons };
}

/** The borrower's clock now: "2:20 PM CT". */
export function borrowerNow(leadZone: string, now: Date = new Date()): string {
  return `${formatClock(now, leadZone)} ${zoneLabel(leadZone, now)}`;
}
