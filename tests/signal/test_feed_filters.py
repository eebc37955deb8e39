"""The feed's portfolio, team, source and search filters (the dashboard keeps them in its URL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.detection.events import SignalType
from upswing.signal.models import Evidence


def _ids(client: Any, headers: dict[str, str], **params: str) -> set[str]:
    response = client.get("/api/v1/signals", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_portfolio_team_and_source(app: Any, client: Any, db_session: Session) -> None:
    north, south = make_team(db_session, "North"), make_team(db_session, "South")
    bank, card = make_portfolio(db_session, "Bank loans"), make_portfolio(db_session, "Card debt")
    in_north = make_signal(db_session, make_lead(db_session, bank, team_id=north.id))
    in_south = make_signal(db_session, make_lead(db_session, card, team_id=south.id))
    no_team = make_signal(db_session, make_lead(db_session, card), SignalType.AWARD)
    db_session.execute(update(Evidence).where(Evidence.signal_id == in_south).values(source="news-feed"))
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    headers = auth(app, manager)

    assert _ids(client, headers, portfolio="Bank loans") == {str(in_north)}
    assert _ids(client, headers, portfolio=str(card.id)) == {str(in_south), str(no_team)}
    assert _ids(client, headers, team="North") == {str(in_north)}
    assert _ids(client, headers, team=str(south.id)) == {str(in_south)}
    assert _ids(client, headers, team="none") == {str(no_team)}
    assert _ids(client, headers, source="news-feed") == {str(in_south)}
    assert _ids(client, headers, source="nobody-uses-this") == set()
    assert _ids(client, headers, team="South", portfolio="Card debt", sort="score") == {str(in_south)}
    for name in ("portfolio", "team"):
        refused = client.get("/api/v1/signals", headers=headers, params={name: "no-such-thing"})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == name


def test_search_by_lead_name_or_external_id(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    ada = make_lead(db_session, first_name="Ada", last_name="Lovelace", external_id="ACME-7731", assignee_id=agent.id)
    alan = make_lead(db_session, first_name="Alan", last_name="Turing", external_id="ACME-1912", assignee_id=agent.id)
    hidden = make_lead(db_session, first_name="Ada", last_name="Byron", external_id="ACME-7732")  # not the agent's
    ada_signal, alan_signal = make_signal(db_session, ada), make_signal(db_session, alan)
    make_signal(db_session, hidden)
    db_session.commit()
    headers = auth(app, agent)

    assert _ids(client, headers, q="lovel") == {str(ada_signal)}
    assert _ids(client, headers, q="acme-19") == {str(alan_signal)}
    assert _ids(client, headers, q="Ada") == {str(ada_signal)}  # the other Ada is not the agent's
    assert _ids(client, headers, q="acme") == {str(ada_signal), str(alan_signal)}
    assert _ids(client, headers, q="   ") == {str(ada_signal), str(alan_signal)}  # blank: no filter
    assert _ids(client, headers, q="zzz-nothing") == set()
