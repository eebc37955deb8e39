"""Digest preferences: a user's own, else their team's defaults (set by admins), else the settings'.

Every field inherits on its own: a user who sets only ``send_time`` keeps the team's frequency and filters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from upswing.account.models import Team, User
from upswing.audit import service as audit
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.digest.models import DigestFormat, DigestPreference, Frequency
from upswing.digest.schemas import Preferences, PreferencesRead, PreferencesUpdate
from upswing.lead.models import Portfolio
from upswing.settings import Settings

FIELDS = ("frequency", "send_time", "weekly_day", "signal_types", "min_priority", "portfolios", "teams",
          "include_not_contactable", "format", "send_empty")


def defaults(settings: Settings) -> dict[str, Any]:
    return {"frequency": Frequency.DAILY.value, "send_time": settings.digest_send_time, "weekly_day": 0,
            "signal_types": None, "min_priority": None, "portfolios": None, "teams": None,
            "include_not_contactable": True, "format": DigestFormat.HTML.value, "send_empty": False}


def user_zone(user: User, settings: Settings) -> str:
    return user.timezone or settings.business_timezone


def resolve(user: User, own: DigestPreference | None, team: DigestPreference | None,
            settings: Settings) -> Preferences:
    values, sources = defaults(settings), dict.fromkeys(FIELDS, "default")
    for level, row in (("team", team), ("user", own)):
        if row is None:
            continue
        for name in FIELDS:
            value = getattr(row, name)
            if value is not None:
                values[name], sources[name] = value, level
    return Preferences.model_validate({**values, "timezone": user_zone(user, settings), "sources": sources})


def for_users(session: Session, users: Sequence[User], settings: Settings) -> dict[uuid.UUID, Preferences]:
    """Everyone's preferences in force, from one query."""
    user_ids = [user.id for user in users]
    team_ids = list({user.team_id for user in users if user.team_id is not None})
    rows = list(session.scalars(select(DigestPreference).where(or_(
        DigestPreference.user_id.in_(user_ids), DigestPreference.team_id.in_(team_ids))))) if users else []
    own = {row.user_id: row for row in rows if row.user_id is not None}
    teams = {row.team_id: row for row in rows if row.team_id is not None}
    return {user.id: resolve(user, own.get(user.id), teams.get(user.team_id) if user.team_id else None, settings)
            for user in users}


def effective(session: Session, user: User, settings: Settings) -> Preferences:
    return for_users(session, [user], settings)[user.id]


def _overrides(row: DigestPreference | None) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS if row is not None and getattr(row, name) is not None}


def read_user(session: Session, user: User, settings: Settings) -> PreferencesRead:
    own = session.scalar(select(DigestPreference).where(DigestPreference.user_id == user.id))
    return PreferencesRead(user_id=user.id, effective=effective(session, user, settings), overrides=_overrides(own))


def read_team(session: Session, team_id: uuid.UUID) -> PreferencesRead:
    if session.get(Team, team_id) is None:
        raise NotFoundError(f"team {team_id} not found")
    row = session.scalar(select(DigestPreference).where(DigestPreference.team_id == team_id))
    return PreferencesRead(team_id=team_id, overrides=_overrides(row))


def _check_names(session: Session, data: PreferencesUpdate) -> None:
    """Portfolio and team names must exist (a typo would silently empty the digest)."""
    errors: list[dict[str, object]] = []
    for field, model, names in (("portfolios", Portfolio, data.portfolios), ("teams", Team, data.teams)):
        if not names:
            continue
        known = set(session.scalars(select(model.name).where(model.name.in_(names))))
        errors += [{"row": None, "field": f"{field}[{index}]", "message": f"no {field[:-1]} named {name!r}"}
                   for index, name in enumerate(names) if name not in known]
    if errors:
        raise ValidationFailedError(str(errors[0]["message"]), errors)


def update(session: Session, data: PreferencesUpdate, *, actor: str, user_id: uuid.UUID | None = None,
           team_id: uuid.UUID | None = None) -> DigestPreference:
    """Set (or, with null, clear) fields of a user's preferences or a team's defaults."""
    _check_names(session, data)
    column = DigestPreference.user_id if user_id is not None else DigestPreference.team_id
    owner = user_id if user_id is not None else team_id
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFoundError(f"team {team_id} not found")
    row = session.scalar(select(DigestPreference).where(column == owner))
    if row is None:
        row = DigestPreference(user_id=user_id, team_id=team_id)
        session.add(row)
    changes = data.model_dump(exclude_unset=True, mode="json")
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = utcnow(), actor
    session.flush()
    audit.record(session, actor=actor, action="digest.preferences", entity_type="user" if user_id else "team",
                 entity_id=owner, details=changes)
    return row


def send_moment(preferences: Preferences) -> time:
    hour, minute = preferences.send_time.split(":")
    return time(int(hour), int(minute))
