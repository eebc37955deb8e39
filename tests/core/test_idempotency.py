"""Idempotency-Key on POSTs (core/idempotency.py): a retried request gets the first answer and is done once."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.alert.models import WebhookSubscription
from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow
from upswing.core.idempotency import IdempotencyRecord, fingerprint_of, purge

UPSERT = "/api/v1/leads/bulk-upsert"


def _body(*external_ids: str, balance: str = "1200.00") -> bytes:
    return orjson.dumps({"portfolio": "idem", "items": [
        {"external_id": external_id, "first_name": "Ana", "last_name": "Diaz", "balance": balance}
        for external_id in external_ids]})


def _post(client: Any, headers: dict[str, str], body: bytes, key: str | None) -> Any:
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(UPSERT, content=body, headers={**headers, **extra, "Content-Type": "application/json"})


def _imports(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "lead.import")) or 0


@pytest.fixture
def manager(app: Any, db_session: Session) -> dict[str, str]:
    user = make_user(db_session, Role.MANAGER)
    db_session.commit()
    return auth(app, user)


def test_same_key_and_body_replays_the_first_answer_and_does_the_work_once(
        client: Any, db_session: Session, manager: dict[str, str]) -> None:
    first = _post(client, manager, _body("IDEM-1"), "key-1")
    assert first.status_code == 200, first.text
    assert first.json()["items"][0]["result"] == "created"
    again = _post(client, manager, _body("IDEM-1"), "key-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # "created" again: the first answer, not a second run's "unchanged"
    assert _imports(db_session) == 1
    # Without a key, the same request runs again (and finds the lead unchanged).
    plain = _post(client, manager, _body("IDEM-1"), None)
    assert plain.json()["items"][0]["result"] == "unchanged"
    assert "Idempotent-Replayed" not in plain.headers
    assert _imports(db_session) == 2


def test_a_created_resource_is_replayed_with_its_status(client: Any, db_session: Session,
                                                        manager: dict[str, str]) -> None:
    body = {"url": "https://hooks.example.com/upswing", "event_types": ["alert.created"]}
    first = client.post("/api/v1/webhooks", json=body, headers={**manager, "Idempotency-Key": "hook-1"})
    again = client.post("/api/v1/webhooks", json=body, headers={**manager, "Idempotency-Key": "hook-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(WebhookSubscription)) == 1


def test_same_key_with_another_body_is_refused_naming_the_header(client: Any, db_session: Session,
                                                                 manager: dict[str, str]) -> None:
    assert _post(client, manager, _body("IDEM-2"), "key-2").status_code == 200
    other = _post(client, manager, _body("IDEM-2", balance="99.00"), "key-2")
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _imports(db_session) == 1


def test_keys_belong_to_their_sender(app: Any, client: Any, db_session: Session, manager: dict[str, str]) -> None:
    other_manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    assert _post(client, manager, _body("IDEM-3"), "shared").json()["items"][0]["result"] == "created"
    theirs = _post(client, auth(app, other_manager), _body("IDEM-3"), "shared")
    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["items"][0]["result"] == "unchanged"  # their own request ran


def test_refusals_are_not_kept_so_the_key_can_be_used_again(client: Any, db_session: Session,
                                                            manager: dict[str, str]) -> None:
    invalid = orjson.dumps({"portfolio": "idem", "items": [{"external_id": "IDEM-4", "first_name": "Ana",
                                                            "last_name": "Diaz", "email": "not an address"}]})
    refused = _post(client, manager, invalid, "key-4")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "email"
    assert refused.json()["errors"][0]["row"] == 1
    unauthenticated = _post(client, {}, _body("IDEM-4"), "key-4")
    assert unauthenticated.status_code == 401
    fixed = _post(client, manager, invalid.replace(b"not an address", b"ana@example.com"), "key-4")
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["items"][0]["result"] == "created"


def _claimed(session: Session, app: Any, user_headers: dict[str, str], body: bytes, key: str,
             locked_for: timedelta) -> None:
    token = user_headers["Authorization"].removeprefix("Bearer ")
    claims = orjson.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
    session.add(IdempotencyRecord(
        scope=f"user:{claims['sub']}", key=key, method="POST", path=UPSERT,
        fingerprint=fingerprint_of("POST", UPSERT, b"", hashlib.sha256(body).hexdigest()),
        locked_until=utcnow() + locked_for))
    session.commit()


def test_a_request_still_being_answered_makes_a_retry_wait(app: Any, client: Any, db_session: Session,
                                                           manager: dict[str, str]) -> None:
    _claimed(db_session, app, manager, _body("IDEM-5"), "key-5", timedelta(seconds=30))
    busy = _post(client, manager, _body("IDEM-5"), "key-5")
    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "1"
    assert _imports(db_session) == 0


def test_a_claim_whose_request_died_is_taken_over(app: Any, client: Any, db_session: Session,
                                                  manager: dict[str, str]) -> None:
    _claimed(db_session, app, manager, _body("IDEM-6"), "key-6", timedelta(seconds=-1))
    taken = _post(client, manager, _body("IDEM-6"), "key-6")
    assert taken.status_code == 200
    assert taken.json()["items"][0]["result"] == "created"
    assert _post(client, manager, _body("IDEM-6"), "key-6").headers["Idempotent-Replayed"] == "true"


def test_bad_keys_and_other_methods(client: Any, manager: dict[str, str]) -> None:
    too_long = _post(client, manager, _body("IDEM-7"), "k" * 256)
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "Idempotency-Key"
    # GETs are safe by themselves: the header is ignored.
    assert client.get("/api/v1/leads", headers={**manager, "Idempotency-Key": "k" * 300}).status_code == 200


def test_answers_are_encrypted_at_rest_and_purged_after_the_retention(client: Any, db_session: Session,
                                                                      manager: dict[str, str]) -> None:
    assert _post(client, manager, _body("IDEM-8"), "key-8").status_code == 200
    db_session.expire_all()
    stored = db_session.execute(text("SELECT response_body FROM idempotency_keys")).scalar_one()
    assert "IDEM-8" not in stored  # the raw column holds ciphertext
    assert purge(db_session, keep_hours=24) == 0
    db_session.execute(IdempotencyRecord.__table__.update().values(created_at=utcnow() - timedelta(hours=25)))
    assert purge(db_session, keep_hours=24) == 1


def test_record_ids_are_unique_per_scope_and_key(db_session: Session) -> None:
    from upswing.core.idempotency import claim

    first = claim(db_session, "user:x", "k", "f" * 64, "POST", "/api/v1/x")
    assert first.record_id is not None and isinstance(first.record_id, uuid.UUID)
    assert claim(db_session, "user:x", "k", "f" * 64, "POST", "/api/v1/x").busy
    assert claim(db_session, "user:x", "k", "e" * 64, "POST", "/api/v1/x").mismatch
    assert claim(db_session, "user:y", "k", "f" * 64, "POST", "/api/v1/x").record_id is not None
