"""Feedback on a signal's type: confirmations and corrections become labelled examples; a correction retypes
or dismisses a signal nobody has acted on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_keyword_classifier, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.lead.models import Lead
from upswing.observation.text import TextItem
from upswing.pipeline.texts import ingest_texts
from upswing.signal import service
from upswing.signal.feedback import load_labelled_examples, record_feedback
from upswing.signal.models import LabelledExample, Signal, SignalAction

RULES = {"joined": "new_employment", "missed": "financial_distress"}
CLASSIFIERS = {"person": make_keyword_classifier(RULES), "company": make_keyword_classifier(RULES)}
POST = "Some news: I joined Initech as a Staff Engineer."


def text_signal(session: Session, lead: Lead, text: str = POST, **fields: Any) -> uuid.UUID:
    ingest_texts(session, [TextItem(text=text, raw={"text": text}, lead_id=lead.id, **fields)], source_slug="posts",
                 classifier=CLASSIFIERS)
    session.flush()
    signal_id = session.scalar(select(Signal.id).where(Signal.lead_id == lead.id))
    assert signal_id is not None
    return signal_id


def examples(session: Session) -> list[LabelledExample]:
    return list(session.scalars(select(LabelledExample).order_by(LabelledExample.created_at)))


def test_a_confirmation_is_stored_as_an_example(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = text_signal(db_session, lead)
    db_session.commit()
    response = client.post(f"/api/v1/signals/{signal_id}/feedback", json={"correct": True},
                           headers=auth(app, agent))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["label"], body["examples_stored"], body["type_changed"], body["dismissed"]) == (
        "new_employment", 1, False, False)
    (example,) = examples(db_session)
    assert (example.text, example.label, example.kind, example.correct, example.previous_label) == (
        POST, "new_employment", "person", True, "new_employment")
    assert (example.signal_id, example.user_id) == (signal_id, agent.id)
    assert example.observation_id is not None
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "signal.feedback", AuditEntry.entity_id == str(signal_id))) == 1


def test_a_correction_retypes_and_rescores_an_open_signal(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session)
    signal_id = text_signal(db_session, lead)
    db_session.commit()
    before = client.get(f"/api/v1/signals/{signal_id}", headers=auth(app, manager)).json()
    response = client.post(f"/api/v1/signals/{signal_id}/feedback", json={"correct": False, "label": "promotion"},
                           headers=auth(app, manager))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["type_changed"], body["signal"]["type"]) == (True, "promotion")
    assert body["signal"]["score_breakdown"]["strength"] < before["score_breakdown"]["strength"]  # 0.8 < 1.0
    assert [(e.label, e.correct, e.previous_label) for e in examples(db_session)] == [
        ("promotion", False, "new_employment")]


def test_correcting_to_none_dismisses(db_session: Session) -> None:
    user = make_user(db_session, Role.ADMIN)
    signal_id = text_signal(db_session, make_lead(db_session))
    outcome = record_feedback(db_session, signal_id, correct=False, label=None, user=user)
    assert (outcome.label, outcome.dismissed, outcome.signal.status.value) == ("none", True, "dismissed")
    assert outcome.signal.dismiss_reason is not None and outcome.signal.dismiss_reason.value == "not_relevant"
    assert load_labelled_examples(db_session, "person") == [(POST, "none")]


def test_after_an_action_the_signal_keeps_its_type(db_session: Session) -> None:
    user = make_user(db_session, Role.ADMIN)
    signal_id = text_signal(db_session, make_lead(db_session))
    service.record_action(db_session, signal_id, SignalAction.CALL, user=user)
    outcome = record_feedback(db_session, signal_id, correct=False, label="award", user=user)
    assert (outcome.type_changed, outcome.signal.type.value, outcome.examples_stored) == (False, "new_employment", 1)
    assert load_labelled_examples(db_session, "person") == [(POST, "award")]


def test_company_intent_feedback_uses_the_company_labels(db_session: Session) -> None:
    user = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session, make_portfolio(db_session), employer="Globex")
    text = "Globex missed two payments on its credit line."
    ingest_texts(db_session, [TextItem(text=text, raw={}, about="company", company_name="Globex")],
                 source_slug="news", classifier=CLASSIFIERS)
    db_session.flush()
    signal_id = db_session.scalar(select(Signal.id).where(Signal.lead_id == lead.id))
    assert signal_id is not None
    outcome = record_feedback(db_session, signal_id, correct=False, label="intent_loan_need", user=user)
    assert (outcome.label, outcome.signal.type.value) == ("loan_need", "intent_loan_need")
    with pytest.raises(Exception, match="not a company label"):
        record_feedback(db_session, signal_id, correct=False, label="promotion", user=user)
    assert load_labelled_examples(db_session, "company") == [(text, "loan_need")]
    assert load_labelled_examples(db_session, "person") == []


def test_the_latest_label_of_a_text_wins(db_session: Session) -> None:
    first, second = make_user(db_session, Role.ADMIN), make_user(db_session, Role.MANAGER)
    signal_id = text_signal(db_session, make_lead(db_session))
    service.record_action(db_session, signal_id, SignalAction.CALL, user=first)  # keeps the type fixed
    record_feedback(db_session, signal_id, correct=False, label="promotion", user=first)
    record_feedback(db_session, signal_id, correct=True, label=None, user=second)
    assert len(examples(db_session)) == 2
    assert load_labelled_examples(db_session, "person") == [(POST, "new_employment")]
    with pytest.raises(ValueError, match="kind"):
        load_labelled_examples(db_session, "animal")


def test_profile_signals_take_feedback_without_examples(db_session: Session) -> None:
    user = make_user(db_session, Role.ADMIN)
    signal_id = make_signal(db_session, make_lead(db_session))
    outcome = record_feedback(db_session, signal_id, correct=True, label="new_employment", user=user)
    assert (outcome.examples_stored, outcome.type_changed) == (0, False)
    assert examples(db_session) == []


@pytest.mark.parametrize(("body", "status"), [
    ({"correct": True, "label": "award"}, 422),  # a confirmation naming another type
    ({"correct": False, "label": "new_employment"}, 422),  # a correction to the same type
    ({"correct": False, "label": "wizard"}, 422),
    ({"label": "award"}, 422),  # correct is required
])
def test_invalid_feedback_is_refused(app: Any, client: Any, db_session: Session, body: dict[str, Any],
                                     status: int) -> None:
    user = make_user(db_session, Role.ADMIN)
    signal_id = text_signal(db_session, make_lead(db_session))
    db_session.commit()
    response = client.post(f"/api/v1/signals/{signal_id}/feedback", json=body, headers=auth(app, user))
    assert response.status_code == status, response.text
    assert examples(db_session) == []


def test_feedback_needs_a_visible_signal_and_a_worker(app: Any, client: Any, db_session: Session) -> None:
    team, other = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    viewer = make_user(db_session, Role.VIEWER)
    foreign = make_lead(db_session, team_id=other.id, assignee_id=make_user(db_session, Role.AGENT, team=other).id)
    signal_id = text_signal(db_session, foreign)
    db_session.commit()
    url = f"/api/v1/signals/{signal_id}/feedback"
    assert client.post(url, json={"correct": True}, headers=auth(app, agent)).status_code == 404
    assert client.post(url, json={"correct": True}, headers=auth(app, viewer)).status_code == 403
    assert client.post(url, json={"correct": True}).status_code == 401
    assert examples(db_session) == []
