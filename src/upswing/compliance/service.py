"""The contact guard and its records: ledger, flags, consents, suppressions, blocked windows, rule settings.

``check_contact`` is the one call every feature that suggests or sends anything makes first. It gathers the
lead's facts and calls the pure ``rules.evaluate``. Services never commit: the request or CLI command does.

Numbers and addresses are compared through blind indexes on this domain's own tables, and in Python against
the lead's fields (never by SQL equality on lead columns, which are encrypted at rest).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.audit.service import record
from upswing.compliance import phrases, rules
from upswing.compliance.models import (
    BlockedWindowRow,
    ComplianceSetting,
    ContactAttempt,
    ContactConsent,
    LeadComplianceFlag,
    Suppression,
)
from upswing.compliance.rules import (
    BlockedWindow,
    Channel,
    ContactRequest,
    Direction,
    Flag,
    GuardDecision,
    LeadFacts,
    LedgerEntry,
    PhoneOnFile,
    RuleConfig,
    Target,
    TargetError,
    TargetKind,
    TargetType,
)
from upswing.compliance.schemas import (
    BlockedWindowCreate,
    BlockedWindowRead,
    ChannelAnswer,
    ChannelAnswers,
    ConsentRead,
    ContactAnswer,
    ContactAnswers,
    ContactCreate,
    ContactImportReport,
    ContactRead,
    FlagRead,
    LeadFlags,
    SuppressionRead,
)
from upswing.core import outbox
from upswing.core.crypto import get_key_ring
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.pagination import capped_count
from upswing.lead.access import can_see_lead, visible_lead
from upswing.lead.importer import LeadFileReader
from upswing.lead.models import Lead, Portfolio
from upswing.signal.models import Signal

RULES_KEY = "rules"
#: Events this domain writes to the outbox (``core.outbox``).
CONTACT_LOGGED = "contact.logged"
FLAG_CHANGED = "compliance.flag_changed"
_ENCRYPTION_CONTEXT = "compliance.target"
#: Signal types that tell us where the lead works now: their employer's addresses are workplace addresses.
_EMPLOYMENT_SIGNALS = ("new_employment", "promotion")


# --------------------------------------------------------------------------------------------
# Look-ups
# --------------------------------------------------------------------------------------------


def find_lead(session: Session, external_id: str, *, portfolio: str | None = None) -> Lead:
    """The lead with this external id (in this portfolio). An id found in several portfolios is an error
    naming them, so a person picks one; a merged duplicate resolves to the lead it was merged into."""
    query = select(Lead).where(Lead.external_id == external_id.strip())
    if portfolio:
        query = query.join(Portfolio, Portfolio.id == Lead.portfolio_id).where(Portfolio.name == portfolio)
    leads = list(session.scalars(query.limit(20)))
    if not leads:
        where = f" in portfolio {portfolio!r}" if portfolio else ""
        raise NotFoundError(f"no lead with external id {external_id!r}{where}")
    if len(leads) > 1:
        names = sorted(session.scalars(select(Portfolio.name).where(
            Portfolio.id.in_([lead.portfolio_id for lead in leads]))))
        raise ValidationFailedError(
            f"external id {external_id!r} exists in several portfolios ({', '.join(names)}): name one with "
            "--portfolio", [{"row": None, "field": "portfolio", "message": "ambiguous lead"}])
    lead = leads[0]
    if lead.merged_into_id is not None:
        survivor = session.get(Lead, lead.merged_into_id)
        if survivor is not None:
            return survivor
    return lead


def parse_time(value: str | None, *, field: str = "at") -> datetime:
    """An ISO 8601 time (``Z`` or an offset; without one it is UTC); now when None."""
    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailedError(f"{field} is not an ISO 8601 time: {value!r}",
                                    [{"row": None, "field": field, "value": value,
                                      "message": "not an ISO 8601 time"}]) from None
    return as_utc(parsed)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _target_error(exc: TargetError, field: str = "target") -> ValidationFailedError:
    return ValidationFailedError(f"{field}: {exc}", [{"row": None, "field": field, "message": str(exc)}])


# --------------------------------------------------------------------------------------------
# Rule settings
# --------------------------------------------------------------------------------------------


def _overrides(session: Session) -> dict[str, Any]:
    row = session.get(ComplianceSetting, RULES_KEY)
    return dict(row.value) if row is not None else {}


def get_rules(session: Session) -> RuleConfig:
    """The guard's settings: the defaults with the admin's overrides."""
    return RuleConfig.model_validate(_overrides(session))


def update_rules(session: Session, changes: Mapping[str, Any], *, actor: str) -> RuleConfig:
    """Change rule settings (a ``None`` value restores a field's default). Validated as a whole, audited
    with each changed field's old and new value."""
    unknown = sorted(set(changes) - set(RuleConfig.model_fields))
    if unknown:
        raise ValidationFailedError(f"unknown rule setting(s): {', '.join(unknown)}",
                                    [{"row": None, "field": name, "message": "unknown setting"} for name in unknown])
    overrides = _overrides(session)
    before = RuleConfig.model_validate(overrides)
    for name, value in changes.items():
        if value is None:
            overrides.pop(name, None)
        else:
            overrides[name] = value
    try:
        after = RuleConfig.model_validate(overrides)
    except ValidationError as exc:
        errors: list[dict[str, object]] = [
            {"row": None, "field": ".".join(str(p) for p in error["loc"]) or None, "message": error["msg"]}
            for error in exc.errors()]
        raise ValidationFailedError("invalid rule settings", errors) from None
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    stored = {name: new[name] for name in overrides}
    row = session.get(ComplianceSetting, RULES_KEY)
    if row is None:
        row = ComplianceSetting(key=RULES_KEY, value=stored, updated_by=actor, updated_at=utcnow())
        session.add(row)
    else:
        row.value, row.updated_by, row.updated_at = stored, actor, utcnow()
    changed = {name: {"from": old[name], "to": new[name]} for name in new if old[name] != new[name]}
    if changed:
        record(session, actor=actor, action="compliance.rules.update", entity_type="compliance_rules",
               entity_id=RULES_KEY, details=changed)
    session.flush()
    return after


# --------------------------------------------------------------------------------------------
# Facts about a lead
# --------------------------------------------------------------------------------------------

_PHONE_TYPES = {"cell": TargetType.CELL, "mobile": TargetType.CELL, "home": TargetType.HOME,
                "work": TargetType.WORK, "other": TargetType.OTHER}


def _phones(lead: Lead) -> tuple[PhoneOnFile, ...]:
    region = (lead.country or "US").upper()
    typed: dict[str, TargetType | None] = {}
    order: list[str] = []
    numbers: list[tuple[Any, Any]] = [(lead.phone, None)] if lead.phone else []
    numbers += [(item.get("number"), item.get("type")) for item in (lead.phones or []) if isinstance(item, dict)]
    for raw, kind in numbers:
        if not raw:
            continue
        try:
            number = rules.normalize_phone(str(raw), region)
        except TargetError:
            continue
        if number not in typed:
            order.append(number)
            typed[number] = None
        if kind and typed[number] is None:
            typed[number] = _PHONE_TYPES.get(str(kind).lower())
    return tuple(PhoneOnFile(number, typed[number]) for number in order)


def _emails(lead: Lead) -> tuple[str, ...]:
    found = [lead.email] if lead.email else []
    found += [e for e in (lead.emails or []) if isinstance(e, str)]
    return tuple(dict.fromkeys(e.strip().lower() for e in found if e and e.strip()))


def active_flags(session: Session, lead_id: uuid.UUID) -> frozenset[Flag]:
    rows = session.scalars(select(LeadComplianceFlag.flag).where(LeadComplianceFlag.lead_id == lead_id,
                                                                 LeadComplianceFlag.cleared_at.is_(None)))
    return frozenset(Flag(value) for value in rows)


def active_flags_of(session: Session, lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[Flag]]:
    """Active flags of many leads in one query (leads without any are left out)."""
    found: dict[uuid.UUID, set[Flag]] = defaultdict(set)
    for lead_id, flag in session.execute(select(LeadComplianceFlag.lead_id, LeadComplianceFlag.flag).where(
            LeadComplianceFlag.lead_id.in_(lead_ids), LeadComplianceFlag.cleared_at.is_(None))):
        found[lead_id].add(Flag(flag))
    return {lead_id: frozenset(flags) for lead_id, flags in found.items()}


def _blocked_windows(session: Session, lead_id: uuid.UUID) -> tuple[BlockedWindow, ...]:
    rows = session.scalars(select(BlockedWindowRow).where(BlockedWindowRow.lead_id == lead_id))
    return tuple(_blocked_window(row) for row in rows)


def _blocked_window(row: BlockedWindowRow) -> BlockedWindow:
    return BlockedWindow(rules.parse_clock(row.start_time), rules.parse_clock(row.end_time),
                         frozenset(row.days or ()), frozenset(Channel(c) for c in row.channels or ()))


def lead_facts(session: Session, lead: Lead) -> LeadFacts:
    """Everything the rules need to know about a lead, as plain data."""
    organizations = session.scalars(select(Signal.organization).where(
        Signal.lead_id == lead.id, Signal.type.in_(_EMPLOYMENT_SIGNALS), Signal.status != "dismissed",
        Signal.organization.is_not(None)))
    return _facts(lead, organizations, active_flags(session, lead.id), _blocked_windows(session, lead.id))


def _facts(lead: Lead, organizations: Iterable[str | None], flags: frozenset[Flag],
           windows: tuple[BlockedWindow, ...]) -> LeadFacts:
    employers = tuple(dict.fromkeys(name for name in (lead.employer, *organizations) if name))
    return LeadFacts(
        state=lead.state, postal_code=lead.postal_code, country=lead.country, timezone=lead.timezone,
        phones=_phones(lead), emails=_emails(lead), employer_names=employers,
        employer_domains=(lead.company_domain,) if lead.company_domain else (),
        flags=flags, blocked_windows=windows,
    )


def _index(target: Target) -> str:
    return get_key_ring().blind_index(target.value, kind=target.kind.value)


def _hint(target: Target) -> str:
    """A masked form a person can recognize without the value being stored in clear."""
    value = target.value
    if target.kind is TargetKind.PHONE:
        return f"{value[:2]}{'*' * max(len(value) - 6, 0)}{value[-4:]}"
    if target.kind is TargetKind.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"[:80]
    return f"{value[:3]}***"


def _is_suppressed(session: Session, target: Target | None) -> bool:
    if target is None:
        return False
    return session.scalar(select(Suppression.id).where(Suppression.target_index == _index(target))) is not None


def _has_consent(session: Session, lead_id: uuid.UUID, target: Target | None) -> bool:
    if target is None or target.kind is not TargetKind.PHONE:
        return False
    return session.scalar(select(ContactConsent.id).where(
        ContactConsent.lead_id == lead_id, ContactConsent.target_index == _index(target),
        ContactConsent.granted_at.is_not(None), ContactConsent.revoked_at.is_(None),
        ContactConsent.reassigned_at.is_(None)).limit(1)) is not None


def _ledger(session: Session, lead_id: uuid.UUID, since: datetime) -> list[LedgerEntry]:
    rows = session.execute(select(ContactAttempt.channel, ContactAttempt.occurred_at, ContactAttempt.direction,
                                  ContactAttempt.conversation, ContactAttempt.target_type)
                           .where(ContactAttempt.lead_id == lead_id, ContactAttempt.occurred_at > since))
    return [_ledger_entry(*row) for row in rows]


def _ledger_entry(channel: str, at: datetime, direction: str, conversation: bool, kind: str | None) -> LedgerEntry:
    return LedgerEntry(Channel(channel), at, Direction(direction), conversation, TargetType(kind) if kind else None)


def _lookback(config: RuleConfig) -> timedelta:
    hours = [config.call_frequency_hours, config.conversation_quiet_hours]
    hours += [h for rule in config.state_rules for h in (rule.personal_hours, rule.other_hours)]
    return timedelta(hours=max(hours))


# --------------------------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------------------------


def check_contact(session: Session, lead: Lead, channel: Channel | str, at: datetime, *, autodialed: bool = False,
                  target: str | None = None) -> GuardDecision:
    """May we contact this lead by this channel at this time, and if not, why and from when?

    ``target`` is a number or address (default: the lead's primary number for calls and texts, primary
    e-mail for e-mail); ``at`` without a zone is UTC. Raises ValidationFailedError for an unreadable target.
    """
    channel = Channel(channel)
    at = as_utc(at)
    config = get_rules(session)
    facts = lead_facts(session, lead)
    try:
        resolved = rules.resolve_target(channel, target, facts)
    except TargetError as exc:
        raise _target_error(exc) from None
    request = ContactRequest(channel=channel, at=at, autodialed=autodialed, target=resolved,
                             suppressed=_is_suppressed(session, resolved),
                             consented=_has_consent(session, lead.id, resolved))
    ledger = _ledger(session, lead.id, at - _lookback(config))
    return rules.evaluate(request, facts, ledger, config)


def check_contacts(session: Session, leads: Sequence[Lead], channels: Sequence[Channel | str],
                   at: datetime) -> dict[uuid.UUID, dict[Channel, GuardDecision]]:
    """``check_contact`` for many leads at once, each on its primary target of each channel: the facts of every
    lead are loaded in a fixed number of queries (flags, blocked windows, employers, ledger, suppressions,
    consents), whatever the number of leads. Alerts use it to tell a specialist, per channel, what they may do."""
    at = as_utc(at)
    wanted = [Channel(c) for c in channels]
    if not leads or not wanted:
        return {lead.id: {} for lead in leads}
    config = get_rules(session)
    ids = [lead.id for lead in leads]
    flags = active_flags_of(session, ids)
    windows: dict[uuid.UUID, list[BlockedWindow]] = defaultdict(list)
    for row in session.scalars(select(BlockedWindowRow).where(BlockedWindowRow.lead_id.in_(ids))):
        windows[row.lead_id].append(_blocked_window(row))
    employers: dict[uuid.UUID, list[str | None]] = defaultdict(list)
    for lead_id, organization in session.execute(select(Signal.lead_id, Signal.organization).where(
            Signal.lead_id.in_(ids), Signal.type.in_(_EMPLOYMENT_SIGNALS), Signal.status != "dismissed",
            Signal.organization.is_not(None))):
        employers[lead_id].append(organization)
    ledgers: dict[uuid.UUID, list[LedgerEntry]] = defaultdict(list)
    for lead_id, channel, occurred_at, direction, conversation, kind in session.execute(
            select(ContactAttempt.lead_id, ContactAttempt.channel, ContactAttempt.occurred_at,
                   ContactAttempt.direction, ContactAttempt.conversation, ContactAttempt.target_type)
            .where(ContactAttempt.lead_id.in_(ids), ContactAttempt.occurred_at > at - _lookback(config))):
        ledgers[lead_id].append(_ledger_entry(channel, occurred_at, direction, conversation, kind))

    facts: dict[uuid.UUID, LeadFacts] = {}
    targets: dict[tuple[uuid.UUID, Channel], Target | None] = {}
    for lead in leads:
        facts[lead.id] = _facts(lead, employers[lead.id], flags.get(lead.id, frozenset()), tuple(windows[lead.id]))
        for channel in wanted:
            try:
                targets[(lead.id, channel)] = rules.resolve_target(channel, None, facts[lead.id])
            except TargetError:  # a malformed number on file: the guard answers without a target
                targets[(lead.id, channel)] = None
    indexes = {key: _index(target) for key, target in targets.items() if target is not None}
    suppressed = set(session.scalars(select(Suppression.target_index).where(
        Suppression.target_index.in_(set(indexes.values()))))) if indexes else set()
    consented: set[tuple[uuid.UUID, str]] = set()
    phone_indexes = {index for key, index in indexes.items()
                     if (target := targets[key]) is not None and target.kind is TargetKind.PHONE}
    if phone_indexes:
        consented = {(lead_id, index) for lead_id, index in session.execute(
            select(ContactConsent.lead_id, ContactConsent.target_index).where(
                ContactConsent.lead_id.in_(ids), ContactConsent.target_index.in_(phone_indexes),
                ContactConsent.granted_at.is_not(None), ContactConsent.revoked_at.is_(None),
                ContactConsent.reassigned_at.is_(None)))}

    answers: dict[uuid.UUID, dict[Channel, GuardDecision]] = {}
    for lead in leads:
        per_channel: dict[Channel, GuardDecision] = {}
        for channel in wanted:
            target = targets[(lead.id, channel)]
            index = indexes.get((lead.id, channel))
            request = ContactRequest(channel=channel, at=at, target=target, suppressed=index in suppressed,
                                     consented=index is not None and (lead.id, index) in consented)
            per_channel[channel] = rules.evaluate(request, facts[lead.id], ledgers[lead.id], config)
        answers[lead.id] = per_channel
    return answers


def contact_answers(session: Session, lead_ids: Sequence[uuid.UUID], *, user: User, at: datetime,
                    fallback_zone: str) -> ContactAnswers:
    """The guard's answer for each of these leads the user may see (the others are left out, as if absent), in
    words and per channel, with the lead's local time: one batch of ``check_contacts`` and ``active_flags_of``
    for all of them. ``fallback_zone`` words the times of a lead whose address gives no zone."""
    at = as_utc(at)
    wanted = list(dict.fromkeys(lead_ids))
    found = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(wanted)))} if wanted else {}
    leads = [lead for lead_id in wanted if (lead := found.get(lead_id)) is not None and can_see_lead(user, lead)]
    decisions = check_contacts(session, leads, phrases.GUARD_CHANNELS, at)
    flags = active_flags_of(session, [lead.id for lead in leads]) if leads else {}
    items = []
    for lead in leads:
        per_channel = decisions.get(lead.id, {})
        restricting = phrases.restricting_flags(flags.get(lead.id, frozenset()))
        phrase, today = phrases.guard_phrase(lead, per_channel, ", ".join(restricting) or None, at, fallback_zone)
        zone = phrases.lead_zone(lead)
        channels = ChannelAnswers(**{channel.value: _channel_answer(per_channel.get(channel))
                                     for channel in phrases.GUARD_CHANNELS})
        items.append(ContactAnswer(
            lead_id=lead.id, phrase=phrase, contactable=today, restricted_by=restricting, channels=channels,
            lead_timezone=zone, lead_zone_label=phrases.zone_label(zone, at) if zone else None,
            lead_local_time=at.astimezone(ZoneInfo(zone)) if zone else None))
    return ContactAnswers(at=at, items=items)


