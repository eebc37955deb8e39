"""Alerts: signals arriving in bursts → SSE event, e-mail and webhook; latency from detection to delivery.

    python benchmarks/alerts.py [--signals 10000] [--burst 500] [--interval 20] [--database both|sqlite|postgresql]
                                [--agents 20] [--sse-clients 10] [--timeout 120] [--serve-workers 2]
                                [--celery-concurrency 2] [--worker-command upswing|celery] [--postgres-url URL]
                                [--logs DIR] [--keep]
    python benchmarks/alerts.py --signals 300      # a smoke run on both databases, about 1.5 minutes

For each database, a fresh scratch database and the system as production runs it:

* PostgreSQL (``postgres@127.0.0.1:5432``, or ``--postgres-url``; the scratch database is dropped afterwards):
  ``upswing serve --workers 2`` with the Celery runner (``UPSWING_TASK_RUNNER=celery``, Redis at
  ``UPSWING_CELERY_BROKER_URL`` or ``redis://127.0.0.1:6379/0``, a queue of its own, purged afterwards), a separate
  ``upswing worker --concurrency 2`` (``--worker-command celery``: ``celery -A upswing.worker worker``, the same
  application without the CLI's start-up check) and ``upswing scheduler``;
* SQLite (a temporary directory): ``upswing serve`` (one process) with the embedded runner in it.

Every process runs with ``UPSWING_ENVIRONMENT=production``, generated keys, WARNING logs, e-mail through Brevo's
API at the fake Brevo server (``upswing.fakes.brevo``), the hourly cap out of the way
(``UPSWING_ALERT_HOURLY_CAP=100000``) and ``127.0.0.1`` allow-listed for the webhook receiver; no ``UPSWING_*``
variable of the caller's shell is passed on.

Data (written by a child process with the server's settings, before the server starts): ``--agents`` agents in
one team, each with an e-mail address; one lead per signal, assigned round-robin to them; an admin; and one alert
rule in place of the shipped ones: every signal, channels in-app + e-mail + webhook, to the lead's owner. Through
the API: the admin subscribes the fake webhook receiver (``POST /api/v1/webhooks``, ``alert.created``), and the
first ``--sse-clients`` agents sign in and open ``GET /api/v1/stream`` (one thread each). Not all 20: each open
stream keeps the request's database session (and its connection) checked out for as long as it is open, so about
15 streams exhaust the SQLite server's connection pool (5 + 10) and every further request waits 30 s and fails.

Load: a producer process (so its work does not hold this process's GIL while receipts are timed) writes the
signals in bursts of ``--burst``, one burst starting every ``--interval`` seconds (default 20: on the 2-core
development machine a burst of 500 is delivered in about 10-20 s on either database, so each is delivered before
the next arrives and the latencies are those of a burst, not of a backlog that grows without end; the machine's
other load moves these times a lot). A burst is one transaction: an
observation per signal and ``signal.service.upsert_events``, which emits ``signal.created`` in the same
transaction; each signal is on its own lead (so the dedup window never merges two). The commit time is taken
right after each burst's commit returns.

Measured per signal and channel, latency = receipt time − its burst's commit time:

* ``sse``: the ``alert.created`` event (its data's ``signal_id``) read by the owner's SSE client (only the signals
  of the agents with a stream);
* ``email``: the fake Brevo's acceptance (the Message-ID is the delivery's id → ``alert_deliveries`` → the
  alert's signal);
* ``webhook``: the fake receiver's receipt, verified with the ``standardwebhooks`` library (``data.signal.id``).

The run waits until every signal arrived on every channel, or ``--timeout`` seconds after the last burst; what has
not arrived by then is lost. Errors: lost deliveries, failed deliveries, failed ``alert.evaluate`` receipts,
failed task runs and runs still "running" a minute after they started, webhooks that failed verification, alert
e-mails that match no delivery, signals without an alert, SSE stream errors (pending deliveries and receipts are
reported, not counted again: they are the lost ones). E-mails that are not alerts (a digest falling due during
the run) are counted in ``other_emails`` by their tags, not as errors. ``consumer_lag``: commit → the alert row's
``created_at`` (the outbox consumer's share of the latency). ``alerts_per_s``: alerts ÷ the time there was work
in flight (the union over bursts of [commit, the burst's last delivery on any channel]); ``burst_complete_s``: per
burst, commit → its last delivery.

Output: progress and a table per database on stderr; the last line is one JSON object: ``sse_p95_s``,
``email_p95_s``, ``webhook_p95_s`` (the worse of the two databases), ``alerts_per_s`` (the lower), ``goal_met``
(every p95 ≤ 5 s, nothing lost, no error, on every database), ``errors``, ``lost_deliveries``, and per database
(``postgresql``, ``sqlite``): p50/p95/p99/max per channel, received and lost per channel, the consumer lag,
signals, alerts, errors and their kinds, repeats, per-burst completion times.

How long: each database takes its bursts' span (19 × ``--interval``) plus the last burst's delivery plus about
20 s of setup: the default (10,000 signals, 20 bursts of 500, 20 s apart) about 7 minutes per database, 14 in all.
It cannot be much shorter at this size: on this machine the pipeline delivers about 25-45 alerts/s (a single
outbox consumer evaluates the signals one transaction each), so 10,000 signals on each database are 8-12 minutes of
work even back to back, and with bursts closer together than they are delivered the backlog grows (what is not
delivered within ``--timeout`` counts as lost).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _scratch import free_port, new_keys, postgres_database, upswing_command

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GOAL_P95_S = 5.0
#: Synthetic users of a scratch database.
PASSWORD = "alerts-bench-password"  # noqa: S105
BREVO_KEY = "xkeysib-alerts-bench"
HOOK_PATH = "/hooks/alerts-bench"
TEAM = "alerts-bench-team"
CHANNELS = ("sse", "email", "webhook")


def log(message: str) -> None:
    print(f"[alerts {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# ==================================================================================================
# Child processes: seeding and producing run with the server's settings (UPSWING_* in their environment)
# ==================================================================================================


def child_seed(config: dict[str, Any]) -> dict[str, Any]:
    """Migrate, then the team, agents, admin, leads and the one rule. Returns the usernames."""
    from decimal import Decimal

    from sqlalchemy import delete, insert

    from upswing.account.models import Role, Team, User
    from upswing.account.security import hash_password
    from upswing.alert import service as alerts
    from upswing.alert.models import AlertRule
    from upswing.alert.schemas import RuleCreate
    from upswing.core import migrate
    from upswing.core.db import get_engine, session_factory
    from upswing.lead.models import Lead, Portfolio
    from upswing.source.service import file_source

    started = time.perf_counter()
    engine = get_engine()
    migrate.upgrade(engine)
    migrated = time.perf_counter() - started
    factory = session_factory(engine)
    password_hash = hash_password(PASSWORD)
    agents = [f"bench.agent{n:02d}" for n in range(1, config["agents"] + 1)]
    with factory() as session, session.begin():
        team = Team(name=TEAM)
        session.add(team)
        session.flush()
        session.add(User(username="bench.admin", email="admin@bench.example", full_name="Bench Admin",
                         password_hash=password_hash, role=Role.ADMIN.value, timezone="UTC"))
        users = [User(username=name, email=f"{name}@bench.example", full_name=f"Agent {name[-2:]}",
                      password_hash=password_hash, role=Role.AGENT.value, team_id=team.id, timezone="UTC")
                 for name in agents]
        session.add_all(users)
        session.flush()
        portfolio = Portfolio(name="alerts-bench")
        session.add(portfolio)
        session.flush()
        rows = [{"id": uuid.uuid4(), "portfolio_id": portfolio.id, "external_id": f"AB-{n:06d}",
                 "first_name": "Casey", "last_name": f"Morgan{n}", "email": f"casey{n}@example.com",
                 "emails": [f"casey{n}@example.com"], "phones": [], "city": "Austin", "state": "TX",
                 "country": "US", "timezone": "America/Chicago", "balance": Decimal(1000 + (n % 50) * 500),
                 "days_delinquent": 90 + n % 300, "assignee_id": users[n % len(users)].id, "team_id": team.id}
                for n in range(config["signals"])]
        for start in range(0, len(rows), 2000):
            session.execute(insert(Lead), rows[start:start + 2000])
        file_source(session)
        session.execute(delete(AlertRule))  # the shipped defaults: this benchmark's rule alone decides
        alerts.create_rule(session, RuleCreate.model_validate({
            "name": "alerts benchmark: every signal", "channels": ["in_app", "email", "webhook"],
            "recipients": {"to": "owner"}}), user=None, actor="benchmark")
    return {"admin": "bench.admin", "agents": agents, "leads": len(rows),
            "migrate_s": round(migrated, 1), "seed_s": round(time.perf_counter() - started, 1)}


def child_produce(config: dict[str, Any]) -> None:
    """Write the signals in bursts; one JSON line per committed burst on stdout."""
    from sqlalchemy import insert, select

    from upswing.core.db import get_engine, session_factory
    from upswing.detection.events import CandidateEvent, SignalType
    from upswing.lead.models import Lead
    from upswing.observation.models import Observation
    from upswing.signal.models import Evidence
    from upswing.signal.service import SightedEvent, upsert_events
    from upswing.source.service import file_source

    factory = session_factory(get_engine())
    with factory() as session:
        lead_ids = list(session.scalars(select(Lead.id).order_by(Lead.external_id)))
        source_id = file_source(session).id
        session.rollback()
    total, burst, interval = config["signals"], config["burst"], config["interval"]
    effective = date.today() - timedelta(days=3)
    start = time.monotonic()
    for index, first in enumerate(range(0, total, burst)):
        due = start + index * interval
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        began = time.time()
        now = datetime.now(UTC)
        leads = lead_ids[first:first + burst]
        observations: list[dict[str, Any]] = [
            {"id": uuid.uuid4(), "source_id": source_id, "lead_id": lead_id, "kind": "profile", "raw": {},
             "normalized": {}, "content_hash": uuid.uuid4().hex + uuid.uuid4().hex, "observed_at": now,
             "last_observed_at": now} for lead_id in leads]
        sightings = [SightedEvent(row["lead_id"], row["id"], None, CandidateEvent(
            type=SignalType.NEW_EMPLOYMENT, identity=f"employer {n % 97}|registered nurse|{n}", confidence=0.95,
            snippet=f"Experience: Registered Nurse at Employer {n % 97} (present)", title="Registered Nurse",
            organization=f"Employer {n % 97}", effective_date=effective))
            for n, row in enumerate(observations, start=first)]
        with factory() as session:
            with session.begin():
                session.execute(insert(Observation), observations)
                upsert_events(session, sightings)
                signal_ids = [str(s) for s in session.scalars(select(Evidence.signal_id).where(
                    Evidence.observation_id.in_([row["id"] for row in observations])))]
            committed = time.time()
        print(json.dumps({"burst": index, "committed_at": committed, "transaction_s": round(committed - began, 3),
                          "signals": signal_ids}), flush=True)


def child_main() -> None:
    mode, config = sys.argv[2], json.loads(sys.argv[3])
    if mode == "seed":
        print(json.dumps(child_seed(config)), flush=True)
    elif mode == "produce":
        child_produce(config)
    else:
        raise SystemExit(f"unknown child mode {mode!r}")


# ==================================================================================================
# Processes of the system under test
# ==================================================================================================






def _die_with_parent() -> None:
    """In a child before exec (Linux): SIGTERM when this benchmark dies, so a killed run leaves nothing behind."""
    with suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _own_session() -> None:
    """In a child before exec: a session of its own (so it is stopped as a group), dying with this benchmark."""
    os.setsid()
    _die_with_parent()


class Process:
    """A subprocess in its own session (so its children go with it), output to a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log(f"starting {self.name}: {' '.join(self.command[1:])} (log: {self.log_path})")
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=output,  # noqa: S603
                                            stderr=subprocess.STDOUT, preexec_fn=_own_session)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # _own_session: the group is this process and its own children
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=30)


