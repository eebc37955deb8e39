"""The bundled demo, loaded as `make demo` loads it, gives exactly the signals its generator planted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.demo import service as demo
from upswing.demo.generate import generate_portfolio
from upswing.observation.models import Observation
from upswing.signal.models import Signal


def _load(session: Session) -> None:
    demo.ensure_users(session, actor="test")
    demo.load_leads(session, actor="test")
    for path in demo.export_files():
        demo.load_export(session, path, actor="test", lookback_days=90)
    session.commit()


def test_demo_signals_match_the_planted_changes_and_noise_gives_none(db_session: Session) -> None:
    _load(db_session)
    truth = generate_portfolio(300)
    expected = Counter((c.external_id, c.kind) for c in truth.expected_changes if c.kind != "title_change")
    rows = db_session.execute(select(Signal.type, Signal.lead_id)).all()
    from upswing.lead.models import Lead

    external = {row.id: row.external_id for row in db_session.execute(select(Lead.id, Lead.external_id))}
    detected = Counter((external[lead_id], type_) for type_, lead_id in rows)
    assert detected == expected
    assert sum(detected.values()) > 100
    assert {kind for _, kind in detected} == {"new_employment", "promotion", "business_launch", "certification",
                                              "award", "education", "job_loss"}
    unlinked = db_session.scalars(select(Observation.subject_key).where(Observation.lead_id.is_(None))).all()
    assert set(unlinked) == {f"li:{slug}" for slug in truth.unlinked}

    # Replaying every export again changes nothing.
    before = db_session.scalar(select(func.count()).select_from(Signal))
    _load(db_session)
    assert db_session.scalar(select(func.count()).select_from(Signal)) == before


def test_demo_login_and_signals_over_the_api(client: Any, db_session: Session) -> None:
    _load(db_session)
    token = client.post("/api/v1/auth/token",
                        data={"username": "admin", "password": demo.DEMO_PASSWORD}).json()["access_token"]
    page = client.get("/api/v1/signals", headers={"Authorization": f"Bearer {token}"},
                      params={"limit": 500}).json()
    assert page["total"] == db_session.scalar(select(func.count()).select_from(Signal))
    assert page["total"] > 100
    first = page["items"][0]
    assert first["evidence_url"].startswith("https://www.linkedin.com/in/")
    assert first["lead_external_id"].startswith("BRW-")

    agent_token = client.post("/api/v1/auth/token",
                              data={"username": "agent.okafor", "password": demo.DEMO_PASSWORD}).json()
    mine = client.get("/api/v1/signals", headers={"Authorization": f"Bearer {agent_token['access_token']}"}).json()
    assert 0 < mine["total"] < page["total"]