def _channel_answer(decision: GuardDecision | None) -> ChannelAnswer:
    if decision is None:  # not asked (no such channel): refused without a time
        return ChannelAnswer(allowed=False, reasons=["not_checked"], next_allowed_at=None)
    return ChannelAnswer(allowed=decision.allowed, reasons=list(decision.reasons),
                         next_allowed_at=decision.next_allowed_at)


def contact_target(session: Session, lead: Lead, channel: Channel | str, target: str | None = None) -> str | None:
    """The number or address a contact by this channel goes to: ``target`` when given, else the lead's primary
    one, as the guard resolves it (None when the lead has none for the channel)."""
    try:
        resolved = rules.resolve_target(Channel(channel), target, lead_facts(session, lead))
    except TargetError as exc:
        raise _target_error(exc) from None
    return resolved.value if resolved is not None else None


# --------------------------------------------------------------------------------------------
# Contact ledger
# --------------------------------------------------------------------------------------------


def _contact_row(lead: Lead, facts: LeadFacts, data: ContactCreate, *, actor: str, source: str) -> ContactAttempt:
    target: Target | None = None
    if data.target is not None and data.target.strip():
        try:
            target = rules.classify_target(rules.parse_target(data.target, channel=data.channel,
                                                              region=facts.region), facts)
        except TargetError as exc:
            raise _target_error(exc) from None
    target_type = data.target_type or (target.type if target else None)
    return ContactAttempt(
        id=uuid.uuid4(), lead_id=lead.id, channel=data.channel.value, direction=data.direction.value,
        target_kind=target.kind.value if target else None, target_type=target_type.value if target_type else None,
        target_index=_index(target) if target else None,
        target_encrypted=get_key_ring().encrypt(target.value, context=_ENCRYPTION_CONTEXT) if target else None,
        target_hint=_hint(target) if target else None, autodialed=data.autodialed,
        conversation=data.conversation, outcome=data.outcome, note=data.note, occurred_at=as_utc(data.at),
        actor=actor, source=source, created_at=utcnow(),
    )


