"""The lead list as CSV: every lead of a filter that the user may see, streamed a batch at a time.

What an export holds is the lead list's working columns (who, where, what they owe, the job, who works the lead);
never the borrower's contact details (e-mail, phones, street address, birth date), whatever the role: a file
leaves the system's access control and its audit trail, and the contact details stay where both apply. Every cell
goes through ``core.csvsafe`` (formula injection, docs/security.md). Rows are read in the list's order by keyset
(``BATCH`` at a time, the same index as the list), as columns, not ORM objects: nothing encrypted is decrypted.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, Uuid, literal, select, tuple_
from sqlalchemy.orm import Session

from upswing.account.models import Team, User
from upswing.core.csvsafe import SafeWriter
from upswing.lead.access import visible_leads_clause
from upswing.lead.models import Lead, Portfolio, full_name
from upswing.lead.schemas import LeadQuery
from upswing.lead.service import LEAD_ORDER, lead_conditions

#: Rows read per query.
BATCH = 1000
COLUMNS = ("id", "external_id", "name", "portfolio", "status", "assignee", "team", "city", "state", "country",
           "employer", "title", "companyDomain", "balance", "days_delinquent", "created_at", "updated_at")
_SELECTED = (Lead.id, Lead.external_id, Lead.first_name, Lead.middle_name, Lead.last_name, Lead.portfolio_id,
             Lead.status, Lead.assignee_id, Lead.team_id, Lead.city, Lead.state, Lead.country, Lead.employer,
             Lead.title, Lead.company_domain, Lead.balance, Lead.days_delinquent, Lead.created_at, Lead.updated_at)


def export_conditions(session: Session, query: LeadQuery, user: User) -> list[ColumnElement[bool]]:
    """The export's WHERE clause, built (and its filters checked: an unknown assignee is a 422) before any row is
    written, so that a bad filter is an error response, not a broken download."""
    return [visible_leads_clause(user), *lead_conditions(session, query, user)]


def export_csv(session: Session, where: list[ColumnElement[bool]]) -> Iterator[str]:
    """The CSV text, the header first, then a chunk per batch of leads (most delinquent first)."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(COLUMNS)
    yield _take(buffer)
    portfolios = {row.id: row.name for row in session.execute(select(Portfolio.id, Portfolio.name))}
    users = {row.id: row.username for row in session.execute(select(User.id, User.username))}
    teams = {row.id: row.name for row in session.execute(select(Team.id, Team.name))}
    after: tuple[Any, ...] | None = None
    while True:
        conditions = list(where)
        if after is not None:
            start = (literal(after[0], Integer()), literal(after[1], String()), literal(after[2], Uuid()))
            conditions.append(tuple_(*LEAD_ORDER) > tuple_(*start))
        rows = session.execute(select(*LEAD_ORDER, *_SELECTED).where(*conditions).order_by(*LEAD_ORDER)
                               .limit(BATCH)).all()
        for row in rows:
            writer.writerow(_cells(row[len(LEAD_ORDER):], portfolios, users, teams))
        if rows:
            yield _take(buffer)
        if len(rows) < BATCH:
            return
        last = rows[-1]
        after = (int(last[0]), str(last[1]), last[2] if isinstance(last[2], uuid.UUID) else uuid.UUID(str(last[2])))


def _cells(row: Any, portfolios: dict[Any, str], users: dict[Any, str], teams: dict[Any, str]) -> list[Any]:
    (lead_id, external_id, first, middle, last, portfolio_id, status, assignee_id, team_id, city, state, country,
     employer, title, domain, balance, days, created_at, updated_at) = row
    return [lead_id, external_id, full_name(first, middle, last), portfolios.get(portfolio_id), status,
            users.get(assignee_id) if assignee_id else None, teams.get(team_id) if team_id else None, city, state,
            country, employer, title, domain, balance, days, created_at.isoformat() if created_at else None,
            updated_at.isoformat() if updated_at else None]


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
