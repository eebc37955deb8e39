"""Escalation (docs/escalation.md): a signal nobody acknowledged within its policy's business time goes to the next
level — the team's manager(s), then the admins — as an alert, an ``Escalation`` row per person, the signal's
``escalation_level``, an audit entry and an outbox event; and what the digest lists under "needs attention".

``run`` is what the ``escalation.run`` task does every minute, in the task's transaction. Per enabled policy
(priority, level) it reads the candidates in batches from the ``ix_signals_escalation`` index: status ``new``
(nobody acknowledged, actioned or dismissed it), the policy's priority, below the policy's level, detected
within ``UPSWING_ESCALATION_MAX_AGE_DAYS`` and at least the policy's delay ago as wall time (business time never
runs faster than the clock, so this cheap bound only removes signals that cannot be due). For each it computes
the business deadline in the team's calendar (``escalation.calendar``) and escalates the due ones. A signal is
claimed by one ``UPDATE … WHERE status = 'new' AND escalation_level IN (…) RETURNING``, so an acknowledgement or
another run that got there first wins, and nothing is escalated twice (the ``escalations`` unique key is the
second guard). Services never commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from upswing.account.models import Role, Team, User
from upswing.alert import service as alert_service
from upswing.alert.conditions import PRIORITY_RANK
from upswing.audit import service as audit
from upswing.compliance import service as compliance
from upswing.core import outbox
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.escalation.calendar import (
    Calendar,
    calendars_for,
    country_holidays,
    default_calendar,
    parse_clock,
    weekday_names,
)
from upswing.escalation.models import (
    BusinessCalendar,
    DelayUnit,
    Escalation,
    EscalationPolicy,
    EscalationTarget,
    Holiday,
)
from upswing.escalation.schemas import (
    CalendarRead,
    CalendarSet,
    EscalationFilters,
    EscalationRead,
    HolidayCreate,
    HolidayInfo,
    PolicySet,
    PolicyUpdate,
)
from upswing.lead.models import Lead, full_name
from upswing.notify import stream
from upswing.settings import Settings, get_settings
from upswing.signal.models import Signal, SignalStatus
from upswing.signal.service import SIGNAL_UPDATED

#: Who escalations are recorded as (audit entries, outbox events).
SYSTEM_ACTOR = "system:escalation"
#: The audit action of an escalation (the lead's timeline shows it as "escalated").
ESCALATED = "signal.escalated"
#: Candidate signals read per query.
BATCH_SIZE = 500


# --------------------------------------------------------------------------------------------------
# Escalating
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    signal_id: uuid.UUID
    lead_id: uuid.UUID
    team_id: uuid.UUID | None
    due_at: datetime


@dataclass
class _Run:
    """What one run shares: calendars and recipients, loaded once per team."""

    session: Session
    settings: Settings
    now: datetime
    calendars: dict[uuid.UUID | None, Calendar] = field(default_factory=dict)
    managers: dict[uuid.UUID, list[User]] = field(default_factory=dict)
    _admins: list[User] | None = None

    def calendar_of(self, team_ids: Sequence[uuid.UUID | None]) -> None:
        missing = [team_id for team_id in dict.fromkeys(team_ids) if team_id not in self.calendars]
        if missing:
            self.calendars.update(calendars_for(self.session, missing, self.settings))

    def admins(self) -> list[User]:
        if self._admins is None:
            self._admins = list(self.session.scalars(
                select(User).where(User.role == Role.ADMIN.value, User.is_active.is_(True)).order_by(User.username)))
        return self._admins

    def recipients(self, target: str, team_id: uuid.UUID | None) -> list[User]:
        """``manager``: the team's active managers who are not away (none, or no team: the admins); ``admin``:
        every active admin."""
        if target == EscalationTarget.MANAGER.value and team_id is not None:
            if team_id not in self.managers:
                self.managers[team_id] = [
                    user for user in self.session.scalars(
                        select(User).where(User.team_id == team_id, User.role == Role.MANAGER.value,
                                           User.is_active.is_(True)).order_by(User.username))
                    if not alert_service.is_away(user, self.now)]
            if self.managers[team_id]:
                return self.managers[team_id]
        return self.admins()


def _shortest_day_minutes(session: Session, settings: Settings) -> int:
    """The shortest business day of any calendar (the default's and every team's own)."""
    lengths = [default_calendar(settings).day_minutes]
    for start, end in session.execute(select(BusinessCalendar.start, BusinessCalendar.end)):
        opens, closes = parse_clock(start), parse_clock(end)
        lengths.append((closes.hour - opens.hour) * 60 + closes.minute - opens.minute)
    return max(min(lengths), 1)


def _from_levels(policy: EscalationPolicy, enabled_levels: Sequence[int]) -> list[int]:
    """The escalation levels a signal may be at for ``policy`` to be its next one: above the highest enabled level
    below the policy's (or 0)."""
    below = [level for level in enabled_levels if level < policy.level]
    return list(range(max(below, default=0), policy.level))


