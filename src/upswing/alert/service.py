"""Alert rules, turning a signal into alerts for the right people, and the in-app inbox (docs/alerts.md).

``on_signal`` is what the ``alert.evaluate`` outbox consumer runs for each new (or newly corroborated) signal, in
the consumer's transaction: it tests the enabled rules, routes each match to its recipients, applies the noise
controls (one alert per user and signal ever, the per-lead dedup window, the hourly cap, quiet hours), asks the
contact guard what each channel allows now, and writes the alerts, their deliveries and the live-stream events.
E-mails and webhooks are sent afterwards by the ``alerts.send`` task (``alert.sending``). Services never commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from upswing.account.clients import principal_user
from upswing.account.models import ApiClient, Role, Team, User
from upswing.alert.conditions import (
    PRIORITY_RANK,
    Recipients,
    RuleConditions,
    SignalFacts,
    matches,
    parse_conditions,
    parse_recipients,
)
from upswing.alert.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    AlertSendCount,
    AlertSignal,
    AlertStatus,
    AlertSuppression,
    DeliveryStatus,
    RuleType,
    TeamRotation,
    WebhookSubscription,
)
from upswing.alert.quiet import quiet_until
from upswing.alert.schemas import (
    AlertFilters,
    AlertPage,
    AlertRead,
    AlertSummary,
    DeliveryRead,
    DryRunMatch,
    DryRunResult,
    GuardAnswer,
    RuleCreate,
    RuleOptions,
    RuleOptionUser,
    RuleUpdate,
)
from upswing.audit import service as audit
from upswing.compliance import service as compliance
from upswing.compliance.phrases import GUARD_CHANNELS as GUARD_CHANNELS  # re-exported (alerts.GUARD_CHANNELS)
from upswing.compliance.phrases import RESTRICTING_FLAGS as RESTRICTING_FLAGS
from upswing.compliance.rules import Channel, GuardDecision
from upswing.compliance.zones import address_zones
from upswing.core import tasks
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.metrics import ALERT_DELIVERY_LATENCY
from upswing.core.pagination import decode_cursor, encode_cursor
from upswing.detection.events import SignalType
from upswing.lead.access import can_see_lead
from upswing.lead.models import Lead, LeadStatus, Portfolio, full_name
from upswing.notify import stream
from upswing.settings import Settings, get_settings
from upswing.signal.models import Evidence, Signal, SignalStatus
from upswing.source.models import Source
from upswing.source.registry import all_connectors

SEND_TASK = "alerts.send"

_TYPE_LABELS = {
    "new_employment": "New job", "promotion": "Promotion", "certification": "Certification",
    "license_renewal": "License renewed", "award": "Award", "business_launch": "Business launch",
    "education": "Degree", "job_loss": "Job loss", "intent_growth": "Employer growing",
    "intent_expansion": "Employer expanding", "intent_financial_distress": "Employer in distress",
    "intent_loan_need": "Employer seeking a loan", "intent_consulting_need": "Employer seeking consulting",
    "portal_engagement": "Portal engagement",
}


def type_label(signal_type: str) -> str:
    return _TYPE_LABELS.get(signal_type, signal_type.replace("_", " ").capitalize())


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------


def _check_rule_access(user: User, rule: AlertRule) -> None:
    """Admins manage every rule; managers their team's."""
    if user.role == Role.ADMIN.value:
        return
    if user.role == Role.MANAGER.value and rule.team_id is not None and rule.team_id == user.team_id:
        return
    raise PermissionDeniedError("managers change only their own team's rules")


def list_rules(session: Session, user: User | None) -> list[AlertRule]:
    query = select(AlertRule).order_by(AlertRule.created_at, AlertRule.id)
    if user is not None and user.role != Role.ADMIN.value:
        query = query.where(or_(AlertRule.team_id.is_(None), AlertRule.team_id == user.team_id))
    return list(session.scalars(query))


def get_rule(session: Session, rule_id: uuid.UUID, user: User | None = None) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None or (user is not None and user.role != Role.ADMIN.value
                        and rule.team_id not in (None, user.team_id)):
        raise NotFoundError(f"alert rule {rule_id} not found")
    return rule


def _default_recipients(rule_type: str) -> dict[str, Any]:
    return {"to": "manager" if rule_type == RuleType.ESCALATION.value else "owner"}


def _normalized(session: Session, conditions: dict[str, Any], recipients: dict[str, Any]) -> tuple[
        dict[str, Any], dict[str, Any]]:
    parsed = parse_conditions(conditions)
    who = parse_recipients(recipients)
    _names_exist(session, parsed, who)
    return parsed.model_dump(mode="json", exclude_none=True), who.model_dump(mode="json")


def _names_exist(session: Session, conditions: RuleConditions, recipients: Recipients) -> None:
    """Usernames and team names in a rule must exist: a typo would silently never match."""
    errors: list[dict[str, object]] = []
    for path, names, column in (("conditions.assignees", conditions.assignees, User.username),
                                ("conditions.teams", conditions.teams, Team.name),
                                ("conditions.portfolios", conditions.portfolios, Portfolio.name),
                                ("recipients.users", recipients.users, User.username),
                                ("recipients.teams", recipients.teams, Team.name)):
        if not names:
            continue
        known = set(session.scalars(select(column).where(column.in_(names))))
        errors += [{"field": f"{path}[{i}]", "message": f"no such name: {name!r}"}
                   for i, name in enumerate(names) if name not in known]
    if errors:
        raise ValidationFailedError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


