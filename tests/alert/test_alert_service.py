"""From a signal to alerts: rules, routing, noise control and the guard's answer (both databases)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role, User
from upswing.alert import service
from upswing.alert.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertSendCount,
    AlertSignal,
    AlertSuppression,
    DeliveryStatus,
)
from upswing.alert.quiet import quiet_until
from upswing.alert.schemas import RuleCreate
from upswing.compliance import service as compliance
from upswing.core.errors import ValidationFailedError
from upswing.detection.events import SignalType
from upswing.notify.stream import StreamEvent
from upswing.settings import Settings

#: 18:30 UTC on a Tuesday: daytime in every US time zone (the guard allows calls).
NOW = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)


def _only_rule(session: Session, **fields: Any) -> AlertRule:
    """Replace the shipped rules with one rule (default: every signal, in-app and e-mail, to the owner)."""
    session.execute(delete(AlertRule))
    data = RuleCreate.model_validate({"name": "test rule", "channels": ["in_app", "email"], **fields})
    return service.create_rule(session, data, user=None, actor="test")


def _alerts(session: Session, user: User) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.user_id == user.id).order_by(Alert.created_at)))


def _reasons(session: Session, **where: Any) -> list[str]:
    query = select(AlertSuppression.reason)
    for name, value in where.items():
        query = query.where(getattr(AlertSuppression, name) == value)
    return list(session.scalars(query))


def test_shipped_rules_send_high_signals_to_the_assignee_in_app_and_by_email(db_session: Session) -> None:
    agent = make_user(db_session)
    agent.email = "agent@example.com"
    lead = make_lead(db_session, assignee_id=agent.id)
    high = make_signal(db_session, lead, SignalType.PROMOTION, confidence=0.99)
    service.on_signal(db_session, high, now=NOW)
    signal_priority = db_session.scalar(select(Alert.priority).where(Alert.signal_id == high))
    rules = {r.name: r for r in service.list_rules(db_session, None)}
    assert {"Urgent and high signals", "Job loss"} <= set(rules)
    assert all(r.is_default for r in rules.values() if r.name in ("Urgent and high signals", "Job loss"))
    alerts = _alerts(db_session, agent)
    if signal_priority in ("high", "urgent"):
        assert len(alerts) == 1 and alerts[0].routed_by == "assignee"
        channels = set(db_session.scalars(select(AlertDelivery.channel).where(AlertDelivery.alert_id == alerts[0].id)))
        assert channels == {"in_app", "email"}
    job_loss = make_signal(db_session, lead, SignalType.JOB_LOSS, identity="job-loss")
    service.on_signal(db_session, job_loss, now=NOW + timedelta(days=2))
    last = _alerts(db_session, agent)[-1]
    assert last.signal_id == job_loss
    assert set(db_session.scalars(select(AlertDelivery.channel).where(AlertDelivery.alert_id == last.id))) >= {"in_app"}


def test_conditions_are_validated_with_the_key_named(db_session: Session) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        _only_rule(db_session, conditions={"min_scor": 80})
    assert caught.value.errors[0]["field"] == "conditions.min_scor"
    with pytest.raises(ValidationFailedError) as caught:
        _only_rule(db_session, conditions={"min_score": 180})
    assert caught.value.errors[0]["field"] == "conditions.min_score"
    with pytest.raises(ValidationFailedError) as caught:
        _only_rule(db_session, conditions={"assignees": ["nobody-by-that-name"]})
    assert caught.value.errors[0]["field"] == "conditions.assignees[0]"
    # The second spec's shape, as it is.
    rule = service.create_rule(db_session, RuleCreate.model_validate({
        "rule_name": "Hot leads", "rule_type": "high_score", "conditions": {"min_intent_score": 80},
        "alert_channels": ["dashboard", "email", "webhook"], "priority": "high"}), user=None, actor="test")
    assert rule.conditions == {"min_score": 80}
    assert rule.channels == ["in_app", "email", "webhook"]


def test_dry_run_shows_which_recent_signals_a_rule_would_have_matched(db_session: Session) -> None:
    lead = make_lead(db_session)
    promotion = make_signal(db_session, lead, SignalType.PROMOTION)
    make_signal(db_session, lead, SignalType.AWARD, identity="award")
    result = service.dry_run(db_session, {"signal_types": ["promotion"]}, last=50, now=NOW)
    assert promotion in {m.signal_id for m in result.matches}
    assert all(m.type == "promotion" for m in result.matches)
    assert result.tested >= 2


def test_unassigned_leads_go_round_robin_in_the_team_then_to_the_manager(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app"])
    team = make_team(db_session)
    agents = [make_user(db_session, team=team, username=f"rr-{team.name}-{i}") for i in range(3)]
    portfolio = make_portfolio(db_session)
    picked = []
    for _ in range(6):
        lead = make_lead(db_session, portfolio, team_id=team.id)
        service.on_signal(db_session, make_signal(db_session, lead), now=NOW)
        picked.append(db_session.scalar(select(Alert.user_id).where(Alert.lead_id == lead.id)))
    assert Counter(picked) == {agent.id: 2 for agent in agents}  # each takes a turn
    assert picked[:3] != picked[3:] or len(set(picked[:3])) == 3

    # Everyone in the team away: the team's manager gets it.
    for agent in agents:
        agent.away_from, agent.away_until = NOW.date() - timedelta(days=1), NOW.date() + timedelta(days=3)
    manager = make_user(db_session, Role.MANAGER, team=team)
    lead = make_lead(db_session, portfolio, team_id=team.id)
    service.on_signal(db_session, make_signal(db_session, lead), now=NOW)
    alert = db_session.scalar(select(Alert).where(Alert.lead_id == lead.id))
    assert alert is not None and alert.user_id == manager.id and alert.routed_by == "manager"


def test_an_assignee_out_of_office_is_skipped_and_recorded(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app"])
    team = make_team(db_session)
    away = make_user(db_session, team=team)
    away.away_from, away.away_until = date(2026, 12, 1), date(2026, 12, 31)
    teammate = make_user(db_session, team=team)
    lead = make_lead(db_session, assignee_id=away.id, team_id=team.id)
    signal = make_signal(db_session, lead)
    service.on_signal(db_session, signal, now=NOW)
    alert = db_session.scalar(select(Alert).where(Alert.lead_id == lead.id))
    assert alert is not None and alert.user_id == teammate.id and alert.routed_by == "round_robin"
    assert _reasons(db_session, user_id=away.id, signal_id=signal) == ["out_of_office"]
    # Back from leave: the assignee gets the next one.
    service.on_signal(db_session, make_signal(db_session, lead, identity="later"), now=datetime(2027, 1, 2, 18,
                                                                                                   tzinfo=UTC))
    assert _alerts(db_session, away)


def test_one_alert_per_signal_ever_and_a_second_signal_in_the_window_updates_it(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app", "email"])
    agent = make_user(db_session)
    agent.email = "agent@example.com"
    lead = make_lead(db_session, assignee_id=agent.id)
    first = make_signal(db_session, lead, SignalType.CERTIFICATION, identity="cert")
    service.on_signal(db_session, first, now=NOW)
    service.on_signal(db_session, first, now=NOW + timedelta(minutes=5))  # the same signal again (corroborated)
    assert len(_alerts(db_session, agent)) == 1

    second = make_signal(db_session, lead, SignalType.AWARD, identity="award")
    service.on_signal(db_session, second, now=NOW + timedelta(hours=2))
    alerts = _alerts(db_session, agent)
    assert len(alerts) == 1
    assert alerts[0].signal_count == 2 and alerts[0].signal_id == second
    assert "(+1 more)" in alerts[0].title
    assert _reasons(db_session, signal_id=second) == ["dedup_window"]
    emails = db_session.scalar(select(func.count()).select_from(AlertDelivery).where(
        AlertDelivery.alert_id == alerts[0].id, AlertDelivery.channel == "email"))
    assert emails == 1  # the update sends no second e-mail
    kinds = list(db_session.scalars(select(StreamEvent.kind).where(StreamEvent.user_id == agent.id)
                                    .order_by(StreamEvent.id)))
    assert kinds == ["alert.created", "alert.updated"]

    # After the window a new signal makes a new alert.
    third = make_signal(db_session, lead, SignalType.EDUCATION, identity="degree")
    service.on_signal(db_session, third, now=NOW + timedelta(hours=30))
    assert len(_alerts(db_session, agent)) == 2


def test_quiet_hours_hold_the_email_but_not_the_inbox(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app", "email"])
    agent = make_user(db_session)
    agent.email, agent.timezone = "agent@example.com", "America/Chicago"
    agent.quiet_hours_start, agent.quiet_hours_end = "12:00", "13:30"  # 18:30 UTC is 12:30 in Chicago
    lead = make_lead(db_session, assignee_id=agent.id)
    service.on_signal(db_session, make_signal(db_session, lead), now=NOW)
    deliveries = {d.channel: d for d in db_session.scalars(select(AlertDelivery).where(
        AlertDelivery.user_id == agent.id))}
    assert deliveries["in_app"].status == DeliveryStatus.SENT.value
    assert deliveries["email"].status == DeliveryStatus.PENDING.value
    assert deliveries["email"].note == "quiet_hours"
    assert deliveries["email"].run_after == datetime(2026, 12, 8, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(("now", "expected"), [
    # The night before the spring-forward change (8 March 2026): 22:00 CST → 07:00 CDT is 12:00 UTC.
    (datetime(2026, 3, 8, 4, 0, tzinfo=UTC), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
    # The night of the fall-back change (1 November 2026): 07:00 CST is 13:00 UTC.
    (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
    # Daytime: not quiet.
    (datetime(2026, 3, 9, 18, 0, tzinfo=UTC), None),
])
def test_quiet_hours_end_in_local_time_across_dst(now: datetime, expected: datetime | None) -> None:
    assert quiet_until(now, "America/Chicago", "21:00", "07:00") == expected


def test_a_quiet_period_ending_inside_the_spring_gap_ends_at_the_jump() -> None:
    # 02:30 does not exist in New York on 8 March 2026; the quiet period ends when the clocks jump (07:00 UTC).
    end = quiet_until(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "America/New_York", "22:00", "02:30")
    assert end is not None and end.astimezone(UTC) <= datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_over_the_hourly_cap_alerts_go_to_the_digest(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app", "email"])
    agent = make_user(db_session)
    agent.email, agent.alert_hourly_cap = "agent@example.com", 2
    portfolio = make_portfolio(db_session)
    for minute in range(3):
        lead = make_lead(db_session, portfolio, assignee_id=agent.id)
        service.on_signal(db_session, make_signal(db_session, lead), now=NOW + timedelta(minutes=minute))
    statuses = Counter((d.channel, d.status) for d in db_session.scalars(
        select(AlertDelivery).where(AlertDelivery.user_id == agent.id)))
    assert statuses[("email", "pending")] == 2 and statuses[("email", "digest")] == 1
    assert statuses[("in_app", "sent")] == 2 and statuses[("in_app", "digest")] == 1
    assert _reasons(db_session, user_id=agent.id).count("hourly_cap") == 2
    assert len(_alerts(db_session, agent)) == 3  # the inbox still lists every alert


def test_an_alert_counts_against_the_hourly_cap_for_an_hour_and_then_no_more(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app", "email"])
    agent = make_user(db_session)
    agent.email, agent.alert_hourly_cap = "agent@example.com", 1
    portfolio = make_portfolio(db_session)

    def alert_at(when: datetime) -> Counter[tuple[str, str]]:
        lead = make_lead(db_session, portfolio, assignee_id=agent.id)
        signal_id = make_signal(db_session, lead)
        service.on_signal(db_session, signal_id, now=when)
        alert_id = db_session.scalar(select(Alert.id).where(Alert.signal_id == signal_id))
        return Counter((d.channel, d.status) for d in db_session.scalars(
            select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)))

    assert alert_at(NOW) == {("in_app", "sent"): 1, ("email", "pending"): 1}
    assert alert_at(NOW + timedelta(minutes=59)) == {("in_app", "digest"): 1, ("email", "digest"): 1}
    assert service.sent_last_hour(db_session, [agent.id], NOW + timedelta(minutes=59)) == {
        (agent.id, "in_app"): 1, (agent.id, "email"): 1}  # what went to the digest is not counted
    assert alert_at(NOW + timedelta(minutes=66)) == {("in_app", "sent"): 1, ("email", "pending"): 1}
    # Only the steps a window can still reach are kept: the first alert's step is gone.
    steps = list(db_session.scalars(select(AlertSendCount.step_start).where(AlertSendCount.user_id == agent.id)))
    assert len(steps) == 2 and all(step > NOW for step in steps)


def test_a_ceased_lead_gets_only_an_in_app_note_to_the_assignee(db_session: Session) -> None:
    team = make_team(db_session)
    _only_rule(db_session, channels=["in_app", "email"], recipients={"to": "named", "users": [
        make_user(db_session, Role.MANAGER, team=team, username=f"boss-{team.name}").username]})
    agent = make_user(db_session, team=team)
    agent.email = "agent@example.com"
    lead = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    compliance.set_flag(db_session, lead, "cease", active=True, actor="test")
    signal = make_signal(db_session, lead)
    service.on_signal(db_session, signal, now=NOW)
    alerts = list(db_session.scalars(select(Alert).where(Alert.lead_id == lead.id)))
    assert len(alerts) == 1
    note = alerts[0]
    assert note.user_id == agent.id and note.kind == "restricted" and not note.actionable and note.guard == {}
    assert {d.channel for d in db_session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == note.id))} \
        == {"in_app"}
    assert "lead_restricted" in _reasons(db_session, signal_id=signal)


def test_the_alert_carries_the_guards_answer_per_channel(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app"])
    agent = make_user(db_session)
    lead = make_lead(db_session, assignee_id=agent.id, phones=[{"number": "+15125550142", "type": "cell"}],
                     timezone="America/Chicago")
    service.on_signal(db_session, make_signal(db_session, lead), now=NOW)
    alert = _alerts(db_session, agent)[0]
    assert set(alert.guard) == {"call", "sms", "email"}
    assert alert.guard["email"]["allowed"] is True
    # At 03:00 in Chicago nothing is allowed, and the answer says from when.
    night = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    second_lead = make_lead(db_session, assignee_id=agent.id, timezone="America/Chicago")
    service.on_signal(db_session, make_signal(db_session, second_lead), now=night)
    late = next(a for a in _alerts(db_session, agent) if a.lead_id == second_lead.id)
    assert late.guard["email"]["allowed"] is False
    assert late.guard["email"]["next_allowed_at"] == "2026-12-09T14:00:00+00:00"


def test_a_new_job_alert_never_offers_the_employers_address(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app"])
    agent = make_user(db_session)
    lead = make_lead(db_session, assignee_id=agent.id, email="jordan@acme.com", emails=["jordan@acme.com"],
                     company_domain="acme.com")
    service.on_signal(db_session, make_signal(db_session, lead, organization="Acme"), now=NOW)
    answer = _alerts(db_session, agent)[0].guard["email"]
    assert answer["allowed"] is False and any("work" in reason for reason in answer["reasons"])


def test_batch_guard_loads_facts_for_many_leads_in_a_fixed_number_of_queries(db_session: Session) -> None:
    from sqlalchemy import event

    portfolio = make_portfolio(db_session)
    leads = [make_lead(db_session, portfolio) for _ in range(30)]
    compliance.set_flag(db_session, leads[3], "dispute", active=True, actor="test")
    db_session.flush()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    bind = db_session.connection()
    event.listen(bind, "before_cursor_execute", count)
    try:
        answers = compliance.check_contacts(db_session, leads, service.GUARD_CHANNELS, NOW)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(statements) <= 8
    for lead in leads:  # the same answers as one lead at a time
        for channel in service.GUARD_CHANNELS:
            single = compliance.check_contact(db_session, lead, channel, NOW)
            assert (answers[lead.id][channel].allowed, answers[lead.id][channel].reasons) == (
                single.allowed, single.reasons)


def _settings_rotation(factory: sessionmaker[Session], team_id: uuid.UUID, n: int) -> None:
    for _ in range(n):
        with factory() as session, session.begin():
            service._advance_rotation(session, team_id)


def test_round_robin_is_fair_under_two_concurrent_workers(settings_database: sessionmaker[Session]) -> None:
    factory = settings_database
    with factory() as session, session.begin():
        session.execute(delete(AlertRule))
        session.add(AlertRule(name="all", channels=["in_app"], recipients={"to": "owner"}, conditions={}))
        team = make_team(session)
        agents = [make_user(session, team=team, username=f"fair-{i}") for i in range(4)]
        portfolio = make_portfolio(session)
        leads = [make_lead(session, portfolio, team_id=team.id) for _ in range(40)]
        signals = [make_signal(session, lead) for lead in leads]
    errors: list[BaseException] = []

    def worker(chunk: list[uuid.UUID]) -> None:
        try:
            for signal_id in chunk:
                for _ in range(20):  # SQLite: a writer that meets the lock waits its turn
                    try:
                        with factory() as session, session.begin():
                            service.on_signal(session, signal_id, now=NOW, settings=Settings())
                        break
                    except Exception as exc:
                        if "locked" not in str(exc) and "serializ" not in str(exc):
                            raise
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(signals[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with factory() as session:
        per_agent = Counter(session.scalars(select(Alert.user_id).where(Alert.kind == "signal")))
        assert sum(per_agent.values()) == 40
        assert per_agent == {agent.id: 10 for agent in agents}
        assert session.scalar(select(func.count()).select_from(AlertSignal)) == 40


def test_a_batch_gives_the_same_alerts_as_one_signal_at_a_time(db_session: Session) -> None:
    _only_rule(db_session, channels=["in_app", "email"])
    agent = make_user(db_session)
    agent.email = "agent@example.com"
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, assignee_id=agent.id)
    other = make_lead(db_session, portfolio, assignee_id=agent.id)
    first = make_signal(db_session, lead, SignalType.CERTIFICATION, identity="cert")
    second = make_signal(db_session, lead, SignalType.AWARD, identity="award")
    third = make_signal(db_session, other)
    result = service.on_signals(db_session, [first, second, third, first], now=NOW)
    alerts = {a.lead_id: a for a in _alerts(db_session, agent)}
    assert set(alerts) == {lead.id, other.id}
    assert alerts[lead.id].signal_count == 2 and alerts[other.id].signal_count == 1  # folded within the batch
    assert (result.alerts_created, result.alerts_updated) == (2, 1)
    emails = db_session.scalar(select(func.count()).select_from(AlertDelivery).where(
        AlertDelivery.user_id == agent.id, AlertDelivery.channel == "email"))
    assert emails == 2
    kinds = Counter(db_session.scalars(select(StreamEvent.kind).where(StreamEvent.user_id == agent.id)))
    assert kinds == {"alert.created": 2, "alert.updated": 1}
