"""The suppression list on both databases: which Brevo events stop mail, idempotence, lifting and suppressing
again, and a malformed event refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.notify import suppressions
from upswing.notify.models import EmailSuppression

AT = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)  # before any test runs


def event(name: str = "hard_bounce", email: str = "Dana@Team.example", **fields: Any) -> dict[str, Any]:
    return {"event": name, "email": email, "id": 41, "date": "2026-11-03 19:30:00",
            "ts_event": int(AT.timestamp()), "message-id": "<2026@smtp-relay.mailin.fr>",
            "reason": "550 5.1.1 mailbox unknown", "tags": ["digest"], **fields}


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(EmailSuppression)) or 0)


@pytest.mark.parametrize("name", ["hard_bounce", "spam", "unsubscribed", "blocked", "hardBounce"])
def test_the_events_that_stop_mail(db_session: Session, name: str) -> None:
    found = suppressions.record_event(db_session, event(name))
    assert found is not None
    assert (found.address, found.reason, found.source) == ("dana@team.example", suppressions.event_name(name),
                                                           "brevo")
    assert (found.detail, found.message_id, found.event_at) == ("550 5.1.1 mailbox unknown",
                                                                "<2026@smtp-relay.mailin.fr>", AT)
    assert set(suppressions.active_for(db_session, ["DANA@team.example", "other@team.example", None])) == {
        "dana@team.example"}


@pytest.mark.parametrize("name", ["delivered", "soft_bounce", "request", "opened", "click", "deferred", "invalid"])
def test_other_events_stop_nothing(db_session: Session, name: str) -> None:
    assert suppressions.record_event(db_session, event(name)) is None
    assert suppressions.record_event(db_session, {"event": name}) is None  # no address needed
    assert count(db_session) == 0


def test_a_repeat_changes_nothing(db_session: Session) -> None:
    first = suppressions.record_event(db_session, event())
    assert first is not None
    assert suppressions.record_event(db_session, event()) is None
    assert suppressions.record_event(db_session, event("spam")) is None  # already stopped: the first reason stays
    assert count(db_session) == 1 and first.reason == "hard_bounce"


def test_lift_then_a_later_event_suppresses_again_but_a_replay_of_the_old_one_does_not(db_session: Session) -> None:
    suppressions.record_event(db_session, event())
    lifted = suppressions.lift(db_session, "DANA@team.example", "user:boss")
    assert lifted.lifted_at is not None and lifted.lifted_by == "user:boss"
    assert suppressions.active_for(db_session, ["dana@team.example"]) == {}
    assert suppressions.list_active(db_session) == []
    with pytest.raises(NotFoundError, match="address"):
        suppressions.lift(db_session, "dana@team.example", "user:boss")

    assert suppressions.record_event(db_session, event()) is None  # Brevo retrying the old event
    later = datetime.now(UTC) + timedelta(minutes=1)
    again = suppressions.record_event(db_session, event("spam", ts_event=later.timestamp(), reason=None))
    assert again is not None and again.id == lifted.id
    assert (again.reason, again.detail, again.lifted_at, again.lifted_by) == ("spam", None, None, None)
    assert list(suppressions.active_for(db_session, ["dana@team.example"])) == ["dana@team.example"]


def test_list_active_latest_first_and_by_reason(db_session: Session) -> None:
    for n, name in enumerate(["hard_bounce", "spam", "blocked"]):
        suppressions.record_event(db_session, event(name, email=f"u{n}@team.example",
                                                    ts_event=int(AT.timestamp()) + n))
    assert [s.address for s in suppressions.list_active(db_session)] == [
        "u2@team.example", "u1@team.example", "u0@team.example"]
    assert [s.address for s in suppressions.list_active(db_session, reason="spam")] == ["u1@team.example"]
    assert [s.address for s in suppressions.list_active(db_session, limit=1, offset=1)] == ["u1@team.example"]


def test_describe_says_what_and_when_and_what_the_provider_said(db_session: Session) -> None:
    found = suppressions.record_event(db_session, event())
    assert found is not None
    assert suppressions.describe(found) == ("address suppressed: hard_bounce at 2026-11-03 18:30 UTC "
                                            "(Brevo: 550 5.1.1 mailbox unknown)")


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "dana@team.example"}, "event"),
    ({"event": 7, "email": "dana@team.example"}, "event"),
    ({"event": "hard_bounce"}, "email"),
    ({"event": "spam", "email": "not an address"}, "email"),
    ({"event": "spam", "email": "a@b.example, c@d.example"}, "email"),
    ({"event": "blocked", "email": "dana@team.example", "ts_event": "yesterday"}, "ts_event"),
    ({"event": "blocked", "email": "dana@team.example", "ts_event": 10**15}, "ts_event"),
])
def test_a_malformed_event_is_refused_naming_the_field(db_session: Session, body: dict[str, Any],
                                                       field: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        suppressions.record_event(db_session, body)
    assert raised.value.errors[0]["field"] == field
    assert count(db_session) == 0


def test_mask_address() -> None:
    assert suppressions.mask_address("dana.scully@team.example") == "d***@team.example"
    assert suppressions.mask_address(None) == "[none]"