def _team_of_rule(session: Session, user: User | None, team_name: str | None) -> uuid.UUID | None:
    if user is not None and user.role == Role.MANAGER.value:
        if user.team_id is None:
            raise PermissionDeniedError("a manager without a team cannot own rules")
        if team_name is not None:
            team = session.scalar(select(Team).where(Team.name == team_name))
            if team is None or team.id != user.team_id:
                raise PermissionDeniedError("managers make rules for their own team only")
        return user.team_id
    if user is not None and user.role != Role.ADMIN.value:
        raise PermissionDeniedError("only admins and managers manage alert rules")
    if team_name is None:
        return None
    team_id = session.scalar(select(Team.id).where(Team.name == team_name))
    if team_id is None:
        raise ValidationFailedError(f"team: no team named {team_name!r}",
                                    [{"field": "team", "message": f"no team named {team_name!r}"}])
    return team_id


def create_rule(session: Session, data: RuleCreate, *, user: User | None, actor: str) -> AlertRule:
    conditions, recipients = _normalized(session, data.conditions,
                                         data.recipients or _default_recipients(data.rule_type.value))
    rule = AlertRule(name=data.name, rule_type=data.rule_type.value, conditions=conditions, channels=data.channels,
                     priority=data.priority.value if data.priority else None, recipients=recipients,
                     team_id=_team_of_rule(session, user, data.team), enabled=data.enabled, created_by=actor)
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor, action="alert_rule.create", entity_type="alert_rule", entity_id=rule.id,
                 details={"name": rule.name, "conditions": conditions, "channels": rule.channels})
    return rule


def update_rule(session: Session, rule_id: uuid.UUID, data: RuleUpdate, *, user: User | None,
                actor: str) -> AlertRule:
    rule = get_rule(session, rule_id, user)
    if user is not None:
        _check_rule_access(user, rule)
    changes = data.model_dump(exclude_unset=True)
    if "conditions" in changes or "recipients" in changes:
        rule.conditions, rule.recipients = _normalized(
            session, changes.get("conditions", rule.conditions) or {},
            changes.get("recipients", rule.recipients) or _default_recipients(rule.rule_type))
    for name in ("name", "channels", "enabled"):
        if name in changes and changes[name] is not None:
            setattr(rule, name, changes[name])
    if "rule_type" in changes and data.rule_type is not None:
        rule.rule_type = data.rule_type.value
    if "priority" in changes:
        rule.priority = data.priority.value if data.priority else None
    rule.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="alert_rule.update", entity_type="alert_rule", entity_id=rule.id,
                 details={key: value for key, value in changes.items()})
    return rule


def delete_rule(session: Session, rule_id: uuid.UUID, *, user: User | None, actor: str) -> None:
    rule = get_rule(session, rule_id, user)
    if user is not None:
        _check_rule_access(user, rule)
    session.delete(rule)
    audit.record(session, actor=actor, action="alert_rule.delete", entity_type="alert_rule", entity_id=rule_id,
                 details={"name": rule.name})
    session.flush()


def rule_options(session: Session, user: User) -> RuleOptions:
    """The names a rule may use, for the editor: signal types, lead states, priorities, portfolios, teams, active
    users (a manager: their own team's) and source slugs (every registered connector and configured source)."""
    users = select(User.username, User.full_name, User.role, Team.name).outerjoin(Team, Team.id == User.team_id) \
        .where(User.is_active.is_(True)).order_by(User.username)
    if user.role != Role.ADMIN.value:
        users = users.where(User.team_id == user.team_id) if user.team_id is not None else users.where(
            User.id == user.id)
    return RuleOptions(
        signal_types=[t.value for t in SignalType], lead_statuses=[s.value for s in LeadStatus],
        priorities=sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__),
        portfolios=list(session.scalars(select(Portfolio.name).order_by(Portfolio.name))),
        teams=list(session.scalars(select(Team.name).order_by(Team.name))),
        users=[RuleOptionUser(username=username, full_name=name, role=role, team=team)
               for username, name, role, team in session.execute(users)],
        sources=sorted(set(session.scalars(select(Source.slug))) | set(all_connectors())))


def dry_run(session: Session, raw_conditions: dict[str, Any], *, last: int, team: str | None = None,
            user: User | None = None, now: datetime | None = None) -> DryRunResult:
    """Which of the newest ``last`` signals (that ``user`` may see) these conditions would have matched."""
    conditions = parse_conditions(raw_conditions)
    _names_exist(session, conditions, Recipients())
    now = now or utcnow()
    query = select(Signal.id).order_by(Signal.detected_at.desc(), Signal.id.desc()).limit(last)
    if user is not None and user.role == Role.AGENT.value:
        query = query.where(or_(Signal.assignee_id == user.id, Signal.team_id == user.team_id))
    if team is not None:
        team_id = session.scalar(select(Team.id).where(Team.name == team))
        if team_id is None:
            raise ValidationFailedError(f"team: no team named {team!r}",
                                        [{"field": "team", "message": f"no team named {team!r}"}])
        query = query.where(Signal.team_id == team_id)
    ids = list(session.scalars(query))
    facts = signal_facts(session, ids)
    found = [DryRunMatch(signal_id=sid, lead_id=facts[sid].lead_id, type=facts[sid].facts.signal_type,
                         score=facts[sid].facts.score, priority=facts[sid].facts.priority,
                         detected_at=facts[sid].facts.detected_at)
             for sid in ids if sid in facts and matches(conditions, facts[sid].facts, now)]
    return DryRunResult(tested=len(ids), matched=len(found), matches=found)


@dataclass(frozen=True)
class _Facts:
    lead_id: uuid.UUID
    team_id: uuid.UUID | None
    facts: SignalFacts