def run(session: Session, now: datetime | None = None, *, settings: Settings | None = None,
        batch_size: int = BATCH_SIZE) -> int:
    """Escalate every signal whose policy's business deadline has passed while nobody acknowledged it (each to
    every recipient of its level); returns how many escalations were made, a signal counting once per level it
    reached in this run."""
    settings = settings or get_settings()
    now = now or utcnow()
    policies = list(session.scalars(select(EscalationPolicy).where(EscalationPolicy.enabled.is_(True))
                                    .order_by(EscalationPolicy.level, EscalationPolicy.priority)))
    if not policies:
        return 0
    levels: dict[str, list[int]] = defaultdict(list)
    for policy in policies:
        levels[policy.priority].append(policy.level)
    state = _Run(session=session, settings=settings, now=now)
    shortest_day = _shortest_day_minutes(session, settings)
    oldest = now - timedelta(days=settings.escalation_max_age_days)
    escalated = 0
    # Lower levels first: a signal overdue for two levels reaches both in one run, in order.
    for policy in policies:
        from_levels = _from_levels(policy, levels[policy.priority])
        least = policy.delay_value * (60 if policy.delay_unit == DelayUnit.BUSINESS_HOURS.value else shortest_day)
        latest = now - timedelta(minutes=least)
        if latest < oldest:
            continue
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            query = (select(Signal.id, Signal.lead_id, Signal.team_id, Signal.detected_at)
                     .where(Signal.status == SignalStatus.NEW.value, Signal.priority == policy.priority,
                            Signal.holdout.is_(False),  # an experiment's control group: nobody is to act
                            Signal.escalation_level.in_(from_levels), Signal.detected_at >= oldest,
                            Signal.detected_at <= latest)
                     .order_by(Signal.detected_at, Signal.id).limit(batch_size))
            if after is not None:
                query = query.where(or_(Signal.detected_at > after[0],
                                        and_(Signal.detected_at == after[0], Signal.id > after[1])))
            rows = session.execute(query).all()
            if not rows:
                break
            after = (rows[-1].detected_at, rows[-1].id)
            state.calendar_of([row.team_id for row in rows])
            due = []
            for row in rows:
                calendar = state.calendars[row.team_id]
                deadline = calendar.add_business_minutes(
                    row.detected_at, calendar.delay_minutes(policy.delay_value, policy.delay_unit))
                if deadline <= now:
                    due.append(_Due(row.id, row.lead_id, row.team_id, deadline))
            if due:
                escalated += _escalate(state, policy, from_levels, due)
            if len(rows) < batch_size:
                break
    return escalated


