"""A lead's timeline: snapshots, signals, evidence, actions and outcomes, in order; only for visible leads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_team, make_user
from upswing.account.models import Role
from upswing.casework.timeline import snapshot_summary, timeline
from upswing.core.errors import NotFoundError
from upswing.pipeline.profiles import ProfileIngest
from upswing.signal import service as signals
from upswing.signal.models import Signal, SignalAction, SignalOutcome
from upswing.source.service import file_source

SEPT = datetime(2026, 9, 1, 6, tzinfo=UTC)
OCT = datetime(2026, 10, 1, 6, tzinfo=UTC)


def _item(jobs: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    def when(text: str | None) -> dict[str, Any]:
        if text is None:
            return {"text": "Present"}
        month, year = text.split()
        return {"month": month, "year": int(year), "text": text}

    return {"publicIdentifier": "tl-lead", "linkedinUrl": "https://www.linkedin.com/in/tl-lead",
            "firstName": "Tia", "lastName": "Lane", "headline": "Numbers person",
            "experience": [{"position": t, "companyName": c, "startDate": when(s), "endDate": when(e)}
                           for t, c, s, e in jobs]}


def _history(session: Session) -> tuple[Any, Any, Any]:
    team = make_team(session)
    agent = make_user(session, Role.AGENT, team=team)
    lead = make_lead(session, assignee_id=agent.id, linkedin_public_id="tl-lead",
                     linkedin_url="https://www.linkedin.com/in/tl-lead")
    history: list[tuple[datetime, list[tuple[str, str, str, str | None]]]] = [
        (SEPT, [("Cashier", "Target", "May 2022", None)]),
        (OCT, [("Cashier", "Target", "May 2022", "Sep 2026"), ("Bookkeeper", "Ledger & Co", "Sep 2026", None)]),
    ]
    for observed_at, jobs in history:
        run = ProfileIngest(session, file_source(session), observed_at=observed_at)
        run.ingest([(1, _item(jobs))])
    signal_id = session.scalars(select(Signal.id).where(Signal.lead_id == lead.id)).one()
    signals.acknowledge(session, signal_id, user=agent)
    signals.record_action(session, signal_id, SignalAction.CALL, user=agent, note="left a message")
    signals.record_action(session, signal_id, SignalAction.LETTER, user=agent)
    signals.record_outcome(session, signal_id, SignalOutcome.PROMISE_TO_PAY, user=agent, note="$200 on the 1st")
    session.commit()
    return agent, lead, signal_id


def test_timeline_lists_everything_in_order(db_session: Session) -> None:
    agent, lead, signal_id = _history(db_session)
    result = timeline(db_session, lead.id, user=agent)
    kinds = [item.kind for item in result.items]
    assert kinds == ["snapshot", "snapshot", "evidence", "signal", "acknowledged", "action", "action", "outcome"]
    assert [item.at for item in result.items] == sorted(item.at for item in result.items)

    first, second, evidence, signal, _, call, letter, outcome = result.items
    assert (first.details["version"], second.details["version"]) == (1, 2)
    assert first.summary == "Cashier at Target · Numbers person"
    assert second.summary == "Bookkeeper at Ledger & Co · Numbers person"
    assert evidence.observation_id == second.observation_id and evidence.signal_id == signal_id
    assert "Bookkeeper" in evidence.summary and evidence.at == OCT
    assert signal.details["type"] == "new_employment" and signal.details["status"] == "resolved"
    assert "score" in signal.summary
    assert (call.summary, call.actor) == ("action: call — left a message", f"user:{agent.username}")
    assert letter.details["action"] == "letter"
    assert outcome.summary == "outcome: promise_to_pay — $200 on the 1st"
    assert result.lead_external_id == lead.external_id


def test_timeline_is_only_for_visible_leads(db_session: Session) -> None:
    _, lead, _ = _history(db_session)
    stranger = make_user(db_session, Role.AGENT)
    with pytest.raises(NotFoundError):
        timeline(db_session, lead.id, user=stranger)
    assert len(timeline(db_session, lead.id, user=make_user(db_session, Role.VIEWER)).items) == 8
    assert len(timeline(db_session, lead.id, user=None).items) == 8


def test_timeline_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    agent, lead, _ = _history(db_session)
    stranger = make_user(db_session, Role.AGENT)
    db_session.commit()
    body = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=auth(app, agent)).json()
    assert [item["kind"] for item in body["items"]][:4] == ["snapshot", "snapshot", "evidence", "signal"]
    assert all({"at", "kind", "summary"} <= set(item) for item in body["items"])
    assert client.get(f"/api/v1/leads/{lead.id}/timeline", headers=auth(app, stranger)).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/api/v1/leads/{missing}/timeline", headers=auth(app, agent)).status_code == 404


def test_snapshot_summary() -> None:
    assert snapshot_summary({}) == "no current position"
    assert snapshot_summary({"experiences": [{"title": "VP", "company": "Initech", "current": True},
                                             {"title": "Analyst", "company": "Initrode", "current": False}],
                             "open_to_work": True}) == "VP at Initech · open to work"
    assert len(snapshot_summary({"headline": "x" * 500})) == 200
