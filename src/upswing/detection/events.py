"""Plain data that detectors return: candidate events, before they become stored signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class SignalType(StrEnum):
    NEW_EMPLOYMENT = "new_employment"
    PROMOTION = "promotion"
    CERTIFICATION = "certification"
    LICENSE_RENEWAL = "license_renewal"
    AWARD = "award"
    BUSINESS_LAUNCH = "business_launch"
    EDUCATION = "education"
    JOB_LOSS = "job_loss"
    # Intents read from texts about a company; they land on the leads who work there.
    INTENT_GROWTH = "intent_growth"
    INTENT_EXPANSION = "intent_expansion"
    INTENT_FINANCIAL_DISTRESS = "intent_financial_distress"
    INTENT_LOAN_NEED = "intent_loan_need"
    INTENT_CONSULTING_NEED = "intent_consulting_need"
    # Consented first-party engagement on the lender's own portal (``upswing.tracking``): not read from any text,
    # so no classifier ever predicts it.
    PORTAL_ENGAGEMENT = "portal_engagement"

#: Signal types that no text classifier predicts (raised by behaviour, not read from texts).
NON_TEXT_TYPES: frozenset[str] = frozenset({SignalType.PORTAL_ENGAGEMENT.value})


@dataclass(frozen=True, slots=True)
class CandidateEvent:
    """One real-world event a detector believes happened.

    ``identity`` is what makes two sightings the same event (for a job: the normalized employer
    and title); the signal service turns (lead, type, identity) into the signal's dedupe key.
    """

    type: SignalType
    identity: str
    confidence: float
    snippet: str
    title: str | None = None
    organization: str | None = None
    effective_date: date | None = None
    details: dict[str, str] = field(default_factory=dict)