def _escalate(state: _Run, policy: EscalationPolicy, from_levels: list[int], due: list[_Due]) -> int:
    session, now = state.session, state.now
    # A lead that may not be contacted (cease, bankruptcy…) is not pressed on anyone.
    flags = compliance.active_flags_of(session, list({item.lead_id for item in due}))
    plans = [(item, state.recipients(policy.target, item.team_id)) for item in due
             if not flags.get(item.lead_id, frozenset()) & alert_service.RESTRICTING_FLAGS]
    if not plans:
        return 0
    # Every recipient's stream lock first, in one order (notify.stream.lock_streams): no two writers deadlock.
    stream.lock_streams(session, {user.id for _, users in plans for user in users})
    claimed_ids = set(session.scalars(
        update(Signal).where(Signal.id.in_([item.signal_id for item, _ in plans]),
                             Signal.status == SignalStatus.NEW.value, Signal.escalation_level.in_(from_levels))
        .values(escalation_level=policy.level, escalated_at=now).returning(Signal.id)
        .execution_options(synchronize_session=False)))
    claimed = [(item, users) for item, users in plans if item.signal_id in claimed_ids]
    if not claimed:
        return 0
    signals = {row.id: row for row in session.scalars(
        select(Signal).where(Signal.id.in_(claimed_ids)).execution_options(populate_existing=True))}
    leads = {row.id: row for row in session.scalars(select(Lead).where(Lead.id.in_({i.lead_id for i, _ in claimed})))}
    guards = compliance.check_contacts(session, list(leads.values()), alert_service.GUARD_CHANNELS, now)
    existing = {(row.signal_id, row.user_id) for row in session.execute(select(
        Escalation.signal_id, Escalation.user_id).where(Escalation.signal_id.in_(claimed_ids),
                                                        Escalation.level == policy.level))}
    events: list[outbox.NewEvent] = []
    for item, users in claimed:
        signal, lead = signals[item.signal_id], leads[item.lead_id]
        told: list[str] = []
        for user in users:
            if (signal.id, user.id) in existing:
                continue
            alert = alert_service.escalation_alert(session, user, lead, signal, policy.level, now,
                                                   guard=guards[lead.id])
            session.add(Escalation(signal_id=signal.id, lead_id=lead.id, team_id=signal.team_id, level=policy.level,
                                   policy_id=policy.id, user_id=user.id, alert_id=alert.id, priority=signal.priority,
                                   due_at=item.due_at, created_at=now))
            told.append(user.username)
        details: dict[str, Any] = {"level": policy.level, "priority": signal.priority, "to": told,
                                   "due_at": item.due_at.isoformat(), "target": policy.target,
                                   "policy_id": str(policy.id), "lead_id": str(lead.id)}
        if not users:
            details["no_recipient"] = True  # nobody to tell: recorded, never skipped silently
        audit.record(session, actor=SYSTEM_ACTOR, action=ESCALATED, entity_type="signal", entity_id=signal.id,
                     details=details)
        events.append(outbox.NewEvent(SIGNAL_UPDATED, "signal", signal.id, lead_id=lead.id, actor=SYSTEM_ACTOR,
                                      payload={"change": "escalated", "level": policy.level,
                                               "priority": signal.priority, "type": signal.type}))
    session.flush()
    outbox.emit_many(session, events)
    return len(claimed)


# --------------------------------------------------------------------------------------------------
# Reading escalations
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionItem:
    """One escalated signal for a digest's "needs attention" section."""

    escalation_id: uuid.UUID
    signal_id: uuid.UUID
    lead_id: uuid.UUID
    lead_name: str
    lead_external_id: str
    signal_type: str
    signal_title: str | None
    organization: str | None
    priority: str
    level: int
    detected_at: datetime
    #: When it was escalated to this user (the escalation's ``created_at``).
    escalated_at: datetime
    assignee_username: str | None
    #: Nobody has acknowledged, actioned or dismissed the signal yet.
    still_open: bool


_RECIPIENT = aliased(User, name="recipient")
_ASSIGNEE = aliased(User, name="assignee")


def _escalations() -> Select[*tuple[Any, ...]]:
    """The columns ``list_escalations`` and ``needs_attention`` read."""
    query = (
        select(Escalation, Signal.type, Signal.title, Signal.organization, Signal.status,
               Signal.priority.label("signal_priority"), Signal.detected_at, Lead.external_id, Lead.first_name,
               Lead.middle_name, Lead.last_name, _RECIPIENT.username,
               _ASSIGNEE.username.label("assignee_username"))
        .join(Signal, Signal.id == Escalation.signal_id)
        .join(Lead, Lead.id == Escalation.lead_id)
        .join(_RECIPIENT, _RECIPIENT.id == Escalation.user_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Signal.assignee_id))
    return query


