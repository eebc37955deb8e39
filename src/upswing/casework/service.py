"""Working a signal: every action that contacts the borrower asks the contact guard first, and what is done is
written to the signal and to the contact ledger in one transaction.

* An action that is a borrower contact (``call``, ``sms``, ``email``, ``letter``) is checked by the guard for
  that lead and channel now. Refused: ``ContactRefused`` (the API's 409) with the guard's reasons and
  ``next_allowed_at``, and nothing is written. Allowed: the signal's action and a ledger entry linked to it.
* An override sets a refusal aside only when the compliance settings allow it (``override_roles`` and
  ``overridable_reasons``, both admin-configured; none by default) and a written reason is given; it is
  stored on the ledger entry and audited.
* ``crm_task`` is not a contact: it is recorded on the signal only.
* Outcomes feed the ledger and the flags: ``dispute`` sets the lead's dispute flag; an outcome that means the
  borrower was spoken to on the call marks that call a conversation (the seven-day rule counts it);
  ``wrong_person`` keeps its meaning for the linker (an outbox event the resolution domain consumes).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit import service as audit
from upswing.compliance import service as compliance
from upswing.compliance.models import ContactAttempt
from upswing.compliance.rules import Channel, Flag, GuardDecision, RuleConfig
from upswing.compliance.schemas import ContactCreate
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, ValidationFailedError
from upswing.signal import service as signals
from upswing.signal.models import Signal, SignalAction, SignalOutcome
from upswing.signal.schemas import SignalRead

#: Signal actions that are a contact with the borrower, and the guard's channel for each.
CONTACT_CHANNELS: dict[SignalAction, Channel] = {
    SignalAction.CALL: Channel.CALL, SignalAction.SMS: Channel.SMS, SignalAction.EMAIL: Channel.EMAIL,
    SignalAction.LETTER: Channel.LETTER,
}
#: Outcomes that mean the specialist spoke with the borrower (on a call, that is a "conversation").
CONVERSATION_OUTCOMES = frozenset({SignalOutcome.PROMISE_TO_PAY, SignalOutcome.DISPUTE,
                                   SignalOutcome.CONVERSATION})


class ContactRefused(ConflictError):
    """The contact guard says no (now); ``decision`` holds its reasons and the earliest allowed time."""

    def __init__(self, decision: GuardDecision, channel: Channel, *, detail: str | None = None) -> None:
        reasons = ", ".join(decision.reasons)
        when = (f"; next allowed at {decision.next_allowed_at.isoformat()}" if decision.next_allowed_at
                else "; waiting does not lift it")
        super().__init__(detail or f"contact by {channel.value} not allowed now: {reasons}{when}")
        self.decision = decision
        self.channel = channel

    @property
    def body(self) -> dict[str, object]:
        return {"channel": self.channel.value, "allowed": False, "reasons": list(self.decision.reasons),
                "next_allowed_at": self.decision.next_allowed_at.isoformat()
                if self.decision.next_allowed_at else None}


def _may_override(config: RuleConfig, user: User, decision: GuardDecision) -> str | None:
    """None when this user may set this refusal aside; otherwise why not."""
    if user.role not in config.override_roles:
        allowed = ", ".join(config.override_roles) or "nobody (no role is configured)"
        return f"overriding the contact guard is reserved to: {allowed}"
    blocking = sorted(set(decision.reasons) - {reason.value for reason in config.overridable_reasons})
    if blocking:
        return f"these refusals cannot be overridden: {', '.join(blocking)}"
    return None


def record_action(session: Session, signal_id: uuid.UUID, action: SignalAction, *, user: User,
                  note: str | None = None, target: str | None = None, autodialed: bool = False,
                  override_reason: str | None = None, now: datetime | None = None, source: str = "api") -> SignalRead:
    """Record that the specialist acted on a signal; a contact goes through the guard and into the ledger
    (``source``: where it was recorded, api or cli)."""
    now = now or utcnow()
    signal, lead = signals.load_for_change(session, signal_id, user)
    channel = CONTACT_CHANNELS.get(action)
    if channel is None:  # crm_task: work on the account, not a contact with the borrower
        if override_reason is not None:
            raise ValidationFailedError("override_reason applies only to contact actions",
                                        [{"row": None, "field": "override_reason", "message": "not a contact"}])
        return signals.record_action(session, signal.id, action, user=user, note=note)
    decision = compliance.check_contact(session, lead, channel, now, autodialed=autodialed, target=target)
    if not decision.allowed:
        if override_reason is None:
            raise ContactRefused(decision, channel)
        refusal = _may_override(compliance.get_rules(session), user, decision)
        if refusal is not None:
            raise ContactRefused(decision, channel, detail=f"{refusal} (reasons: {', '.join(decision.reasons)})")
        audit.record(session, actor=f"user:{user.username}", action="compliance.guard.override", entity_type="lead",
                     entity_id=lead.id, details={"signal_id": str(signal.id), "channel": channel.value,
                                                 "reasons": decision.reasons, "override_reason": override_reason})
    elif override_reason is not None:
        override_reason = None  # nothing to override: the contact is allowed as it is
    result = signals.record_action(session, signal.id, action, user=user, note=note)
    # The ledger names the number or address the guard decided for (rules count per target type).
    used = compliance.contact_target(session, lead, channel, target)
    compliance.log_contact(
        session, ContactCreate(lead_id=lead.id, channel=channel, at=now, autodialed=autodialed, target=used,
                               note=note),
        actor=f"user:{user.username}", source=source, user=user, signal_id=signal.id,
        override_reason=override_reason)
    return result


def record_outcome(session: Session, signal_id: uuid.UUID, outcome: SignalOutcome, *, user: User,
                   note: str | None = None) -> SignalRead:
    """What came of the action, fed to the ledger and the compliance flags in the same transaction."""
    signal, lead = signals.load_for_change(session, signal_id, user)
    result = signals.record_outcome(session, signal.id, outcome, user=user, note=note)
    actor = f"user:{user.username}"
    if outcome is SignalOutcome.DISPUTE:
        compliance.set_flag(session, lead, Flag.DISPUTE, active=True, actor=actor,
                            note=f"disputed (outcome of signal {signal.id})" + (f": {note}" if note else ""))
    if outcome in CONVERSATION_OUTCOMES:
        call = _last_call_for(session, signal)
        if call is not None:
            compliance.mark_conversation(session, call, actor=actor)
    return result


def _last_call_for(session: Session, signal: Signal) -> uuid.UUID | None:
    return session.scalar(select(ContactAttempt.id).where(
        ContactAttempt.signal_id == signal.id, ContactAttempt.channel == Channel.CALL.value)
        .order_by(ContactAttempt.occurred_at.desc()).limit(1))
