// Words for the API's codes on the lead pages. Unknown codes fall back to the code made readable, so a code the
// API adds later still reads.
import type { Schemas } from "@/api/client";
import { fieldLabel } from "./format";

type TimelineKind = Schemas["TimelineItem"]["kind"];

export const TIMELINE_KIND_LABELS: Record<TimelineKind, string> = {
  snapshot: "Profile snapshot",
  observation: "Post or news",
  signal: "Signal",
  evidence: "Evidence",
  escalated: "Escalated",
  acknowledged: "Acknowledged",
  action: "Action",
  outcome: "Outcome",
  dismissed: "Dismissed",
  contact: "Contact",
  flag_set: "Flag set",
  flag_cleared: "Flag cleared",
  consent_granted: "Consent granted",
  consent_revoked: "Consent revoked",
  consent_reassigned: "Number reassigned",
  suppressed: "Opted out",
};

/** The timeline's filter chips: each a group of kinds. */
export const TIMELINE_GROUPS: { id: string; label: string; kinds: TimelineKind[] }[] = [
  { id: "profile", label: "Profile", kinds: ["snapshot", "observation"] },
  { id: "signals", label: "Signals", kinds: ["signal", "evidence"] },
  { id: "work", label: "Work", kinds: ["acknowledged", "action", "outcome", "dismissed", "escalated"] },
  { id: "contacts", label: "Contacts", kinds: ["contact"] },
  {
    id: "compliance",
    label: "Compliance",
    kinds: ["flag_set", "flag_cleared", "consent_granted", "consent_revoked", "consent_reassigned", "suppressed"],
  },
];

const REASONS: Record<string, string> = {
  cease: "asked us to stop contacting (cease)",
  attorney: "represented by an attorney",
  bankruptcy: "in bankruptcy",
  deceased: "deceased",
  dispute: "debt disputed",
  opted_out: "opted out of this number or address",
  no_tcpa_consent: "no consent for an autodialed call or text to this number (TCPA)",
  workplace: "employer forbids contact at work",
  public_social: "public social posts are never allowed",
  social_dm_disabled: "social messages are turned off",
  time_window: "outside the borrower's 8 am – 9 pm",
  call_frequency_7in7: "7 calls in the last 7 days",
  after_conversation_7d: "spoke with the borrower in the last 7 days",
  state_ma_2in7: "Massachusetts: 2 calls in 7 days",
};

export function reasonLabel(code: string): string {
  return REASONS[code] ?? fieldLabel(code).toLowerCase();
}

/** Reasons that waiting does not lift: the answer is "do not contact". */
export const BLOCKING_REASONS = new Set(["cease", "attorney", "bankruptcy", "deceased", "dispute"]);

export const CHANNEL_LABELS: Record<"call" | "sms" | "email", string> = { call: "Call", sms: "Text", email: "E-mail" };

export const SIGNAL_TYPE_LABELS: Record<string, string> = {
  new_employment: "New job",
  promotion: "Promotion",
  certification: "Certification",
  license_renewal: "Licence renewal",
  award: "Award",
  business_launch: "Business launch",
  education: "Education",
  job_loss: "Job loss",
  intent_growth: "Intent: growth",
  intent_expansion: "Intent: expansion",
  intent_financial_distress: "Intent: financial distress",
  intent_loan_need: "Intent: loan need",
  intent_consulting_need: "Intent: consulting need",
  portal_engagement: "Portal engagement",
};

export function signalTypeLabel(type: string): string {
  return SIGNAL_TYPE_LABELS[type] ?? fieldLabel(type);
}

export const MATCH_OUTCOME_LABELS: Record<string, string> = {
  linked: "Linked automatically",
  review: "Waiting for review",
  unlinked: "Not linked",
  rejected: "Rejected by a reviewer",
  approved: "Approved by a reviewer",
};

/** "user:alice" → "alice"; "system" stays. */
export function actorLabel(actor: string | null | undefined): string {
  if (!actor) return "—";
  return actor.replace(/^(user|cli):/, "");
}
