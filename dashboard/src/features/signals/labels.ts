// Words for the feed's codes (the API's enums), as a specialist says them.
import { zonedMoment } from "@/lib/time";
import type { Refusal } from "./useSignalActions";

export const TYPE_LABELS: Record<string, string> = {
  new_employment: "New job",
  promotion: "Promotion",
  certification: "Certification",
  license_renewal: "License renewed",
  award: "Award",
  business_launch: "Business launch",
  education: "Degree",
  job_loss: "Job loss",
  intent_growth: "Employer growing",
  intent_expansion: "Employer expanding",
  intent_financial_distress: "Employer in distress",
  intent_loan_need: "Employer seeking a loan",
  intent_consulting_need: "Employer seeking consulting",
  portal_engagement: "Portal engagement",
};

export const STATUS_LABELS: Record<string, string> = {
  new: "New",
  acknowledged: "Acknowledged",
  actioned: "Actioned",
  resolved: "Resolved",
  dismissed: "Dismissed",
};

export const ACTION_LABELS: Record<string, string> = {
  call: "Call",
  sms: "Text message (SMS)",
  email: "E-mail",
  letter: "Letter",
  crm_task: "CRM task (no contact)",
};

export const OUTCOME_LABELS: Record<string, string> = {
  conversation: "Spoke with the borrower",
  promise_to_pay: "Promise to pay",
  payment: "Payment",
  no_response: "No response",
  dispute: "Dispute",
  wrong_person: "Wrong person",
};

export const DISMISS_LABELS: Record<string, string> = {
  not_relevant: "Not relevant",
  duplicate: "Duplicate",
  wrong_person: "Wrong person (teaches the matcher)",
};

/** Score factors, in the order the score adds them up (signal.scoring.FACTORS). */
export const FACTOR_LABELS: [string, string][] = [
  ["strength", "Event strength"],
  ["confidence", "Confidence"],
  ["recency", "Recency"],
  ["corroboration", "Corroborated"],
  ["balance", "Balance"],
  ["delinquency", "Delinquency"],
  ["outcomes", "Earlier outcomes"],
];

export function typeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type.replace(/_/g, " ");
}

/** "Refused: time_window — next allowed 8:00 am CT" (the reason codes as the API names them). */
export function refusalText(refusal: Refusal, leadZone: string | null | undefined, now: Date = new Date()): string {
  const reasons = refusal.reasons.join(", ");
  const next = refusal.nextAllowedAt
    ? `next allowed ${zonedMoment(refusal.nextAllowedAt, leadZone, now)}`
    : "waiting does not lift it";
  return `Refused: ${reasons} — ${next}`;
}