def needs_attention(session: Session, user: User, since: datetime, now: datetime) -> list[AttentionItem]:
    """The escalations to ``user`` for their digest: those made in (``since``, ``now``], and older ones whose
    signal nobody has acknowledged yet. One item per signal (its highest level); still open first, then the
    highest level, then the longest waiting."""
    rows = session.execute(_escalations().where(
        Escalation.user_id == user.id, Escalation.created_at <= now,
        or_(Escalation.created_at > since, Signal.status == SignalStatus.NEW.value)))
    best: dict[uuid.UUID, AttentionItem] = {}
    for row in rows:
        escalation: Escalation = row.Escalation
        item = AttentionItem(
            escalation_id=escalation.id, signal_id=escalation.signal_id, lead_id=escalation.lead_id,
            lead_name=full_name(row.first_name, row.middle_name, row.last_name), lead_external_id=row.external_id,
            signal_type=row.type, signal_title=row.title, organization=row.organization,
            priority=row.signal_priority, level=escalation.level, detected_at=row.detected_at,
            escalated_at=escalation.created_at, assignee_username=row.assignee_username,
            still_open=row.status == SignalStatus.NEW.value)
        known = best.get(item.signal_id)
        if known is None or (item.level, item.escalated_at) > (known.level, known.escalated_at):
            best[item.signal_id] = item
    return sorted(best.values(), key=lambda i: (not i.still_open, -i.level, i.escalated_at, str(i.escalation_id)))


def _user_clause(session: Session, user: User | None, value: str) -> ColumnElement[bool]:
    wanted = value.strip()
    if wanted.lower() == "me":
        if user is None:
            raise ValidationFailedError("user: 'me' needs a signed-in user (the CLI: --as USER)",
                                        [{"field": "user", "message": "no current user"}])
        return Escalation.user_id == user.id
    try:
        return Escalation.user_id == uuid.UUID(wanted)
    except ValueError:
        pass
    found = session.scalar(select(User.id).where(User.username == wanted))
    if found is None:
        raise ValidationFailedError(f"user: no user {wanted!r}", [{"field": "user", "message": "unknown user"}])
    return Escalation.user_id == found


def _scope(user: User | None) -> ColumnElement[bool] | None:
    """Admins (and the operator) see every escalation; managers their team's and those to them; agents those of
    the signals assigned to them; viewers none."""
    if user is None or user.role == Role.ADMIN.value:
        return None
    if user.role == Role.MANAGER.value:
        mine = Escalation.user_id == user.id
        return or_(mine, Escalation.team_id == user.team_id) if user.team_id is not None else mine
    if user.role == Role.AGENT.value:
        return Signal.assignee_id == user.id
    raise PermissionDeniedError("viewers see no escalations")


def list_escalations(session: Session, user: User | None, filters: EscalationFilters) -> list[EscalationRead]:
    """Escalations ``user`` may see (``None``: the operator, all), newest first."""
    query = _escalations()
    scope = _scope(user)
    if scope is not None:
        query = query.where(scope)
    if filters.level is not None:
        query = query.where(Escalation.level == filters.level)
    if filters.priority is not None:
        query = query.where(Escalation.priority == filters.priority.value)
    if filters.since is not None:
        query = query.where(Escalation.created_at >= filters.since)
    if filters.user is not None:
        query = query.where(_user_clause(session, user, filters.user))
    if filters.open is not None:
        query = query.where(Signal.status == SignalStatus.NEW.value if filters.open
                            else Signal.status != SignalStatus.NEW.value)
    rows = session.execute(query.order_by(Escalation.created_at.desc(), Escalation.id.desc())
                           .limit(filters.limit).offset(filters.offset))
    out = []
    for row in rows:
        escalation: Escalation = row.Escalation
        out.append(EscalationRead(
            id=escalation.id, signal_id=escalation.signal_id, lead_id=escalation.lead_id,
            lead_external_id=row.external_id, lead_name=full_name(row.first_name, row.middle_name, row.last_name),
            team_id=escalation.team_id, signal_type=row.type, signal_title=row.title, organization=row.organization,
            signal_status=row.status, still_open=row.status == SignalStatus.NEW.value, level=escalation.level,
            priority=escalation.priority, user_id=escalation.user_id, username=row.username,
            assignee_username=row.assignee_username, alert_id=escalation.alert_id, policy_id=escalation.policy_id,
            detected_at=row.detected_at, due_at=escalation.due_at, created_at=escalation.created_at))
    return out


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