def signal_facts(session: Session, signal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, _Facts]:
    """Rule facts for many signals in two queries (signal with lead, portfolio, team and assignee; sources)."""
    if not signal_ids:
        return {}
    assignee = User.__table__.alias("assignee")
    rows = session.execute(
        select(Signal.id, Signal.type, Signal.score, Signal.priority, Signal.confidence, Signal.detected_at,
               Signal.effective_date, Lead.id, Lead.team_id, Lead.status, Lead.balance, Lead.days_delinquent,
               Portfolio.name, Team.name, assignee.c.username)
        .join(Lead, Lead.id == Signal.lead_id)
        .join(Portfolio, Portfolio.id == Lead.portfolio_id)
        .outerjoin(Team, Team.id == Lead.team_id)
        .outerjoin(assignee, assignee.c.id == Lead.assignee_id)
        .where(Signal.id.in_(signal_ids)))
    sources: dict[uuid.UUID, set[str]] = defaultdict(set)
    for signal_id, source in session.execute(select(Evidence.signal_id, Evidence.source).where(
            Evidence.signal_id.in_(signal_ids), Evidence.source.is_not(None))):
        if source:
            sources[signal_id].add(source)
    out: dict[uuid.UUID, _Facts] = {}
    for (signal_id, kind, score, priority, confidence, detected_at, effective_date, lead_id, team_id, status,
         balance, days, portfolio, team, username) in rows:
        out[signal_id] = _Facts(lead_id, team_id, SignalFacts(
            signal_type=kind, score=score, priority=priority, confidence=confidence, detected_at=detected_at,
            effective_date=effective_date, portfolio=portfolio, team=team, assignee=username, lead_status=status,
            balance=balance, days_delinquent=days, sources=frozenset(sources[signal_id])))
    return out


# --------------------------------------------------------------------------------------------------
# From a signal to alerts
# --------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What one user gets for one signal: merged over every rule that routed it to them."""

    user: User
    rule: AlertRule | None
    routed_by: str
    channels: list[str] = field(default_factory=list)
    priority: str = "low"
    kind: str = "signal"


@dataclass
class EvaluationResult:
    matched_rules: int = 0
    alerts_created: int = 0
    alerts_updated: int = 0
    deliveries: int = 0
    suppressed: int = 0


def _suppress(session: Session, reason: str, *, user_id: uuid.UUID | None, lead_id: uuid.UUID | None,
              signal_id: uuid.UUID | None, rule_id: uuid.UUID | None = None, alert_id: uuid.UUID | None = None,
              channel: str | None = None, result: EvaluationResult | None = None) -> None:
    session.add(AlertSuppression(user_id=user_id, lead_id=lead_id, signal_id=signal_id, rule_id=rule_id,
                                 alert_id=alert_id, channel=channel, reason=reason, created_at=utcnow()))
    if result is not None:
        result.suppressed += 1


def _today_for(user: User, now: datetime) -> date:
    return now.astimezone(ZoneInfo(user.timezone or "UTC")).date()


def is_away(user: User, now: datetime) -> bool:
    """Out of office today (in the user's own time zone)."""
    if user.away_from is None and user.away_until is None:
        return False
    today = _today_for(user, now)
    return (user.away_from or date.min) <= today <= (user.away_until or date.max)


def _available(user: User | None, now: datetime) -> bool:
    return user is not None and user.is_active and not is_away(user, now)


