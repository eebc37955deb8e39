"""A sync worker killed (SIGKILL) mid-push: after its lease runs out another worker finishes the work, and every
signal is in the CRM exactly once, on the record of its lead.

The kill lands in the dangerous window on purpose: the fake HubSpot holds back its answer to the third batch's
task creation (the notes and tasks are made, the answer is late), and the test kills the worker while it waits,
so the CRM has the batch and our database does not know it. The next worker must find that batch's notes and tasks
by the signal id instead of making them again. Runs on a file SQLite database and on PostgreSQL (when the test
server is configured, as for every database test)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from conftest import POSTGRES_ADMIN_URL
from upswing.core import migrate
from upswing.core.db import make_engine, session_factory, utcnow
from upswing.crm import service
from upswing.crm.models import CrmConnection, CrmPush, PushStatus
from upswing.fakes.hubspot import FakeHubSpot
from upswing.fakes.server import Fault
from upswing.lead.models import Lead, Portfolio
from upswing.signal.models import Signal

HS_TOKEN, HS_SECRET = "pat-na1-crash", "hub-crash-secret"
LEADS, SIGNALS_PER_LEAD, BATCH = 300, 2, 100
SIGNALS = LEADS * SIGNALS_PER_LEAD
PRIORITIES = ("urgent", "high", "medium", "low")
LEASE_S = 2.0
TASKS_BATCH_CREATE = r"^/crm/v3/objects/tasks/batch/create$"
NOTES_BATCH_CREATE = r"^/crm/v3/objects/notes/batch/create$"
_MARKER = re.compile(r"\[upswing:([0-9a-fA-F-]{36})\]")

#: The sync worker: ``push_due`` with a short lease, again until nothing is pending (the pushes a dead worker holds
#: come due when its lease runs out), as the ``crm.push`` task would be run by a worker process.
WORKER = """
import json, sys, time
from datetime import timedelta
import httpx
from sqlalchemy import func, select
from upswing.core.db import make_engine, session_factory
from upswing.crm import service
from upswing.crm.models import CrmPush, PushStatus

url, batch, lease, deadline = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), time.monotonic() + float(sys.argv[4])
factory = session_factory(make_engine(url))
client = httpx.Client(timeout=30, trust_env=False)
sent = 0
while True:
    sent += service.push_due(factory, http=lambda connection: client, batch=batch,
                             lease=timedelta(seconds=lease)).sent
    with factory() as session:
        pending = session.scalar(select(func.count()).select_from(CrmPush)
                                 .where(CrmPush.status == PushStatus.PENDING.value))
    if not pending or time.monotonic() > deadline:
        break
    time.sleep(0.2)
print(json.dumps({"sent": sent, "pending": pending}), flush=True)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str]) -> Iterator[tuple[str, Engine]]:
    """A migrated database that a second process can open (a file for SQLite), and its engine."""
    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    url = fresh_database_url(request.param)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    # No burst limit: reconcile reads each contact's notes and tasks (four calls a lead), and HubSpot's 190 calls
    # in 10 s would make it sleep out the 10 s window six times (back-off is test_hubspot.py's subject, not this).
    hub = FakeHubSpot(access_token=HS_TOKEN, client_secret=HS_SECRET, search_per_s=1000, burst_max=100_000)
    with hub:
        yield hub


def _seed(factory: sessionmaker[Session]) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """LEADS leads with SIGNALS_PER_LEAD signals each (bulk inserts): signal id → (lead id, priority)."""
    now = utcnow()
    signals: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    with factory() as session, session.begin():
        portfolio = Portfolio(id=uuid.uuid4(), name="crash")
        session.add(portfolio)
        session.flush()
        leads, rows = [], []
        for k in range(LEADS):
            lead_id = uuid.uuid4()
            leads.append({"id": lead_id, "portfolio_id": portfolio.id, "external_id": f"CR-{k:05d}",
                          "first_name": "Casey", "last_name": f"Morgan{k}", "email": f"casey{k}@example.com",
                          "emails": [f"casey{k}@example.com"], "phones": [], "city": "Austin", "state": "TX",
                          "country": "US", "balance": Decimal(5000), "days_delinquent": 120})
            for j in range(SIGNALS_PER_LEAD):
                signal_id, priority = uuid.uuid4(), PRIORITIES[(k + j) % len(PRIORITIES)]
                detected = now - timedelta(minutes=k + 10 * j)
                rows.append({"id": signal_id, "lead_id": lead_id, "type": "new_employment",
                             "title": "Registered Nurse", "organization": f"Employer {k}",
                             "effective_date": detected.date(), "detected_at": detected, "confidence": 0.9,
                             "evidence_snippet": f"Registered Nurse at Employer {k}", "observation_ids": [],
                             "score": 80, "priority": priority, "score_breakdown": {}, "status": "new",
                             "dedupe_key": uuid.uuid4().hex + uuid.uuid4().hex})
                signals[signal_id] = (lead_id, priority)
        session.execute(insert(Lead), leads)
        session.execute(insert(Signal), rows)
    return signals


