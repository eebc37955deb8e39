"""E-mail plumbing of the digest: the provider's bounce and complaint events, the admins' list of suppressed
addresses, and who may post those events (docs/digest.md, "Bounces, complaints and unsubscribe").

A Brevo event that stops mail to an address (``notify.suppressions``) also puts a system alert in every active
admin's inbox naming the users with that address, and is audited; lifting a suppression is audited too. Nothing
here commits: the request (or the command) does.
"""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from base64 import b64decode
from binascii import Error as BinasciiError
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.alert import service as alerts
from upswing.audit import service as audit
from upswing.core.logging import get_logger
from upswing.notify import suppressions
from upswing.notify.models import EmailSuppression
from upswing.settings import Settings

log = get_logger(__name__)

#: Latest Unix time accepted in an event (the year 9999).
_MAX_TS = 253_402_300_799


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SPAM = "spam"
    UNSUBSCRIBED = "unsubscribed"
    BLOCKED = "blocked"
    MANUAL = "manual"


class BrevoEvent(BaseModel):
    """One event of Brevo's transactional webhook (reference §4); the fields Upswing reads, others kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: str = Field(min_length=1, max_length=60, description="hard_bounce, spam, unsubscribed, blocked stop "
                       "mail to the address; delivered, soft_bounce, opened … are accepted and ignored")
    email: str | None = Field(default=None, max_length=320, validate_default=True,
                              description="The recipient (required for the events that stop mail)")
    message_id: str | None = Field(default=None, alias="message-id", max_length=1000)
    reason: str | None = Field(default=None, max_length=10_000, description="The provider's reason (bounces)")
    ts_event: float | None = Field(default=None, ge=0, le=_MAX_TS, description="When it happened (UTC seconds)")
    ts_epoch: float | None = Field(default=None, ge=0, le=_MAX_TS * 1000, description="The same in milliseconds")

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if suppressions.event_name(info.data.get("event")) not in suppressions.SUPPRESSING_EVENTS:
            return value
        if value is None or not suppressions.is_address(value):
            raise ValueError("an e-mail address is required for this event")
        return value


class EventOutcome(BaseModel):
    """What one webhook event did."""

    event: str
    action: Literal["suppressed", "already_suppressed", "ignored"] = Field(
        description="suppressed: mail to the address stops now; already_suppressed: a repeat; ignored: an event "
                    "that stops nothing, or one from before an admin lifted the address")
    suppression_id: uuid.UUID | None = None
    users: int = Field(default=0, description="Users with that address")
    admins_alerted: int = 0


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    address: str
    reason: str
    source: str
    detail: str | None
    message_id: str | None
    event_at: datetime
    created_at: datetime
    updated_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    users: list[str] = Field(default_factory=list, description="Usernames with this address")


# --------------------------------------------------------------------------------------------------
# Events


def users_with(session: Session, addresses: Sequence[str]) -> dict[str, list[User]]:
    """Users by lower-cased address (addresses compared case-insensitively)."""
    wanted = {suppressions.normalise(a) for a in addresses if a}
    if not wanted:
        return {}
    found: dict[str, list[User]] = {}
    for user in session.scalars(select(User).where(func.lower(User.email).in_(wanted)).order_by(User.username)):
        found.setdefault(suppressions.normalise(user.email or ""), []).append(user)
    return found


def _names(users: Sequence[User], address: str) -> str:
    if not users:
        return f"{suppressions.mask_address(address)} (no user has it)"
    names = [user.username for user in users[:5]]
    return ", ".join(names) + (f" and {len(users) - 5} more" if len(users) > 5 else "")


def flag_admins(session: Session, suppression: EmailSuppression, users: Sequence[User]) -> int:
    """A system alert in every active admin's inbox: whose e-mail stopped, and why. Returns how many."""
    said = f" ({suppression.detail})" if suppression.detail else ""
    title = (f"E-mail to {_names(users, suppression.address)} stopped: "
             f"{suppressions.REASON_WORDS.get(suppression.reason, suppression.reason)}{said[:150]}. "
             "Lift it under E-mail suppressions once the address works.")
    admins = list(session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))))
    for admin_id in admins:
        alerts.system_alert(session, admin_id, title)
    return len(admins)