def _advance_rotation(session: Session, team_id: uuid.UUID) -> int:
    """Take the team's next turn: one atomic increment, so two workers never take the same turn."""
    for _ in range(3):
        position = session.scalar(update(TeamRotation).where(TeamRotation.team_id == team_id)
                                  .values(position=TeamRotation.position + 1).returning(TeamRotation.position))
        if position is not None:
            return int(position)
        try:
            with session.begin_nested():  # the first turn of this team; a concurrent first insert loses
                session.add(TeamRotation(team_id=team_id, position=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not advance the rotation of team {team_id}")


def _team_members(session: Session, team_id: uuid.UUID, roles: Iterable[Role], now: datetime) -> list[User]:
    users = session.scalars(select(User).where(User.team_id == team_id, User.is_active.is_(True),
                                               User.role.in_([r.value for r in roles]))
                            .order_by(User.username))
    return [user for user in users if not is_away(user, now)]


def _round_robin(session: Session, team_id: uuid.UUID, lead_id: uuid.UUID, now: datetime) -> User | None:
    members = _team_members(session, team_id, (Role.AGENT,), now)
    if not members:
        return None
    # The same lead stays with the same person while an alert about it is open.
    sticky = session.scalar(select(Alert.user_id).where(Alert.lead_id == lead_id, Alert.routed_by == "round_robin",
                                                        Alert.window_ends_at > now)
                            .order_by(Alert.created_at.desc()).limit(1))
    for member in members:
        if member.id == sticky:
            return member
    return members[(_advance_rotation(session, team_id) - 1) % len(members)]


def _manager(session: Session, team_id: uuid.UUID | None, now: datetime) -> User | None:
    if team_id is None:
        return None
    managers = _team_members(session, team_id, (Role.MANAGER,), now)
    return managers[0] if managers else None


def _route(session: Session, lead: Lead, rule: AlertRule, recipients: Recipients, signal_id: uuid.UUID,
           now: datetime, result: EvaluationResult) -> list[tuple[User, str]]:
    """Who gets this rule's alert about this lead, and how they were chosen."""
    picked: list[tuple[User, str]] = []

    def skipped(user: User) -> None:
        _suppress(session, "out_of_office", user_id=user.id, lead_id=lead.id, signal_id=signal_id, rule_id=rule.id,
                  result=result)

    if recipients.to == "named":
        for user in session.scalars(select(User).where(User.username.in_(recipients.users))):
            if not user.is_active or not can_see_lead(user, lead):
                continue
            if is_away(user, now):
                skipped(user)
                picked += _owner_route(session, lead, now, skipped)
            else:
                picked.append((user, "named"))
        for team_id in session.scalars(select(Team.id).where(Team.name.in_(recipients.teams))):
            member = _round_robin(session, team_id, lead.id, now)
            if member is not None and can_see_lead(member, lead):
                picked.append((member, "round_robin"))
    elif recipients.to == "manager":
        manager = _manager(session, lead.team_id, now)
        if manager is not None:
            picked.append((manager, "manager"))
    else:
        picked += _owner_route(session, lead, now, skipped)
    if not picked:
        _suppress(session, "no_recipient", user_id=None, lead_id=lead.id, signal_id=signal_id, rule_id=rule.id,
                  result=result)
    return picked


def _owner_route(session: Session, lead: Lead, now: datetime, skipped: Any) -> list[tuple[User, str]]:
    """The lead's assignee; else the next of its team in turn; else the team's manager."""
    assignee = session.get(User, lead.assignee_id) if lead.assignee_id else None
    if _available(assignee, now):
        assert assignee is not None
        return [(assignee, "assignee")]
    if assignee is not None and assignee.is_active:
        skipped(assignee)
    if lead.team_id is not None:
        member = _round_robin(session, lead.team_id, lead.id, now)
        if member is not None:
            return [(member, "round_robin")]
        manager = _manager(session, lead.team_id, now)
        if manager is not None:
            return [(manager, "manager")]
    return []


def on_signal(session: Session, signal_id: uuid.UUID, *, now: datetime | None = None,
              settings: Settings | None = None) -> EvaluationResult:
    """Alerts for a new or newly corroborated signal."""
    return on_signals(session, [signal_id], now=now, settings=settings)


@dataclass
class _Batch:
    """What the signals of one transaction share, loaded once: a burst of signals costs a few queries per batch,
    not a few per signal."""

    now: datetime
    settings: Settings
    existing: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)  # (user, signal) alerted already
    open_alerts: dict[tuple[uuid.UUID, uuid.UUID, str], Alert] = field(default_factory=dict)  # (user, lead, kind)
    sent_last_hour: dict[tuple[uuid.UUID, str], int] = field(default_factory=dict)  # (user, channel) → count
    counted: dict[tuple[uuid.UUID, str], int] = field(default_factory=dict)  # this batch's, for the counters
    subscriptions: list[tuple[WebhookSubscription, User]] = field(default_factory=list)
    stream_events: list[tuple[uuid.UUID, str, dict[str, Any]]] = field(default_factory=list)
    first_due_alert: uuid.UUID | None = None


def on_signals(session: Session, signal_ids: Sequence[uuid.UUID], *, now: datetime | None = None,
               settings: Settings | None = None) -> EvaluationResult:
    """Alerts for new or newly corroborated signals (the ``alert.evaluate`` consumer, a batch of events at a time)."""
    settings = settings or get_settings()
    now = now or utcnow()
    result = EvaluationResult()
    signals = {row.id: row for row in session.scalars(select(Signal).where(
        Signal.id.in_(signal_ids), Signal.status != SignalStatus.DISMISSED.value))}
    for held in [signal for signal in signals.values() if signal.holdout]:
        # An experiment's control group: business as usual, so no alert; recorded, for the experiment's audit.
        _suppress(session, "holdout", user_id=None, lead_id=held.lead_id, signal_id=held.id, result=result)
        del signals[held.id]
    facts = signal_facts(session, list(signals))
    leads = {row.id: row for row in session.scalars(select(Lead).where(
        Lead.id.in_({s.lead_id for s in signals.values()})))}
    assignees = {lead.assignee_id for lead in leads.values() if lead.assignee_id}
    if assignees:  # into the identity map: routing's look-ups by id then cost no query
        session.scalars(select(User).where(User.id.in_(assignees))).all()
    rules = [(rule, parse_conditions(rule.conditions), parse_recipients(rule.recipients)) for rule in
             session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))
                             .order_by(AlertRule.created_at, AlertRule.id))]

    # 1. Which rules match, and who gets what (routing may take turns in a team, so it runs signal by signal).
    work: list[tuple[Signal, Lead, dict[uuid.UUID, _Plan]]] = []
    for signal_id in signal_ids:
        signal = signals.get(signal_id)
        found = facts.get(signal_id)
        lead = leads.get(signal.lead_id) if signal is not None else None
        if signal is None or found is None or lead is None:
            continue
        matched = [(rule, who) for rule, conditions, who in rules
                   if rule.team_id in (None, lead.team_id) and matches(conditions, found.facts, now)]
        result.matched_rules += len(matched)
        plans: dict[uuid.UUID, _Plan] = {}
        for rule, who in matched:
            for user, routed_by in _route(session, lead, rule, who, signal.id, now, result):
                plan = plans.setdefault(user.id, _Plan(user=user, rule=rule, routed_by=routed_by))
                plan.channels += [c for c in rule.channels if c not in plan.channels]
                priority = rule.priority or signal.priority
                if PRIORITY_RANK.get(priority, 0) >= PRIORITY_RANK.get(plan.priority, 0):
                    plan.priority = priority
        if plans:
            work.append((signal, lead, plans))
    if not work:
        return result

    # 2. The contact guard for every lead at once; restricted leads get only a note to their assignee.
    work_leads = list({lead.id: lead for _, lead, _ in work}.values())
    flags = compliance.active_flags_of(session, [lead.id for lead in work_leads])
    guards = compliance.check_contacts(session, work_leads, GUARD_CHANNELS, now)
    work = [(signal, lead, _restricted_plans(session, lead, signal, plans, now, result)
             if flags.get(lead.id, frozenset()) & RESTRICTING_FLAGS else plans)
            for signal, lead, plans in work]

    # 3. What is already there, for every recipient at once; every recipient's stream lock first, in one order
    # (notify.stream.lock_streams), so that no two consumers deadlock.
    users = {user_id for _, _, plans in work for user_id in plans}
    stream.lock_streams(session, users)
    batch = _Batch(now=now, settings=settings)
    batch.existing = {(user_id, signal_id) for user_id, signal_id in session.execute(
        select(AlertSignal.user_id, AlertSignal.signal_id).where(
            AlertSignal.signal_id.in_([signal.id for signal, _, _ in work]), AlertSignal.user_id.in_(users)))}
    for alert in session.scalars(select(Alert).where(
            Alert.lead_id.in_([lead.id for lead in work_leads]), Alert.user_id.in_(users),
            Alert.window_ends_at > now).order_by(Alert.created_at)):
        batch.open_alerts[(alert.user_id, alert.lead_id, alert.kind)] = alert  # type: ignore[index]
    batch.sent_last_hour = sent_last_hour(session, users, now)
    if any(AlertChannel.WEBHOOK.value in plan.channels for _, _, plans in work for plan in plans.values()):
        batch.subscriptions = _subscriptions(session)

    # 4. The alerts, their deliveries and stream events: written together, flushed once.
    for signal, lead, plans in work:
        for plan in plans.values():
            _alert_user(session, plan, lead, signal, guards[lead.id], batch, result)
    session.flush()
    _count_sent(session, batch.counted, now)
    stream.publish_many(session, batch.stream_events)
    if batch.first_due_alert is not None:
        tasks.enqueue(session, SEND_TASK, key=f"{SEND_TASK}:{batch.first_due_alert}", max_attempts=1)
    return result


