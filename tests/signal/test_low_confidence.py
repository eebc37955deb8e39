"""The precision floor end to end: a text below its type's threshold makes no signal, waits on the low-confidence
list for the people who may see its lead, and a person's label trains the model and (for an event) makes the
signal. Runs on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_keyword_classifier, make_lead, make_team, make_user
from upswing.account.models import Role
from upswing.observation.models import Observation
from upswing.observation.text import TextItem
from upswing.pipeline.texts import ingest_texts
from upswing.signal.feedback import load_labelled_examples
from upswing.signal.models import LabelledExample, Signal

SEEN = datetime(2026, 10, 1, 9, tzinfo=UTC)
# "joined" is a new job the stand-in is sure of; "promoted" is a promotion below its threshold.
CLASSIFIER = make_keyword_classifier({"joined": "new_employment", "promoted": "promotion"}, confidence=0.7,
                                     thresholds={"promotion": 0.8})
UNSURE = "Feels like I might have been promoted to shift supervisor at the Target on 5th, not official yet."


def ingest(session: Session, lead_id: Any, text: str) -> Any:
    item = TextItem(text=text, raw={"text": text}, lead_id=lead_id, url="https://social.example/p/9")
    report = ingest_texts(session, [item], source_slug="test-posts", observed_at=SEEN,
                         classifier={"person": CLASSIFIER, "company": CLASSIFIER})
    session.flush()
    return report


def test_below_threshold_is_no_signal_but_a_listed_guess(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    stranger = make_user(db_session, Role.AGENT, team=make_team(db_session))
    lead = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    sure = ingest(db_session, lead.id, "I joined Globex as a data analyst.")
    unsure = ingest(db_session, lead.id, UNSURE)
    db_session.commit()
    assert (sure.signals_created, sure.below_threshold) == (1, 0)
    assert (unsure.signals_created, unsure.below_threshold, unsure.detected) == (0, 1, 0)
    assert [s.type for s in db_session.scalars(select(Signal).where(Signal.lead_id == lead.id))] == ["new_employment"]
    stored = db_session.get(Observation, unsure.observation_ids[0])
    assert (stored.guess_label, stored.guess_confidence) == ("promotion", 0.7)

    page = client.get("/api/v1/signals/low-confidence", headers=auth(app, agent)).json()
    assert [(i["observation_id"], i["best_label"], i["confidence"]) for i in page["items"]] == [
        (str(stored.id), "promotion", 0.7)]
    assert page["items"][0]["snippet"].startswith("Feels like I might have been promoted")
    assert client.get("/api/v1/signals/low-confidence", headers=auth(app, stranger)).json()["items"] == []
    assert client.get("/api/v1/signals/low-confidence", params={"label": "award"},
                      headers=auth(app, agent)).json()["items"] == []
    refused = client.post(f"/api/v1/signals/low-confidence/{stored.id}/label", json={"label": "promotion"},
                          headers=auth(app, stranger))
    assert refused.status_code == 404  # not theirs to see


def test_labelling_an_event_trains_and_makes_the_signal(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    report = ingest(db_session, lead.id, UNSURE)
    db_session.commit()
    observation_id = report.observation_ids[0]
    bad = client.post(f"/api/v1/signals/low-confidence/{observation_id}/label", json={"label": "raise"},
                      headers=auth(app, agent))
    assert bad.status_code == 422 and "label" in bad.text
    answer = client.post(f"/api/v1/signals/low-confidence/{observation_id}/label", json={"label": "promotion"},
                         headers=auth(app, agent))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"observation_id": str(observation_id), "label": "promotion",
                             "previous_label": "promotion", "signals_created": 1}
    db_session.expire_all()
    (signal,) = db_session.scalars(select(Signal).where(Signal.lead_id == lead.id)).all()
    assert (signal.type, signal.title) == ("promotion", "shift supervisor")
    example = db_session.scalars(select(LabelledExample).where(LabelledExample.observation_id == observation_id)).one()
    assert (example.label, example.correct, example.signal_id) == ("promotion", True, None)
    assert (UNSURE, "promotion") in load_labelled_examples(db_session, "person")
    assert client.get("/api/v1/signals/low-confidence", headers=auth(app, agent)).json()["items"] == []
    again = client.post(f"/api/v1/signals/low-confidence/{observation_id}/label", json={"label": "none"},
                        headers=auth(app, agent))
    assert again.status_code == 404  # labelled already


def test_labelling_none_makes_no_signal(db_session: Session) -> None:
    from upswing.signal.low_confidence import label_text

    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    observation_id = ingest(db_session, lead.id, UNSURE).observation_ids[0]
    outcome = label_text(db_session, observation_id, "None", user=agent)
    assert (outcome.label, outcome.previous_label, outcome.signals_created) == ("none", "promotion", 0)
    assert db_session.scalars(select(Signal).where(Signal.lead_id == lead.id)).all() == []
    assert db_session.get(Observation, observation_id).guess_label is None


def test_the_api_label_choices_are_the_person_event_types() -> None:
    from typing import get_args

    from upswing.detection.text import PERSON_EVENT_LABELS
    from upswing.signal.schemas import PersonEventLabel

    assert set(get_args(PersonEventLabel)) == set(PERSON_EVENT_LABELS)