def log_contact(session: Session, data: ContactCreate, *, actor: str, source: str, user: User | None = None,
                signal_id: uuid.UUID | None = None, override_reason: str | None = None) -> ContactRead:
    """Record a contact attempt or conversation. The result says which of the guard's reasons applied at
    that time (the ledger records what happened, allowed or not); ``signal_id`` is the signal whose action it
    was, ``override_reason`` the documented exception under which it went ahead despite those reasons."""
    lead = visible_lead(session, data.lead_id, user)
    before = check_contact(session, lead, data.channel, data.at, autodialed=data.autodialed, target=data.target)
    row = _contact_row(lead, lead_facts(session, lead), data, actor=actor, source=source)
    row.signal_id = signal_id
    if override_reason is not None:
        row.override_reason, row.overridden_reasons = override_reason, list(before.reasons)
    session.add(row)
    session.flush()
    record(session, actor=actor, action="compliance.contact.log", entity_type="lead", entity_id=lead.id,
           details={"contact_id": str(row.id), "channel": row.channel, "occurred_at": row.occurred_at.isoformat(),
                    "conversation": row.conversation, "autodialed": row.autodialed, "target": row.target_hint,
                    "reasons_at_the_time": before.reasons, "signal_id": str(signal_id) if signal_id else None,
                    "override_reason": override_reason})
    outbox.emit(session, CONTACT_LOGGED, entity_type="contact", entity_id=row.id, lead_id=lead.id, actor=actor,
                payload={"channel": row.channel, "direction": row.direction, "conversation": row.conversation,
                         "occurred_at": row.occurred_at.isoformat(), "source": source,
                         "signal_id": str(signal_id) if signal_id else None,
                         "overridden": override_reason is not None})
    result = ContactRead.model_validate(row)
    result.reasons_at_the_time = before.reasons
    return result


