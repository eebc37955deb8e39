"""Who may see which leads: agents see only leads assigned to them or to their team."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from upswing.account.models import Role, User
from upswing.lead.models import Lead


def visible_leads_clause(user: User) -> ColumnElement[bool]:
    if user.role in (Role.ADMIN, Role.MANAGER, Role.VIEWER):
        return true()
    if user.role == Role.AGENT:
        own = Lead.assignee_id == user.id
        return or_(own, Lead.team_id == user.team_id) if user.team_id is not None else own
    return false()


def can_see_lead(user: User, lead: Lead) -> bool:
    if user.role in (Role.ADMIN, Role.MANAGER, Role.VIEWER):
        return True
    if user.role == Role.AGENT:
        return lead.assignee_id == user.id or (user.team_id is not None and lead.team_id == user.team_id)
    return False
