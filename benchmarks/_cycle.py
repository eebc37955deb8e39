"""A monitoring cycle with real processes, shared by ``benchmarks/scale.py``, ``benchmarks/soak.py`` and the
fault-injection tests (``tests/faults/``).

The pieces:

* ``PrivatePostgres``: a PostgreSQL instance of its own (``initdb`` into a directory, ``pg_ctl`` on a free port,
  run as the ``postgres`` user when we are root), so a test may stop and restart it without touching the shared
  cluster on 5432;
* ``PrivateRedis``: a ``redis-server`` on a free port, started and killed by us (same arguments as ``.ci/run``);
* ``Fakes``: the fake Apify, Brevo and HubSpot servers (threads on loopback in this process);
* ``seed``: agents, N leads with a LinkedIn profile, the alert rule (every signal: in-app + e-mail to the lead's
  owner), the ``apify-linkedin`` source and a HubSpot connection, and one harvestapi profile per lead in the fake
  Apify with a new current position (so each lead's first observation makes exactly one ``new_employment``
  signal): the ground truth is one observation, one signal, one alert, one in-app and one e-mail delivery, one
  e-mail at the fake Brevo and one note at the fake HubSpot per lead;
* ``Worker``/``Scheduler``: ``upswing worker --pool solo`` (Celery on the private Redis) and ``upswing scheduler``
  as subprocesses;
* ``enqueue_cycle``: ``source.run`` runs of ``chunk`` leads each (one actor run each), handed to Celery;
* ``count``: what the database and the fakes hold, checked against the ground truth (``lost``/``duplicated``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

PASSWORD = "cycle-bench-password"  # noqa: S105
BREVO_KEY = "xkeysib-cycle"
HS_TOKEN, HS_SECRET = "pat-na1-cycle", "hub-cycle-secret"
APIFY_TOKEN = "apify_api_cycle_token"  # noqa: S105
SLUG = "apify-linkedin"
BUDGET = "linkedin-profiles"
TITLES = ("Registered Nurse", "Accountant", "Electrician", "Sales Manager", "Teacher", "Software Engineer")
EMPLOYERS = ("Mercy Health", "Acme Corp", "Globex", "Initech", "Umbrella Care", "Stark Industries")
_MARKER = re.compile(r"\[upswing:([0-9a-fA-F-]{36})\]")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(Exception):
            if condition():
                return True
        time.sleep(step)
    return False


# --------------------------------------------------------------------------------------------------
# Private services
# --------------------------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` holding initdb and pg_ctl (None when there is none)."""
    root = Path("/usr/lib/postgresql")
    for version in sorted((p for p in root.glob("*") if p.name.isdigit()), key=lambda p: int(p.name), reverse=True):
        if (version / "bin" / "initdb").exists() and (version / "bin" / "pg_ctl").exists():
            return version / "bin"
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port (``fsync=off``: its data does not outlive the test)."""

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        found = postgres_bin()
        if found is None:
            raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
        self.bin = found
        self.root = root
        self.data = root / "data"
        self.port = port or free_port()
        self.as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root

    def _run(self, *command: str, timeout: float = 120) -> None:
        full = list(command)
        if self.as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        done = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:2])} failed ({done.returncode}): {done.stderr[-2000:]}"
                               f"\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        with suppress(OSError):
            return "\n".join((self.root / "server.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def init(self) -> PrivatePostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--no-locale")
        return self

    def start(self) -> PrivatePostgres:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (``fast``: every session is cut), stay down a moment, start with the same options."""
        self.stop("fast")
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        with suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


class PrivateRedis:
    """``redis-server`` on a free port with no persistence (as ``.ci/run`` starts it): a restart loses every
    queued message, which is the point."""

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed")
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(self.port),  # noqa: S603
                                         "--save", "", "--appendonly", "no", "--dir", str(self.root)],
                                        stdout=log, stderr=subprocess.STDOUT)
        if not wait_until(self.ping, 15, 0.05):
            raise RuntimeError("the private Redis did not answer")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except Exception:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 0.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()

    def depth(self, queue: str) -> int:
        import redis

        try:
            return int(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).llen(queue))
        except Exception:
            return -1