def mark_conversation(session: Session, contact_id: uuid.UUID, *, actor: str) -> None:
    """A logged call turned out to be a conversation with the person (an outcome said so): it now counts for
    the rule that holds further calls for seven days after a conversation."""
    row = session.get(ContactAttempt, contact_id)
    if row is None or row.conversation:
        return
    row.conversation = True
    session.flush()
    record(session, actor=actor, action="compliance.contact.conversation", entity_type="lead",
           entity_id=row.lead_id, details={"contact_id": str(row.id), "channel": row.channel})
    outbox.emit(session, CONTACT_LOGGED, entity_type="contact", entity_id=row.id, lead_id=row.lead_id, actor=actor,
                payload={"channel": row.channel, "direction": row.direction, "conversation": True,
                         "occurred_at": row.occurred_at.isoformat(), "source": row.source,
                         "signal_id": str(row.signal_id) if row.signal_id else None, "overridden": False})


def list_contacts(session: Session, lead_id: uuid.UUID, *, user: User | None, limit: int = 100,
                  offset: int = 0) -> tuple[list[ContactRead], int]:
    """A lead's ledger, newest first."""
    lead = visible_lead(session, lead_id, user)
    where = ContactAttempt.lead_id == lead.id
    total, _ = capped_count(session, select(ContactAttempt.id).where(where))
    rows = session.scalars(select(ContactAttempt).where(where)
                           .order_by(ContactAttempt.occurred_at.desc(), ContactAttempt.created_at.desc())
                           .limit(limit).offset(offset))
    return [ContactRead.model_validate(row) for row in rows], total