def list_policies(session: Session) -> list[EscalationPolicy]:
    """Every policy, most urgent priority first, then by level."""
    return sorted(session.scalars(select(EscalationPolicy)),
                  key=lambda p: (-PRIORITY_RANK.get(p.priority, -1), p.level, p.priority))


def find_policy(session: Session, priority: str, level: int) -> EscalationPolicy | None:
    return session.scalar(select(EscalationPolicy).where(EscalationPolicy.priority == priority,
                                                         EscalationPolicy.level == level))


def _policy_details(policy: EscalationPolicy) -> dict[str, Any]:
    return {"priority": policy.priority, "level": policy.level, "delay_value": policy.delay_value,
            "delay_unit": policy.delay_unit, "target": policy.target, "enabled": policy.enabled}


def put_policy(session: Session, data: PolicySet, *, actor: str) -> EscalationPolicy:
    """Create or replace the policy of ``data.priority`` and ``data.level``."""
    policy = find_policy(session, data.priority.value, data.level)
    if policy is None:
        policy = EscalationPolicy(priority=data.priority.value, level=data.level)
        session.add(policy)
    policy.delay_value, policy.delay_unit = data.delay_value, data.delay_unit.value
    policy.target, policy.enabled = data.target.value, data.enabled
    policy.updated_at, policy.updated_by = utcnow(), actor
    session.flush()
    audit.record(session, actor=actor, action="escalation_policy.set", entity_type="escalation_policy",
                 entity_id=policy.id, details=_policy_details(policy))
    return policy


def update_policy(session: Session, policy_id: uuid.UUID, data: PolicyUpdate, *, actor: str) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFoundError(f"escalation policy {policy_id} not found")
    if data.delay_value is not None:
        policy.delay_value = data.delay_value
    if data.delay_unit is not None:
        policy.delay_unit = data.delay_unit.value
    if data.target is not None:
        policy.target = data.target.value
    if data.enabled is not None:
        policy.enabled = data.enabled
    policy.updated_at, policy.updated_by = utcnow(), actor
    session.flush()
    audit.record(session, actor=actor, action="escalation_policy.update", entity_type="escalation_policy",
                 entity_id=policy.id, details=_policy_details(policy))
    return policy


# --------------------------------------------------------------------------------------------------
# Business calendars and holidays
# --------------------------------------------------------------------------------------------------


