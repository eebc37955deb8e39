"""What a digest says: the signals a user may see that arrived since their last digest (and those the hourly
alert cap held back), grouped urgent → low, with the contact guard's answer for today; their own signals still
unacknowledged after a day; escalations that need them; and, for managers, their team's queue and pace.

Everything is read in a fixed number of queries per digest, whatever the number of signals; the lists are capped
(``UPSWING_DIGEST_MAX_ITEMS`` per section) and the rest counted, so a digest stays well under the size at which
Gmail clips a message.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.alert import service as alerts
from upswing.alert.models import AlertDelivery, AlertSignal, DeliveryStatus
from upswing.compliance import service as compliance
from upswing.compliance.phrases import (
    GUARD_CHANNELS,
    clock,
    day_label,
    guard_phrase,
    restricting_flags,
    zone_label,
)
from upswing.core.pagination import capped_count
from upswing.digest.schemas import Preferences
from upswing.escalation import service as escalation
from upswing.lead.access import owner_scopes
from upswing.lead.models import Lead, Portfolio
from upswing.notify.digest_email import (
    AgentLoad,
    AttentionLine,
    DigestEmailContext,
    DigestGroup,
    DigestItem,
    ManagerSection,
)
from upswing.settings import Settings
from upswing.signal.models import Signal, SignalStatus
from upswing.signal.scoring import PRIORITIES

#: Signals still unacknowledged after this long are "still open".
STILL_OPEN_AFTER = timedelta(days=1)
#: …and no longer listed after this long (they stay in the feed).
STILL_OPEN_HORIZON = timedelta(days=90)
#: The guard is asked for at most this many leads when a filter depends on its answer.
GUARD_LIMIT = 2000
SNIPPET_LENGTH = 220

_FACTOR_LABELS = {"strength": "event", "confidence": "confidence", "recency": "recent", "corroboration":
                  "corroborated", "balance": "balance", "delinquency": "delinquency", "outcomes": "history"}
_OPEN = (SignalStatus.NEW.value,)
_IN_PROGRESS = (SignalStatus.ACKNOWLEDGED.value, SignalStatus.ACTIONED.value)


@dataclass(frozen=True)
class DigestContent:
    context: DigestEmailContext
    signal_ids: list[str]
    counts: dict[str, int]

    @property
    def is_empty(self) -> bool:
        return self.context.is_empty


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


def duration_label(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def _factors(signal: Signal) -> tuple[str, ...]:
    parts = sorted(((value, name) for name, value in (signal.score_breakdown or {}).items()
                    if isinstance(value, int | float) and value > 0), reverse=True)[:2]
    return tuple(f"{_FACTOR_LABELS.get(name, name)} +{round(value)}" for value, name in parts)


def _snippet(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_LENGTH else text[:SNIPPET_LENGTH - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------------
# Gathering
# --------------------------------------------------------------------------------------------------


@dataclass
class _Gatherer:
    """Loads what the listed signals need (their leads, the guard, owners) once for the whole digest."""

    session: Session
    user: User
    settings: Settings
    now: datetime
    zone: str
    today: date

    def __post_init__(self) -> None:
        self.base = self.settings.public_base_url.rstrip("/")
        self.usernames: dict[uuid.UUID, str] = {}

    def guards(self, leads: Sequence[Lead]) -> dict[uuid.UUID, tuple[str, bool, bool]]:
        """Per lead: (phrase, shown as contactable, contactable at some time today)."""
        unique = list({lead.id: lead for lead in leads}.values())
        if not unique:
            return {}
        flags = compliance.active_flags_of(self.session, [lead.id for lead in unique])
        decisions = compliance.check_contacts(self.session, unique, GUARD_CHANNELS, self.now)
        out = {}
        for lead in unique:
            restricting = restricting_flags(flags.get(lead.id, frozenset()))
            phrase, today = guard_phrase(lead, decisions.get(lead.id, {}), ", ".join(restricting) or None, self.now,
                                         self.zone)
            out[lead.id] = (phrase, today, today and not restricting)
        return out

    def names(self, user_ids: set[uuid.UUID | None]) -> None:
        wanted = {uid for uid in user_ids if uid is not None and uid not in self.usernames}
        if wanted:
            self.usernames.update(self.session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
                                  .all())

    def items(self, signals: Sequence[Signal], guards: dict[uuid.UUID, tuple[str, bool, bool]] | None = None,
              ) -> list[DigestItem]:
        leads = {lead.id: lead for lead in self.session.scalars(
            select(Lead).where(Lead.id.in_({signal.lead_id for signal in signals})))} if signals else {}
        guards = dict(guards or {})
        missing = [leads[s.lead_id] for s in signals if s.lead_id not in guards and s.lead_id in leads]
        guards.update(self.guards(missing))
        self.names({signal.assignee_id for signal in signals})
        items = []
        for signal in signals:
            lead = leads.get(signal.lead_id)
            if lead is None:
                continue
            phrase, contactable, _ = guards.get(lead.id, ("ask the guard before any contact", False, False))
            owner = ("yours" if signal.assignee_id == self.user.id else
                     self.usernames.get(signal.assignee_id, "unassigned") if signal.assignee_id else "unassigned")
            detected = signal.detected_at.astimezone(ZoneInfo(self.zone)).date()
            items.append(DigestItem(
                lead_name=lead.full_name, lead_external_id=lead.external_id,
                signal_label=alerts.type_label(signal.type), title=signal.title, organization=signal.organization,
                event_date=day_label(signal.effective_date, self.today) if signal.effective_date else None,
                score=signal.score, priority=signal.priority, factors=_factors(signal),
                evidence_url=signal.evidence_url, snippet=_snippet(signal.evidence_snippet), guard=phrase,
                contactable=contactable, link=f"{self.base}/leads/{lead.id}?signal={signal.id}", owner=owner,
                status=None if signal.status == SignalStatus.NEW.value else signal.status,
                detected=day_label(detected, self.today), signal_id=str(signal.id)))
        return items


def _visible(user: User) -> list[Any]:
    """One condition per index to scan (the feed's own scoping: an agent's and their team's signals)."""
    return owner_scopes(user, Signal.assignee_id, Signal.team_id) or [true()]


def team_scope(session: Session, user: User, preferences: Preferences) -> list[str] | None:
    """Team names the digest covers: the preference, else a manager's own team, else every visible one."""
    if preferences.teams:
        return list(preferences.teams)
    if user.role == Role.MANAGER.value and user.team_id is not None:
        return list(session.scalars(select(Team.name).where(Team.id == user.team_id)))
    return None


def _filters(session: Session, user: User, preferences: Preferences) -> list[Any]:
    # Held-out signals (an experiment's control group) are never in a digest.
    where: list[Any] = [Signal.status != SignalStatus.DISMISSED.value, Signal.holdout.is_(False)]
    if preferences.signal_types:
        where.append(Signal.type.in_(preferences.signal_types))
    if preferences.min_priority is not None:
        allowed = PRIORITIES[:PRIORITIES.index(preferences.min_priority.value) + 1]
        where.append(Signal.priority.in_(allowed))
    if preferences.portfolios:
        where.append(Signal.lead_id.in_(select(Lead.id).join(Portfolio, Portfolio.id == Lead.portfolio_id)
                                        .where(Portfolio.name.in_(preferences.portfolios))))
    teams = team_scope(session, user, preferences)
    if teams:
        where.append(Signal.team_id.in_(select(Team.id).where(Team.name.in_(teams))))
    return where


def _new_signal_keys(session: Session, user: User, preferences: Preferences, since: datetime,
                     now: datetime) -> dict[uuid.UUID, tuple[str, int, uuid.UUID]]:
    """(priority, score, lead) of every signal the digest reports as new: detected in the period, or held back
    from an alert by the hourly cap in it."""
    where = _filters(session, user, preferences)
    found: dict[uuid.UUID, tuple[str, int, uuid.UUID]] = {}
    columns = (Signal.id, Signal.priority, Signal.score, Signal.lead_id)
    for scope in _visible(user):
        for signal_id, priority, score, lead_id in session.execute(
                select(*columns).where(scope, Signal.detected_at > since, Signal.detected_at <= now, *where)):
            found[signal_id] = (priority, score, lead_id)
    capped = select(AlertSignal.signal_id).join(AlertDelivery, AlertDelivery.alert_id == AlertSignal.alert_id).where(
        AlertDelivery.user_id == user.id, AlertDelivery.status == DeliveryStatus.DIGEST.value,
        AlertDelivery.created_at > since, AlertDelivery.created_at <= now)
    for signal_id, priority, score, lead_id in session.execute(
            select(*columns).where(Signal.id.in_(capped), *where)):
        found[signal_id] = (priority, score, lead_id)
    return found


def _load_signals(session: Session, ids: Sequence[uuid.UUID]) -> list[Signal]:
    by_id = {signal.id: signal for signal in session.scalars(select(Signal).where(Signal.id.in_(ids)))} if ids else {}
    return [by_id[signal_id] for signal_id in ids if signal_id in by_id]


def _top(keys: dict[uuid.UUID, tuple[str, int, uuid.UUID]], limit: int) -> dict[str, tuple[list[uuid.UUID], int]]:
    """Per priority: the ``limit`` highest-scoring ids and the total."""
    grouped: dict[str, list[tuple[int, uuid.UUID]]] = defaultdict(list)
    for signal_id, (priority, score, _) in keys.items():
        grouped[priority].append((score, signal_id))
    return {priority: ([signal_id for _, signal_id in sorted(entries, key=lambda e: (-e[0], str(e[1])))[:limit]],
                       len(entries)) for priority, entries in grouped.items()}


def _manager_section(gatherer: _Gatherer, preferences: Preferences, limit: int) -> ManagerSection | None:
    session, user, now = gatherer.session, gatherer.user, gatherer.now
    if user.role not in (Role.MANAGER.value, Role.ADMIN.value):
        return None
    names = team_scope(session, user, preferences)
    if names is None and user.team_id is not None:
        names = list(session.scalars(select(Team.name).where(Team.id == user.team_id)))
    # No names: an admin without a team, every team.
    teams = list(session.scalars(select(Team).where(Team.name.in_(names)).order_by(Team.name))) if names else []
    team_ids = [team.id for team in teams]
    in_scope = [Signal.team_id.in_(team_ids)] if teams else []
    scope = ", ".join(team.name for team in teams) if teams else "all teams"
    unassigned_where = [*in_scope, Signal.assignee_id.is_(None), Signal.status.in_(_OPEN),
                        Signal.detected_at > now - STILL_OPEN_HORIZON, Signal.holdout.is_(False)]
    total, _ = capped_count(session, select(Signal.id).where(*unassigned_where))
    top_ids = list(session.scalars(select(Signal.id).where(*unassigned_where)
                                   .order_by(Signal.score.desc(), Signal.detected_at.desc()).limit(limit)))
    members_query = select(User).where(User.is_active.is_(True), User.role == Role.AGENT.value)
    if teams:
        members_query = members_query.where(User.team_id.in_(team_ids))
    members = list(session.scalars(members_query.order_by(User.username)))
    member_ids = [member.id for member in members]
    open_counts: dict[tuple[uuid.UUID, str], int] = {}
    durations: dict[uuid.UUID, list[tuple[datetime, float]]] = defaultdict(list)
    if member_ids:
        for assignee, status, count in session.execute(
                select(Signal.assignee_id, Signal.status, func.count()).where(
                    Signal.assignee_id.in_(member_ids), Signal.status.in_(_OPEN + _IN_PROGRESS))
                .group_by(Signal.assignee_id, Signal.status).limit(len(member_ids) * 3)):
            if assignee is not None:
                open_counts[(assignee, status)] = count
        for assignee, detected, first in session.execute(
                select(Signal.assignee_id, Signal.detected_at, Signal.first_action_at).where(
                    Signal.assignee_id.in_(member_ids), Signal.first_action_at > now - timedelta(days=7),
                    Signal.first_action_at <= now)):
            if assignee is not None and first is not None:
                durations[assignee].append((first, max(0.0, (first - detected).total_seconds())))

    def median(entries: list[tuple[datetime, float]], days: int) -> float | None:
        values = [seconds for at, seconds in entries if at > now - timedelta(days=days)]
        return statistics.median(values) if values else None

    everyone = [entry for entries in durations.values() for entry in entries]
    agents = tuple(AgentLoad(
        name=member.full_name or member.username, new=open_counts.get((member.id, SignalStatus.NEW.value), 0),
        in_progress=sum(open_counts.get((member.id, status), 0) for status in _IN_PROGRESS),
        median_day=duration_label(median(durations[member.id], 1)),
        median_week=duration_label(median(durations[member.id], 7))) for member in members)
    return ManagerSection(scope=scope, unassigned=tuple(gatherer.items(_load_signals(session, top_ids))),
                          unassigned_total=total, agents=agents, median_day=duration_label(median(everyone, 1)),
                          median_week=duration_label(median(everyone, 7)),
                          link=f"{gatherer.base}/?assignee=unassigned")


def gather(session: Session, user: User, preferences: Preferences, *, since: datetime, now: datetime,
           local_date: date, settings: Settings, unsubscribe_url: str | None) -> DigestContent:
    """The digest of ``user`` for ``local_date``: news in (since, now]."""
    zone = preferences.timezone
    limit = settings.digest_max_items
    gatherer = _Gatherer(session, user, settings, now, zone, local_date)
    keys = _new_signal_keys(session, user, preferences, since, now)
    guards: dict[uuid.UUID, tuple[str, bool, bool]] = {}
    if not preferences.include_not_contactable and keys:
        # The filter needs the guard's answer for every candidate lead (at most GUARD_LIMIT of them).
        lead_ids = list(dict.fromkeys(lead_id for _, _, lead_id in keys.values()))[:GUARD_LIMIT]
        guards = gatherer.guards(list(session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))))
        keys = {sid: key for sid, key in keys.items() if guards.get(key[2], ("", False, False))[2]}
    top = _top(keys, limit)
    open_where = [Signal.assignee_id == user.id, Signal.status.in_(_OPEN), Signal.holdout.is_(False),
                  Signal.detected_at <= now - STILL_OPEN_AFTER, Signal.detected_at > now - STILL_OPEN_HORIZON]
    still_open_total, _ = capped_count(session, select(Signal.id).where(*open_where))
    still_open_ids = list(session.scalars(select(Signal.id).where(*open_where)
                                          .order_by(Signal.score.desc(), Signal.detected_at.desc()).limit(limit)))
    # One budget across the sections, highest priority first, keeps a full digest under Gmail's 102 kB clip.
    budget = settings.digest_max_total_items
    for priority in PRIORITIES:
        ids, total = top.get(priority, ([], 0))
        top[priority] = (ids[:budget], total)
        budget -= len(top[priority][0])
    still_open_ids = still_open_ids[:max(budget, 0)]
    # The signals of every priority and of "still open" are read at once and the guard asked once for all their
    # leads: the guard's queries are most of a digest's cost, and asking it per section multiplied them
    # (benchmarks/digest.py).
    new_ids = [signal_id for priority in PRIORITIES for signal_id in top.get(priority, ([], 0))[0]]
    read = {item.signal_id: item for item in gatherer.items(
        _load_signals(session, list(dict.fromkeys([*new_ids, *still_open_ids]))), guards)}
    groups = []
    for priority in PRIORITIES:
        ids, total = top.get(priority, ([], 0))
        if total:
            groups.append(DigestGroup(priority, tuple(read[str(i)] for i in ids if str(i) in read), total))
    still_open = tuple(read[str(i)] for i in still_open_ids if str(i) in read)
    attention = _attention(gatherer, since, limit)
    manager = _manager_section(gatherer, preferences, limit)
    period_label = (f"since {day_label(since.astimezone(ZoneInfo(zone)).date(), local_date)} "
                    f"{clock(since.astimezone(ZoneInfo(zone)))} {zone_label(zone, since)}")
    context = DigestEmailContext(
        recipient_name=user.full_name or user.username, date_label=day_label(local_date),
        period_label=period_label, groups=tuple(groups), still_open=still_open, still_open_total=still_open_total,
        attention=attention, manager=manager, dashboard_url=f"{gatherer.base}/",
        preferences_url=f"{gatherer.base}/settings/digest", unsubscribe_url=unsubscribe_url,
        links_note=f"Each section lists at most {limit} signals and the digest {settings.digest_max_total_items} "
                   "in all, highest priority and score first; the feed has the rest.")
    listed = [str(item.signal_id) for group in groups for item in group.items]
    counts = {priority: top.get(priority, ([], 0))[1] for priority in PRIORITIES}
    counts.update(still_open=still_open_total, needs_attention=len(attention),
                  unassigned=manager.unassigned_total if manager else 0)
    return DigestContent(context=context, signal_ids=listed, counts=counts)


def _attention(gatherer: _Gatherer, since: datetime, limit: int) -> tuple[AttentionLine, ...]:
    found = escalation.needs_attention(gatherer.session, gatherer.user, since, gatherer.now)[:limit]
    if not found:
        return ()
    signals = _load_signals(gatherer.session, [entry.signal_id for entry in found])
    items = {item.signal_id: item for item in gatherer.items(signals)}
    lines = []
    for entry in found:
        item = items.get(str(entry.signal_id))
        if item is None:
            continue
        escalated = entry.escalated_at.astimezone(ZoneInfo(gatherer.zone))
        lines.append(AttentionLine(
            item=item, level=entry.level, assignee=entry.assignee_username, still_open=entry.still_open,
            escalated=f"{day_label(escalated.date(), gatherer.today)} {clock(escalated)} "
                      f"{zone_label(gatherer.zone, entry.escalated_at)}"))
    return tuple(lines)