# CSV/JSON columns of a contact import (case, spaces, dashes and underscores ignored).
_IMPORT_COLUMNS: dict[str, str] = {
    "lead": "lead", "externalid": "lead", "leadexternalid": "lead", "accountnumber": "lead",
    "portfolio": "portfolio", "channel": "channel", "at": "at", "occurredat": "at", "time": "at",
    "timestamp": "at", "date": "at", "target": "target", "number": "target", "address": "target",
    "phone": "target", "email": "target", "targettype": "target_type", "conversation": "conversation",
    "autodialed": "autodialed", "prerecorded": "autodialed", "direction": "direction", "outcome": "outcome",
    "note": "note",
}
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def _column_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def import_contacts(session: Session, source: Path | str | bytes, *, actor: str, filename: str | None = None,
                    portfolio: str | None = None, user: User | None = None) -> ContactImportReport:
    """Import ledger entries from CSV (or JSON/JSONL): all or nothing. Every problem is reported with its row
    (spreadsheet numbering: the header is row 1) and field; if there is any, nothing is written.

    Columns: ``lead`` (external id; required), ``channel`` (required), ``at`` (ISO 8601; required; no zone =
    UTC), ``target``, ``target_type``, ``conversation``, ``autodialed`` (true/false), ``direction``
    (outbound/inbound), ``outcome``, ``note``, ``portfolio`` (when external ids repeat across portfolios).
    """
    reader = LeadFileReader(source, filename=filename)
    report = ContactImportReport(file=reader.filename)
    errors: list[dict[str, Any]] = []
    pending: list[tuple[Lead, ContactCreate]] = []
    leads: dict[tuple[str, str | None], Lead | str] = {}
    for number, raw in reader:
        report.total += 1
        errors_before = len(errors)
        row: dict[str, Any] = {}
        for column, value in raw.items():
            key = _IMPORT_COLUMNS.get(_column_key(str(column)))
            if key is None:
                continue
            row[key] = value.strip() if isinstance(value, str) else value

        def fail(field: str, message: str, row_number: int = number, values: dict[str, Any] = row) -> None:
            errors.append({"row": row_number, "field": field, "value": values.get(field), "message": message})

        for required in ("lead", "channel", "at"):
            if row.get(required) in (None, ""):
                fail(required, "required")
        lead: Lead | None = None
        if row.get("lead"):
            lead_key = (str(row["lead"]), row.get("portfolio") or portfolio)
            if lead_key not in leads:
                try:
                    found = find_lead(session, lead_key[0], portfolio=lead_key[1])
                    visible = user is None or can_see_lead(user, found)
                    leads[lead_key] = found if visible else f"no lead with external id {lead_key[0]!r}"
                except (NotFoundError, ValidationFailedError) as exc:
                    leads[lead_key] = str(exc)
            known = leads[lead_key]
            if isinstance(known, str):
                fail("lead", known)
            else:
                lead = known
        values: dict[str, Any] = {}
        for name in ("conversation", "autodialed"):
            text = str(row.get(name) or "").strip().lower()
            if text in _TRUE:
                values[name] = True
            elif text in _FALSE:
                values[name] = False
            else:
                fail(name, "must be true or false")
        for name, choices in (("channel", Channel), ("target_type", TargetType), ("direction", Direction)):
            text = str(row.get(name) or "").strip().lower()
            if text:
                if text in {choice.value for choice in choices}:
                    values[name] = text
                else:
                    fail(name, f"must be one of {', '.join(choice.value for choice in choices)}")
        for name in ("target", "outcome", "note"):
            if row.get(name) not in (None, ""):
                values[name] = row[name]
        if row.get("at"):
            try:
                values["at"] = parse_time(str(row["at"]))
            except ValidationFailedError:
                fail("at", "not an ISO 8601 time")
        if lead is None or len(errors) > errors_before:
            continue
        try:
            data = ContactCreate(lead_id=lead.id, **values)
        except ValidationError as exc:
            for error in exc.errors():
                fail(str(error["loc"][0]) if error["loc"] else "row", error["msg"])
            continue
        if data.target:
            try:
                rules.parse_target(data.target, channel=data.channel, region=(lead.country or "US").upper())
            except TargetError as exc:
                fail("target", str(exc))
                continue
        pending.append((lead, data))
    if report.total == 0:
        raise ValidationFailedError("the file has no contact rows", [{"row": None, "field": None,
                                                                     "message": "no rows"}])
    if errors:
        bad_rows = len({e["row"] for e in errors})
        raise ValidationFailedError(f"{bad_rows} of {report.total} row(s) are invalid; nothing was imported", errors)

    facts: dict[uuid.UUID, LeadFacts] = {}
    for lead, data in pending:
        if lead.id not in facts:
            facts[lead.id] = lead_facts(session, lead)
        session.add(_contact_row(lead, facts[lead.id], data, actor=actor, source="import"))
    session.flush()
    report.created = len(pending)
    record(session, actor=actor, action="compliance.contact.import", entity_type="contact_attempts",
           details={"file": report.file, "total": report.total, "created": report.created})
    return report