#: The hourly cap's granularity: rule alerts are counted per user, channel and step (``AlertSendCount``).
CAP_STEP = timedelta(minutes=5)


def _step_of(moment: datetime) -> datetime:
    step = CAP_STEP.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // step * step, UTC)


def sent_last_hour(session: Session, users: Iterable[uuid.UUID], now: datetime) -> dict[tuple[uuid.UUID, str], int]:
    """Rule alerts sent (or due) per (user, channel) in the 60 minutes before ``now``, from the counters: every
    step that overlaps the hour counts whole, so an alert counts against the cap for 60 to 65 minutes and the cap
    holds for every 60-minute window."""
    since = now - timedelta(hours=1) - CAP_STEP
    return {(user_id, channel): int(sent) for user_id, channel, sent in session.execute(
        select(AlertSendCount.user_id, AlertSendCount.channel, func.sum(AlertSendCount.sent))
        .where(AlertSendCount.user_id.in_(set(users)), AlertSendCount.step_start > since)
        .group_by(AlertSendCount.user_id, AlertSendCount.channel))}


def _count_sent(session: Session, sent: dict[tuple[uuid.UUID, str], int], now: datetime) -> None:
    """Add this batch's rule alerts to the counters and drop the users' steps that no window reaches any more.
    The caller holds the users' stream locks, so no other transaction counts for them meanwhile."""
    if not sent:
        return
    step = _step_of(now)
    insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(AlertSendCount).values([
        {"user_id": user_id, "channel": channel, "step_start": step, "sent": count}
        for (user_id, channel), count in sorted(sent.items(), key=lambda item: (str(item[0][0]), item[0][1]))])
    session.execute(statement.on_conflict_do_update(
        index_elements=[AlertSendCount.user_id, AlertSendCount.channel, AlertSendCount.step_start],
        set_={"sent": AlertSendCount.sent + statement.excluded.sent}))
    session.execute(delete(AlertSendCount).where(
        AlertSendCount.user_id.in_({user_id for user_id, _ in sent}),
        AlertSendCount.step_start <= now - timedelta(hours=1) - CAP_STEP))


def _restricted_plans(session: Session, lead: Lead, signal: Signal, plans: dict[uuid.UUID, _Plan], now: datetime,
                      result: EvaluationResult) -> dict[uuid.UUID, _Plan]:
    """A lead that may not be contacted: no actionable alert for anyone, only an in-app note to its assignee."""
    for plan in plans.values():
        if plan.user.id != lead.assignee_id:
            _suppress(session, "lead_restricted", user_id=plan.user.id, lead_id=lead.id, signal_id=signal.id,
                      rule_id=plan.rule.id if plan.rule else None, result=result)
    assignee = session.get(User, lead.assignee_id) if lead.assignee_id else None
    if assignee is None or not assignee.is_active:
        return {}
    first = next(iter(plans.values()))
    return {assignee.id: _Plan(user=assignee, rule=first.rule, routed_by="assignee", channels=[
        AlertChannel.IN_APP.value], priority=first.priority, kind="restricted")}


def guard_json(guard: dict[Channel, GuardDecision]) -> dict[str, Any]:
    return {channel.value: {"allowed": decision.allowed, "reasons": list(decision.reasons),
                            "next_allowed_at": decision.next_allowed_at.isoformat()
                            if decision.next_allowed_at else None}
            for channel, decision in guard.items()}


def _title(signal: Signal, count: int) -> str:
    what = signal.title or signal.organization
    if signal.type in ("new_employment", "promotion") and signal.title and signal.organization:
        what = f"{signal.title} at {signal.organization}"
    title = f"{type_label(signal.type)}: {what}" if what else type_label(signal.type)
    return (f"{title} (+{count - 1} more)" if count > 1 else title)[:300]


