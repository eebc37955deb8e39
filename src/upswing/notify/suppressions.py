"""Addresses mail no longer goes to: the e-mail provider reported a hard bounce, a spam complaint, an unsubscribe or
a block (Brevo's delivery webhook, reference §4). Every e-mail sender asks :func:`active_for` before sending.

Pure bookkeeping over :class:`~upswing.notify.models.EmailSuppression`, importing no domain: whoever calls it
(the digest domain's webhook and admin API) flags the users concerned, audits, and commits. Addresses are kept
lower-cased; staff addresses, not borrowers'. A lifted address is suppressed again by an event that happened
after the lift (a provider's retry of the old event does not undo an admin's decision).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.notify.models import EmailSuppression

__all__ = [
    "SUPPRESSING_EVENTS",
    "active_for",
    "describe",
    "event_name",
    "is_address",
    "lift",
    "list_active",
    "mask_address",
    "normalise",
    "record_event",
]

#: Brevo's event names (lowercase, as its webhook sends them) that stop mail to an address.
SUPPRESSING_EVENTS = frozenset({"hard_bounce", "spam", "unsubscribed", "blocked"})
#: How a reason reads in a sentence ("E-mail to … stopped: hard bounce").
REASON_WORDS = {"hard_bounce": "hard bounce", "spam": "spam complaint", "unsubscribed": "unsubscribed",
                "blocked": "blocked by the provider", "manual": "stopped by hand"}
_SOURCES = {"brevo": "Brevo"}
#: Latest ``ts_event`` accepted (the year 9999): beyond it a timestamp is not a time.
_MAX_TIMESTAMP = 253_402_300_799
_ADDRESS = re.compile(r"[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[^@\s<>,;\"()]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def normalise(address: str) -> str:
    """The form addresses are stored and compared in: trimmed, lower-cased."""
    return address.strip().lower()


def is_address(value: str) -> bool:
    """One plausible address (``mailbox@domain.tld``), nothing around it."""
    value = value.strip()
    return len(value) <= 320 and _ADDRESS.fullmatch(value) is not None


def mask_address(address: str | None) -> str:
    """An address as it may be logged: the first character of the mailbox and the domain (``d***@team.example``)."""
    if not address or "@" not in address:
        return "[none]"
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def event_name(value: object) -> str:
    """Brevo's event name in its webhook spelling: ``hard_bounce`` (also from ``hardBounce``, the spelling of its
    webhook settings)."""
    return _CAMEL.sub("_", value).lower() if isinstance(value, str) else ""


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(f"{field}: {message}", [{"field": field, "row": None, "message": message}])


def _event_time(event: Mapping[str, Any], now: datetime) -> datetime:
    """``ts_event`` (UTC seconds), else ``ts_epoch`` (milliseconds), else now."""
    for key, scale in (("ts_event", 1.0), ("ts_epoch", 1000.0)):
        value = event.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value / scale <= _MAX_TIMESTAMP:
            raise _invalid(key, "not a Unix time")
        return datetime.fromtimestamp(value / scale, UTC)
    return now


def _text(event: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = event.get(key)
    if value is None or value == "":
        return None
    return str(value)[:limit]


def record_event(session: Session, event: Mapping[str, Any], *, source: str = "brevo",
                 now: datetime | None = None) -> EmailSuppression | None:
    """Record one provider event (Brevo's webhook body: ``event``, ``email``, ``reason``, ``message-id``,
    ``ts_event``). Returns the suppression this event made active (a new address, or a lifted one suppressed
    again); None when nothing changed: an event that stops nothing (``delivered``, ``soft_bounce`` …), an address
    already suppressed (a repeat of the event), or an event from before an admin lifted the address. Raises
    :class:`ValidationFailedError` naming the field for a malformed event. Never commits."""
    now = now or utcnow()
    name = event_name(event.get("event"))
    if not name:
        raise _invalid("event", "the event name is missing")
    if name not in SUPPRESSING_EVENTS:
        return None
    raw = event.get("email")
    if not isinstance(raw, str) or not is_address(raw):
        raise _invalid("email", "not an e-mail address")
    address = normalise(raw)
    at = _event_time(event, now)
    detail, message_id = _text(event, "reason", 2000), _text(event, "message-id", 300)
    existing = session.scalar(select(EmailSuppression).where(EmailSuppression.address == address))
    if existing is None:
        suppression = EmailSuppression(address=address, reason=name, source=source, detail=detail,
                                       message_id=message_id, event_at=at, created_at=now, updated_at=now)
        try:
            with session.begin_nested():  # the same event delivered twice at once: the second finds the first
                session.add(suppression)
        except IntegrityError:
            return None
        return suppression
    if existing.lifted_at is None or at <= existing.lifted_at:
        return None
    existing.reason, existing.source, existing.detail, existing.message_id = name, source, detail, message_id
    existing.event_at, existing.updated_at, existing.lifted_at, existing.lifted_by = at, now, None, None
    session.flush()
    return existing


def active_for(session: Session, addresses: Iterable[str | None]) -> dict[str, EmailSuppression]:
    """The active suppressions of these addresses (one query), by lower-cased address."""
    wanted = {normalise(address) for address in addresses if address}
    if not wanted:
        return {}
    rows = session.scalars(select(EmailSuppression).where(EmailSuppression.address.in_(wanted),
                                                          EmailSuppression.lifted_at.is_(None)))
    return {row.address: row for row in rows}


def list_active(session: Session, *, reason: str | None = None, limit: int = 100,
                offset: int = 0) -> list[EmailSuppression]:
    """Active suppressions, the latest event first."""
    query = select(EmailSuppression).where(EmailSuppression.lifted_at.is_(None))
    if reason:
        query = query.where(EmailSuppression.reason == reason)
    return list(session.scalars(query.order_by(EmailSuppression.event_at.desc(), EmailSuppression.id)
                                .limit(limit).offset(offset)))


def lift(session: Session, address: str, actor: str) -> EmailSuppression:
    """Mail may go to the address again (its owner fixed the mailbox, or the complaint was a mistake). The
    caller audits it. Raises :class:`NotFoundError` when the address is not suppressed."""
    suppression = active_for(session, [address]).get(normalise(address))
    if suppression is None:
        raise NotFoundError(f"address: {normalise(address)} is not suppressed")
    now = utcnow()
    suppression.lifted_at, suppression.lifted_by, suppression.updated_at = now, actor[:200], now
    session.flush()
    return suppression


def describe(suppression: EmailSuppression) -> str:
    """Why mail to the address is refused, for a delivery's error and an admin: ``address suppressed:
    hard_bounce at 2026-12-08 18:30 UTC (Brevo: 550 5.1.1 mailbox unknown)``."""
    source = _SOURCES.get(suppression.source, suppression.source)
    said = f"{source}: {suppression.detail}" if suppression.detail else source
    return f"address suppressed: {suppression.reason} at {suppression.event_at:%Y-%m-%d %H:%M} UTC ({said})"
