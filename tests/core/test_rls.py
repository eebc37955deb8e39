"""PostgreSQL row-level security: with an agent's claims, SQL that forgets every filter still returns only that
agent's rows; managers and the system (no claims) see all; requests carry the claims and leave none behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.deps import AnyUser
from upswing.account.models import Role, User
from upswing.core import rls
from upswing.core.deps import DbSession


@pytest.fixture
def pg_session(db_session: Session) -> Session:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no row-level security: the services' scoping (lead.access) is the only guard there")
    return db_session


@dataclass
class Book:
    agent: User
    teammate: User
    stranger: User
    manager: User
    own: uuid.UUID  # assigned to the agent
    team: uuid.UUID  # assigned to the agent's team, nobody in particular
    other: uuid.UUID  # another team's agent's
    signals: dict[uuid.UUID, uuid.UUID]  # lead → its signal


@pytest.fixture
def book(pg_session: Session) -> Book:
    team, other_team = make_team(pg_session), make_team(pg_session)
    agent = make_user(pg_session, Role.AGENT, team=team)
    teammate = make_user(pg_session, Role.AGENT, team=team)
    stranger = make_user(pg_session, Role.AGENT, team=other_team)
    manager = make_user(pg_session, Role.MANAGER)
    portfolio = make_portfolio(pg_session)
    own = make_lead(pg_session, portfolio, assignee_id=agent.id, team_id=team.id)
    team_lead = make_lead(pg_session, portfolio, team_id=team.id)
    other = make_lead(pg_session, portfolio, assignee_id=stranger.id, team_id=other_team.id)
    signals = {lead.id: make_signal(pg_session, lead) for lead in (own, team_lead, other)}
    pg_session.commit()
    return Book(agent, teammate, stranger, manager, own.id, team_lead.id, other.id, signals)


@pytest.fixture
def acting(pg_session: Session) -> Iterator[Any]:
    """``acting(user)``: the session carries that user's claims until the test ends."""
    def act(user: User) -> None:
        rls.stop_acting(pg_session)
        pg_session.rollback()
        rls.act_as(pg_session, user)

    yield act
    rls.stop_acting(pg_session)


def _ids(session: Session, sql: str) -> set[uuid.UUID]:
    return {row[0] for row in session.execute(text(sql))}


def test_a_query_without_any_filter_returns_only_the_agents_leads(pg_session: Session, book: Book,
                                                                   acting: Any) -> None:
    acting(book.agent)
    assert pg_session.execute(text("SELECT current_user")).scalar() == "upswing_app"
    assert _ids(pg_session, "SELECT id FROM leads") == {book.own, book.team}
    assert _ids(pg_session, "SELECT lead_id FROM signals") == {book.own, book.team}
    assert _ids(pg_session, "SELECT lead_id FROM observations") == {book.own, book.team}
    assert _ids(pg_session, "SELECT s.lead_id FROM evidence e JOIN signals s ON s.id = e.signal_id") == {
        book.own, book.team}
    pg_session.commit()  # the next transaction carries the claims again
    assert _ids(pg_session, "SELECT id FROM leads") == {book.own, book.team}

    acting(book.stranger)
    assert _ids(pg_session, "SELECT id FROM leads") == {book.other}

    acting(book.manager)
    assert _ids(pg_session, "SELECT id FROM leads") == {book.own, book.team, book.other}
    assert len(_ids(pg_session, "SELECT id FROM signals")) == 3


def test_an_agent_cannot_change_or_create_rows_outside_their_scope(pg_session: Session, book: Book,
                                                                   acting: Any) -> None:
    acting(book.agent)
    changed = pg_session.execute(text("UPDATE leads SET status = 'lost' WHERE id = :id"), {"id": book.other})
    assert changed.rowcount == 0  # invisible, so untouched
    assert pg_session.execute(text("UPDATE leads SET status = 'contacted' WHERE id = :id"),
                              {"id": book.own}).rowcount == 1
    with pytest.raises(ProgrammingError, match="row-level security"):  # handing the lead to another team
        pg_session.execute(text("UPDATE leads SET team_id = NULL, assignee_id = :other WHERE id = :id"),
                           {"other": book.stranger.id, "id": book.own})
    pg_session.rollback()
    assert pg_session.execute(text("DELETE FROM signals WHERE lead_id = :id"), {"id": book.other}).rowcount == 0


