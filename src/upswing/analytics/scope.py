"""What every report shares: the range of days it covers and whose rows it counts (docs/analytics.md, "Who sees
what"), and the parts of its answer that do not depend on the report.

* The range is days (UTC), inclusive, at most ``MAX_RANGE_DAYS``; the default is the last ``DEFAULT_RANGE_DAYS``.
* Scope: an agent sees their own (assigned to them); a manager their team's by default, or a team they name, or
  ``all``; admins and viewers every team, or one they name. A scope is a condition on a pair of owner columns
  (a signal's or a lead's copy, or a rollup's keys).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.analytics.schemas import (
    DEFAULT_RANGE_DAYS,
    MAX_GROUPS,
    MAX_RANGE_DAYS,
    AnalyticsColumn,
    AnalyticsQuery,
    AnalyticsScope,
)
from upswing.core.db import utcnow
from upswing.core.errors import PermissionDeniedError, ValidationFailedError

#: The ``team`` value that asks for every team.
ALL_TEAMS = "all"


def instant(day: date) -> datetime:
    """The first instant of a UTC day."""
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """The range's days (inclusive) and the instants bounding them: ``since <= t < until``."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return instant(self.start)

    @property
    def until(self) -> datetime:
        return instant(self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def window(query: AnalyticsQuery, *, today: date | None = None) -> Window:
    """The range asked for, with the defaults filled in; refuses an inverted or too long one, naming ``from``."""
    end = query.to or today or utcnow().date()
    start = query.from_ or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationFailedError("from is after to", [{"row": None, "field": "from",
                                                          "message": f"must be on or before {end.isoformat()}"}])
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailedError(f"the range is longer than {MAX_RANGE_DAYS} days", [
            {"row": None, "field": "from", "message": f"at most {MAX_RANGE_DAYS} days before to"}])
    return Window(start, end)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a report counts: the public description, and the condition on a pair of owner columns."""

    read: AnalyticsScope

    def on(self, team: Any, assignee: Any) -> ColumnElement[bool] | None:
        """The condition on these owner columns (None: every row)."""
        if self.read.kind == "agent":
            condition: ColumnElement[bool] = assignee == self.read.user_id
            return condition
        if self.read.kind == "team":
            condition = team == self.read.team_id
            return condition
        return None

    def allows(self, team_id: uuid.UUID | None, assignee_id: uuid.UUID | None) -> bool:
        """The same rule in Python, for rows already read."""
        if self.read.kind == "agent":
            return assignee_id == self.read.user_id
        if self.read.kind == "team":
            return team_id == self.read.team_id
        return True


def _team(session: Session, value: str) -> Team:
    team: Team | None = None
    try:
        team = session.get(Team, uuid.UUID(value))
    except ValueError:
        team = session.scalar(select(Team).where(Team.name == value))
    if team is None:
        raise ValidationFailedError(f"team: no team {value!r}",
                                    [{"row": None, "field": "team", "message": "unknown team"}])
    return team


def resolve_scope(session: Session, user: User, team: str | None) -> Scope:
    """The scope of ``user``'s report (module docstring); ``team`` is a name, an id or ``all``."""
    value = team.strip() if team is not None else None
    if user.role == Role.AGENT.value:
        if value:
            raise PermissionDeniedError("team: agents see the analytics of their own signals only")
        return Scope(AnalyticsScope(kind="agent", user_id=user.id, label=user.full_name or user.username))
    if user.role not in (Role.ADMIN.value, Role.MANAGER.value, Role.VIEWER.value):
        raise PermissionDeniedError("this role sees no analytics")
    if not value:
        if user.role == Role.MANAGER.value and user.team_id is not None:
            chosen = session.get(Team, user.team_id)
            if chosen is not None:
                return Scope(AnalyticsScope(kind="team", team_id=chosen.id, label=chosen.name))
        return Scope(AnalyticsScope(kind="all", label="All teams"))
    if value.lower() == ALL_TEAMS:
        return Scope(AnalyticsScope(kind="all", label="All teams"))
    chosen = _team(session, value)
    return Scope(AnalyticsScope(kind="team", team_id=chosen.id, label=chosen.name))


def base(win: Window, scope: Scope, columns: list[AnalyticsColumn], notes: list[str],
         truncated: bool) -> dict[str, Any]:
    """The fields every report has."""
    return {"from_": win.start, "to": win.end, "scope": scope.read, "columns": columns, "notes": notes,
            "truncated": truncated}


def rate(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def capped(rows: Sequence[Any]) -> tuple[Sequence[Any], bool]:
    return (rows[:MAX_GROUPS], True) if len(rows) > MAX_GROUPS else (rows, False)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
