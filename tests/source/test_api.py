"""``/api/v1/sources``: health, budgets and last error for admins; secrets accepted and never returned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.core.tasks import TaskRun
from upswing.fakes.apify import FakeApify

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def admin_headers(app: Any, db_session: Session) -> dict[str, str]:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    return auth(app, admin)


@pytest.fixture
def fake_apify() -> Iterator[FakeApify]:
    fake = FakeApify(token="apify_api_api_test")
    with fake:
        yield fake


def test_admin_configures_a_source_and_never_sees_the_secret(client: Any, admin_headers: dict[str, str],
                                                             db_session: Session, fake_apify: FakeApify) -> None:
    listed = client.get("/api/v1/sources", headers=admin_headers)
    assert listed.status_code == 200
    by_slug = {s["slug"]: s for s in listed.json()}
    assert by_slug["apify-linkedin"]["enabled"] is False  # no token yet
    assert by_slug["apify-linkedin"]["state"] == "disabled"

    body = {"config": {"token": fake_apify.token, "base_url": fake_apify.url}, "enabled": True,
            "budgets": {"linkedin-profiles": 120}, "legal_basis": "Legitimate interest (collections)"}
    updated = client.put("/api/v1/sources/apify-linkedin", headers=admin_headers, json=body)
    assert updated.status_code == 200, updated.text
    assert fake_apify.token not in updated.text
    data = updated.json()
    assert data["enabled"] is True and data["state"] == "ok" and data["secrets_set"] == ["token"]
    assert data["config"]["base_url"] == fake_apify.url and "token" not in data["config"]
    assert data["budgets"] == [{"name": "linkedin-profiles", "limit": 120, "used_today": 0}]
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "source.configure")).all()
    assert audit and fake_apify.token not in str(audit[-1].details)

    shown = client.get("/api/v1/sources/apify-linkedin", headers=admin_headers)
    assert shown.status_code == 200 and fake_apify.token not in shown.text
    assert shown.json()["due_leads"] == 0

    health = client.post("/api/v1/sources/apify-linkedin/check", headers=admin_headers)
    assert health.status_code == 200 and health.json()["ok"] is True

    fake_apify.set_actor_state("harvestapi~linkedin-profile-scraper", "not-rented")
    refused = client.post("/api/v1/sources/apify-linkedin/check", headers=admin_headers).json()
    assert (refused["ok"], refused["blocked"], refused["state"]) == (False, True, "blocked")
    shown = client.get("/api/v1/sources/apify-linkedin", headers=admin_headers).json()
    assert shown["state"] == "blocked" and "403" in shown["last_error"]


def test_bad_settings_are_refused_by_name(client: Any, admin_headers: dict[str, str]) -> None:
    unknown = client.put("/api/v1/sources/apify-linkedin", headers=admin_headers, json={"config": {"tokn": "x"}})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "tokn"
    bad = client.put("/api/v1/sources/apify-linkedin", headers=admin_headers,
                     json={"config": {"batch_size": 0}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "batch_size"
    not_ready = client.put("/api/v1/sources/apify-linkedin", headers=admin_headers, json={"enabled": True})
    assert not_ready.status_code == 422 and "token is required" in not_ready.json()["detail"]
    negative = client.put("/api/v1/sources/apify-linkedin", headers=admin_headers,
                          json={"budgets": {"linkedin-profiles": -1}})
    assert negative.status_code == 422
    missing = client.get("/api/v1/sources/no-such-source", headers=admin_headers)
    assert missing.status_code == 404 and "no source 'no-such-source'" in missing.json()["detail"]


def test_run_is_queued_for_the_task_runner_once_per_key(client: Any, admin_headers: dict[str, str],
                                                        db_session: Session) -> None:
    headers = {**admin_headers, "Idempotency-Key": "run-42"}
    first = client.post("/api/v1/sources/apify-linkedin/run", headers=headers)
    assert first.status_code == 202 and first.json()["task_run_id"] is not None
    again = client.post("/api/v1/sources/apify-linkedin/run", headers=headers)
    # The same key: the first answer, replayed (core/idempotency.py), and still one run queued.
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    run = db_session.scalars(select(TaskRun).where(TaskRun.name == "source.run")).one()
    assert (run.args, run.status) == (["apify-linkedin"], "queued")
    assert run.idempotency_key == "source.run:apify-linkedin@api:run-42"
    # Without leads it is the first part of a round of its own; its later parts' keys derive from this one's.
    assert run.kwargs["round_key"].startswith("api:") and "part" not in run.kwargs