def worker_command(args: argparse.Namespace, env: dict[str, str]) -> list[str]:
    """``upswing worker`` (as deployed), or the bare ``celery`` command on the same application."""
    if args.worker_command == "upswing":
        return [*upswing_command(), "worker", "--concurrency", str(args.celery_concurrency), "--loglevel", "WARNING"]
    queue = env["UPSWING_CELERY_QUEUE"]
    return [str(Path(sys.executable).with_name("celery")), "-A", "upswing.worker", "worker", "--queues",
            f"{queue}.realtime,{queue}", "--concurrency", str(args.celery_concurrency), "--pool", "prefork",
            "--loglevel", "WARNING", "--hostname", f"upswing@%h-{env['UPSWING_CELERY_QUEUE']}"]


def wait_ready(server: Process, base_url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the server exited:\n{server.tail()}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the server was not ready in {timeout_s:g} s:\n{server.tail()}")


def run_child(mode: str, config: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_child", mode, json.dumps(config)],  # noqa: S603
                          env=env, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def purge_queue(broker: str, queue: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(broker, socket_connect_timeout=2)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                      *(f"{queue}\x06\x16{priority}" for priority in (3, 6, 9)))
    except Exception as exc:
        log(f"could not purge the Celery queue {queue}: {exc}")


# ==================================================================================================
# The clients: SSE streams (threads), the fake Brevo and the fake webhook receiver
# ==================================================================================================


class SseClient(threading.Thread):
    """One agent's live stream; records the first receipt time of each ``alert.created`` by signal id."""

    def __init__(self, base_url: str, token: str, user: str, sink: dict[str, float], lock: threading.Lock,
                 stop: threading.Event) -> None:
        super().__init__(name=f"sse-{user}", daemon=True)
        self.url, self.token, self.user = f"{base_url}/api/v1/stream", token, user
        self.sink, self.lock, self.stop_event = sink, lock, stop
        self.connected = threading.Event()
        self.errors: list[str] = []
        self.reconnects = 0
        self.events = 0
        self.duplicates = 0
        self._response: httpx.Response | None = None

    def run(self) -> None:
        last_id: str | None = None
        while not self.stop_event.is_set():
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                with httpx.Client(timeout=httpx.Timeout(10.0, read=90.0), trust_env=False) as client, \
                        client.stream("GET", self.url, headers=headers) as response:
                    self._response = response
                    response.raise_for_status()
                    kind: str | None = None
                    data: list[str] = []
                    for line in response.iter_lines():
                        if self.stop_event.is_set():
                            return
                        if line.startswith(": connected"):
                            self.connected.set()
                        elif line.startswith("id:"):
                            last_id = line[3:].strip()
                        elif line.startswith("event:"):
                            kind = line[6:].strip()
                        elif line.startswith("data:"):
                            data.append(line[5:].strip())
                        elif line == "" and data:
                            self._dispatch(kind, "\n".join(data), time.time())
                            kind, data = None, []
            except Exception as exc:
                if self.stop_event.is_set():
                    return
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                self.reconnects += 1
                time.sleep(0.5)

    def _dispatch(self, kind: str | None, data: str, at: float) -> None:
        self.events += 1
        if kind != "alert.created":
            return
        signal_id = json.loads(data).get("signal_id")
        if not signal_id:
            return
        with self.lock:
            if signal_id in self.sink:
                self.duplicates += 1
            else:
                self.sink[signal_id] = at

    def close(self) -> None:
        self.stop_event.set()
        if self._response is not None:
            with suppress(Exception):
                self._response.close()


def sign_in(base_url: str, username: str) -> str:
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": PASSWORD},
                          timeout=60)
    response.raise_for_status()
    return str(response.json()["access_token"])


# ==================================================================================================
# One database
# ==================================================================================================


@dataclass
class Burst:
    index: int
    committed_at: float
    transaction_s: float
    signals: list[str]


@dataclass
class Producer:
    process: subprocess.Popen[str]
    bursts: list[Burst] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            burst = Burst(item["burst"], item["committed_at"], item["transaction_s"], item["signals"])
            self.bursts.append(burst)
            log(f"  burst {burst.index + 1}: {len(burst.signals)} signals committed "
                f"({burst.transaction_s:.2f} s transaction)")
        self.process.wait()
        if self.process.returncode != 0:
            assert self.process.stderr is not None
            self.errors.append(self.process.stderr.read()[-4000:])
        self.done.set()




@contextmanager
def scratch_database(kind: str, args: argparse.Namespace, workdir: Path) -> Iterator[str | None]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'alerts.db'}"
        return
    name = f"upswing_bench_alerts_{os.getpid()}"
    url = postgres_database(args.postgres_url, name)
    try:
        yield url
    finally:
        if url is not None and not args.keep:
            postgres_database(args.postgres_url, name, drop_only=True)


