"""CRM sync benchmark: N leads and N signals pushed to the HubSpot and Salesforce fakes, then checked.

    python benchmarks/crm_sync.py [--signals N] [--database-url URL | --postgres-url ADMIN_URL] [--batch 100]
                                  [--hubspot-burst 0] [--skip-reconcile]

What it does, on one database (a fresh SQLite file in a temporary data directory by default; ``--database-url``
uses that database as it is, ``--postgres-url`` creates a scratch database on that server and drops it after):

1. migrates, then writes N leads and N signals (one per lead, priorities urgent/high/medium/low in turn) with
   multi-row inserts (SQLAlchemy Core ``insert(Table)`` in chunks, as ``digest.py`` and ``alerts.py`` seed);
2. per CRM in turn (HubSpot, then Salesforce): creates and connects the connection, ``enqueue_signals`` for all N
   signals (the outbox consumer's work), then ``push_due`` until no push is pending (waiting out a pause the CRM
   asked for), timed from the first ``push_due`` to the last record. A few 429s are injected on the way (the
   fakes' Fault API): HubSpot's are retried inside the connector (``max_retries_429`` = 4, sleeping the 1 s
   window each time); a Salesforce 429 pauses the connection for its ``Retry-After`` and the pushes wait;
3. checks the fake's state: each signal's record (HubSpot: a note for every signal and a task for urgent/high,
   found by the ``[upswing:<signal id>]`` marker in the body; Salesforce: a Task whose ``Upswing_Signal_Id__c`` is
   the signal id) present exactly once and on the record of the signal's lead. ``duplicates``: records carrying a
   signal id already seen; ``lost``: signals with no record; then ``reconcile`` (without repair) must report 0
   differences (not timed: it reads every linked record, one call or more per lead).

The fakes run in this process (threads on loopback), so their CPU time shares the GIL with the sync it serves,
and at this size they cost more than the sync: the fake HubSpot's search rebuilds its ``IN`` list for every
contact it looks at and checks each new contact's unique values against every other, the fake Salesforce scans
every record per upsert and per SOQL query (all quadratic in N). The time the fakes spend computing answers is
measured (``fake_server_s``) and ``signals_per_s_without_fake`` leaves it out; ``signals_per_s`` is the wall
clock. The fake HubSpot's burst limit (190 requests / 10 s) is lifted unless ``--hubspot-burst`` sets it; the
connector's own search pacing (4 searches / s, HubSpot's search limit) is kept.

Last line: one JSON object with hubspot_signals_per_s, salesforce_signals_per_s, duplicates, lost,
api_calls_per_signal (all API calls of both pushes / all signals pushed), and per-CRM figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from _scratch import postgres_database
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

HS_TOKEN, HS_SECRET = "pat-na1-bench", "hub-bench-secret"
SF_KEY, SF_SECRET = "3MVG9-bench-key", "sf-bench-secret"
PRIORITIES = ("urgent", "high", "medium", "low")
SCORES = {"urgent": 92, "high": 78, "medium": 55, "low": 25}
TYPES = ("new_employment", "promotion", "certification", "license_renewal", "business_launch")
CHUNK = 2000
_MARKER = re.compile(r"\[upswing:([0-9a-fA-F-]{36})\]")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def seed(factory: sessionmaker[Session], n: int) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """N leads and N signals (bulk inserts); returns signal id → (lead id, priority)."""
    from upswing.core.db import utcnow
    from upswing.lead.models import Lead, Portfolio
    from upswing.signal.models import Signal

    now = utcnow()
    run = uuid.uuid4().hex[:8]
    signals: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    with factory() as session, session.begin():
        portfolio = Portfolio(id=uuid.uuid4(), name=f"crm-bench-{run}")
        session.add(portfolio)
        session.flush()
        lead_rows, signal_rows = [], []
        for k in range(n):
            lead_id, signal_id = uuid.uuid4(), uuid.uuid4()
            priority = PRIORITIES[k % len(PRIORITIES)]
            lead_rows.append({
                "id": lead_id, "portfolio_id": portfolio.id, "external_id": f"CRM-{run}-{k:07d}",
                "first_name": "Casey", "last_name": f"Morgan{k}", "email": f"casey.{run}.{k}@example.com",
                "emails": [f"casey.{run}.{k}@example.com"], "phones": [], "city": "Austin", "state": "TX",
                "country": "US", "timezone": "America/Chicago", "balance": Decimal(1000 + (k % 50) * 500),
                "days_delinquent": 90 + k % 300})
            detected = now - timedelta(minutes=k % 600)
            signal_rows.append({
                "id": signal_id, "lead_id": lead_id, "type": TYPES[k % len(TYPES)], "title": "Registered Nurse",
                "organization": f"Employer {k % 97}", "effective_date": detected.date(), "detected_at": detected,
                "confidence": 0.9, "evidence_url": f"https://www.linkedin.com/in/crm-bench-{k}",
                "evidence_snippet": f"Experience: Registered Nurse at Employer {k % 97} (present)",
                "observation_ids": [], "score": SCORES[priority], "priority": priority, "score_breakdown": {},
                "scored_at": detected, "status": "new", "dedupe_key": uuid.uuid4().hex + uuid.uuid4().hex,
                "created_at": detected, "updated_at": detected})
            signals[signal_id] = (lead_id, priority)
        for model, rows in ((Lead, lead_rows), (Signal, signal_rows)):
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(model), rows[start:start + CHUNK])
    return signals


# --------------------------------------------------------------------------------------------------
# The fakes: time spent answering, and one look-up indexed
# --------------------------------------------------------------------------------------------------


class ServerClock:
    """Wall time the fake spends computing its answers (``dispatch``, on its handler threads): time the sync under
    test waits for its CRM, and at this size mostly the fakes' own linear scans (each created contact is checked
    against every other for unique values; each Salesforce upsert and SOQL query scans every record)."""

    def __init__(self, fake: Any) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        real = fake.dispatch

        def timed(request: Any, *, absolute_uri: str) -> Any:
            started = time.perf_counter()
            try:
                return real(request, absolute_uri=absolute_uri)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - started

        fake.dispatch = timed

    def take(self) -> float:
        with self._lock:
            seconds, self.seconds = self.seconds, 0.0
        return seconds


def indexed_hubspot(**kwargs: Any) -> Any:
    """A FakeHubSpot whose association look-up is answered from an index (the fake scans every association per
    look-up: reconcile's 20,000 look-ups over 30,000 associations would take most of an hour). Associations are
    only ever added, so the index is rebuilt when their number changes."""
    from upswing.fakes.hubspot import FakeHubSpot

    class IndexedHubSpot(FakeHubSpot):
        _index: dict[tuple[str, str, str], list[str]]
        _indexed = -1

        def _associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
            if self._indexed != len(self._associations):
                index: dict[tuple[str, str, str], list[str]] = {}
                for f, i, tt, t in self._associations:
                    index.setdefault((f, i, tt), []).append(t)
                self._index, self._indexed = index, len(self._associations)
            return sorted(self._index.get((from_type, from_id, to_type), []), key=int)

    return IndexedHubSpot(**kwargs)


# --------------------------------------------------------------------------------------------------
# Pushing
# --------------------------------------------------------------------------------------------------


class Calls:
    """Every answer the CRM gave this client, by status (an httpx response hook)."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()

    def __call__(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1


def connect(factory: sessionmaker[Session], system: str, config: dict[str, Any], client: httpx.Client) -> uuid.UUID:
    from upswing.crm import service

    with factory() as session, session.begin():
        connection = service.create_connection(session, system=system, name=f"bench-{system}-{uuid.uuid4().hex[:6]}",
                                               config=config,
                                               daily_budget=10_000_000, actor="benchmark")
        service.connect(session, connection, http=client, actor="benchmark")
        return connection.id


def enqueue(factory: sessionmaker[Session], signal_ids: list[uuid.UUID]) -> int:
    from upswing.crm import service

    added = 0
    for start in range(0, len(signal_ids), 1000):  # the outbox consumer hands over batches too
        with factory() as session, session.begin():
            added += service.enqueue_signals(session, signal_ids[start:start + 1000])
    return added


def push_until_done(factory: sessionmaker[Session], connection_id: uuid.UUID, client: httpx.Client, batch: int,
                    timeout_s: float) -> dict[str, Any]:
    """``push_due`` until no push of the connection is pending; sleeps out a pause the CRM asked for."""
    from upswing.crm import service
    from upswing.crm.models import CrmConnection, CrmPush, PushStatus

    sent = failed = retried = calls = 0
    paused: list[str] = []
    waited = 0.0
    started = time.perf_counter()
    while True:
        report = service.push_due(factory, http=lambda _connection: client, batch=batch)
        sent, failed, retried = sent + report.sent, failed + report.failed, retried + report.retried
        calls += report.api_calls
        paused += report.paused
        with factory() as session:
            pending, next_due = session.execute(
                select(func.count(), func.min(CrmPush.run_after)).where(
                    CrmPush.connection_id == connection_id, CrmPush.status == PushStatus.PENDING.value)).one()
            connection = session.get(CrmConnection, connection_id)
            assert connection is not None
            wake = max(filter(None, (next_due, connection.paused_until)), default=None)
        if not pending:
            break
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"{pending} pushes still pending after {timeout_s:.0f} s")
        from upswing.core.db import utcnow

        pause = max(0.05, (wake - utcnow()).total_seconds()) if wake is not None else 0.05
        time.sleep(min(pause, 5.0))
        waited += min(pause, 5.0)
    seconds = time.perf_counter() - started
    return {"sent": sent, "failed": failed, "retried": retried, "api_calls": calls, "paused": len(paused),
            "seconds": round(seconds, 2), "waited_s": round(waited, 2)}


# --------------------------------------------------------------------------------------------------
# Checks on the CRM's side
# --------------------------------------------------------------------------------------------------


def check_hubspot(hub: Any, signals: dict[uuid.UUID, tuple[uuid.UUID, str]]) -> dict[str, Any]:
    """Every signal's note (and urgent/high task) exactly once, on the contact of its lead.

    The fake's ``notes()``/``tasks()`` helpers look each object's associations up in a scan of all of them
    (quadratic at this size), so the state is read once under the fake's lock and indexed here."""
    with hub._lock:
        contacts = {obj.id: dict(obj.properties) for obj in hub._objects["contacts"].values()}
        bodies = {kind: {obj.id: obj.properties.get(prop, "") for obj in hub._objects[kind].values()}
                  for kind, prop in (("notes", "hs_note_body"), ("tasks", "hs_task_body"))}
        links = list(hub._associations)
    contact_of: dict[tuple[str, str], set[str]] = {}
    for from_type, from_id, to_type, to_id in links:
        if to_type == "contacts":
            contact_of.setdefault((from_type, from_id), set()).add(to_id)
    lead_contacts = Counter(c.get("upswing_lead_id") for c in contacts.values())
    contact_by_lead = {c.get("upswing_lead_id"): cid for cid, c in contacts.items()}
    out: dict[str, Any] = {"contacts": len(contacts),
                           "contact_duplicates": sum(k - 1 for k in lead_contacts.values() if k > 1)}
    duplicates = lost = misplaced = unexpected = 0
    for kind in ("notes", "tasks"):
        seen: Counter[uuid.UUID] = Counter()
        for object_id, body in bodies[kind].items():
            found = _MARKER.search(body or "")
            if found is None:
                continue
            signal_id = uuid.UUID(found.group(1))
            seen[signal_id] += 1
            lead = signals.get(signal_id)
            if lead is None:
                unexpected += 1
            elif contact_of.get((kind, object_id)) != {contact_by_lead.get(str(lead[0]))}:
                misplaced += 1
        wanted = {s for s, (_, p) in signals.items() if kind == "notes" or p in ("urgent", "high")}
        duplicates += sum(k - 1 for k in seen.values() if k > 1)
        lost += len(wanted - set(seen))
        unexpected += sum(k for s, k in seen.items() if s in signals and s not in wanted)  # a medium/low task
        out[kind] = len(bodies[kind])
    out.update(duplicates=duplicates, lost=lost, misplaced=misplaced, unexpected=unexpected)
    return out


def check_salesforce(sf: Any, signals: dict[uuid.UUID, tuple[uuid.UUID, str]]) -> dict[str, Any]:
    """Every signal's Task exactly once, on the Lead carrying the signal's lead id."""
    leads = sf.leads
    tasks = sf.tasks
    lead_records = Counter(r.get("Upswing_Lead_Id__c") for r in leads)
    record_by_lead = {r.get("Upswing_Lead_Id__c"): r["Id"] for r in leads}
    seen: Counter[uuid.UUID] = Counter()
    misplaced = unexpected = 0
    for task in tasks:
        value = task.get("Upswing_Signal_Id__c")
        if not value:
            continue
        signal_id = uuid.UUID(value)
        seen[signal_id] += 1
        lead = signals.get(signal_id)
        if lead is None:
            unexpected += 1
        elif task.get("WhoId") != record_by_lead.get(str(lead[0])):
            misplaced += 1
    return {"leads": len(leads), "lead_duplicates": sum(k - 1 for k in lead_records.values() if k > 1),
            "tasks": len(tasks), "duplicates": sum(k - 1 for k in seen.values() if k > 1),
            "lost": len(set(signals) - set(seen)), "misplaced": misplaced, "unexpected": unexpected}


def reconcile(factory: sessionmaker[Session], connection_id: uuid.UUID, client: httpx.Client) -> dict[str, Any]:
    from upswing.crm import service
    from upswing.crm.models import CrmConnection

    started = time.perf_counter()
    with factory() as session, session.begin():
        connection = session.get(CrmConnection, connection_id)
        assert connection is not None
        report = service.reconcile(session, connection, http=client, repair=False)
    return {"leads_checked": report.leads_checked, "missing": report.missing, "unsent": report.unsent,
            "differences": report.differences, "seconds": round(time.perf_counter() - started, 1)}


# --------------------------------------------------------------------------------------------------
# One CRM
# --------------------------------------------------------------------------------------------------


def run_crm(name: str, factory: sessionmaker[Session], fake: Any, config: dict[str, Any],
            signals: dict[uuid.UUID, tuple[uuid.UUID, str]], inject: Callable[[], list[str]],
            check: Callable[[Any, dict[uuid.UUID, tuple[uuid.UUID, str]]], dict[str, Any]],
            args: argparse.Namespace, lift_limits: Callable[[], None]) -> dict[str, Any]:
    calls = Calls()
    clock = ServerClock(fake)
    client = httpx.Client(timeout=30, trust_env=False, event_hooks={"response": [calls]})
    try:
        connection_id = connect(factory, name, config, client)
        started = time.perf_counter()
        queued = enqueue(factory, list(signals))
        enqueue_s = time.perf_counter() - started
        faults = inject()
        calls.statuses.clear()
        clock.take()
        pushed = push_until_done(factory, connection_id, client, args.batch, args.timeout)
        fake_s = clock.take()
        rate_limited = calls.statuses[429]
        n = len(signals)
        result: dict[str, Any] = {
            "signals": n, "queued": queued, "enqueue_s": round(enqueue_s, 2), **pushed,
            "signals_per_s": round(n / pushed["seconds"], 1), "fake_server_s": round(fake_s, 2),
            "signals_per_s_without_fake": round(n / max(0.001, pushed["seconds"] - fake_s), 1),
            "api_calls_per_signal": round(pushed["api_calls"] / n, 4), "answers_429": rate_limited,
            "faults_injected": faults}
        log(f"{name}: {n} signals in {pushed['seconds']} s = {result['signals_per_s']} signals/s; "
            f"{pushed['api_calls']} API calls ({result['api_calls_per_signal']} per signal); "
            f"429s answered: {rate_limited} ({', '.join(faults)}); paused {pushed['paused']}×, waited "
            f"{pushed['waited_s']} s; the fake answering: {fake_s:.1f} s; sent {pushed['sent']}, "
            f"failed {pushed['failed']}, retried {pushed['retried']}")
        started = time.perf_counter()
        result["crm"] = check(fake, signals)
        log(f"{name}: CRM state {result['crm']} (checked in {time.perf_counter() - started:.1f} s)")
        if not args.skip_reconcile:
            lift_limits()
            result["reconcile"] = reconcile(factory, connection_id, client)
            result["reconcile"]["fake_server_s"] = round(clock.take(), 1)
            log(f"{name}: reconcile {result['reconcile']}")
        return result
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=10_000, help="leads and signals (one signal per lead)")
    parser.add_argument("--database-url", help="use this database as it is (default: a fresh SQLite file)")
    parser.add_argument("--postgres-url", help="create a scratch database on this server (admin URL), drop it after")
    parser.add_argument("--batch", type=int, default=100, help="pushes claimed per push_due batch")
    parser.add_argument("--hubspot-burst", type=int, default=0,
                        help="the fake HubSpot's requests per 10 s (HubSpot's default is 190; 0: no limit)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up a push after this many seconds")
    parser.add_argument("--skip-reconcile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data directory / scratch database")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    os.environ.update({"UPSWING_DATA_DIR": str(workdir), "UPSWING_TASK_RUNNER": "embedded",
                       "UPSWING_LOG_LEVEL": "WARNING"})
    scratch = f"upswing_bench_crm_{os.getpid()}" if args.postgres_url else None
    url = args.database_url
    if scratch:
        url = postgres_database(args.postgres_url, scratch)
        if url is None:
            raise SystemExit("PostgreSQL not reachable")
    url = url or f"sqlite:///{workdir / 'crm_bench.db'}"

    from upswing.core import migrate
    from upswing.core.db import make_engine, session_factory
    from upswing.core.logging import configure_logging
    from upswing.fakes.hubspot import FakeHubSpot
    from upswing.fakes.salesforce import COMPOSITE_ROUTE, FakeSalesforce
    from upswing.settings import get_settings

    get_settings.cache_clear()
    configure_logging("WARNING")
    figures: dict[str, Any] = {"signals": args.signals, "batch": args.batch, "cpu_count": os.cpu_count()}
    engine = make_engine(url)
    try:
        figures["database"] = engine.dialect.name
        started = time.perf_counter()
        migrate.upgrade(engine)
        factory = session_factory(engine)
        migrated = time.perf_counter()
        signals = seed(factory, args.signals)
        figures.update(migrate_s=round(migrated - started, 1), seed_s=round(time.perf_counter() - migrated, 2))
        log(f"{engine.dialect.name}: migrated in {figures['migrate_s']} s, {args.signals} leads and signals "
            f"written in {figures['seed_s']} s")

        hub = indexed_hubspot(access_token=HS_TOKEN, client_secret=HS_SECRET, search_per_s=1000,
                          burst_max=args.hubspot_burst or 10**9, daily_limit=10**9)
        sf = FakeSalesforce(consumer_key=SF_KEY, consumer_secret=SF_SECRET, daily_limit=10**9)
        batches = -(-args.signals // args.batch)

        def hubspot_faults() -> list[str]:
            # Within the connector's budget (max_retries_429 = 4, max_backoff_s = 10): each is retried after 1 s.
            spots = sorted({max(1, batches // 4), max(2, batches // 2)})
            for n in spots:
                hub.inject(r"^/crm/v3/objects/notes/batch/create$", FakeHubSpot.rate_limited("SECONDLY"), after=n)
            hub.inject(r"^/crm/v3/objects/contacts/search$", FakeHubSpot.rate_limited(retry_after="1"), times=2,
                       after=max(3, 3 * batches // 4))
            return [f"notes batch/create 429 SECONDLY after {n} calls" for n in spots] + [
                f"contacts search 429 Retry-After 1 s ×2 after {max(3, 3 * batches // 4)} calls"]

        def salesforce_faults() -> list[str]:
            # A Salesforce 429 pauses the connection for Retry-After; the batch's pushes wait and go out after.
            composites = -(-args.signals // 12)
            spots = sorted({max(1, composites // 3), max(2, 2 * composites // 3)})
            for n in spots:
                sf.inject(COMPOSITE_ROUTE, FakeSalesforce.rate_limited(retry_after="1"), after=n)
            return [f"composite 429 Retry-After 1 s after {n} calls" for n in spots]

        def lift_hubspot() -> None:
            hub.burst_max = 10**9

        with hub, sf:
            figures["hubspot"] = run_crm(
                "hubspot", factory, hub, {"base_url": hub.url, "access_token": HS_TOKEN, "client_secret": HS_SECRET},
                signals, hubspot_faults, check_hubspot, args, lift_hubspot)
            figures["salesforce"] = run_crm(
                "salesforce", factory, sf, {"auth": "client_credentials", "login_url": sf.my_domain_url,
                                            "client_id": SF_KEY, "client_secret": SF_SECRET},
                signals, salesforce_faults, check_salesforce, args, lambda: None)
    finally:
        engine.dispose()
        if scratch and not args.keep:
            postgres_database(args.postgres_url, scratch, drop_only=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir}" + (f" and the database {scratch}" if scratch else ""))

    hs, sf_ = figures["hubspot"], figures["salesforce"]
    figures.update({
        "hubspot_signals_per_s": hs["signals_per_s"], "salesforce_signals_per_s": sf_["signals_per_s"],
        "duplicates": hs["crm"]["duplicates"] + sf_["crm"]["duplicates"],
        "lost": hs["crm"]["lost"] + sf_["crm"]["lost"],
        "api_calls_per_signal": round((hs["api_calls"] + sf_["api_calls"]) / (2 * args.signals), 4),
        "hubspot_api_calls": hs["api_calls"], "salesforce_api_calls": sf_["api_calls"],
        "hubspot_api_calls_per_signal": hs["api_calls_per_signal"],
        "salesforce_api_calls_per_signal": sf_["api_calls_per_signal"],
        "hubspot_seconds": hs["seconds"], "salesforce_seconds": sf_["seconds"],
        "answers_429": hs["answers_429"] + sf_["answers_429"],
        "failed": hs["failed"] + sf_["failed"],
        "misplaced": hs["crm"]["misplaced"] + sf_["crm"]["misplaced"],
        "reconcile_differences": (None if args.skip_reconcile else
                                  hs["reconcile"]["differences"] + sf_["reconcile"]["differences"]),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    summary = {k: v for k, v in figures.items() if k not in ("hubspot", "salesforce")}
    summary["hubspot"] = {k: v for k, v in hs.items()}
    summary["salesforce"] = {k: v for k, v in sf_.items()}
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