def _alert_user(session: Session, plan: _Plan, lead: Lead, signal: Signal, guard: dict[Channel, GuardDecision],
                batch: _Batch, result: EvaluationResult) -> None:
    user, now = plan.user, batch.now
    if (user.id, signal.id) in batch.existing:
        return  # told once already, ever
    batch.existing.add((user.id, signal.id))
    rule_id = plan.rule.id if plan.rule else None
    guard_answers = guard_json(guard) if plan.kind == "signal" else {}
    open_alert = batch.open_alerts.get((user.id, lead.id, plan.kind))
    if open_alert is not None:
        # Within the dedup window a further signal updates the open alert: no new e-mail, no new alert.
        open_alert.signal_count += 1
        open_alert.signal_id = signal.id
        if PRIORITY_RANK.get(plan.priority, 0) > PRIORITY_RANK.get(open_alert.priority, 0):
            open_alert.priority = plan.priority
        open_alert.title = _title(signal, open_alert.signal_count)
        open_alert.guard = guard_answers
        open_alert.status = AlertStatus.UNREAD.value
        open_alert.read_at = None
        open_alert.updated_at = now
        session.add(AlertSignal(alert_id=open_alert.id, user_id=user.id, signal_id=signal.id, created_at=now))
        _suppress(session, "dedup_window", user_id=user.id, lead_id=lead.id, signal_id=signal.id, rule_id=rule_id,
                  alert_id=open_alert.id, result=result)
        if AlertChannel.IN_APP.value in plan.channels:
            batch.stream_events.append((user.id, "alert.updated", stream_payload(open_alert, lead)))
        if AlertChannel.WEBHOOK.value in plan.channels:
            count = _webhook_deliveries(session, open_alert, lead, signal, batch.subscriptions, "alert.updated", now)
            result.deliveries += count
            if count and batch.first_due_alert is None:
                batch.first_due_alert = open_alert.id
        result.alerts_updated += 1
        return

    alert = Alert(id=uuid.uuid4(), user_id=user.id, lead_id=lead.id, signal_id=signal.id, rule_id=rule_id,
                  kind=plan.kind, priority=plan.priority, status=AlertStatus.UNREAD.value, title=_title(signal, 1),
                  actionable=plan.kind == "signal", guard=guard_answers, routed_by=plan.routed_by, signal_count=1,
                  window_ends_at=now + timedelta(hours=batch.settings.alert_dedup_window_hours), created_at=now,
                  updated_at=now)
    session.add(alert)
    session.add(AlertSignal(alert_id=alert.id, user_id=user.id, signal_id=signal.id, created_at=now))
    batch.open_alerts[(user.id, lead.id, plan.kind)] = alert
    result.alerts_created += 1
    due_now = False
    for channel in plan.channels:
        if channel == AlertChannel.WEBHOOK.value:
            count = _webhook_deliveries(session, alert, lead, signal, batch.subscriptions, "alert.created", now)
            result.deliveries += count
            due_now = due_now or count > 0
            continue
        if channel == AlertChannel.EMAIL.value and not user.email:
            _suppress(session, "no_email_address", user_id=user.id, lead_id=lead.id, signal_id=signal.id,
                      alert_id=alert.id, channel=channel, result=result)
            continue
        delivery = AlertDelivery(id=uuid.uuid4(), alert_id=alert.id, channel=channel, user_id=user.id,
                                 status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0)
        cap = user.alert_hourly_cap or batch.settings.alert_hourly_cap
        if batch.sent_last_hour.get((user.id, channel), 0) >= cap:
            delivery.status, delivery.note = DeliveryStatus.DIGEST.value, "hourly_cap"
            _suppress(session, "hourly_cap", user_id=user.id, lead_id=lead.id, signal_id=signal.id,
                      alert_id=alert.id, channel=channel, result=result)
        else:
            batch.sent_last_hour[(user.id, channel)] = batch.sent_last_hour.get((user.id, channel), 0) + 1
            batch.counted[(user.id, channel)] = batch.counted.get((user.id, channel), 0) + 1
            if channel == AlertChannel.IN_APP.value:
                # The inbox row and the stream event are the in-app delivery: done in this transaction.
                delivery.status, delivery.sent_at, delivery.attempts = DeliveryStatus.SENT.value, now, 1
                if signal.detected_at is not None:  # upswing_alert_delivery_latency_seconds (core/metrics.py)
                    ALERT_DELIVERY_LATENCY.labels(channel).observe(
                        max((now - signal.detected_at).total_seconds(), 0.0))
                batch.stream_events.append((user.id, "alert.created", stream_payload(alert, lead)))
            else:
                due_now = _may_go_now(delivery, user, now) or due_now
        session.add(delivery)
        result.deliveries += 1
    if due_now and batch.first_due_alert is None:
        batch.first_due_alert = alert.id


def _may_go_now(delivery: AlertDelivery, user: User, now: datetime) -> bool:
    """Hold an e-mail until the end of the user's quiet hours; True when it may go now."""
    quiet_end = quiet_until(now, user.timezone, user.quiet_hours_start, user.quiet_hours_end)
    if quiet_end is None:
        return True
    delivery.run_after, delivery.note = quiet_end, "quiet_hours"
    return False


def _subscriptions(session: Session) -> list[tuple[WebhookSubscription, User]]:
    """Enabled subscriptions of active owners, each with the user whose view of the book it gets (a machine
    client's: a manager's, every lead)."""
    rows = session.execute(
        select(WebhookSubscription, User, ApiClient)
        .outerjoin(User, User.id == WebhookSubscription.owner_id)
        .outerjoin(ApiClient, ApiClient.id == WebhookSubscription.client_id)
        .where(WebhookSubscription.enabled.is_(True),
               or_(User.is_active.is_(True), ApiClient.is_active.is_(True))))
    return [(subscription, user if user is not None else principal_user(client))
            for subscription, user, client in rows]


