"""The signal API for sync clients: changes since a time in a stable order, and versions on changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.core.db import utcnow
from upswing.signal.models import Signal


@pytest.fixture
def manager(app: Any, db_session: Session) -> dict[str, str]:
    user = make_user(db_session, Role.MANAGER)
    db_session.commit()
    return auth(app, user)


def test_signals_changed_since_oldest_first_and_a_change_moves_one_to_the_end(
        client: Any, db_session: Session, manager: dict[str, str]) -> None:
    start = utcnow() - timedelta(hours=1)
    ids = [make_signal(db_session, make_lead(db_session)) for _ in range(4)]
    for minutes, signal_id in enumerate(ids):
        signal = db_session.get(Signal, signal_id)
        assert signal is not None
        signal.updated_at = start + timedelta(minutes=minutes)
    db_session.commit()
    params = {"sort": "updated_at", "updated_since": start.isoformat(), "limit": 3}
    first = client.get("/api/v1/signals", params=params, headers=manager).json()
    assert [item["id"] for item in first["items"]] == [str(i) for i in ids[:3]]
    # The first signal is acknowledged between pages: it is read again, at the end, with its new version.
    assert client.post(f"/api/v1/signals/{ids[0]}/acknowledge", headers=manager).status_code == 200
    rest = client.get("/api/v1/signals", params={**params, "cursor": first["next_cursor"]}, headers=manager).json()
    assert [item["id"] for item in rest["items"]] == [str(ids[3]), str(ids[0])]
    assert rest["items"][1]["status"] == "acknowledged"
    assert rest["next_cursor"] is None


def test_if_match_refuses_a_change_to_a_signal_that_changed(client: Any, db_session: Session,
                                                            manager: dict[str, str]) -> None:
    signal_id = make_signal(db_session, make_lead(db_session))
    db_session.commit()
    url = f"/api/v1/signals/{signal_id}"
    etag = client.get(url, headers=manager).headers["ETag"]
    acknowledged = client.post(f"{url}/acknowledge", headers={**manager, "If-Match": etag})
    assert acknowledged.status_code == 200
    assert acknowledged.headers["ETag"] != etag
    stale = client.post(f"{url}/dismiss", json={"reason": "not_relevant"}, headers={**manager, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url, headers=manager).json()["status"] == "acknowledged"
    current = acknowledged.headers["ETag"]
    dismissed = client.post(f"{url}/dismiss", json={"reason": "not_relevant"},
                            headers={**manager, "If-Match": current})
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
