"""Admins read the audit log over the API (filters, pagination, chain check); logins and lead views are
audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import PASSWORD, auth, make_lead, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import record


def test_list_filters_and_pages(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    for n in range(5):
        record(db_session, actor="user:ann", action="lead.view", entity_type="lead", entity_id=f"lead-{n}")
    record(db_session, actor="user:bob", action="lead.update", entity_type="lead", entity_id="lead-1",
           details={"status": {"from": "new", "to": "contacted"}})
    db_session.commit()
    headers = auth(app, admin)

    page = client.get("/api/v1/audit", headers=headers, params={"actor": "user:ann", "limit": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert [item["entity_id"] for item in page["items"]] == ["lead-4", "lead-3"]  # newest first
    second = client.get("/api/v1/audit", headers=headers, params={"actor": "user:ann", "limit": 2, "offset": 4})
    assert [item["entity_id"] for item in second.json()["items"]] == ["lead-0"]
    one = client.get("/api/v1/audit", headers=headers, params={"entity_type": "lead", "entity_id": "lead-1"}).json()
    assert [item["action"] for item in one["items"]] == ["lead.update", "lead.view"]
    assert one["items"][0]["details"] == {"status": {"from": "new", "to": "contacted"}}
    later = client.get("/api/v1/audit", headers=headers, params={"since": "2999-01-01T00:00:00"}).json()
    assert later["total"] == 0
    assert client.get("/api/v1/audit", headers=headers, params={"limit": 0}).status_code == 422


def test_verify_endpoint(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    last = record(db_session, actor="user:ann", action="lead.view", entity_type="lead", entity_id="x")
    db_session.commit()
    body = client.get("/api/v1/audit/verify", headers=auth(app, admin)).json()  # seals, then verifies
    assert body["intact"] is True and body["first_broken_id"] is None
    db_session.refresh(last)
    assert last.hash and (body["last_id"], body["last_hash"]) == (last.id, last.hash)


def test_logins_are_audited(app: Any, client: Any, db_session: Session) -> None:
    user = make_user(db_session, Role.AGENT)
    db_session.commit()

    def login(username: str, password: str) -> int:
        return int(client.post("/api/v1/auth/token", data={"username": username, "password": password}).status_code)

    assert (login(user.username, PASSWORD), login(user.username, "wrong"), login("nobody@example.org", "x")) == (
        200, 401, 401)
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("auth.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor, e.entity_id) for e in entries] == [
        ("auth.login", f"user:{user.username}", str(user.id)),
        ("auth.login_failed", "anonymous", str(user.id)),
        ("auth.login_failed", "anonymous", None),  # an unknown name is not stored (it may be anything typed)
    ]


def test_lead_views_are_audited(app: Any, client: Any, db_session: Session) -> None:
    viewer = make_user(db_session, Role.VIEWER)
    lead = make_lead(db_session)
    db_session.commit()
    assert client.get(f"/api/v1/leads/{lead.id}", headers=auth(app, viewer)).status_code == 200
    assert client.get(f"/api/v1/leads/{lead.id}/timeline", headers=auth(app, viewer)).status_code == 200
    views = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.view")).all()
    assert [(v.actor, v.entity_id, v.details) for v in views] == [
        (f"user:{viewer.username}", str(lead.id), {}),
        (f"user:{viewer.username}", str(lead.id), {"view": "timeline"}),
    ]