def _webhook_deliveries(session: Session, alert: Alert, lead: Lead, signal: Signal,
                        subscriptions: list[tuple[WebhookSubscription, User]], event_type: str, now: datetime) -> int:
    """One delivery per subscription that takes this event and whose owner may see the lead."""
    count = 0
    for subscription, owner in subscriptions:
        if event_type not in (subscription.event_types or []) or not can_see_lead(owner, lead):
            continue
        session.add(AlertDelivery(id=uuid.uuid4(), alert_id=alert.id, channel=AlertChannel.WEBHOOK.value,
                                  subscription_id=subscription.id, event_type=event_type,
                                  payload=webhook_payload(alert, lead, signal, event_type, now),
                                  status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0))
        count += 1
    return count


def webhook_payload(alert: Alert, lead: Lead, signal: Signal, event_type: str, now: datetime) -> dict[str, Any]:
    """The event a webhook receives. Lead by id and external id only: the receiver (a CRM) has the person."""
    return {
        "type": event_type, "timestamp": now.isoformat(),
        "data": {
            "alert": {"id": str(alert.id), "priority": alert.priority, "title": alert.title,
                      "actionable": alert.actionable, "signal_count": alert.signal_count,
                      "recipient_id": str(alert.user_id), "routed_by": alert.routed_by},
            "lead": {"id": str(lead.id), "external_id": lead.external_id},
            "signal": {"id": str(signal.id), "type": signal.type, "title": signal.title,
                       "organization": signal.organization,
                       "effective_date": signal.effective_date.isoformat() if signal.effective_date else None,
                       "score": signal.score, "priority": signal.priority, "confidence": signal.confidence},
            "guard": alert.guard,
        },
    }


def stream_payload(alert: Alert, lead: Lead | None) -> dict[str, Any]:
    return {"id": str(alert.id), "kind": alert.kind, "title": alert.title, "priority": alert.priority,
            "actionable": alert.actionable, "status": alert.status, "signal_count": alert.signal_count,
            "lead_id": str(lead.id) if lead else None, "lead_external_id": lead.external_id if lead else None,
            "lead_name": lead.full_name if lead else None,
            "signal_id": str(alert.signal_id) if alert.signal_id else None, "guard": alert.guard,
            "created_at": alert.created_at.isoformat(), "updated_at": alert.updated_at.isoformat()}


def escalation_alert(session: Session, user: User, lead: Lead, signal: Signal, level: int, now: datetime, *,
                     guard: dict[Channel, GuardDecision] | None = None) -> Alert:
    """Tell ``user`` (a manager or an admin) that nobody acknowledged ``signal`` in time (escalation ``level``,
    ``escalation.service``): in the inbox and the live stream now, and by e-mail (held by the user's quiet hours;
    no hourly cap and no dedup window: an escalation is what those must not hide). ``guard`` is the contact guard's
    answer for the lead (``compliance.check_contacts``; asked here when not given). A caller making several
    escalation alerts in one transaction locks the recipients' streams first, in one order
    (``notify.stream.lock_streams``)."""
    if guard is None:
        guard = compliance.check_contacts(session, [lead], GUARD_CHANNELS, now)[lead.id]
    alert = Alert(id=uuid.uuid4(), user_id=user.id, lead_id=lead.id, signal_id=signal.id, rule_id=None,
                  kind="escalation", priority=signal.priority, status=AlertStatus.UNREAD.value,
                  title=f"Not acknowledged, escalation level {level}: {_title(signal, 1)}"[:300], actionable=True,
                  guard=guard_json(guard), routed_by="escalation", signal_count=1, window_ends_at=now,
                  created_at=now, updated_at=now)
    session.add(alert)
    if session.scalar(select(AlertSignal.id).where(AlertSignal.user_id == user.id,
                                                   AlertSignal.signal_id == signal.id)) is None:
        session.add(AlertSignal(alert_id=alert.id, user_id=user.id, signal_id=signal.id, created_at=now))
    session.add(AlertDelivery(alert_id=alert.id, channel=AlertChannel.IN_APP.value, user_id=user.id,
                              status=DeliveryStatus.SENT.value, attempts=1, sent_at=now, run_after=now,
                              created_at=now))
    due_now = False
    if user.email:
        email = AlertDelivery(id=uuid.uuid4(), alert_id=alert.id, channel=AlertChannel.EMAIL.value, user_id=user.id,
                              status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0)
        due_now = _may_go_now(email, user, now)
        session.add(email)
    else:
        _suppress(session, "no_email_address", user_id=user.id, lead_id=lead.id, signal_id=signal.id,
                  alert_id=alert.id, channel=AlertChannel.EMAIL.value)
    session.flush()
    stream.publish(session, user.id, "alert.created", stream_payload(alert, lead))
    if due_now:
        tasks.enqueue(session, SEND_TASK, key=f"{SEND_TASK}:{alert.id}", max_attempts=1)
    return alert


def system_alert(session: Session, user_id: uuid.UUID, title: str, *, priority: str = "high") -> Alert:
    """An alert about the system itself (a webhook subscription disabled), in the user's inbox and stream."""
    now = utcnow()
    alert = Alert(id=uuid.uuid4(), user_id=user_id, lead_id=None, signal_id=None, kind="system", priority=priority,
                  status=AlertStatus.UNREAD.value, title=title[:300], actionable=False, guard={}, routed_by="owner",
                  signal_count=0, window_ends_at=now, created_at=now, updated_at=now)
    session.add(alert)
    session.add(AlertDelivery(alert_id=alert.id, channel=AlertChannel.IN_APP.value, user_id=user_id,
                              status=DeliveryStatus.SENT.value, attempts=1, sent_at=now, run_after=now,
                              created_at=now))
    stream.publish(session, user_id, "alert.created", stream_payload(alert, None))
    return alert