# --------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------


def lead_flags(session: Session, lead: Lead) -> LeadFlags:
    rows = list(session.scalars(select(LeadComplianceFlag).where(LeadComplianceFlag.lead_id == lead.id)
                                .order_by(LeadComplianceFlag.set_at.desc())))
    active = sorted({row.flag for row in rows if row.cleared_at is None})
    return LeadFlags(lead_id=lead.id, active=active, history=[FlagRead.model_validate(row) for row in rows])


def set_flag(session: Session, lead: Lead, flag: Flag | str, *, active: bool, actor: str, note: str | None = None,
             user: User | None = None) -> LeadFlags:
    """Set or clear a compliance flag (setting one that is set, or clearing one that is not, changes nothing).
    Clearing lifts a hard block, so only managers and admins (or the operator's CLI) may."""
    flag = Flag(flag)
    current = session.scalar(select(LeadComplianceFlag).where(
        LeadComplianceFlag.lead_id == lead.id, LeadComplianceFlag.flag == flag.value,
        LeadComplianceFlag.cleared_at.is_(None)))
    if active and current is None:
        session.add(LeadComplianceFlag(lead_id=lead.id, flag=flag.value, note=note, set_at=utcnow(), set_by=actor))
        record(session, actor=actor, action="compliance.flag.set", entity_type="lead", entity_id=lead.id,
               details={"flag": flag.value, "note": note})
        outbox.emit(session, FLAG_CHANGED, entity_type="lead", entity_id=lead.id, lead_id=lead.id, actor=actor,
                    payload={"flag": flag.value, "active": True})
    elif not active and current is not None:
        if user is not None and user.role not in (Role.ADMIN, Role.MANAGER):
            raise PermissionDeniedError("only managers and admins can clear a compliance flag")
        current.cleared_at, current.cleared_by, current.clear_note = utcnow(), actor, note
        record(session, actor=actor, action="compliance.flag.clear", entity_type="lead", entity_id=lead.id,
               details={"flag": flag.value, "note": note})
        outbox.emit(session, FLAG_CHANGED, entity_type="lead", entity_id=lead.id, lead_id=lead.id, actor=actor,
                    payload={"flag": flag.value, "active": False})
    session.flush()
    return lead_flags(session, lead)


