"""Lead dedupe over HTTP: duplicates, merge, reject, list, undo; errors as status codes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role, User
from upswing.lead.models import Lead
from upswing.lead.service import import_leads

ROWS_A = [
    {"external_id": "A-1", "first_name": "Katherine", "last_name": "Oduya", "email": "k.oduya@example.com",
     "city": "Austin", "state": "TX", "postal_code": "78701"},
    {"external_id": "A-2", "first_name": "Peter", "last_name": "Lindqvist", "city": "Austin", "state": "TX"},
]
ROWS_B = [
    {"external_id": "B-9", "first_name": "Kate", "last_name": "Oduya", "email": "K.Oduya@example.com",
     "city": "Austin", "state": "TX", "postal_code": "78701"},
]


def _setup(session: Session) -> tuple[User, dict[str, Lead]]:
    import_leads(session, ROWS_A, portfolio_name="api-book", actor="test")
    import_leads(session, ROWS_B, portfolio_name="api-book", actor="test")
    manager = make_user(session, Role.MANAGER)
    session.commit()
    return manager, {lead.external_id: lead for lead in session.scalars(select(Lead))}


def test_duplicates_merge_list_and_undo(app: Any, client: Any, db_session: Session) -> None:
    manager, _ = _setup(db_session)
    headers = auth(app, manager)

    found = client.get("/api/v1/leads/duplicates", params={"portfolio": "api-book"}, headers=headers)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 1 and body["threshold"] == 0.8
    pair = body["items"][0]
    assert (pair["survivor_external_id"], pair["merged_external_id"]) == ("A-1", "B-9")
    assert pair["agreed"]["first_name"] == "nickname: katherine / kate"
    assert client.get("/api/v1/leads/duplicates", params={"threshold": 2}, headers=headers).status_code == 422
    assert client.get("/api/v1/leads/duplicates", params={"portfolio": "none"}, headers=headers).status_code == 404

    merged = client.post("/api/v1/leads/merges", headers=headers,
                         json={"survivor_id": pair["survivor_id"], "merged_id": pair["merged_id"]})
    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert merge["status"] == "applied" and merge["applied_by"] == f"user:{manager.username}"
    assert merge["moved"] == {"signals": 0, "signals_combined": 0}
    assert merge["explanation"]["agreed"]["email"] == "exact"  # stored without the addresses
    # The merged lead is gone from the lead list but can still be read by id.
    listed = client.get("/api/v1/leads", params={"portfolio": "api-book"}, headers=headers).json()
    assert {item["external_id"] for item in listed["items"]} == {"A-1", "A-2"}
    assert client.get(f"/api/v1/leads/{pair['merged_id']}", headers=headers).status_code == 200
    again = client.post("/api/v1/leads/merges", headers=headers,
                        json={"survivor_id": pair["survivor_id"], "merged_id": pair["merged_id"]})
    assert again.status_code == 409

    history = client.get("/api/v1/leads/merges", params={"portfolio": "api-book"}, headers=headers).json()
    assert history["total"] == 1 and history["items"][0]["id"] == merge["id"]
    # The list names both leads (the review page shows who was merged into whom).
    listed_merge = history["items"][0]
    assert (listed_merge["survivor_external_id"], listed_merge["merged_external_id"]) == ("A-1", "B-9")
    assert listed_merge["survivor_name"] == pair["survivor_name"] and listed_merge["merged_name"] == pair["merged_name"]
    assert client.get(f"/api/v1/leads/merges/{merge['id']}", headers=headers).json()["status"] == "applied"
    assert client.get(f"/api/v1/leads/merges/{uuid.uuid4()}", headers=headers).status_code == 404

    undone = client.post(f"/api/v1/leads/merges/{merge['id']}/undo", headers=headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone"
    assert client.post(f"/api/v1/leads/merges/{merge['id']}/undo", headers=headers).status_code == 409
    listed = client.get("/api/v1/leads", params={"portfolio": "api-book", "count": True}, headers=headers).json()
    assert listed["total"] == 3


def test_reject_and_bad_requests(app: Any, client: Any, db_session: Session) -> None:
    manager, leads = _setup(db_session)
    headers = auth(app, manager)
    a, b = str(leads["A-1"].id), str(leads["B-9"].id)
    rejected = client.post("/api/v1/leads/merges", headers=headers,
                           json={"survivor_id": a, "merged_id": b, "decision": "reject"})
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected"
    assert client.get("/api/v1/leads/duplicates", headers=headers).json()["total"] == 0
    assert client.post("/api/v1/leads/merges", headers=headers,
                       json={"survivor_id": a, "merged_id": a}).status_code == 422
    assert client.post("/api/v1/leads/merges", headers=headers,
                       json={"survivor_id": a, "merged_id": str(uuid.uuid4())}).status_code == 404
    assert client.post("/api/v1/leads/merges", headers=headers,
                       json={"survivor_id": a, "merged_id": b, "decision": "maybe"}).status_code == 422