# --------------------------------------------------------------------------------------------------
# The inbox
# --------------------------------------------------------------------------------------------------


def _own_alert(session: Session, user: User, alert_id: uuid.UUID) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.user_id != user.id:
        raise NotFoundError(f"alert {alert_id} not found")
    return alert


def _reads(session: Session, alerts: Sequence[Alert], *, with_deliveries: bool = False) -> list[AlertRead]:
    lead_ids = {a.lead_id for a in alerts if a.lead_id}
    leads = {row.id: row for row in session.execute(
        select(Lead.id, Lead.external_id, Lead.first_name, Lead.middle_name, Lead.last_name, Lead.timezone,
               Lead.state, Lead.postal_code, Lead.country)
        .where(Lead.id.in_(lead_ids)))} if lead_ids else {}
    signal_ids: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if alerts:
        for alert_id, signal_id in session.execute(
                select(AlertSignal.alert_id, AlertSignal.signal_id)
                .where(AlertSignal.alert_id.in_([a.id for a in alerts])).order_by(AlertSignal.created_at)):
            signal_ids[alert_id].append(signal_id)
    deliveries: dict[uuid.UUID, list[DeliveryRead]] = defaultdict(list)
    if with_deliveries and alerts:
        for row in session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id.in_([a.id for a in alerts]))
                                   .order_by(AlertDelivery.created_at)):
            deliveries[row.alert_id].append(DeliveryRead.model_validate(row))  # type: ignore[index]
    out = []
    for alert in alerts:
        lead = leads.get(alert.lead_id) if alert.lead_id else None
        out.append(AlertRead(
            id=alert.id, user_id=alert.user_id, lead_id=alert.lead_id,
            lead_external_id=lead.external_id if lead else None,
            lead_name=full_name(lead.first_name, lead.middle_name, lead.last_name) if lead else None,
            signal_id=alert.signal_id, signal_ids=signal_ids[alert.id], rule_id=alert.rule_id, kind=alert.kind,
            priority=alert.priority, status=alert.status, title=alert.title, actionable=alert.actionable,
            guard={k: GuardAnswer.model_validate(v) for k, v in (alert.guard or {}).items()},
            routed_by=alert.routed_by, signal_count=alert.signal_count, read_at=alert.read_at,
            created_at=alert.created_at, updated_at=alert.updated_at,
            deliveries=deliveries[alert.id] if with_deliveries else None,
            lead_timezone=_zone_of(lead) if lead else None))
    return out


def _zone_of(lead: Any) -> str | None:
    """The borrower's zone from their address (the first, where the address leaves several), as the guard uses."""
    zones = address_zones(timezone=lead.timezone, state=lead.state, postal_code=lead.postal_code,
                          country=lead.country)
    return zones[0] if zones else None


def list_alerts(session: Session, user: User, filters: AlertFilters) -> AlertPage:
    """The user's alerts, newest first, by cursor."""
    conditions: list[ColumnElement[bool]] = [Alert.user_id == user.id]
    if filters.status:
        conditions.append(Alert.status == filters.status)
    if filters.priority:
        conditions.append(Alert.priority == filters.priority.value)
    if filters.lead_id:
        conditions.append(Alert.lead_id == filters.lead_id)
    if filters.kind:
        conditions.append(Alert.kind == filters.kind)
    if filters.cursor:
        at, last_id = decode_cursor(filters.cursor, "alerts")
        at_value = datetime.fromisoformat(at)
        conditions.append(or_(Alert.created_at < at_value,
                              and_(Alert.created_at == at_value, Alert.id < uuid.UUID(last_id))))
    rows = list(session.scalars(select(Alert).where(*conditions)
                                .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(filters.limit + 1)))
    more = len(rows) > filters.limit
    rows = rows[:filters.limit]
    cursor = encode_cursor("alerts", [rows[-1].created_at, rows[-1].id]) if more and rows else None
    return AlertPage(items=_reads(session, rows), next_cursor=cursor)


def get_alert(session: Session, user: User, alert_id: uuid.UUID) -> AlertRead:
    return _reads(session, [_own_alert(session, user, alert_id)], with_deliveries=True)[0]


def mark_read(session: Session, user: User, alert_id: uuid.UUID) -> AlertRead:
    alert = _own_alert(session, user, alert_id)
    if alert.status != AlertStatus.READ.value:
        alert.status, alert.read_at = AlertStatus.READ.value, utcnow()
        session.flush()
        stream.publish(session, user.id, "alert.read", {"id": str(alert.id)})
    return _reads(session, [alert])[0]


def read_all(session: Session, user: User) -> int:
    marked = session.execute(update(Alert).where(Alert.user_id == user.id, Alert.status == AlertStatus.UNREAD.value)
                             .values(status=AlertStatus.READ.value, read_at=utcnow())
                             .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if marked:
        stream.publish(session, user.id, "alert.read_all", {"marked": marked})
    return int(marked or 0)


def summary(session: Session, user: User) -> AlertSummary:
    by_priority: dict[str, dict[str, int]] = {p: {"unread": 0, "read": 0} for p in PRIORITY_RANK}
    for priority, status, count in session.execute(
            select(Alert.priority, Alert.status, func.count()).where(Alert.user_id == user.id)
            .group_by(Alert.priority, Alert.status)):
        by_priority.setdefault(priority, {"unread": 0, "read": 0})[status] = count
    unread = sum(v["unread"] for v in by_priority.values())
    return AlertSummary(unread=unread, total=unread + sum(v["read"] for v in by_priority.values()),
                        by_priority=by_priority)