def _worker(url: str, deadline_s: float) -> subprocess.Popen[str]:
    env = {**os.environ, "UPSWING_TASK_RUNNER": "embedded", "UPSWING_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-c", WORKER, url, str(BATCH), str(LEASE_S), str(deadline_s)],  # noqa: S603
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _in_crm(hub: FakeHubSpot, kind: str) -> Counter[uuid.UUID]:
    """How many notes (tasks) carry each signal id."""
    records = hub.notes() if kind == "notes" else hub.tasks()
    body = "hs_note_body" if kind == "notes" else "hs_task_body"
    return Counter(uuid.UUID(found.group(1)) for record in records
                   if (found := _MARKER.search(str(record.get(body) or ""))) is not None)


def _sent(factory: sessionmaker[Session]) -> set[uuid.UUID]:
    with factory() as session:
        return set(session.scalars(select(CrmPush.signal_id).where(CrmPush.status == PushStatus.SENT.value)))


def test_a_worker_killed_mid_push_loses_nothing_and_doubles_nothing(database: tuple[str, Engine],
                                                                     hubspot: FakeHubSpot) -> None:
    url, engine = database
    factory = session_factory(engine)
    signals = _seed(factory)
    client = httpx.Client(timeout=10, trust_env=False)
    with factory() as session, session.begin():
        connection = service.create_connection(
            session, system="hubspot", name="hubspot", actor="test",
            config={"base_url": hubspot.url, "access_token": HS_TOKEN, "client_secret": HS_SECRET})
        service.connect(session, connection, http=client, actor="test")
        connection_id = connection.id
        assert service.enqueue_signals(session, list(signals)) == SIGNALS

    # The third batch's tasks are made at once, but HubSpot's answer is held back: the worker waits for it.
    hubspot.inject(TASKS_BATCH_CREATE, Fault.slow(20), after=2)
    first = _worker(url, deadline_s=60)
    try:
        deadline = time.monotonic() + 40
        # The request is logged before HubSpot makes the tasks: wait until the three batches' tasks all exist.
        while len(creations := hubspot.requests_to(TASKS_BATCH_CREATE)) < 3 or \
                len(hubspot.tasks()) < sum(len(r.json()["inputs"]) for r in creations):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the worker never reached its third batch"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL

    # Killed mid-push: some signals are in the CRM and recorded, the batch in flight is in the CRM but not
    # recorded (the window a repeat must not double), and the rest is in neither.
    notes, sent = _in_crm(hubspot, "notes"), _sent(factory)
    in_flight = set(notes) - sent
    assert 0 < len(sent) < SIGNALS and 0 < len(notes) < SIGNALS
    assert in_flight, "the kill did not land between the CRM's write and our record of it"
    assert sent <= set(notes)
    with factory() as session:
        held = session.scalars(select(CrmPush).where(CrmPush.signal_id.in_(in_flight))).all()
        assert held and all(p.status == PushStatus.PENDING.value and p.locked_until is not None for p in held)

    # A new worker: it pushes the rest, and after the dead worker's lease the batch it held.
    second = _worker(url, deadline_s=40)
    out, err = second.communicate(timeout=55)
    assert second.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["pending"] == 0

    notes, tasks = _in_crm(hubspot, "notes"), _in_crm(hubspot, "tasks")
    wanted_tasks = {s for s, (_, priority) in signals.items() if priority in ("urgent", "high")}
    assert set(notes) == set(signals), f"lost notes: {len(set(signals) - set(notes))}"
    assert set(tasks) == wanted_tasks, f"lost tasks: {len(wanted_tasks - set(tasks))}"
    doubled = {s for counts in (notes, tasks) for s, n in counts.items() if n > 1}
    assert not doubled, f"{len(doubled)} signals' notes/tasks made twice in HubSpot"
    contacts = Counter(c.get("upswing_lead_id") for c in hubspot.contacts())
    assert set(contacts) == {str(lead) for lead, _ in signals.values()} and set(contacts.values()) == {1}

    # Each note is on its lead's contact, and what we recorded is what HubSpot holds.
    contact_of = {c["upswing_lead_id"]: c["id"] for c in hubspot.contacts()}
    note_ids: dict[uuid.UUID, str] = {}
    for note in hubspot.notes():
        signal_id = uuid.UUID(_MARKER.search(note["hs_note_body"]).group(1))  # type: ignore[union-attr]
        assert note["contact_ids"] == [contact_of[str(signals[signal_id][0])]]
        note_ids[signal_id] = note["id"]
    with factory() as session:
        pushes = session.scalars(select(CrmPush).where(CrmPush.connection_id == connection_id)).all()
        assert len(pushes) == SIGNALS and {p.status for p in pushes} == {PushStatus.SENT.value}
        assert {p.signal_id: p.note_id for p in pushes} == note_ids
        assert all(p.remote_lead_id == contact_of[str(p.lead_id)] for p in pushes)

    with factory() as session, session.begin():
        stored = session.get(CrmConnection, connection_id)
        assert stored is not None
        report = service.reconcile(session, stored, http=client, repair=False)
    assert (report.leads_checked, report.differences) == (LEADS, 0)
    client.close()