def _team(session: Session, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFoundError(f"team {team_id} not found")
    return team


def _upcoming(session: Session, calendar: Calendar, team_id: uuid.UUID | None, today: date) -> list[HolidayInfo]:
    until = today + timedelta(days=365)
    found = [HolidayInfo(day=row.day, name=row.name, source="all_teams" if row.team_id is None else "team")
             for row in session.scalars(select(Holiday).where(
                 or_(Holiday.team_id.is_(None), Holiday.team_id == team_id) if team_id is not None
                 else Holiday.team_id.is_(None), Holiday.day >= today, Holiday.day <= until))]
    if calendar.holiday_country:
        for year in range(today.year, until.year + 1):
            found += [HolidayInfo(day=day, name=name, source="country")
                      for day, name in country_holidays(calendar.holiday_country, year).items()
                      if today <= day <= until]
    return sorted(found, key=lambda h: (h.day, h.source, h.name))


def get_calendar(session: Session, team_id: uuid.UUID | None, *, user: User | None,
                 settings: Settings | None = None, now: datetime | None = None) -> CalendarRead:
    """A team's business calendar (its own, or the default), or the default one (``team_id`` None). Admins read
    every team's; managers their own team's."""
    settings = settings or get_settings()
    if team_id is not None:
        _team(session, team_id)
    if user is not None and user.role != Role.ADMIN.value and (
            user.role != Role.MANAGER.value or team_id is None or user.team_id != team_id):
        raise PermissionDeniedError("managers read only their own team's business calendar")
    calendar = calendars_for(session, [team_id], settings)[team_id]
    row = session.get(BusinessCalendar, team_id) if team_id is not None else None
    today = (now or utcnow()).astimezone(calendar.zone).date()
    return CalendarRead(team_id=team_id, own=row is not None, timezone=calendar.timezone,
                        start=f"{calendar.start:%H:%M}", end=f"{calendar.end:%H:%M}",
                        weekdays=weekday_names(calendar.weekdays), holiday_country=calendar.holiday_country,
                        day_minutes=calendar.day_minutes,
                        upcoming_holidays=_upcoming(session, calendar, team_id, today),
                        updated_at=row.updated_at if row is not None else None)


def set_calendar(session: Session, team_id: uuid.UUID, data: CalendarSet, *, actor: str,
                 settings: Settings | None = None) -> CalendarRead:
    """Give a team its own business hours (replacing any it had)."""
    _team(session, team_id)
    row = session.get(BusinessCalendar, team_id)
    if row is None:
        row = BusinessCalendar(team_id=team_id)
        session.add(row)
    row.timezone, row.start, row.end = data.timezone, data.start, data.end
    row.weekdays, row.holiday_country, row.updated_at = data.weekday_numbers(), data.holiday_country, utcnow()
    session.flush()
    audit.record(session, actor=actor, action="business_calendar.set", entity_type="team", entity_id=team_id,
                 details={"timezone": row.timezone, "start": row.start, "end": row.end,
                          "weekdays": weekday_names(row.weekdays), "holiday_country": row.holiday_country})
    return get_calendar(session, team_id, user=None, settings=settings)


def list_holidays(session: Session, *, team_id: uuid.UUID | None = None, year: int | None = None) -> list[Holiday]:
    """Configured holidays (every team's, and with ``team_id`` that team's too), by day."""
    query = select(Holiday).order_by(Holiday.day, Holiday.name, Holiday.id)
    if team_id is not None:
        query = query.where(or_(Holiday.team_id.is_(None), Holiday.team_id == team_id))
    if year is not None:
        query = query.where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
    return list(session.scalars(query))


def add_holiday(session: Session, data: HolidayCreate, *, actor: str) -> Holiday:
    if data.team_id is not None and session.get(Team, data.team_id) is None:
        raise ValidationFailedError(f"team_id: no team {data.team_id}",
                                    [{"field": "team_id", "message": "unknown team"}])
    same_team = Holiday.team_id.is_(None) if data.team_id is None else Holiday.team_id == data.team_id
    if session.scalar(select(Holiday.id).where(same_team, Holiday.day == data.day)) is not None:
        raise ConflictError(f"{data.day.isoformat()} is already a holiday"
                            + (" of this team" if data.team_id else " of every team"))
    holiday = Holiday(team_id=data.team_id, day=data.day, name=data.name, created_at=utcnow())
    session.add(holiday)
    session.flush()
    audit.record(session, actor=actor, action="holiday.add", entity_type="holiday", entity_id=holiday.id,
                 details={"day": holiday.day.isoformat(), "name": holiday.name,
                          "team_id": str(holiday.team_id) if holiday.team_id else None})
    return holiday


def delete_holiday(session: Session, holiday_id: uuid.UUID, *, actor: str) -> None:
    holiday = session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFoundError(f"holiday {holiday_id} not found")
    session.delete(holiday)
    session.flush()
    audit.record(session, actor=actor, action="holiday.delete", entity_type="holiday", entity_id=holiday_id,
                 details={"day": holiday.day.isoformat(), "name": holiday.name,
                          "team_id": str(holiday.team_id) if holiday.team_id else None})
