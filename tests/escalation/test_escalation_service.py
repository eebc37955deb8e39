"""Escalating unacknowledged signals (both databases): real deadlines across a weekend and a holiday, the levels,
acknowledging in time, idempotence, restricted leads, the audit entry, the timeline, and the digest's list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from factories import make_lead, make_signal, make_team, make_user
from upswing.account.models import Role, Team, User
from upswing.alert.models import Alert, AlertDelivery
from upswing.audit.models import AuditEntry
from upswing.casework.timeline import timeline
from upswing.compliance import service as compliance
from upswing.core.outbox import OutboxEvent
from upswing.escalation import service
from upswing.escalation.models import BusinessCalendar, Escalation, EscalationPolicy, Holiday
from upswing.lead.models import Lead
from upswing.settings import Settings, get_settings
from upswing.signal import service as signal_service
from upswing.signal.models import DismissReason, Signal
from upswing.signal.schemas import SignalFilters

NEW_YORK = ZoneInfo("America/New_York")
#: Friday 4 December 2026, 16:30 in New York (the default calendar: 09:00–17:00, Monday to Friday, US holidays).
FRIDAY_AFTERNOON = datetime(2026, 12, 4, 16, 30, tzinfo=NEW_YORK).astimezone(UTC)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)  # type: ignore[misc]


@dataclass
class World:
    team: Team
    manager: User
    agent: User
    admins: list[User]
    lead: Lead
    signal_id: uuid.UUID


def _settings(**changes: Any) -> Settings:
    return get_settings().model_copy(update=changes)


def _signal(session: Session, lead: Lead, *, priority: str = "urgent",
            detected_at: datetime = FRIDAY_AFTERNOON) -> uuid.UUID:
    # A different employer each time: the same one on the same lead would be the same event (one signal).
    employer = f"Employer {uuid.uuid4().hex[:8]}"
    signal_id = make_signal(session, lead, identity=employer, organization=employer)
    session.execute(update(Signal).where(Signal.id == signal_id).values(priority=priority, detected_at=detected_at))
    return signal_id


def _world(session: Session, *, manager: bool = True) -> World:
    team = make_team(session)
    boss = make_user(session, Role.MANAGER, team=team)
    boss.email = f"{boss.username}@example.com"
    if not manager:
        boss.is_active = False
    agent = make_user(session, Role.AGENT, team=team)
    # Only this test's admins are active (the migrated database has none; other tests roll theirs back).
    admins = [make_user(session, Role.ADMIN), make_user(session, Role.ADMIN)]
    lead = make_lead(session, assignee_id=agent.id, team_id=team.id)
    return World(team, boss, agent, admins, lead, _signal(session, lead))


def _escalations(session: Session, signal_id: uuid.UUID) -> list[Escalation]:
    return list(session.scalars(select(Escalation).where(Escalation.signal_id == signal_id)
                                .order_by(Escalation.level, Escalation.created_at)))


def _signal_row(session: Session, signal_id: uuid.UUID) -> Signal:
    found = session.scalar(select(Signal).where(Signal.id == signal_id).execution_options(populate_existing=True))
    assert found is not None
    return found


def test_urgent_escalates_to_the_manager_after_two_business_hours_across_the_weekend(db_session: Session) -> None:
    world = _world(db_session)
    # Friday 16:30 + 2 business hours = Monday 10:30 in New York; not one minute earlier.
    assert service.run(db_session, ny(2026, 12, 5, 12, 0)) == 0  # Saturday
    assert service.run(db_session, ny(2026, 12, 7, 10, 29)) == 0
    assert _escalations(db_session, world.signal_id) == []
    assert service.run(db_session, ny(2026, 12, 7, 10, 30)) == 1

    [escalation] = _escalations(db_session, world.signal_id)
    assert (escalation.level, escalation.user_id, escalation.team_id) == (1, world.manager.id, world.team.id)
    assert escalation.due_at == ny(2026, 12, 7, 10, 30) and escalation.priority == "urgent"
    signal = _signal_row(db_session, world.signal_id)
    assert signal.escalation_level == 1 and signal.escalated_at == ny(2026, 12, 7, 10, 30)
    assert signal.status == "new"

    alert = db_session.get(Alert, escalation.alert_id)
    assert alert is not None and alert.kind == "escalation" and alert.user_id == world.manager.id
    assert alert.title.startswith("Not acknowledged, escalation level 1")
    assert set(alert.guard) == {"call", "sms", "email"}
    channels = {row.channel: row.status for row in db_session.execute(
        select(AlertDelivery.channel, AlertDelivery.status).where(AlertDelivery.alert_id == alert.id))}
    assert channels == {"in_app": "sent", "email": "pending"}


def test_a_holiday_on_monday_moves_the_deadline_to_tuesday(db_session: Session) -> None:
    world = _world(db_session)
    db_session.add(Holiday(team_id=None, day=date(2026, 12, 7), name="Company day off"))
    db_session.flush()
    assert service.run(db_session, ny(2026, 12, 7, 10, 30)) == 0
    assert service.run(db_session, ny(2026, 12, 8, 10, 29)) == 0
    assert service.run(db_session, ny(2026, 12, 8, 10, 30)) == 1
    assert [e.due_at for e in _escalations(db_session, world.signal_id)] == [ny(2026, 12, 8, 10, 30)]


def test_a_teams_own_holiday_and_calendar_count(db_session: Session) -> None:
    world = _world(db_session)
    other = _world(db_session)
    db_session.add(Holiday(team_id=world.team.id, day=date(2026, 12, 7), name="Team offsite"))
    # The other team works in Los Angeles: Friday 16:30 New York is 13:30 there, so 15:30 the same day.
    db_session.add(BusinessCalendar(team_id=other.team.id, timezone="America/Los_Angeles", start="09:00",
                                    end="17:00", weekdays=[0, 1, 2, 3, 4], holiday_country="US"))
    db_session.flush()
    assert service.run(db_session, datetime(2026, 12, 4, 23, 29, tzinfo=UTC)) == 0
    assert service.run(db_session, datetime(2026, 12, 4, 23, 30, tzinfo=UTC)) == 1
    assert len(_escalations(db_session, other.signal_id)) == 1
    assert _escalations(db_session, world.signal_id) == []
    service.run(db_session, ny(2026, 12, 7, 10, 30))
    assert _escalations(db_session, world.signal_id) == []  # the offsite holds the first team's clock
    service.run(db_session, ny(2026, 12, 8, 10, 29))
    assert _escalations(db_session, world.signal_id) == []
    service.run(db_session, ny(2026, 12, 8, 10, 30))
    assert [e.due_at for e in _escalations(db_session, world.signal_id)] == [ny(2026, 12, 8, 10, 30)]
    # Level 2 (one business day) of the Los Angeles signal: Friday 13:30 + 8 h = Monday 13:30 there.
    assert [e.due_at for e in _escalations(db_session, other.signal_id) if e.level == 2][:1] == [
        datetime(2026, 12, 7, 13, 30, tzinfo=ZoneInfo("America/Los_Angeles"))]


def test_level_two_goes_to_every_admin_after_one_business_day(db_session: Session) -> None:
    world = _world(db_session)
    assert service.run(db_session, ny(2026, 12, 7, 10, 30)) == 1
    # One business day (8 hours) from Friday 16:30: Monday 16:30.
    assert service.run(db_session, ny(2026, 12, 7, 16, 29)) == 0
    assert service.run(db_session, ny(2026, 12, 7, 16, 30)) == 1
    rows = _escalations(db_session, world.signal_id)
    assert [(e.level, e.user_id) for e in rows if e.level == 1] == [(1, world.manager.id)]
    assert {e.user_id for e in rows if e.level == 2} == {admin.id for admin in world.admins}
    assert _signal_row(db_session, world.signal_id).escalation_level == 2


def test_a_long_overdue_signal_reaches_both_levels_in_one_run(db_session: Session) -> None:
    world = _world(db_session)
    assert service.run(db_session, ny(2026, 12, 9, 12, 0)) == 2  # one signal, two levels
    assert sorted(e.level for e in _escalations(db_session, world.signal_id)) == [1, 2, 2]


def test_acknowledging_before_the_deadline_prevents_it(db_session: Session) -> None:
    world = _world(db_session)
    acted = signal_service.acknowledge(db_session, world.signal_id, user=world.agent)
    assert acted.first_action_at is not None
    assert service.run(db_session, ny(2026, 12, 9, 12, 0)) == 0
    assert _escalations(db_session, world.signal_id) == []
    # Dismissing stops it too; a signal already escalated is not escalated further once acknowledged.
    dismissed = _signal(db_session, world.lead)
    signal_service.dismiss(db_session, dismissed, DismissReason.NOT_RELEVANT, user=world.agent)
    later = _signal(db_session, world.lead)
    assert service.run(db_session, ny(2026, 12, 7, 12, 0)) == 1
    signal_service.acknowledge(db_session, later, user=world.manager)
    assert service.run(db_session, ny(2026, 12, 9, 12, 0)) == 0
    assert _escalations(db_session, dismissed) == [] and [e.level for e in _escalations(db_session, later)] == [1]


def test_a_second_run_escalates_nothing_twice(db_session: Session) -> None:
    world = _world(db_session)
    assert service.run(db_session, ny(2026, 12, 7, 11, 0)) == 1
    alerts = db_session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "escalation"))
    for _ in range(3):
        assert service.run(db_session, ny(2026, 12, 7, 11, 0)) == 0
    assert len(_escalations(db_session, world.signal_id)) == 1
    assert db_session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "escalation")) == alerts
    # Even with the level reset by hand, the unique key keeps the manager from a second escalation row.
    db_session.execute(update(Signal).where(Signal.id == world.signal_id).values(escalation_level=0))
    assert service.run(db_session, ny(2026, 12, 7, 11, 0)) == 1
    assert len(_escalations(db_session, world.signal_id)) == 1


def test_small_batches_see_every_candidate(db_session: Session) -> None:
    world = _world(db_session)
    more = [_signal(db_session, world.lead, detected_at=FRIDAY_AFTERNOON + timedelta(seconds=i)) for i in range(6)]
    assert service.run(db_session, ny(2026, 12, 7, 11, 0), batch_size=2) == 7
    assert all(len(_escalations(db_session, signal_id)) == 1 for signal_id in [world.signal_id, *more])


def test_a_restricted_lead_is_not_escalated(db_session: Session) -> None:
    world = _world(db_session)
    compliance.set_flag(db_session, world.lead, "cease", active=True, actor="test")
    assert service.run(db_session, ny(2026, 12, 9, 12, 0)) == 0
    assert _escalations(db_session, world.signal_id) == []
    assert _signal_row(db_session, world.signal_id).escalation_level == 0


def test_without_a_manager_the_admins_get_it_and_without_anyone_it_is_audited(db_session: Session) -> None:
    world = _world(db_session, manager=False)
    assert service.run(db_session, ny(2026, 12, 7, 10, 30)) == 1
    assert {e.user_id for e in _escalations(db_session, world.signal_id)} == {a.id for a in world.admins}

    lonely = make_lead(db_session, team_id=world.team.id)
    signal_id = _signal(db_session, lonely)
    for admin in world.admins:
        admin.is_active = False
    db_session.flush()
    assert service.run(db_session, ny(2026, 12, 7, 10, 31)) == 1
    assert _escalations(db_session, signal_id) == []
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(signal_id),
                                                       AuditEntry.action == "signal.escalated"))
    assert entry is not None and entry.details["no_recipient"] is True and entry.details["to"] == []
    assert _signal_row(db_session, signal_id).escalation_level == 1  # recorded once, not every minute


def test_an_away_manager_is_passed_over_for_the_admins(db_session: Session) -> None:
    world = _world(db_session)
    world.manager.away_from, world.manager.away_until = date(2026, 12, 1), date(2026, 12, 31)
    db_session.flush()
    assert service.run(db_session, ny(2026, 12, 7, 10, 30)) == 1
    assert {e.user_id for e in _escalations(db_session, world.signal_id)} == {a.id for a in world.admins}


def test_high_signals_wait_one_business_day_and_others_never_escalate(db_session: Session) -> None:
    world = _world(db_session)
    high = _signal(db_session, world.lead, priority="high")
    medium = _signal(db_session, world.lead, priority="medium")
    assert service.run(db_session, ny(2026, 12, 7, 16, 29)) == 1  # only the urgent one
    assert service.run(db_session, ny(2026, 12, 7, 16, 30)) == 2  # urgent level 2, high level 1
    assert [(e.level, e.user_id) for e in _escalations(db_session, high)] == [(1, world.manager.id)]
    assert service.run(db_session, ny(2026, 12, 30, 12, 0)) == 0
    assert _escalations(db_session, medium) == []


def test_policies_can_be_disabled_changed_and_skipped(db_session: Session) -> None:
    world = _world(db_session)
    urgent_one = service.find_policy(db_session, "urgent", 1)
    assert urgent_one is not None
    urgent_one.enabled = False
    db_session.flush()
    # Level 1 off: the signal waits for level 2 (1 business day) and goes straight to the admins.
    assert service.run(db_session, ny(2026, 12, 7, 12, 0)) == 0
    assert service.run(db_session, ny(2026, 12, 7, 16, 30)) == 1
    assert {e.level for e in _escalations(db_session, world.signal_id)} == {2}


def test_signals_older_than_the_maximum_age_are_left_alone(db_session: Session) -> None:
    world = _world(db_session)
    assert service.run(db_session, ny(2027, 1, 8, 12, 0), settings=_settings(escalation_max_age_days=30)) == 0
    assert _escalations(db_session, world.signal_id) == []


def test_the_escalation_is_audited_emitted_and_on_the_timeline(db_session: Session) -> None:
    world = _world(db_session)
    service.run(db_session, ny(2026, 12, 7, 10, 30))
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.entity_id == str(world.signal_id),
                                                       AuditEntry.action == "signal.escalated"))
    assert entry is not None and entry.actor == "system:escalation"
    assert entry.details["level"] == 1 and entry.details["priority"] == "urgent"
    assert entry.details["to"] == [world.manager.username]
    assert entry.details["due_at"] == ny(2026, 12, 7, 10, 30).isoformat()
    event = db_session.scalar(select(OutboxEvent).where(OutboxEvent.entity_id == str(world.signal_id),
                                                        OutboxEvent.type == "signal.updated"))
    assert event is not None and event.payload["change"] == "escalated" and event.payload["level"] == 1

    items = [item for item in timeline(db_session, world.lead.id, user=None).items if item.kind == "escalated"]
    assert len(items) == 1 and items[0].signal_id == world.signal_id
    assert "level 1" in items[0].summary and world.manager.username in items[0].summary

    read = signal_service.get_signal(db_session, world.signal_id, user=None)
    assert read.escalation_level == 1 and read.escalated_at == ny(2026, 12, 7, 10, 30)
    escalated = signal_service.page_signals(db_session, SignalFilters(escalated=True), user=None).items
    assert [s.id for s in escalated] == [world.signal_id]
    others = signal_service.page_signals(db_session, SignalFilters(escalated=False, lead_id=world.lead.id), user=None)
    assert world.signal_id not in [s.id for s in others.items]


def test_the_email_waits_for_the_managers_quiet_hours(db_session: Session) -> None:
    world = _world(db_session)
    world.manager.timezone, world.manager.quiet_hours_start, world.manager.quiet_hours_end = (
        "America/New_York", "10:00", "12:00")
    db_session.flush()
    service.run(db_session, ny(2026, 12, 7, 10, 30))
    [escalation] = _escalations(db_session, world.signal_id)
    email = db_session.scalar(select(AlertDelivery).where(AlertDelivery.alert_id == escalation.alert_id,
                                                          AlertDelivery.channel == "email"))
    assert email is not None and email.note == "quiet_hours" and email.run_after == ny(2026, 12, 7, 12, 0)


def test_needs_attention_lists_the_users_escalations_open_ones_first(db_session: Session) -> None:
    world = _world(db_session)
    second = _signal(db_session, world.lead, detected_at=FRIDAY_AFTERNOON + timedelta(minutes=5))
    service.run(db_session, ny(2026, 12, 7, 10, 40))
    signal_service.acknowledge(db_session, world.signal_id, user=world.agent)
    since, now = ny(2026, 12, 7, 7, 0), ny(2026, 12, 8, 7, 0)

    items = service.needs_attention(db_session, world.manager, since, now)
    assert [(i.signal_id, i.still_open) for i in items] == [(second, True), (world.signal_id, False)]
    first = items[0]
    assert first.lead_external_id == world.lead.external_id and first.lead_name == world.lead.full_name
    assert first.assignee_username == world.agent.username and first.level == 1 and first.priority == "urgent"
    assert first.escalated_at == ny(2026, 12, 7, 10, 40) and first.detected_at == FRIDAY_AFTERNOON + timedelta(
        minutes=5)
    assert first.signal_type == "new_employment" and (first.organization or "").startswith("Employer ")

    # The next day: only the signal still waiting is listed (the acknowledged one was in yesterday's digest).
    later = service.needs_attention(db_session, world.manager, now, ny(2026, 12, 9, 7, 0))
    assert [i.signal_id for i in later] == [second]
    # An escalation made after ``now`` is not listed yet; the admins' lists are theirs.
    assert service.needs_attention(db_session, world.manager, since, ny(2026, 12, 7, 10, 0)) == []
    assert service.needs_attention(db_session, world.admins[0], since, now) == []
    # At level 2 the admins see it, the highest level once per signal.
    service.run(db_session, ny(2026, 12, 7, 16, 45))
    admin_items = service.needs_attention(db_session, world.admins[0], since, now)
    assert [(i.signal_id, i.level) for i in admin_items] == [(second, 2)]


def test_who_sees_which_escalations(db_session: Session) -> None:
    from upswing.core.errors import PermissionDeniedError, ValidationFailedError
    from upswing.escalation.schemas import EscalationFilters

    world, other = _world(db_session), _world(db_session)
    service.run(db_session, ny(2026, 12, 7, 16, 30))
    everything = service.list_escalations(db_session, None, EscalationFilters())
    mine = {world.signal_id}
    assert {e.signal_id for e in everything} == mine | {other.signal_id}
    assert {e.signal_id for e in service.list_escalations(db_session, world.manager, EscalationFilters())} == mine
    assert {e.signal_id for e in service.list_escalations(db_session, world.agent, EscalationFilters())} == mine
    assert {e.signal_id for e in service.list_escalations(db_session, world.admins[0], EscalationFilters())} == \
        mine | {other.signal_id}
    to_me = service.list_escalations(db_session, world.manager, EscalationFilters(user="me"))
    assert {e.username for e in to_me} == {world.manager.username}
    assert {e.level for e in service.list_escalations(db_session, None, EscalationFilters(level=2))} == {2}
    viewer = make_user(db_session, Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        service.list_escalations(db_session, viewer, EscalationFilters())
    with pytest.raises(ValidationFailedError) as caught:
        service.list_escalations(db_session, None, EscalationFilters(user="nobody-by-that-name"))
    assert caught.value.errors[0]["field"] == "user"


def test_the_seeded_policies(db_session: Session) -> None:
    policies = [(p.priority, p.level, p.delay_value, p.delay_unit, p.target, p.enabled)
                for p in service.list_policies(db_session)]
    assert policies == [("urgent", 1, 2, "business_hours", "manager", True),
                        ("urgent", 2, 1, "business_days", "admin", True),
                        ("high", 1, 1, "business_days", "manager", True)]
    assert db_session.scalar(select(func.count()).select_from(EscalationPolicy)) == 3
