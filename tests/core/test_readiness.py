"""``/readyz``: each check named with its state; 503 naming the one that fails (database, migrations, broker,
outbox lag); the broker's ping cached; fast."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert

from upswing.core import health, outbox
from upswing.core.db import make_engine, utcnow


@pytest.fixture(autouse=True)
def _fresh_broker_answers() -> Iterator[None]:
    health.forget_broker_answers()
    yield
    health.forget_broker_answers()


def _use(client: Any, **changes: Any) -> None:
    """Run the app under changed settings (the route reads ``app.state.settings``)."""
    app = client.app
    app.state.settings = app.state.settings.model_copy(update=changes)


def test_ready_names_every_check_and_answers_fast(client: Any) -> None:
    answer = client.get("/readyz")
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "ready" and body["failed"] == []
    assert list(body["checks"]) == ["database", "migrations", "broker", "outbox"]
    states = {name: check["state"] for name, check in body["checks"].items()}
    assert states == {"database": "ok", "migrations": "ok", "broker": "skipped", "outbox": "ok"}
    assert body["revision"] == health._head_revision()
    durations = []
    for _ in range(7):
        start = time.perf_counter()
        assert client.get("/readyz").status_code == 200
        durations.append(time.perf_counter() - start)
    # < 50 ms normally (a few ms here); the bound leaves room for a busy CI machine.
    assert statistics.median(durations) < 0.25, durations


def test_database_unreachable_is_named(client: Any) -> None:
    client.app.state.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                          connect_args={"connect_timeout": 1})
    body = client.get("/readyz")
    assert body.status_code == 503
    assert body.json()["failed"] == ["database"]
    assert body.json()["checks"]["migrations"]["state"] == "skipped"


def test_pending_migrations_are_named(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_head_revision", lambda: "9999")
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["failed"] == ["migrations"]
    assert "expected 9999" in answer.json()["checks"]["migrations"]["detail"]


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"])
def test_broker_unreachable_is_named(client: Any, url: str) -> None:
    _use(client, task_runner="celery", celery_broker_url=url)
    start = time.perf_counter()
    answer = client.get("/readyz")
    assert time.perf_counter() - start < 2
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
    assert answer.json()["failed"] == ["broker"]
    broker = answer.json()["checks"]["broker"]
    assert broker["state"] == "failed" and broker["detail"].startswith(url.split(":")[0])
    assert "guest" not in broker["detail"]  # never the URL's credentials


def test_broker_reachable(client: Any) -> None:
    url = "redis://127.0.0.1:6379/15"
    try:
        health.ping_broker(url, 0.5)
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    _use(client, task_runner="celery", celery_broker_url=url)
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["checks"]["broker"]["state"] == "ok"


def test_broker_ping_is_cached(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[str] = []

    def ping(url: str, timeout: float) -> None:
        pings.append(url)
        raise ConnectionError("down")

    monkeypatch.setattr(health, "ping_broker", ping)
    _use(client, task_runner="celery", celery_broker_url="redis://broker.invalid:6379/0",
         readiness_broker_cache_seconds=60)
    assert [client.get("/readyz").status_code for _ in range(3)] == [503, 503, 503]
    assert len(pings) == 1
    _use(client, readiness_broker_cache_seconds=0)
    client.get("/readyz")
    assert len(pings) == 2


@pytest.fixture
def old_pending_event(migrated_engine: Engine) -> Iterator[timedelta]:
    """A pending receipt of a registered consumer whose event is 20 minutes old, committed where ``/readyz``
    looks (the app's own engine), removed afterwards."""
    age = timedelta(minutes=20)
    event_id = uuid.uuid4()
    at = utcnow() - age
    consumer = health._consumer_names()[0]
    with migrated_engine.begin() as connection:
        connection.execute(insert(outbox.OutboxEvent).values(
            id=event_id, type="test.readiness", entity_type="test", entity_id="1", payload={}, created_at=at))
        connection.execute(insert(outbox.OutboxReceipt).values(
            event_id=event_id, consumer=consumer, status="pending", attempts=0, run_after=at, event_at=at))
    try:
        yield age
    finally:
        with migrated_engine.begin() as connection:
            connection.execute(delete(outbox.OutboxReceipt).where(outbox.OutboxReceipt.event_id == event_id))
            connection.execute(delete(outbox.OutboxEvent).where(outbox.OutboxEvent.id == event_id))


def test_outbox_lag_over_the_threshold_is_named(client: Any, old_pending_event: timedelta) -> None:
    _use(client, readiness_outbox_max_lag_seconds=600)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["failed"] == ["outbox"]
    detail = answer.json()["checks"]["outbox"]["detail"]
    lag = float(detail.split()[1])
    assert old_pending_event.total_seconds() - 5 <= lag <= old_pending_event.total_seconds() + 60
    _use(client, readiness_outbox_max_lag_seconds=3600)
    assert client.get("/readyz").status_code == 200


def test_excluded_checks_do_not_fail(client: Any, old_pending_event: timedelta) -> None:
    _use(client, task_runner="celery", celery_broker_url="redis://127.0.0.1:1/0")
    assert client.get("/readyz").json()["failed"] == ["broker", "outbox"]
    answer = client.get("/readyz", params=[("exclude", "broker"), ("exclude", "outbox")])
    assert answer.status_code == 200
    assert {answer.json()["checks"][name]["detail"] for name in ("broker", "outbox")} == {"excluded"}


def test_an_unknown_check_is_refused(client: Any) -> None:
    answer = client.get("/readyz", params={"exclude": "everything"})
    assert answer.status_code == 422 and "exclude" in answer.text