# --------------------------------------------------------------------------------------------------
# Fakes, environment, processes
# --------------------------------------------------------------------------------------------------


@dataclass
class Fakes:
    apify: Any
    brevo: Any
    hubspot: Any

    @classmethod
    def start(cls) -> Fakes:
        from upswing.fakes.apify import FakeApify
        from upswing.fakes.brevo import FakeBrevo
        from upswing.fakes.hubspot import FakeHubSpot

        fakes = cls(FakeApify(token=APIFY_TOKEN), FakeBrevo(api_key=BREVO_KEY, rate_limit_per_s=100_000),
                    FakeHubSpot(access_token=HS_TOKEN, client_secret=HS_SECRET, search_per_s=100_000))
        for fake in (fakes.apify, fakes.brevo, fakes.hubspot):
            fake.keep_requests = False  # the counts read the fakes' state, not their request logs
            fake.start()
        # Only the Message-ID and idempotency key are counted: with every e-mail's HTML and every request's body
        # kept, this process reached 18.7 GB and was killed by the OOM killer at 988,100 of 1M leads (2026-12-08).
        fakes.brevo.keep_bodies = False
        fakes.hubspot.burst_max = 10**9  # the sync's own pacing is not what these runs measure
        return fakes

    def stop(self) -> None:
        for fake in (self.apify, self.brevo, self.hubspot):
            with suppress(Exception):
                fake.stop()


