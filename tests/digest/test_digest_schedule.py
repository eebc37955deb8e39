"""When digests go out: one per user per local day across DST changes with the scheduler running every minute,
frequencies, empty digests, and no second copy with a new Message-ID after a crash (both databases)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_signal, make_user
from upswing.account.models import Role, User
from upswing.alert import sending
from upswing.alert.models import AlertDelivery
from upswing.detection.events import SignalType
from upswing.digest import preferences as prefs
from upswing.digest import service
from upswing.digest.models import Digest, DigestStatus
from upswing.digest.schemas import PreferencesUpdate
from upswing.fakes.brevo import FakeBrevo
from upswing.notify.email import BrevoTransport
from upswing.settings import Settings
from upswing.signal.models import Signal

SETTINGS = Settings(public_base_url="https://upswing.example.com")
KEY = "xkeysib-digest"


def _user(session: Session, username: str, zone: str, **preferences: Any) -> User:
    user = make_user(session, Role.AGENT, username=username)
    user.email, user.timezone, user.full_name = f"{username}@lender.example", zone, username.title()
    prefs.update(session, PreferencesUpdate.model_validate({"send_empty": True, **preferences}), actor="test",
                 user_id=user.id)
    return user


def _minutes(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += timedelta(minutes=1)


def _digests(session: Session) -> list[tuple[str, date, datetime]]:
    return [(username, day, made.astimezone(UTC)) for username, day, made in session.execute(
        select(User.username, Digest.local_date, Digest.created_at).join(User, User.id == Digest.user_id)
        .order_by(Digest.created_at))]


def test_one_digest_per_local_day_across_the_autumn_dst_change(db_session: Session,
                                                               session_factory: sessionmaker[Session]) -> None:
    _user(db_session, "honolulu", "Pacific/Honolulu")
    _user(db_session, "newyork", "America/New_York")
    _user(db_session, "early", "America/New_York", send_time="01:30")  # 1:30 happens twice on 1 November
    db_session.commit()
    # Saturday 31 October 00:00 in Honolulu to Tuesday 3 November 00:00 there; New York falls back on Sunday (the
    # first run, at 06:00 in New York, is past the early user's 01:30: their Saturday digest goes at once).
    for moment in _minutes(datetime(2026, 10, 31, 10, 0, tzinfo=UTC), datetime(2026, 11, 3, 10, 0, tzinfo=UTC)):
        service.run(session_factory, now=moment, settings=SETTINGS)
    made = _digests(db_session)
    assert Counter((username, day) for username, day, _ in made) == Counter(
        {(user, date(2026, 10, 31) + timedelta(days=n)): 1 for user in ("honolulu", "newyork") for n in range(3)}
        | {("early", date(2026, 10, 31) + timedelta(days=n)): 1 for n in range(4)})
    at = {(username, day): moment for username, day, moment in made}
    assert at[("newyork", date(2026, 10, 31))] == datetime(2026, 10, 31, 11, 30, tzinfo=UTC)  # 07:30 EDT
    assert at[("newyork", date(2026, 11, 1))] == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)  # 07:30 EST
    assert at[("honolulu", date(2026, 11, 1))] == datetime(2026, 11, 1, 17, 30, tzinfo=UTC)  # no DST in Hawaii
    assert at[("early", date(2026, 11, 1))] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # the first 1:30
    deliveries = db_session.scalars(select(AlertDelivery).where(AlertDelivery.event_type == "digest")).all()
    assert len(deliveries) == len(made)  # each one handed to the sender exactly once


def test_one_digest_per_local_day_across_the_spring_dst_change(db_session: Session,
                                                               session_factory: sessionmaker[Session]) -> None:
    _user(db_session, "honolulu", "Pacific/Honolulu")
    _user(db_session, "newyork", "America/New_York", send_time="02:30")  # does not exist on 14 March
    db_session.commit()
    for moment in _minutes(datetime(2027, 3, 13, 5, 0, tzinfo=UTC), datetime(2027, 3, 16, 5, 0, tzinfo=UTC)):
        service.run(session_factory, now=moment, settings=SETTINGS)
    made = _digests(db_session)
    assert sorted(Counter(day for username, day, _ in made if username == "newyork").items()) == [
        (date(2027, 3, 13), 1), (date(2027, 3, 14), 1), (date(2027, 3, 15), 1)]
    # The first run is 19:00 on 12 March in Honolulu: that day's digest goes at once.
    assert sorted(Counter(day for username, day, _ in made if username == "honolulu").items()) == [
        (date(2027, 3, 12) + timedelta(days=n), 1) for n in range(4)]
    at = {(username, day): moment for username, day, moment in made}
    assert at[("newyork", date(2027, 3, 14))] == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT: just after
    assert at[("newyork", date(2027, 3, 15))] == datetime(2027, 3, 15, 6, 30, tzinfo=UTC)  # 02:30 EDT


def test_frequencies_and_empty_digests(db_session: Session, session_factory: sessionmaker[Session]) -> None:
    _user(db_session, "weekdays", "America/Chicago", frequency="weekdays")
    _user(db_session, "weekly", "America/Chicago", frequency="weekly", weekly_day="wed")
    _user(db_session, "off", "America/Chicago", frequency="off")
    quiet = _user(db_session, "quiet", "America/Chicago", send_empty=False)
    db_session.commit()
    # Saturday 5 December to Saturday 12 December, 08:00 in Chicago each day.
    for day in range(7):
        service.run(session_factory, now=datetime(2026, 12, 5 + day, 14, 0, tzinfo=UTC), settings=SETTINGS)
    made = _digests(db_session)
    assert sorted(d.isoformat() for u, d, _ in made if u == "weekdays") == [
        "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
    assert [d.isoformat() for u, d, _ in made if u == "weekly"] == ["2026-12-09"]
    assert [u for u, _, _ in made if u == "off"] == []
    statuses = set(db_session.scalars(select(Digest.status).where(Digest.user_id == quiet.id)))
    assert statuses == {DigestStatus.EMPTY.value}  # recorded (the day is done), not sent
    assert db_session.scalar(select(AlertDelivery.id).where(AlertDelivery.user_id == quiet.id)) is None


@pytest.fixture
def brevo() -> Iterator[tuple[FakeBrevo, str]]:
    fake = FakeBrevo(api_key=KEY)
    with fake as url:
        yield fake, url


def _due_moment() -> datetime:
    """The latest moment, not after now, at which a New York user's 07:30 digest is due: now from 08:00 local on,
    else 23:00 local the day before (a run at 01:00 in New York must not find today's digest not yet due)."""
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo("America/New_York"))
    if local.hour < 8:
        local = (local - timedelta(days=1)).replace(hour=23, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _with_signal(session: Session, now: datetime) -> User:
    agent = _user(session, "dana", "America/New_York", send_empty=False)
    lead = make_lead(session, assignee_id=agent.id)
    signal = session.get(Signal, make_signal(session, lead, SignalType.NEW_EMPLOYMENT))
    assert signal is not None
    signal.detected_at = now - timedelta(hours=1)
    return agent


def test_a_crash_before_recording_sends_nothing_and_the_next_run_sends_once(
        db_session: Session, session_factory: sessionmaker[Session], brevo: tuple[FakeBrevo, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = brevo
    now = _due_moment()
    agent = _with_signal(db_session, now)
    db_session.commit()
    real_record = service.record

    def crash_after_rendering(*args: Any, **kwargs: Any) -> Any:
        real_record(*args, **kwargs)  # composed, rendered, flushed…
        raise RuntimeError("worker died before the commit")

    monkeypatch.setattr(service, "record", crash_after_rendering)
    report = service.run(session_factory, now=now, settings=SETTINGS)
    assert report.failed == 1 and _digests(db_session) == []
    monkeypatch.setattr(service, "record", real_record)
    report = service.run(session_factory, now=now, settings=SETTINGS)
    assert report.queued == 1
    with BrevoTransport(api_key=KEY, base_url=url, sender_email="digest@lender.example") as transport:
        sending.send_due(session_factory, settings=SETTINGS, transport=transport)
    sent = fake.wait_for(1)
    assert len(sent) == 1 and sent[0].to[0]["email"] == agent.email
    assert sent[0].subject is not None and sent[0].subject.endswith("Upswing digest for " + now.astimezone(
        __import__("zoneinfo").ZoneInfo("America/New_York")).strftime("%a %-d %b"))
    # A second run the same day sends nothing.
    assert service.run(session_factory, now=now + timedelta(minutes=2), settings=SETTINGS).queued == 0


def test_a_crash_after_sending_repeats_the_same_message_id(
        db_session: Session, session_factory: sessionmaker[Session], brevo: tuple[FakeBrevo, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = brevo
    now = _due_moment()
    _with_signal(db_session, now)
    db_session.commit()
    assert service.run(session_factory, now=now, settings=SETTINGS).queued == 1
    settings = SETTINGS.model_copy(update={"alert_delivery_lease_seconds": 0.2})
    real_record = sending._record

    def crash_before_recording(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("killed between the send and its record")

    monkeypatch.setattr(sending, "_record", crash_before_recording)
    with BrevoTransport(api_key=KEY, base_url=url, sender_email="digest@lender.example") as transport:
        with pytest.raises(SystemExit):
            sending.send_due(session_factory, settings=settings, transport=transport)
        first = fake.wait_for(1)[0]
        monkeypatch.setattr(sending, "_record", real_record)
        import time

        time.sleep(0.3)  # the lease runs out; another sender takes the delivery
        report = sending.send_due(session_factory, settings=settings, transport=transport,
                                  rng=random.Random(1))
    assert report.sent == 1
    sent = fake.wait_for(2)
    assert len(sent) == 2 and sent[1].repeat  # Brevo sees the same idempotency key
    assert sent[0].header_message_id == sent[1].header_message_id == first.header_message_id
    assert sent[0].html_content == sent[1].html_content  # the same rendered message, not a new one
    digest = db_session.scalars(select(Digest)).one()
    assert service.read(db_session, [digest])[0].status == "sent"