# --------------------------------------------------------------------------------------------
# Consents and suppressions
# --------------------------------------------------------------------------------------------


def _consent_read(row: ContactConsent) -> ConsentRead:
    valid = row.granted_at is not None and row.revoked_at is None and row.reassigned_at is None
    return ConsentRead.model_validate({**{c: getattr(row, c) for c in ConsentRead.model_fields if c != "valid"},
                                       "valid": valid})


def record_consent(session: Session, lead: Lead, number: str, *, action: str = "grant", actor: str,
                   source: str | None = None) -> list[ConsentRead]:
    """Grant, revoke, or mark reassigned a TCPA consent for one of a lead's numbers; returns that number's
    consent records. Revoking or marking reassigned with no record on file still records it."""
    try:
        target = Target(TargetKind.PHONE, rules.normalize_phone(number, (lead.country or "US").upper()))
    except TargetError as exc:
        raise _target_error(exc) from None
    index = _index(target)
    rows = list(session.scalars(select(ContactConsent).where(ContactConsent.lead_id == lead.id,
                                                             ContactConsent.target_index == index)
                                .order_by(ContactConsent.created_at)))
    now = utcnow()

    def new_row() -> ContactConsent:
        row = ContactConsent(lead_id=lead.id, target_index=index, source=source, created_at=now,
                             target_encrypted=get_key_ring().encrypt(target.value, context=_ENCRYPTION_CONTEXT),
                             target_hint=_hint(target))
        session.add(row)
        rows.append(row)
        return row

    valid = [r for r in rows if r.granted_at is not None and r.revoked_at is None and r.reassigned_at is None]
    changed = False
    if action == "grant":
        if not valid:
            row = new_row()
            row.granted_at, row.granted_by = now, actor
            changed = True
    elif action == "revoke":
        for row in valid or [new_row()]:
            row.revoked_at, row.revoked_by = now, actor
            changed = True
    elif action == "reassigned":
        for row in [r for r in rows if r.reassigned_at is None] or [new_row()]:
            row.reassigned_at, row.reassigned_by = now, actor
            changed = True
    else:
        raise ValidationFailedError(f"unknown consent action {action!r}",
                                    [{"row": None, "field": "action", "message": "grant, revoke or reassigned"}])
    if changed:
        record(session, actor=actor, action=f"compliance.consent.{action}", entity_type="lead", entity_id=lead.id,
               details={"target": _hint(target), "source": source})
    session.flush()
    return [_consent_read(row) for row in rows]


def list_consents(session: Session, lead: Lead) -> list[ConsentRead]:
    rows = session.scalars(select(ContactConsent).where(ContactConsent.lead_id == lead.id)
                           .order_by(ContactConsent.created_at))
    return [_consent_read(row) for row in rows]