def environment(database_url: str, broker_url: str, queue: str, fakes: Fakes, data_dir: Path,
                keys: dict[str, str], **extra: str) -> dict[str, str]:
    """The ``UPSWING_*`` settings of every process of the cycle (none of the caller's own pass through)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSWING_")}
    env.update({
        "UPSWING_DATABASE_URL": database_url, "UPSWING_DATA_DIR": str(data_dir),
        "UPSWING_SECRET_KEY": keys["secret_key"], "UPSWING_ENCRYPTION_KEYS": keys["encryption_keys"],
        "UPSWING_BLIND_INDEX_KEY": keys["blind_index_key"], "UPSWING_LOG_LEVEL": "WARNING",
        "UPSWING_TASK_RUNNER": "celery", "UPSWING_CELERY_BROKER_URL": broker_url, "UPSWING_CELERY_QUEUE": queue,
        "UPSWING_EMAIL_TRANSPORT": "brevo", "UPSWING_BREVO_API_KEY": BREVO_KEY,
        "UPSWING_BREVO_BASE_URL": fakes.brevo.url, "UPSWING_ALERT_HOURLY_CAP": "1000000",
        "UPSWING_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
    })
    env.update(extra)
    return env


def new_keys() -> dict[str, str]:
    import base64
    import secrets

    return {"secret_key": secrets.token_urlsafe(48),
            "encryption_keys": f"cycle1:{base64.b64encode(os.urandom(32)).decode()}",
            "blind_index_key": base64.b64encode(os.urandom(32)).decode()}


def upswing_command() -> list[str]:
    script = Path(sys.executable).with_name("upswing")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from upswing.cli import main; main()"]


class Proc:
    """A subprocess of the cycle (its output in a log file)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=output,  # noqa: S603
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, claims left behind."""
        if self.alive():
            assert self.process is not None
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def worker(name: str, env: dict[str, str], logs: Path) -> Proc:
    """``upswing worker --pool solo``: one process that executes the runs itself, so a SIGKILL of it is the
    death of the work in hand (the prefork pool would put a parent in between)."""
    return Proc(name, [*upswing_command(), "worker", "--pool", "solo", "--loglevel", "WARNING"], env,
                logs / f"{name}.log")


def scheduler(env: dict[str, str], logs: Path, *, interval: float = 1.0, resend_after: float = 3.0) -> Proc:
    return Proc("scheduler", [*upswing_command(), "scheduler", "--interval", f"{interval:g}", "--resend-after",
                              f"{resend_after:g}"], env, logs / "scheduler.log")


class StatisticsKeeper:
    """ANALYZE the database every ``every_s`` seconds while a cycle runs, when the server's autovacuum is off.

    A deployment's autovacuum analyzes a table once a tenth of it has changed. This machine's PostgreSQL runs with
    ``autovacuum = off`` (its CI configuration), so the tables a cycle fills kept the statistics of the empty
    tables they were at its start, and the planner read them in full for each look-up: at 1M leads the evidence
    look-ups scanned 578,000 rows each and monitoring fell from ~205 to 154 profiles/s, back to 230/s within a
    minute of one ANALYZE by hand (2026-12-08)."""

    def __init__(self, engine: Any, *, every_s: float = 300.0) -> None:
        self.engine, self.every_s = engine, every_s
        self.analyzes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="statistics-keeper", daemon=True)
        with engine.connect() as connection:
            self.autovacuum = connection.execute(text("SHOW autovacuum")).scalar() == "on"

    def start(self) -> StatisticsKeeper:
        if not self.autovacuum:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=120)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            with suppress(Exception), self.engine.begin() as connection:  # committed: a rolled-back one is lost
                connection.execute(text("ANALYZE"))
                self.analyzes += 1


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (KiB), from /proc."""
    total = 0
    pids = [pid]
    with suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    for one in pids:
        with suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def harvest_item(public_id: str, first: str, last: str, title: str, employer: str, n: int,
                 started: datetime) -> dict[str, Any]:
    """A harvestapi profile: the lead's employer before, a new current position this month (a new_employment
    signal on the first observation)."""
    month = started.strftime("%b")
    new_title, new_company = TITLES[(n + 1) % len(TITLES)], f"New Employer {n % 211}"
    return {
        "id": f"ACoAA{public_id.replace('-', '').upper()[:20]}", "publicIdentifier": public_id,
        "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": first, "lastName": last,
        "headline": f"{new_title} at {new_company}", "location": {"linkedinText": "Austin, Texas, United States"},
        "currentPosition": [{"companyName": new_company}],
        "experience": [
            {"position": new_title, "companyName": new_company, "location": "Austin, TX",
             "startDate": {"month": month, "year": started.year, "text": f"{month} {started.year}"},
             "endDate": {"text": "Present"}},
            {"position": title, "companyName": employer, "location": "Austin, TX",
             "startDate": {"month": "Mar", "year": 2019, "text": "Mar 2019"},
             "endDate": {"month": "Aug", "year": started.year - 1, "text": f"Aug {started.year - 1}"}},
        ],
        "education": [], "certifications": [], "honorsAndAwards": [], "skills": [],
    }


def public_id(run: str, n: int) -> str:
    return f"cyc-{run}-{n:07d}"


#: Specialists per team in the seeded book.
TEAM_SIZE = 20