def handle_brevo_event(session: Session, event: Mapping[str, Any]) -> EventOutcome:
    """Record one Brevo event; one that stops mail to an address is audited and flagged to the admins."""
    name = suppressions.event_name(event.get("event"))
    suppression = suppressions.record_event(session, event, source="brevo")
    if suppression is None:
        if name not in suppressions.SUPPRESSING_EVENTS:
            return EventOutcome(event=name, action="ignored")
        active = suppressions.active_for(session, [str(event.get("email"))])
        found = next(iter(active.values()), None)
        return EventOutcome(event=name, action="already_suppressed" if found else "ignored",
                            suppression_id=found.id if found else None)
    users = users_with(session, [suppression.address]).get(suppression.address, [])
    audit.record(session, actor="brevo", action="email.suppressed", entity_type="email_suppression",
                 entity_id=suppression.id, details={"address": suppression.address, "reason": suppression.reason,
                                                    "detail": suppression.detail,
                                                    "users": [user.username for user in users]})
    admins = flag_admins(session, suppression, users)
    log.info("digest.email_suppressed", suppression_id=str(suppression.id), reason=suppression.reason,
             recipient=suppressions.mask_address(suppression.address), users=len(users), admins_alerted=admins)
    return EventOutcome(event=name, action="suppressed", suppression_id=suppression.id, users=len(users),
                        admins_alerted=admins)


# --------------------------------------------------------------------------------------------------
# The admins' list


def _reads(session: Session, rows: Sequence[EmailSuppression]) -> list[SuppressionRead]:
    owners = users_with(session, [row.address for row in rows])
    return [SuppressionRead.model_validate(row).model_copy(
        update={"users": [user.username for user in owners.get(row.address, [])]}) for row in rows]


def list_suppressions(session: Session, *, reason: str | None = None, limit: int = 100,
                      offset: int = 0) -> list[SuppressionRead]:
    """Addresses mail does not go to, the latest first, with the users who have them."""
    return _reads(session, suppressions.list_active(session, reason=reason, limit=limit, offset=offset))


def lift_suppression(session: Session, address: str, *, actor: str) -> SuppressionRead:
    """Mail may go to the address again; audited. :class:`NotFoundError` when it is not suppressed."""
    suppression = suppressions.lift(session, address, actor)
    audit.record(session, actor=actor, action="email.suppression_lifted", entity_type="email_suppression",
                 entity_id=suppression.id, details={"address": suppression.address, "reason": suppression.reason})
    log.info("digest.email_suppression_lifted", suppression_id=str(suppression.id),
             recipient=suppressions.mask_address(suppression.address))
    return _reads(session, [suppression])[0]


# --------------------------------------------------------------------------------------------------
# Who may post events


def webhook_refusal(settings: Settings, authorization: str | None, client_host: str | None) -> tuple[int, str] | None:
    """Why a request to the Brevo webhook is refused (HTTP status, message), or None to accept it. Brevo signs
    nothing: a request counts only from a configured network (``UPSWING_BREVO_WEBHOOK_NETWORKS``; 403) *and* with
    the configured token (``UPSWING_BREVO_WEBHOOK_TOKEN``; 401), as ``Authorization: Bearer <token>`` or as the
    password of HTTP Basic. Unconfigured: 503. The network is checked first, so no one outside it can try tokens.
    """
    token = settings.brevo_webhook_token.get_secret_value() if settings.brevo_webhook_token else ""
    if not token or not settings.brevo_webhook_networks:
        return 503, ("the Brevo webhook is not configured: set UPSWING_BREVO_WEBHOOK_TOKEN and "
                     "UPSWING_BREVO_WEBHOOK_NETWORKS")
    try:
        networks = [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in settings.brevo_webhook_networks]
    except ValueError as exc:
        return 503, f"UPSWING_BREVO_WEBHOOK_NETWORKS: {exc}"
    if not _inside(client_host, networks):
        return 403, "the Brevo webhook is not accepted from this address"
    given = _presented_token(authorization)
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        return 401, "the Brevo webhook needs its token (Authorization: Bearer, or the Basic password)"
    return None


def _inside(host: str | None, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address((host or "").strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _presented_token(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = b64decode(credentials, validate=True).decode("utf-8")
        except (BinasciiError, ValueError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None