def test_without_claims_the_connection_is_the_system_and_sees_everything(pg_session: Session, book: Book) -> None:
    pg_session.execute(text("SET LOCAL ROLE upswing_app"))  # not a superuser: the policies apply, no claims
    assert _ids(pg_session, "SELECT id FROM leads") >= {book.own, book.team, book.other}
    pg_session.rollback()


def test_requests_carry_the_users_claims_and_leave_none_behind(app: FastAPI, client: Any, pg_session: Session,
                                                               book: Book) -> None:
    def raw_leads(user: AnyUser, session: DbSession) -> list[str]:
        # Deliberately no scoping at all: only the database's policies stand between the agent and the book.
        return sorted(str(row[0]) for row in session.execute(text("SELECT id FROM leads")))

    app.add_api_route("/test/raw-leads", raw_leads, methods=["GET"])
    mine = client.get("/test/raw-leads", headers=auth(app, book.agent))
    assert mine.status_code == 200 and set(mine.json()) == {str(book.own), str(book.team)}
    theirs = client.get("/test/raw-leads", headers=auth(app, book.stranger))
    assert set(theirs.json()) == {str(book.other)}
    everyone = client.get("/test/raw-leads", headers=auth(app, book.manager))
    assert set(everyone.json()) >= {str(book.own), str(book.team), str(book.other)}

    # The API's own endpoints still answer as before, and writes by an agent pass the policies.
    listed = client.get("/api/v1/leads", headers=auth(app, book.agent))
    assert {item["id"] for item in listed.json()["items"]} == {str(book.own), str(book.team)}
    patched = client.patch(f"/api/v1/leads/{book.own}", json={"status": "contacted"},
                           headers=auth(app, book.agent))
    assert patched.status_code == 200, patched.text
    acted = client.post(f"/api/v1/signals/{book.signals[book.team]}/acknowledge", headers=auth(app, book.teammate))
    assert acted.status_code == 200, acted.text
    hidden = client.get(f"/api/v1/signals/{book.signals[book.other]}", headers=auth(app, book.agent))
    assert hidden.status_code == 404

    # Back in the test's own connection: no claims, no role switch left over from the requests.
    assert pg_session.execute(text("SELECT current_user = session_user")).scalar() is True
    assert _ids(pg_session, "SELECT id FROM leads") >= {book.own, book.team, book.other}


def test_claims_are_not_set_when_row_level_security_is_switched_off(pg_session: Session, book: Book) -> None:
    from upswing.settings import Settings

    rls.act_as(pg_session, book.agent, Settings(db_row_level_security=False))
    assert rls.claims_of(pg_session) is None
    assert _ids(pg_session, "SELECT id FROM leads") >= {book.own, book.team, book.other}


def test_the_contact_ledger_is_scoped_like_its_leads(pg_session: Session, book: Book, acting: Any) -> None:
    from datetime import UTC, datetime

    from upswing.compliance import service as compliance
    from upswing.compliance.schemas import ContactCreate

    for lead_id in (book.own, book.other):
        compliance.log_contact(pg_session, ContactCreate(lead_id=lead_id, channel="letter",
                                                         at=datetime(2026, 11, 2, 15, tzinfo=UTC)),
                               actor="test", source="api")
    pg_session.commit()

    acting(book.agent)
    assert _ids(pg_session, "SELECT lead_id FROM contact_attempts") == {book.own}
    acting(book.manager)
    assert _ids(pg_session, "SELECT lead_id FROM contact_attempts") == {book.own, book.other}