def seed(factory: sessionmaker[Session], fakes: Fakes, leads: int, *, agents: int = 20, batch_size: int = 25,
         run: str | None = None, profiles: bool = True, importer: str = "bulk", crm_connection: bool = True,
         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Users, leads, the alert rule, the source and the HubSpot connection; the profiles in the fake Apify.

    ``importer``: ``bulk`` writes the leads with multi-row inserts (``insert(Lead)`` in chunks: the tests, where
    the import is not what is looked at); ``import`` sends them through the product's import
    (``lead.service.import_leads``: validation, normalisation, blind indexes, assignment by user name, the audit
    record), 5,000 rows per transaction, timed (``import_s``). Returns what the cycle needs."""
    from sqlalchemy import delete, insert

    from upswing.account.models import Role, Team, User
    from upswing.account.security import hash_password
    from upswing.alert import service as alerts
    from upswing.alert.models import AlertRule
    from upswing.alert.schemas import RuleCreate
    from upswing.lead.models import Lead, Portfolio
    from upswing.source import service as sources
    from upswing.source.schemas import SourceUpdate

    run = run or uuid.uuid4().hex[:6]
    started = time.perf_counter()
    with factory() as session, session.begin():
        # Teams of TEAM_SIZE: an agent's digest and feed cover their team's signals, and one team of thousands
        # made every digest read the whole cycle's signals.
        teams = [Team(name=f"cycle-{run}" if t == 0 else f"cycle-{run}-{t}")
                 for t in range(max(1, -(-agents // TEAM_SIZE)))]
        session.add_all(teams)
        session.flush()
        password = hash_password(PASSWORD)
        users = [User(username=f"cycle.{run}.agent{n:02d}", email=f"agent{n:02d}.{run}@cycle.example",
                      full_name=f"Agent {n:02d}", password_hash=password, role=Role.AGENT.value,
                      team_id=teams[n // TEAM_SIZE].id, timezone="UTC") for n in range(agents)]
        session.add_all(users)
        session.flush()
        user_ids = [u.id for u in users]
        team_ids = [teams[n // TEAM_SIZE].id for n in range(agents)]
        from upswing.digest.models import DigestPreference

        # The digest waits until ``release_digests`` (scale.py): the cycle's signals first. Off, not late in the
        # day: with a send time of 23:59 a run going through that minute sent the digests before the alerts.
        session.add_all(DigestPreference(team_id=team.id, frequency="off", send_time="00:00", updated_by="cycle")
                        for team in teams)
        portfolio = Portfolio(name=f"cycle-{run}")
        session.add(portfolio)
        session.flush()
        portfolio_id = portfolio.id
        session.execute(delete(AlertRule))  # the shipped defaults: this rule alone decides
        alerts.create_rule(session, RuleCreate.model_validate({
            "name": "cycle: every signal", "channels": ["in_app", "email"], "recipients": {"to": "owner"}}),
            user=None, actor="cycle")
        sources.configure(session, SLUG, SourceUpdate(
            config={"token": APIFY_TOKEN, "base_url": fakes.apify.url, "batch_size": batch_size}, enabled=True,
            budgets={BUDGET: 100_000_000}), actor="cycle")
    if crm_connection:
        connect_hubspot(factory, fakes, run)
    chunk = 5000
    now = datetime.now(UTC)
    usernames = [f"cycle.{run}.agent{n:02d}" for n in range(agents)]
    import_s = 0.0
    for first in range(0, leads, chunk):
        rows, items = [], []
        for n in range(first, min(leads, first + chunk)):
            pid = public_id(run, n)
            title, employer = TITLES[n % len(TITLES)], f"{EMPLOYERS[n % len(EMPLOYERS)]} {n % 97}"
            last = f"Morgan{n}"
            rows.append({"id": uuid.uuid4(), "portfolio_id": portfolio_id, "external_id": f"CY-{run}-{n:07d}",
                         "first_name": "Casey", "last_name": last, "emails": [], "phones": [],
                         "city": "Austin", "state": "TX", "country": "US", "timezone": "America/Chicago",
                         "linkedin_url": f"https://www.linkedin.com/in/{pid}", "linkedin_public_id": pid,
                         "employer": employer, "title": title, "balance": Decimal(1000 + (n % 50) * 500),
                         "days_delinquent": 90 + n % 300, "assignee_id": user_ids[n % len(user_ids)],
                         "team_id": team_ids[n % len(user_ids)]})
            if profiles:
                items.append(harvest_item(pid, "Casey", last, title, employer, n, now))
        if importer == "import":
            from upswing.lead.service import import_leads

            records = [{"external_id": r["external_id"], "first_name": r["first_name"], "last_name": r["last_name"],
                        "city": r["city"], "state": r["state"], "country": r["country"],
                        "linkedin_url": r["linkedin_url"], "employer": r["employer"], "title": r["title"],
                        "balance": str(r["balance"]), "days_delinquent": str(r["days_delinquent"]),
                        "assignee": usernames[n % len(usernames)]}
                       for n, r in enumerate(rows, start=first)]
            clock = time.perf_counter()
            with factory() as session, session.begin():
                report = import_leads(session, records, actor="cycle", portfolio_name=f"cycle-{run}")
            import_s += time.perf_counter() - clock
            if report.created != len(records):
                raise RuntimeError(f"the import created {report.created} of {len(records)} leads: {report}")
        else:
            with factory() as session, session.begin():
                session.execute(insert(Lead), rows)
        if progress is not None:
            progress(f"{min(leads, first + chunk)} leads written")
        if profiles:
            from upswing.fakes.apify import HARVEST_PROFILES

            fakes.apify.add_profiles(HARVEST_PROFILES, items)
    return {"run": run, "portfolio_id": portfolio_id, "leads": leads, "import_s": round(import_s, 2),
            "seed_s": round(time.perf_counter() - started, 2)}


def connect_hubspot(factory: sessionmaker[Session], fakes: Fakes, run: str) -> None:
    """A HubSpot connection to the fake: from now on each new signal is queued for a push (a note)."""
    import httpx

    from upswing.crm import service as crm

    with factory() as session, session.begin(), httpx.Client(timeout=30) as client:
        connection = crm.create_connection(session, system="hubspot", name=f"cycle-{run}",
                                           config={"base_url": fakes.hubspot.url, "access_token": HS_TOKEN,
                                                   "client_secret": HS_SECRET},
                                           daily_budget=100_000_000, actor="cycle")
        crm.connect(session, connection, http=client, actor="cycle")


def release_digests(factory: sessionmaker[Session]) -> None:
    """Turn the cycle's teams' daily digest on at 00:00 (passed): the next ``digest.run`` records them."""
    with factory() as session, session.begin():
        session.execute(text("UPDATE digest_preferences SET frequency = 'daily', send_time = '00:00' "
                             "WHERE updated_by = 'cycle'"))


def lead_ids(factory: sessionmaker[Session], portfolio_id: uuid.UUID) -> list[uuid.UUID]:
    from sqlalchemy import select

    from upswing.lead.models import Lead

    with factory() as session:
        return list(session.scalars(select(Lead.id).where(Lead.portfolio_id == portfolio_id)
                                    .order_by(Lead.external_id)))


def enqueue_cycle(factory: sessionmaker[Session], ids: list[uuid.UUID], *, chunk: int, tag: str) -> int:
    """One ``source.run`` per ``chunk`` leads, committed (then sent to Celery) in transactions of 500 runs."""
    from upswing.core.tasks import enqueue

    runs = 0
    chunks = [ids[i:i + chunk] for i in range(0, len(ids), chunk)]
    for start in range(0, len(chunks), 500):
        with factory() as session, session.begin():
            for n, part in enumerate(chunks[start:start + 500], start=start):
                if enqueue(session, "source.run", SLUG, [str(i) for i in part], key=f"cycle:{tag}:{n}"):
                    runs += 1
    return runs


def fast_forward(factory: sessionmaker[Session]) -> dict[str, int]:
    """Move the deadlines of the durable rows into the past: the claims of dead (or cut-off) workers expire and
    the retry back-offs elapse, as they would by waiting their leases (minutes to hours) out. The code paths
    that take over are the production ones (``_claimable``, the outbox's and the senders' claims)."""
    statements = {
        "task_runs": "UPDATE task_runs SET locked_until = now() - interval '1 second' "
                     "WHERE status = 'running' AND locked_until > now()",
        "task_runs_due": "UPDATE task_runs SET run_after = now() - interval '1 second' "
                         "WHERE status = 'queued' AND run_after > now()",
        "outbox": "UPDATE outbox_receipts SET locked_until = CASE WHEN locked_until IS NULL THEN NULL "
                  "ELSE now() - interval '1 second' END, run_after = LEAST(run_after, now()) "
                  "WHERE status = 'pending' AND (locked_until > now() OR run_after > now())",
        "alert_deliveries": "UPDATE alert_deliveries SET run_after = LEAST(run_after, now()), locked_until = "
                            "CASE WHEN locked_until IS NULL THEN NULL ELSE now() - interval '1 second' END "
                            "WHERE status = 'pending' AND (run_after > now() OR locked_until > now())",
        "crm_pushes": "UPDATE crm_pushes SET run_after = LEAST(run_after, now()), locked_until = "
                      "CASE WHEN locked_until IS NULL THEN NULL ELSE now() - interval '1 second' END "
                      "WHERE status = 'pending' AND (run_after > now() OR locked_until > now())",
        "crm_connections": "UPDATE crm_connections SET paused_until = NULL WHERE paused_until > now()",
    }
    moved: dict[str, int] = {}
    with factory() as session, session.begin():
        for name, statement in statements.items():
            with suppress(Exception), session.begin_nested():
                moved[name] = int(session.execute(text(statement)).rowcount or 0)  # type: ignore[attr-defined]
    return moved


def state(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Where the durable rows stand (for a failure's report)."""
    queries = {
        "task_runs": "SELECT name || ':' || status, count(*) FROM task_runs GROUP BY 1",
        "outbox_receipts": "SELECT consumer || ':' || status, count(*) FROM outbox_receipts GROUP BY 1",
        "alert_deliveries": "SELECT channel || ':' || status, count(*) FROM alert_deliveries GROUP BY 1",
        "crm_pushes": "SELECT status, count(*) FROM crm_pushes GROUP BY 1",
        "crm_connections": "SELECT status || ':' || coalesce(last_error, ''), count(*) FROM crm_connections GROUP BY 1",
    }
    found: dict[str, Any] = {}
    with factory() as session:
        for name, sql in queries.items():
            try:
                with session.begin_nested():
                    found[name] = {str(k): int(v) for k, v in session.execute(text(sql)).all()}
            except Exception as exc:
                found[name] = f"{type(exc).__name__}"
    return found


# --------------------------------------------------------------------------------------------------
# Counting against the ground truth
# --------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    expected: int
    counts: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def total_duplicated(self) -> int:
        return sum(self.duplicated.values())

    def complete(self) -> bool:
        return self.total_lost == 0

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "counts": self.counts, "lost": self.lost,
                "duplicated": self.duplicated, **self.extra}