def suppress(session: Session, target: str, *, actor: str, source: str, reason: str | None = None,
             region: str = "US", user: User | None = None, lead_id: uuid.UUID | None = None) -> SuppressionRead:
    """Put a number or address on the suppression list (idempotent). Only its keyed hash is kept.

    A suppression blocks every contact with that target, whoever's lead it is: an agent (``user``) may only
    suppress a number or address of a lead they may see (``lead_id``); managers, admins and the operator's CLI
    (``user=None``) any."""
    lead = visible_lead(session, lead_id, user) if lead_id is not None else None
    if lead is not None:
        region = (lead.country or region).upper()
    try:
        parsed = rules.parse_target(target, region=region)
    except TargetError as exc:
        raise _target_error(exc) from None
    if user is not None and user.role not in (Role.ADMIN, Role.MANAGER):
        if lead is None:
            raise PermissionDeniedError("agents suppress a number or address of one of their leads: give lead_id")
        facts = lead_facts(session, lead)
        own = {phone.number for phone in facts.phones} | set(facts.emails)
        if parsed.value not in own:
            raise ValidationFailedError("target: not a number or address of this lead",
                                        [{"row": None, "field": "target", "message": "not this lead's"}])
    index = _index(parsed)
    row = session.scalar(select(Suppression).where(Suppression.target_index == index))
    if row is None:
        row = Suppression(target_kind=parsed.kind.value, target_index=index, target_hint=_hint(parsed),
                          reason=reason, source=source, created_by=actor, created_at=utcnow())
        session.add(row)
        session.flush()
        record(session, actor=actor, action="compliance.suppression.add", entity_type="contact_suppression",
               entity_id=row.id, details={"kind": row.target_kind, "target": row.target_hint, "reason": reason})
    return SuppressionRead.model_validate(row)


def remove_suppression(session: Session, suppression_id: uuid.UUID, *, reason: str, actor: str) -> None:
    """Take a number or address off the suppression list (managers and admins: the consumer asked to be
    contacted again, or it was suppressed by mistake); the reason is audited."""
    row = session.get(Suppression, suppression_id)
    if row is None:
        raise NotFoundError(f"suppression {suppression_id} not found")
    if not reason.strip():
        raise ValidationFailedError("reason: say why the suppression is removed",
                                    [{"row": None, "field": "reason", "message": "required"}])
    details = {"kind": row.target_kind, "target": row.target_hint, "reason": reason, "added_by": row.created_by}
    session.delete(row)
    record(session, actor=actor, action="compliance.suppression.remove", entity_type="contact_suppression",
           entity_id=suppression_id, details=details)
    session.flush()


def suppressions_for_lead(session: Session, lead: Lead) -> list[Suppression]:
    """The suppression-list entries that cover one of the lead's numbers or addresses."""
    facts = lead_facts(session, lead)
    indexes = [_index(Target(TargetKind.PHONE, phone.number)) for phone in facts.phones]
    indexes += [_index(Target(TargetKind.EMAIL, email)) for email in facts.emails]
    if not indexes:
        return []
    return list(session.scalars(select(Suppression).where(Suppression.target_index.in_(indexes))))


def _window_lead(session: Session, lead_id: uuid.UUID) -> Lead:
    lead = session.get(Lead, lead_id)
    assert lead is not None  # the window's foreign key cascades
    return lead


def list_suppressions(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[SuppressionRead], int]:
    total, _ = capped_count(session, select(Suppression.id))
    rows = session.scalars(select(Suppression).order_by(Suppression.created_at.desc()).limit(limit).offset(offset))
    return [SuppressionRead.model_validate(row) for row in rows], total


# --------------------------------------------------------------------------------------------
# Consumer-designated blocked windows
# --------------------------------------------------------------------------------------------


def _window_read(row: BlockedWindowRow) -> BlockedWindowRead:
    return BlockedWindowRead(id=row.id, lead_id=row.lead_id, start=row.start_time, end=row.end_time,
                             days=rules.day_names(row.days or ()), channels=list(row.channels or ()), note=row.note,
                             created_by=row.created_by, created_at=row.created_at)


def add_blocked_window(session: Session, lead: Lead, data: BlockedWindowCreate, *, actor: str) -> BlockedWindowRead:
    start, end = rules.parse_clock(data.start), rules.parse_clock(data.end)
    row = BlockedWindowRow(lead_id=lead.id, start_time=rules.format_clock(start), end_time=rules.format_clock(end),
                           days=sorted(rules.parse_days(data.days)), channels=[c.value for c in data.channels],
                           note=data.note, created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    result = _window_read(row)
    record(session, actor=actor, action="compliance.blocked_window.add", entity_type="lead", entity_id=lead.id,
           details=result.model_dump(mode="json", include={"id", "start", "end", "days", "channels"}))
    return result


def list_blocked_windows(session: Session, lead: Lead) -> list[BlockedWindowRead]:
    rows = session.scalars(select(BlockedWindowRow).where(BlockedWindowRow.lead_id == lead.id)
                           .order_by(BlockedWindowRow.created_at))
    return [_window_read(row) for row in rows]


def remove_blocked_window(session: Session, window_id: uuid.UUID, *, actor: str, user: User | None = None) -> None:
    row = session.get(BlockedWindowRow, window_id)
    if row is None or (user is not None and not can_see_lead(user, _window_lead(session, row.lead_id))):
        # A window on a lead the user may not see is absent, and the error names nothing of that lead.
        raise NotFoundError(f"blocked window {window_id} not found")
    details = _window_read(row).model_dump(mode="json", include={"id", "start", "end", "days", "channels"})
    session.delete(row)
    record(session, actor=actor, action="compliance.blocked_window.remove", entity_type="lead",
           entity_id=row.lead_id, details=details)
    session.flush()
