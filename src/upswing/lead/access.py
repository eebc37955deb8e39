"""Who may see which leads: agents see only leads assigned to them or to their team."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from upswing.account.models import Role, User
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.lead.models import Lead


def visible_leads_clause(user: User) -> ColumnElement[bool]:
    if user.role in (Role.ADMIN, Role.MANAGER, Role.VIEWER):
        return true()
    if user.role == Role.AGENT:
        own = Lead.assignee_id == user.id
        return or_(own, Lead.team_id == user.team_id) if user.team_id is not None else own
    return false()


def owner_scopes(user: User | None, assignee: InstrumentedAttribute[uuid.UUID | None],
                 team: InstrumentedAttribute[uuid.UUID | None]) -> list[ColumnElement[bool]] | None:
    """Who may see rows owned like a lead (by these assignee and team columns: leads, signals), as one condition
    per index to scan (None: every row; ``user=None`` is the operator). An agent's are their own rows and the rest
    of their team's: two index range scans, never a scan of the whole book, and disjoint, so counts add up."""
    if user is None or user.role in (Role.ADMIN.value, Role.MANAGER.value, Role.VIEWER.value):
        return None
    if user.role != Role.AGENT.value:
        return [false()]
    scopes: list[ColumnElement[bool]] = [assignee == user.id]
    if user.team_id is not None:
        scopes.append(and_(team == user.team_id, or_(assignee != user.id, assignee.is_(None))))
    return scopes


def can_see_lead(user: User, lead: Lead) -> bool:
    if user.role in (Role.ADMIN, Role.MANAGER, Role.VIEWER):
        return True
    if user.role == Role.AGENT:
        return lead.assignee_id == user.id or (user.team_id is not None and lead.team_id == user.team_id)
    return False


def visible_lead(session: Session, lead_id: uuid.UUID, user: User | None) -> Lead:
    """The lead, if this user may see it (``user=None``: the operator, who sees every lead)."""
    lead = session.get(Lead, lead_id)
    # A lead the user may not see is reported as absent, not forbidden: its existence is private too.
    if lead is None or (user is not None and not can_see_lead(user, lead)):
        raise NotFoundError(f"lead {lead_id} not found")
    return lead


def assignee_clause(session: Session, user: User | None, assignee: str, *,
                    column: InstrumentedAttribute[uuid.UUID | None] | None = None) -> ColumnElement[bool]:
    """``me``, ``none`` (the unassigned queue), or a user's id or username, on ``column`` (default: the lead's
    assignee; the signals' copy of it for the feed)."""
    column = column if column is not None else Lead.assignee_id
    value = assignee.strip()
    if value.lower() == "none":
        return column.is_(None)
    if value.lower() == "me":
        if user is None:
            raise ValidationFailedError("assignee=me needs a signed-in user (the CLI: --as USER)",
                                        [{"row": None, "field": "assignee", "message": "no current user"}])
        return column == user.id
    try:
        return column == uuid.UUID(value)
    except ValueError:
        pass
    found = session.scalar(select(User.id).where(User.username == value))
    if found is None:
        raise ValidationFailedError(f"assignee: no user {value!r}",
                                    [{"row": None, "field": "assignee", "message": "unknown user"}])
    return column == found