def _per(session: Session, statement: Any, params: dict[str, Any]) -> tuple[int, int, int]:
    """(rows, keys with at least one row, rows beyond the first per key) of ``statement`` returning (key, n)."""
    rows = session.execute(statement, params).all()
    return sum(r[1] for r in rows), len(rows), sum(r[1] - 1 for r in rows if r[1] > 1)


def count(factory: sessionmaker[Session], fakes: Fakes, portfolio_id: uuid.UUID, expected: int, *,
          crm: bool = True, only: list[uuid.UUID] | None = None) -> Tally:
    """Observations, signals, alerts, deliveries (in-app and e-mail), e-mails at the fake Brevo and notes at the
    fake HubSpot, each against one per lead (of the portfolio, or of ``only``); ``lost``: leads (or signals)
    missing one, ``duplicated``: rows beyond the one expected."""
    tally = Tally(expected)
    p = {"p": portfolio_id, "every": only is None, "ids": list(only or [])}
    in_portfolio = ("JOIN leads l ON l.id = {t}.lead_id WHERE l.portfolio_id = :p "
                    "AND (CAST(:every AS boolean) OR l.id = ANY(:ids))")

    def sql(template: str, table: str) -> Any:  # fixed fragments only: no value is spliced in
        return text(template.replace("{in_portfolio}", in_portfolio.replace("{t}", table)))

    via_alert = "FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id JOIN signals s ON s.id = a.signal_id "
    with factory() as session:
        checks = {
            "observations": sql("SELECT o.lead_id, count(*) FROM observations o {in_portfolio} GROUP BY o.lead_id",
                                "o"),
            "signals": sql("SELECT s.lead_id, count(*) FROM signals s {in_portfolio} GROUP BY s.lead_id", "s"),
            "alerts": sql("SELECT a.signal_id, count(*) FROM alerts a JOIN signals s ON s.id = a.signal_id "
                          "{in_portfolio} GROUP BY a.signal_id", "s"),
            "deliveries_in_app": sql("SELECT a.signal_id, count(*) " + via_alert
                                     + "{in_portfolio} AND d.channel = 'in_app' GROUP BY a.signal_id", "s"),
            "deliveries_email_sent": sql("SELECT a.signal_id, count(*) " + via_alert
                                         + "{in_portfolio} AND d.channel = 'email' AND d.status = 'sent' "
                                         "GROUP BY a.signal_id", "s"),
        }
        for name, statement in checks.items():
            rows, keys, beyond = _per(session, statement, p)
            tally.counts[name] = rows
            tally.lost[name] = expected - keys
            tally.duplicated[name] = beyond
        email_ids = {str(r[0]): str(r[1]) for r in session.execute(sql(
            "SELECT d.id, a.signal_id " + via_alert + "{in_portfolio} AND d.channel = 'email'", "s"), p)}
        signal_ids = {str(r[0]) for r in session.execute(sql("SELECT s.id FROM signals s {in_portfolio}", "s"), p)}
        failed_runs = session.execute(text("SELECT name, count(*) FROM task_runs WHERE status = 'failed' "
                                           "GROUP BY name")).all()
    # E-mails at the fake Brevo: the Message-ID header carries the delivery's id.
    by_delivery: Counter[str] = Counter()
    for message in fakes.brevo.messages:
        found = re.search(r"[0-9a-fA-F-]{36}", message.header_message_id or "")
        if found and found.group(0) in email_ids:
            by_delivery[found.group(0)] += 1
    by_signal = Counter(email_ids[d] for d in by_delivery)
    tally.counts["emails_received"] = sum(by_delivery.values())
    tally.lost["emails_received"] = expected - len(by_signal)
    tally.duplicated["emails_received"] = sum(k - 1 for k in by_signal.values() if k > 1)
    # A repeat of one delivery (same Message-ID, sent again after its sender died before recording it) is the
    # at-least-once hand-over the Message-ID lets the receiving side drop; counted apart.
    tally.extra["email_resent_same_message_id"] = sum(k - 1 for k in by_delivery.values() if k > 1)
    # ... and which Brevo recognises as such: the same idempotencyKey as the first send (``repeat``).
    tally.extra["email_repeats_recognised"] = sum(1 for m in fakes.brevo.messages if m.repeat)
    if crm:
        with fakes.hubspot._lock:
            bodies = [obj.properties.get("hs_note_body", "") for obj in fakes.hubspot._objects["notes"].values()]
        notes: Counter[str] = Counter()
        for body in bodies:
            found = _MARKER.search(body or "")
            if found and found.group(1) in signal_ids:
                notes[found.group(1)] += 1
        tally.counts["crm_notes"] = sum(notes.values())
        tally.lost["crm_notes"] = expected - len(notes)
        tally.duplicated["crm_notes"] = sum(k - 1 for k in notes.values() if k > 1)
    tally.extra["failed_task_runs"] = {name: n for name, n in failed_runs}
    return tally
