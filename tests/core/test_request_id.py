"""Request ids (core/request_id.py): accepted or assigned, echoed, on every log line of the request and of the
tasks it enqueued; streamed answers and idempotent replays keep working."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.core import tasks
from upswing.core.logging import configure_logging, get_logger
from upswing.core.request_id import REQUEST_ID_KWARG, current_request_id, valid_request_id
from upswing.core.tasks import TaskRun, task

log = get_logger("tests.request_id")
SEEN: list[tuple[str | None, dict[str, Any]]] = []


@task("test.request_id_probe")
def probe(label: str, **kwargs: Any) -> None:
    SEEN.append((current_request_id(), {"label": label, **kwargs}))
    log.info("probe.ran", label=label)


@pytest.fixture
def routes(app: Any) -> Any:
    def enqueue_probe(label: str) -> dict[str, str | None]:
        log.info("enqueue.called", label=label)
        with app.state.session_factory() as session, session.begin():
            run_id = tasks.enqueue(session, "test.request_id_probe", label, key=f"probe:{uuid.uuid4()}")
        return {"run": str(run_id), "request_id": current_request_id()}

    def stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for n in range(3):
                yield f"data: {n}\n\n".encode()
        return StreamingResponse(chunks(), media_type="text/event-stream")

    app.add_api_route("/test/enqueue", enqueue_probe, methods=["POST"])
    app.add_api_route("/test/stream", stream, methods=["GET"])
    return app


CALLER_IDS = [("3f2a1c0e-9b7d-4e2a-8c1f-5d6e7f8a9b0c", True), ("lb-7f3a9c21.req:0042", True), ("a" * 128, True),
              ("short", False), ("a" * 129, False), ("has space 12345", False), ("ann@example.org", False),
              ("x\tSet-Cookie: a=b", False), ("-starts-with-dash", False)]


def test_a_callers_id_is_kept_only_when_well_formed(client: Any) -> None:
    for given, kept in CALLER_IDS:
        assert valid_request_id(given) is kept, given
        echoed = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
        if kept:
            assert echoed == given
        else:
            assert re.fullmatch(r"[0-9a-f]{32}", echoed), given


def test_every_request_gets_its_own_id(client: Any) -> None:
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_the_id_reaches_the_requests_and_its_tasks_log_lines(routes: Any, client: Any, session_factory: Any,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json_output=True)
    SEEN.clear()
    answer = client.post("/test/enqueue", params={"label": "one"}, headers={"X-Request-ID": "req-abc-12345"})
    assert answer.status_code == 200 and answer.json()["request_id"] == "req-abc-12345"
    run_id = uuid.UUID(answer.json()["run"])
    with session_factory() as session:
        stored = session.scalar(select(TaskRun).where(TaskRun.id == run_id))
        assert stored is not None and stored.kwargs == {REQUEST_ID_KWARG: "req-abc-12345"}

    # Later, outside the request (as a worker would): the task runs under the request's id.
    assert current_request_id() is None
    outcome = tasks.execute(run_id, worker="test-worker", factory=session_factory)
    assert outcome.status == "done"
    assert SEEN == [("req-abc-12345", {"label": "one"})]  # the id is not passed to the task function
    assert current_request_id() is None  # and unbound afterwards

    # JSON lines; a logger another test used first may keep the console format it was cached with (structlog).
    lines = capsys.readouterr().err.splitlines()
    for event in ("enqueue.called", "task.started", "probe.ran", "task.done"):
        written = [line for line in lines if event in line]
        assert written, event
        for line in written:
            fields = json.loads(line) if line.startswith("{") else dict(
                re.findall(r"(\w+)=(\S+)", line))
            assert fields["request_id"] == "req-abc-12345", line


def test_a_task_enqueued_outside_a_request_carries_no_id(session_factory: Any, db_session: Session) -> None:
    SEEN.clear()
    run_id = tasks.enqueue(db_session, "test.request_id_probe", "two", key=f"probe:{uuid.uuid4()}")
    db_session.commit()
    assert run_id is not None
    assert db_session.get(TaskRun, run_id).kwargs == {}  # type: ignore[union-attr]
    assert tasks.execute(run_id, worker="test-worker", factory=session_factory).status == "done"
    assert SEEN == [(None, {"label": "two"})]


def test_streamed_answers_pass_through_with_the_header(routes: Any, client: Any) -> None:
    with client.stream("GET", "/test/stream", headers={"X-Request-ID": "stream-12345678"}) as answer:
        assert answer.headers["X-Request-ID"] == "stream-12345678"
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert b"".join(answer.iter_bytes()) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


def test_an_idempotent_replay_has_the_retrys_own_id(app: Any, client: Any, db_session: Session) -> None:
    manager = auth(app, make_user(db_session, Role.MANAGER))
    body = {"url": "https://hooks.example.com/upswing", "event_types": ["alert.created"]}
    first = client.post("/api/v1/webhooks", json=body,
                        headers={**manager, "Idempotency-Key": "rid-1", "X-Request-ID": "first-attempt-1"})
    again = client.post("/api/v1/webhooks", json=body,
                        headers={**manager, "Idempotency-Key": "rid-1", "X-Request-ID": "retry-attempt-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert first.headers["X-Request-ID"] == "first-attempt-1"
    assert again.headers["X-Request-ID"] == "retry-attempt-1"
    assert again.headers.get_list("X-Request-ID") == ["retry-attempt-1"]  # the replay does not repeat the first
