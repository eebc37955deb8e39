"""The lead list and lead search are answered from their indexes on SQLite, whatever the size of the book.

Two regressions measured at 100,000 leads (``benchmarks/api_scale.py``): a bound sort constant kept SQLite from
using the list indexes, and a merge index holding every lead answered ``merged_into_id IS NULL``, so a page of
leads sorted the whole book (70 ms); a search with ``OR`` (or ``ESCAPE``) scanned the whole FTS5 table (160 ms).
The plans are structural, so a handful of leads shows them. PostgreSQL's plans are checked by the benchmark at
a million leads (``auto_explain`` of every scenario): with a few rows its planner rightly prefers to scan.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.factories import make_lead, make_portfolio, make_team, make_user

from upswing.account.models import Role
from upswing.lead import service
from upswing.lead.schemas import LeadFilters


def _plans(session: Session, run: Any) -> list[tuple[str, str]]:
    """``(statement, plan)`` of every SELECT on ``leads`` or ``leads_fts`` that ``run`` issues."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "leads" in statement:
            captured.append((statement, parameters))

    connection = session.connection()
    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    raw = connection.connection.driver_connection
    assert raw is not None
    return [(statement, "\n".join(str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)))
            for statement, parameters in captured]


@pytest.fixture
def book(db_session: Session, db_kind: str) -> Any:
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL's plans are checked at a million leads by benchmarks/api_scale.py")
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    other = make_user(db_session, Role.AGENT, team=team)
    portfolio = make_portfolio(db_session)
    for n in range(30):
        owner = agent if n % 3 == 0 else other
        make_lead(db_session, portfolio, assignee_id=owner.id, team_id=team.id, days_delinquent=30 + n,
                  last_name=f"Okafor{n}" if n % 2 else f"Rivera{n}")
    db_session.flush()
    return agent


def test_a_page_of_leads_is_read_from_a_list_index_in_order(db_session: Session, book: Any) -> None:
    plans = _plans(db_session, lambda: service.page_leads(db_session, LeadFilters(limit=5), user=book))
    ordered = [(statement, plan) for statement, plan in plans if "ORDER BY" in statement]
    assert len(ordered) == 2, plans  # the agent's own leads, the rest of the team's
    for statement, plan in ordered:
        assert "ix_leads_list" in plan, (statement, plan)
        assert "TEMP B-TREE" not in plan, (statement, plan)


def test_least_delinquent_first_reads_the_same_index_backwards(db_session: Session, book: Any) -> None:
    filters = LeadFilters(limit=5, sort="days_delinquent")
    first = service.page_leads(db_session, filters, user=book)
    assert [lead.days_delinquent for lead in first.items] == sorted(lead.days_delinquent or 0 for lead in first.items)
    assert first.next_cursor is not None
    plans = _plans(db_session, lambda: service.page_leads(
        db_session, filters.model_copy(update={"cursor": first.next_cursor}), user=book))
    ordered = [(statement, plan) for statement, plan in plans if "ORDER BY" in statement]
    assert len(ordered) == 2, plans
    for statement, plan in ordered:
        assert "ix_leads_list" in plan, (statement, plan)
        assert "TEMP B-TREE" not in plan, (statement, plan)


def test_lead_search_reads_the_trigram_index_of_each_column(db_session: Session, book: Any) -> None:
    result = service.page_leads(db_session, LeadFilters(limit=50, q="okafor"), user=book)
    assert result.items and all("okafor" in item.last_name.lower() for item in result.items)
    plans = _plans(db_session, lambda: service.page_leads(db_session, LeadFilters(limit=50, q="okafor"), user=book))
    searched = [plan for _, plan in plans if "leads_fts" in plan]
    assert searched, plans
    for plan in searched:
        fts_lines = [line for line in plan.splitlines() if "leads_fts VIRTUAL TABLE" in line]
        assert len(fts_lines) == 2, plan  # one LIKE per column
        assert all(not line.rstrip().endswith(":") for line in fts_lines), plan  # each with its constraint


def test_search_text_is_literal_not_a_pattern(db_session: Session, book: Any) -> None:
    portfolio = make_portfolio(db_session)
    make_lead(db_session, portfolio, external_id="AB_100", assignee_id=book.id, team_id=book.team_id)
    make_lead(db_session, portfolio, external_id="ABX100", assignee_id=book.id, team_id=book.team_id)
    found = service.page_leads(db_session, LeadFilters(limit=50, q="ab_100"), user=book)
    assert [item.external_id for item in found.items] == ["AB_100"]
    assert service.page_leads(db_session, LeadFilters(limit=50, q="ab%100"), user=book).items == []