def environment(kind: str, url: str, workdir: Path, brevo_url: str, port: int, queue: str,
                broker: str) -> dict[str, str]:
    keys = new_keys()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSWING_")}
    env.update({
        "UPSWING_DATABASE_URL": url, "UPSWING_ENVIRONMENT": "production", "UPSWING_DATA_DIR": str(workdir),
        "UPSWING_SECRET_KEY": keys["secret_key"], "UPSWING_ENCRYPTION_KEYS": keys["encryption_keys"],
        "UPSWING_BLIND_INDEX_KEY": keys["blind_index_key"], "UPSWING_LOG_LEVEL": "WARNING",
        "UPSWING_TASK_RUNNER": "celery" if kind == "postgresql" else "embedded",
        "UPSWING_CELERY_BROKER_URL": broker, "UPSWING_CELERY_QUEUE": queue,
        "UPSWING_EMAIL_TRANSPORT": "brevo", "UPSWING_BREVO_API_KEY": BREVO_KEY, "UPSWING_BREVO_BASE_URL": brevo_url,
        "UPSWING_ALERT_HOURLY_CAP": "100000", "UPSWING_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "UPSWING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    })
    return env


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    from upswing.fakes.brevo import FakeBrevo
    from upswing.fakes.webhook_receiver import FakeWebhookReceiver

    label = "PostgreSQL + Celery" if kind == "postgresql" else "SQLite + embedded runner"
    log(f"{label}: {args.signals} signals in bursts of {args.burst} every {args.interval:g} s, "
        f"{args.agents} agents")
    workdir = Path(tempfile.mkdtemp(prefix=f"alerts-bench-{kind}-"))
    logs = Path(args.logs) if args.logs else workdir
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[Process] = []
    clients: list[SseClient] = []
    stop = threading.Event()
    brevo = FakeBrevo(api_key=BREVO_KEY, rate_limit_per_s=100_000)
    receiver = FakeWebhookReceiver()
    queue = f"upswing-bench-alerts-{os.getpid()}-{kind}"
    broker = os.environ.get("UPSWING_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    try:
        with scratch_database(kind, args, workdir) as url:
            if url is None:
                return {"skipped": "PostgreSQL not reachable"}
            brevo_url = brevo.start()
            receiver.start()
            port = free_port()
            env = environment(kind, url, workdir, brevo_url, port, queue, broker)
            seeded = run_child("seed", {"signals": args.signals, "agents": args.agents}, env)
            log(f"  seeded {seeded['leads']} leads, {len(seeded['agents'])} agents, one rule "
                f"(migrations {seeded['migrate_s']} s, total {seeded['seed_s']} s)")

            serve = [*upswing_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            if kind == "postgresql":
                serve += ["--workers", str(args.serve_workers)]
            server = Process("server", serve, env, logs / f"{kind}-server.log").start()
            processes.append(server)
            if kind == "postgresql":
                processes.append(Process("worker", worker_command(args, env), env,
                                         logs / f"{kind}-worker.log").start())
                processes.append(Process("scheduler", [*upswing_command(), "scheduler"], env,
                                         logs / f"{kind}-scheduler.log").start())
            base_url = f"http://127.0.0.1:{port}"
            wait_ready(server, base_url)

            admin = sign_in(base_url, seeded["admin"])
            created = httpx.post(f"{base_url}/api/v1/webhooks", headers={"Authorization": f"Bearer {admin}"},
                                 json={"url": f"{receiver.url}{HOOK_PATH}", "event_types": ["alert.created"]},
                                 timeout=30)
            if created.status_code != 201:
                raise RuntimeError(f"POST /api/v1/webhooks answered {created.status_code}: {created.text[:500]}")
            receiver.set_secret(HOOK_PATH, created.json()["secret"])

            sse_received: dict[str, float] = {}
            lock = threading.Lock()
            streamed = seeded["agents"][:args.sse_clients]
            for username in streamed:
                client = SseClient(base_url, sign_in(base_url, username), username, sse_received, lock, stop)
                client.start()
                clients.append(client)
            for client in clients:
                if not client.connected.wait(30):
                    raise RuntimeError(f"the SSE stream of {client.user} did not connect: {client.errors}")
            log(f"  server ready on {base_url}; webhook subscribed; {len(clients)} SSE streams open")
            time.sleep(1.0)  # let the runners settle (the embedded runner's first tick enqueues the schedules)

            produced = subprocess.Popen(  # noqa: S603
                [sys.executable, str(Path(__file__).resolve()), "_child", "produce",
                 json.dumps({"signals": args.signals, "burst": args.burst, "interval": args.interval})],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)
            producer = Producer(produced)
            reader = threading.Thread(target=producer.read, name="producer", daemon=True)
            reader.start()
            producer.done.wait()
            if producer.errors:
                raise RuntimeError(f"the producer failed:\n{producer.errors[0]}")
            signal_ids = [s for burst in producer.bursts for s in burst.signals]
            expected = len(signal_ids)
            last_commit = max(b.committed_at for b in producer.bursts)
            owners = signal_owners(url)
            sse_expected = {s for s in signal_ids if owners.get(s) in set(streamed)}
            log(f"  {expected} signals committed ({len(sse_expected)} of them owned by the {len(streamed)} agents "
                f"with a stream); waiting for the deliveries (up to {args.timeout:g} s)")

            deadline = time.time() + args.timeout
            while time.time() < deadline:
                counts = (len(sse_received), len({m.header_message_id for m in brevo.messages}),
                          len({w.webhook_id for w in receiver.received}))
                if counts[0] >= len(sse_expected) and min(counts[1:]) >= expected:
                    break
                if not all(p.alive() for p in processes):
                    dead = next(p for p in processes if not p.alive())
                    raise RuntimeError(f"the {dead.name} exited:\n{dead.tail()}")
                time.sleep(0.5)
            waited = time.time() - last_commit
            log(f"  waited {waited:.1f} s after the last burst: SSE {counts[0]} of {len(sse_expected)}, e-mail "
                f"{counts[1]} and webhook {counts[2]} of {expected}")
            stop.set()
            for client in clients:
                client.close()
            time.sleep(2.0)  # a delivery in flight is recorded in the database before it is counted below
            result = measure(kind, url, producer.bursts, sse_received, brevo, receiver, clients, sse_expected, args)
            result["runner"] = "celery" if kind == "postgresql" else "embedded"
            result["serve_workers"] = args.serve_workers if kind == "postgresql" else 1
            if kind == "postgresql":
                result["celery_concurrency"] = args.celery_concurrency
                result["worker_command"] = args.worker_command
            result["seed_s"] = seeded["seed_s"]
            result["waited_after_last_burst_s"] = round(waited, 1)
            for process in processes:
                process.stop()
            return result
    finally:
        stop.set()
        for client in clients:
            client.close()
        for process in processes:
            process.stop()
        brevo.stop()
        receiver.stop()
        if kind == "postgresql":
            purge_queue(broker, queue)
            purge_queue(broker, f"{queue}.realtime")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def signal_owners(url: str) -> dict[str, str]:
    """Signal id → the username of its lead's assignee (who gets its alert)."""
    from sqlalchemy import select

    from upswing.account.models import User
    from upswing.core.db import make_engine
    from upswing.lead.models import Lead
    from upswing.signal.models import Signal

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {str(uuid.UUID(str(s))): name for s, name in connection.execute(
                select(Signal.id, User.username).join(Lead, Lead.id == Signal.lead_id)
                .join(User, User.id == Lead.assignee_id))}
    finally:
        engine.dispose()


def measure(kind: str, url: str, bursts: list[Burst], sse: dict[str, float], brevo: Any, receiver: Any,
            clients: list[SseClient], sse_expected: set[str], args: argparse.Namespace) -> dict[str, Any]:
    """Latencies per channel, and the database's account of what happened."""
    from sqlalchemy import func, select

    from upswing.alert.models import Alert, AlertDelivery
    from upswing.core.db import make_engine
    from upswing.core.outbox import OutboxReceipt
    from upswing.core.tasks import TaskRun

    committed = {s: b.committed_at for b in bursts for s in b.signals}
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            alerts = {str(uuid.UUID(str(a))): (str(uuid.UUID(str(s))), created) for a, s, created in connection.execute(
                select(Alert.id, Alert.signal_id, Alert.created_at).where(Alert.kind == "signal"))}
            email_signal = {f"<{uuid.UUID(str(d))}@upswing.alerts>": str(uuid.UUID(str(s))) for d, s in
                            connection.execute(select(AlertDelivery.id, Alert.signal_id)
                                               .join(Alert, Alert.id == AlertDelivery.alert_id)
                                               .where(AlertDelivery.channel == "email"))}
            deliveries = {(channel, status): count for channel, status, count in connection.execute(
                select(AlertDelivery.channel, AlertDelivery.status, func.count())
                .group_by(AlertDelivery.channel, AlertDelivery.status))}
            receipts = {status: count for status, count in connection.execute(
                select(OutboxReceipt.status, func.count()).where(OutboxReceipt.consumer == "alert.evaluate")
                .group_by(OutboxReceipt.status))}
            failed_runs = {name: count for name, count in connection.execute(
                select(TaskRun.name, func.count()).where(TaskRun.status == "failed").group_by(TaskRun.name))}
            stuck_runs = {name: count for name, count in connection.execute(
                select(TaskRun.name, func.count()).where(
                    TaskRun.status == "running", TaskRun.started_at < datetime.now(UTC) - timedelta(seconds=60))
                .group_by(TaskRun.name))}
            failed_run_errors = [f"{name}: {error}"[:500] for name, error in connection.execute(
                select(TaskRun.name, TaskRun.last_error).where(TaskRun.status == "failed").limit(3))]
            failed_errors = [error for (error,) in connection.execute(
                select(AlertDelivery.last_error).where(AlertDelivery.status == "failed").limit(3))]
    finally:
        engine.dispose()

    received: dict[str, dict[str, float]] = {"sse": dict(sse), "email": {}, "webhook": {}}
    unmatched_email = 0
    other_emails: dict[str, int] = {}  # not alerts (a digest falling due during the run): reported, not errors
    brevo_repeats = 0
    for message in brevo.messages:
        signal_id = email_signal.get(message.header_message_id or "")
        if signal_id is None and "alert" not in message.tags:
            kind = ",".join(message.tags) or "untagged"
            other_emails[kind] = other_emails.get(kind, 0) + 1
        elif signal_id is None:
            unmatched_email += 1
        elif signal_id in received["email"]:
            brevo_repeats += 1
        else:
            received["email"][signal_id] = message.accepted_at
    unverified = 0
    webhook_repeats = 0
    for hook in receiver.received:
        if not hook.verified:
            unverified += 1
            continue
        signal_id = ((hook.json().get("data") or {}).get("signal") or {}).get("id")
        if signal_id in received["webhook"]:
            webhook_repeats += 1
        elif signal_id:
            received["webhook"][signal_id] = hook.received_at

    result: dict[str, Any] = {"signals": len(committed), "bursts": len(bursts), "burst": args.burst,
                              "interval_s": args.interval, "alerts": len(alerts)}
    lost_total = 0
    for channel in CHANNELS:
        latencies = [at - committed[s] for s, at in received[channel].items() if s in committed]
        lost = sum(1 for s in (sse_expected if channel == "sse" else committed) if s not in received[channel])
        lost_total += lost
        for q in (50, 95, 99):
            result[f"{channel}_p{q}_s"] = _r(percentile(latencies, q))
        result[f"{channel}_max_s"] = _r(max(latencies) if latencies else None)
        result[f"{channel}_received"] = len(latencies)
        result[f"{channel}_lost"] = lost
    lags = [created.timestamp() - committed[s] for s, created in alerts.values() if s in committed]
    result["consumer_lag_p50_s"] = _r(percentile(lags, 50))
    result["consumer_lag_p95_s"] = _r(percentile(lags, 95))
    result["consumer_lag_max_s"] = _r(max(lags) if lags else None)
    # Throughput while there was work: the union of each burst's [commit, its last delivery on any channel].
    windows = []
    for burst in bursts:
        ends = [received[c][s] for s in burst.signals for c in CHANNELS if s in received[c]]
        windows.append((burst.committed_at, max(ends) if ends else burst.committed_at))
    busy, reach = 0.0, float("-inf")
    for begin, end in sorted(windows):
        if end > reach:
            busy += end - max(begin, reach)
            reach = end
    result["alerts_per_s"] = round(len(alerts) / busy, 1) if busy > 0 and alerts else 0.0
    result["busy_s"] = round(busy, 1)
    result["burst_complete_s"] = [round(end - begin, 1) for begin, end in windows]
    result["offered_signals_per_s"] = round(args.burst / args.interval, 1) if args.interval > 0 else None
    result["burst_transaction_s_max"] = round(max(b.transaction_s for b in bursts), 3)

    signals_without_alert = sum(1 for s in committed if s not in {sig for sig, _ in alerts.values()})
    not_sent = {f"{channel}_{status}": count for (channel, status), count in deliveries.items()
                if status not in ("sent",)}
    error_detail = {
        "deliveries_failed": sum(c for (_, status), c in deliveries.items() if status == "failed"),
        "deliveries_pending": sum(c for (_, status), c in deliveries.items() if status == "pending"),
        "deliveries_digest": sum(c for (_, status), c in deliveries.items() if status == "digest"),
        "evaluate_receipts_failed": receipts.get("failed", 0),
        "evaluate_receipts_pending": receipts.get("pending", 0),
        "task_runs_failed": sum(failed_runs.values()),
        "task_runs_stuck": sum(stuck_runs.values()),  # still running a minute after they started
        "webhooks_unverified": unverified,
        "emails_unmatched": unmatched_email,
        "signals_without_alert": signals_without_alert,
        "sse_stream_errors": sum(len(c.errors) for c in clients),
    }
    result["lost_deliveries"] = lost_total
    # Pending deliveries and receipts are the lost ones seen from the database: reported, not counted twice.
    result["errors"] = lost_total + sum(v for k, v in error_detail.items() if not k.endswith("_pending"))
    result["error_detail"] = {k: v for k, v in error_detail.items() if v}
    result["deliveries_not_sent"] = not_sent
    if stuck_runs:
        result["stuck_task_runs"] = stuck_runs
    if failed_runs:
        result["failed_task_runs"] = failed_runs
        result["failed_task_run_errors"] = failed_run_errors
    if failed_errors:
        result["failed_delivery_errors"] = failed_errors
    result["other_emails"] = other_emails
    result["repeats"] = {"sse": sum(c.duplicates for c in clients), "email": brevo_repeats,
                         "webhook": webhook_repeats}
    result["goal_met"] = (result["errors"] == 0 and all(
        result[f"{c}_p95_s"] is not None and result[f"{c}_p95_s"] <= GOAL_P95_S for c in CHANNELS))
    return result


def table(kind: str, r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"{kind}: skipped ({r['skipped']})"
    lines = [f"{kind} ({r['runner']} runner): {r['signals']} signals in {r['bursts']} bursts of {r['burst']} every "
             f"{r['interval_s']:g} s → {r['alerts']} alerts, {r['alerts_per_s']} alerts/s; consumer lag p50 "
             f"{r['consumer_lag_p50_s']} s, p95 {r['consumer_lag_p95_s']} s",
             f"  {'channel':<8} {'p50 s':>8} {'p95 s':>8} {'p99 s':>8} {'max s':>8} {'received':>9} {'lost':>6}"]
    for c in CHANNELS:
        lines.append(f"  {c:<8} {_fmt(r[f'{c}_p50_s'])} {_fmt(r[f'{c}_p95_s'])} {_fmt(r[f'{c}_p99_s'])} "
                     f"{_fmt(r[f'{c}_max_s'])} {r[f'{c}_received']:>9} {r[f'{c}_lost']:>6}")
    lines.append(f"  errors {r['errors']} {r['error_detail'] or ''}; goal (p95 ≤ {GOAL_P95_S:g} s, none lost) "
                 f"{'met' if r['goal_met'] else 'NOT met'}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return f"{value:>8.3f}" if value is not None else f"{'-':>8}"


def worst(results: dict[str, dict[str, Any]], key: str, *, lowest: bool = False) -> float | None:
    values = [r.get(key) for r in results.values() if "skipped" not in r]
    if not values or any(v is None for v in values):
        return None
    return min(values) if lowest else max(values)  # type: ignore[type-var]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child_main()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=10_000, help="Signals per database")
    parser.add_argument("--burst", type=int, default=500, help="Signals per burst (one transaction)")
    parser.add_argument("--interval", type=float, default=20.0,
                        help="Seconds between the starts of two bursts (0: all at once)")
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--agents", type=int, default=20, help="Agents owning the leads (one SSE stream each)")
    parser.add_argument("--sse-clients", type=int, default=10,
                        help="Agents with an open SSE stream (the first N; more than about 14 exhaust the SQLite "
                             "server's connection pool, see the docstring)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="Seconds after the last burst to wait for deliveries; what has not arrived is lost")
    parser.add_argument("--serve-workers", type=int, default=2, help="PostgreSQL: `upswing serve --workers`")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="PostgreSQL: worker processes")
    parser.add_argument("--worker-command", choices=("upswing", "celery"), default="upswing",
                        help="PostgreSQL: start the worker with `upswing worker` (as deployed) or with "
                             "`celery -A upswing.worker worker` (the same application, without the CLI's preparation)")
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES),
                        help="An admin URL; the scratch database is made (and dropped) there")
    parser.add_argument("--logs", default=None, help="Keep the server/worker logs in this directory")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch databases and the work directory")
    args = parser.parse_args()
    if args.signals < 1 or args.burst < 1 or args.agents < 1 or args.interval < 0:
        parser.error("--signals, --burst and --agents must be positive, --interval not negative")

    kinds = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        results[kind] = run_database(kind, args)
        print(table(kind, results[kind]), file=sys.stderr, flush=True)
    measured = {k: r for k, r in results.items() if "skipped" not in r}
    summary: dict[str, Any] = {
        "sse_p95_s": worst(measured, "sse_p95_s"), "email_p95_s": worst(measured, "email_p95_s"),
        "webhook_p95_s": worst(measured, "webhook_p95_s"),
        "alerts_per_s": worst(measured, "alerts_per_s", lowest=True),
        "goal_p95_s": GOAL_P95_S,
        "goal_met": bool(measured) and all(r["goal_met"] for r in measured.values()),
        "errors": sum(r["errors"] for r in measured.values()),
        "lost_deliveries": sum(r["lost_deliveries"] for r in measured.values()),
        "signals": args.signals, "burst": args.burst, "interval_s": args.interval,
        "elapsed_s": round(time.perf_counter() - started, 1),
        **results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
