"""Digest: 1,000 users × 20 signals each, composed, rendered and handed to the fake Brevo; then the same through SMTP.

    python benchmarks/digest.py [--users 1000] [--signals-per-user 20] [--leads-per-user 10] [--team-size 0]
                                [--database both|sqlite|postgresql] [--postgres-url URL] [--send-concurrency N]
                                [--profile] [--keep] [--results-dir DIR]
    python benchmarks/digest.py --users 100 --results-dir /tmp/digest-smoke     # a smoke run, ~30 s in all

For each database, a fresh one, built by the app's migrations in a child process that runs with its own settings
(``UPSWING_ENVIRONMENT=production``, generated keys, WARNING logs, the embedded task runner; no ``UPSWING_*``
variable of the caller's shell is passed on):

* SQLite: the embedded default, ``<data dir>/upswing.db`` in a temporary directory (``UPSWING_DATA_DIR``);
* PostgreSQL: a scratch database ``upswing_bench_digest_<pid>`` at ``postgres@127.0.0.1:5432`` (or
  ``--postgres-url``), dropped afterwards; skipped, with a note, when no server answers.

Data (bulk inserts; the same every run but for the ids and the users' zones, which follow the clock): ``--users``
agents, each with an e-mail address and a time zone whose local time at the start is between 08:00 and 22:00 (so
their 07:30 send time has passed and their local date does not change during the run); ``--leads-per-user`` leads
each (US states and zones, a cell phone; 2% under a cease flag, so some of the guard's answers are refusals);
``--signals-per-user`` new signals each on those leads, detected 30 minutes to 22 hours before the start (inside a
first digest's one-day look-back), every signal type, priorities urgent 10% / high 20% / medium 35% / low 35% with
scores inside each priority's band, varied titles, organisations, event dates, evidence links and snippets. No
earlier digests, no preferences: everyone gets the defaults (daily, 07:30, HTML + text, at most 25 signals per
priority). By default the agents are in no team, so each digest lists exactly the agent's own 20 signals; an agent
in a team also sees the team's signals (``lead.access.owner_scopes``), so with ``--team-size N`` each digest counts
N × 20 signals and lists the top 25 of each priority (about 100 items, ~135 kB of HTML).

Measured, per database and transport (the fake in this process, as in the tests, so its CPU counts too):

1. ``upswing.digest.service.run`` at the real current time: every user is due; each digest is composed, rendered
   and recorded with its e-mail delivery in its own transaction (as the every-minute ``digest.run`` task does);
2. then ``upswing.alert.sending.send_due`` (what the ``alerts.send`` task runs) sends the deliveries,
   ``alert_send_concurrency`` (8) at a time, through ``BrevoTransport`` against ``upswing.fakes.brevo.FakeBrevo``,
   or, for the second pass, ``SmtpTransport`` (one connection per message, no TLS) against
   ``upswing.fakes.smtp.FakeSmtp`` (aiosmtpd), after the first pass's digests, deliveries and send runs are deleted
   so that everyone is due again with the same news.

The two steps run one after the other (in a deployment the sends start as the first digests commit), so the time
is an upper bound. Before the first pass the process imports its task modules and renders one preview, as a
running worker has. ``seconds_<transport>``: from the start of ``service.run`` to the last message the fake
accepted; also the split (``run_s``: recording every digest; ``send_s``: sending them), the compose and render time
per digest (timed by wrapping ``service.compose`` and ``service.render``), and the sizes of the parts.

Checked on every message (a failure is counted in ``errors`` and fails the goal): exactly one message per user and
no other (by recipient and Message-ID = the delivery's id), no repeat, the subject's counts per priority equal the
user's signals (they add up to ``--signals-per-user``), and the text and HTML parts link exactly the signals the
digest should list (``?signal=<id>``); every delivery ``sent`` and every digest ``queued`` in the database.

Output: progress and a table per database on stderr; ``benchmarks/results/digest/summary.json``; the last line is
one JSON object: ``digests``, ``seconds_brevo``, ``seconds_smtp``, ``p95_render_ms`` (the worse database),
``p95_compose_ms``, ``bytes_p95_html``, ``goal_s`` (60), ``goal_met`` (both ≤ 60 s on every database, no error),
``errors``, ``database`` (the slower one), ``users``, ``signals_per_user``, and a block per database.
``--profile`` runs each database's Brevo pass under cProfile (the main thread: recording; the sends run in the
sender's pool threads) and writes the top functions to ``results/digest/tmp/profile_<database>_brevo.txt`` (and the
stats, for ``pstats``, beside it as ``.prof``).

How long: about 10 s to build each database, then each pass 25-50 s on this machine: about 4 minutes in all.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _scratch import new_keys, postgres_database

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results" / "digest"
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GOAL_S = 60.0
BREVO_KEY = "xkeysib-digest-bench"
SENDER = "digest@upswing.bench.example"
BASE_URL = "https://upswing.bench.example"
PASSWORD = "digest-bench-password"  # noqa: S105
PRIORITY_SHARES = (("urgent", 10), ("high", 20), ("medium", 35), ("low", 35))
SIGNAL_ID = re.compile(r"[?&]signal=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
SUBJECT = re.compile(r"^(?P<counts>.*) — Upswing digest for .+$")
SUBJECT_COUNT = re.compile(r"(\d+) (urgent|high|medium|low)")
#: Zones for the users: at any moment several of them are between 08:00 and 22:00.
USER_ZONES = ("Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
              "America/New_York", "America/Halifax", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London",
              "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata",
              "Asia/Dhaka", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Australia/Brisbane", "Australia/Sydney",
              "Pacific/Noumea", "Pacific/Auckland", "Pacific/Tongatapu", "Pacific/Kiritimati")
LEAD_PLACES = (("TX", "Austin", "America/Chicago"), ("NY", "Buffalo", "America/New_York"),
               ("CA", "Fresno", "America/Los_Angeles"), ("FL", "Tampa", "America/New_York"),
               ("IL", "Peoria", "America/Chicago"), ("AZ", "Tucson", "America/Phoenix"),
               ("CO", "Denver", "America/Denver"), ("WA", "Spokane", "America/Los_Angeles"),
               ("GA", "Macon", "America/New_York"), ("OH", "Dayton", "America/New_York"),
               ("HI", "Hilo", "Pacific/Honolulu"), ("AK", "Juneau", "America/Anchorage"))
FIRST_NAMES = ("Avery", "Jordan", "Casey", "Morgan", "Riley", "Quinn", "Harper", "Rowan", "Emerson", "Dakota",
               "Sofia", "Mateo", "Amara", "Kenji", "Priya", "Olusegun", "Ingrid", "Tomasz", "Leilani", "Marisol")
LAST_NAMES = ("Rivera", "Nguyen", "Okafor", "Kowalski", "Haddad", "Lindqvist", "Castillo", "Brennan", "Takahashi",
              "Mensah", "Abernathy", "Delacroix", "Fitzgerald", "Guerrero", "Ivanova", "Johansson", "Kapoor", "Mbeki")
TITLES = ("Registered Nurse", "Senior Software Engineer", "Operations Manager", "Regional Sales Director",
          "Certified Public Accountant", "Physical Therapist", "Project Manager (PMP)", "Electrician Journeyman",
          "Owner & Operator", "Vice President of Finance", "Data Analyst", "Commercial Truck Driver (CDL-A)",
          "Dental Hygienist", "Licensed Real Estate Agent", "Chief Operating Officer")
ORGANIZATIONS = ("St. Luke's Health System", "Northwind Logistics", "Contoso Manufacturing", "Blue Ridge Dental",
                 "Fabrikam Energy Partners", "Lakeside Credit Union", "Summit Orthopedics", "Tailspin Freight LLC",
                 "Harborview Medical Center", "Riverbend Construction Co.", "Adventure Works Outdoor",
                 "Pinecrest School District", "Granite State Electric", "Sunbelt Realty Group", "Litware Analytics")
SNIPPETS = ("Experience: {title} at {org} ({month} {year} – present). Responsible for a team of {n} and the "
            "regional budget; previously with {prev} for {years} years.",
            "{org} announces that {first} {last} has joined as {title}, effective {month} {year}. "
            "\"We are delighted to welcome {first} to the team,\" said the chief executive.",
            "License record: {title}, status ACTIVE, issued {month} {year}, expires {month} {later}; employer of "
            "record {org}.",
            "Posted on LinkedIn: \"Thrilled to share that I have started a new position as {title} at {org}! "
            "Grateful to everyone at {prev} for {years} wonderful years.\"",
            "{org} is expanding: a second location opens in {month} with {n} new positions, led by {title} "
            "{first} {last}.")


def log(message: str) -> None:
    print(f"[digest {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
# The child process: one database, with its own settings (UPSWING_* in its environment)
# ==================================================================================================


@dataclass
class Seeded:
    """What each user should receive."""

    users: dict[uuid.UUID, str] = field(default_factory=dict)  # id → e-mail address
    teams: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)  # user id → team id
    #: Per owner (a user, or a team for its members): (signal id, priority, score) of the new signals.
    owned: dict[uuid.UUID, list[tuple[str, str, int]]] = field(default_factory=lambda: defaultdict(list))
    zones: Counter[str] = field(default_factory=Counter)
    counts: dict[uuid.UUID, Counter[str]] = field(default_factory=dict)  # id → signals per priority (expected)
    signals: dict[uuid.UUID, set[str]] = field(default_factory=dict)  # id → the signal ids listed (expected)

    def expect(self, limit: int) -> None:
        """What each digest reports: an agent sees their own signals and their team's; per priority the count of
        all and the ``limit`` highest-scoring listed (ties by id, as ``digest.content`` picks them)."""
        for user_id in self.users:
            team = self.teams[user_id]
            visible = list(self.owned[team]) if team is not None else list(self.owned[user_id])
            self.counts[user_id] = Counter(priority for _, priority, _ in visible)
            by_priority: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for signal_id, priority, score in visible:
                by_priority[priority].append((-score, signal_id))
            self.signals[user_id] = {signal_id for entries in by_priority.values()
                                     for _, signal_id in sorted(entries)[:limit]}


def user_zones(now: datetime) -> list[str]:
    """Zones where it is between 08:00 and 22:00 now: past the 07:30 send time, and the local date holds for
    the next two hours."""
    return [zone for zone in USER_ZONES if 8 <= now.astimezone(ZoneInfo(zone)).hour < 22]


def seed(factory: Any, config: dict[str, Any], now: datetime) -> Seeded:
    from decimal import Decimal

    from sqlalchemy import insert

    from upswing.account.models import Role, Team, User
    from upswing.account.security import hash_password
    from upswing.compliance.models import LeadComplianceFlag
    from upswing.detection.events import SignalType
    from upswing.lead.models import Lead, Portfolio
    from upswing.signal.models import Signal
    from upswing.signal.scoring import DEFAULT_THRESHOLDS

    rng = random.Random(14)
    users, leads_per_user, per_user = config["users"], config["leads_per_user"], config["signals_per_user"]
    zones = user_zones(now)
    if not zones:
        raise RuntimeError("no user zone is between 08:00 and 22:00 now")
    seeded = Seeded()
    password_hash = hash_password(PASSWORD)
    bands = {"urgent": (DEFAULT_THRESHOLDS["urgent"], 100), "high": (DEFAULT_THRESHOLDS["high"],
                                                                      DEFAULT_THRESHOLDS["urgent"] - 1),
             "medium": (DEFAULT_THRESHOLDS["medium"], DEFAULT_THRESHOLDS["high"] - 1),
             "low": (5, DEFAULT_THRESHOLDS["medium"] - 1)}
    priorities = [name for name, share in PRIORITY_SHARES for _ in range(share)]
    types = list(SignalType)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    with factory() as session, session.begin():
        team_size = config["team_size"]
        teams = [Team(id=uuid.uuid4(), name=f"digest-bench-team-{n:03d}")
                 for n in range(-(-users // team_size) if team_size else 0)]
        session.add_all(teams)
        portfolios = [Portfolio(id=uuid.uuid4(), name=f"digest-bench-{name}") for name in ("cards", "auto")]
        session.add_all(portfolios)
        session.flush()
        user_rows, lead_rows, signal_rows, flag_rows = [], [], [], []
        for u in range(users):
            user_id = uuid.uuid4()
            email = f"digest.agent{u:04d}@lender.example"
            zone = zones[u % len(zones)]
            team_id = teams[u // team_size].id if team_size else None
            seeded.users[user_id], seeded.teams[user_id] = email, team_id
            seeded.zones[zone] += 1
            user_rows.append({"id": user_id, "username": f"digest.agent{u:04d}", "email": email,
                              "full_name": f"{FIRST_NAMES[u % len(FIRST_NAMES)]} {LAST_NAMES[u % len(LAST_NAMES)]}",
                              "password_hash": password_hash, "role": Role.AGENT.value,
                              "team_id": team_id, "is_active": True, "timezone": zone})
            lead_ids = []
            for k in range(leads_per_user):
                n = u * leads_per_user + k
                lead_id = uuid.uuid4()
                lead_ids.append(lead_id)
                state, city, lead_zone = LEAD_PLACES[rng.randrange(len(LEAD_PLACES))]
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                lead_rows.append({
                    "id": lead_id, "portfolio_id": portfolios[n % 2].id, "external_id": f"DG-{n:07d}",
                    "first_name": first, "last_name": f"{last}{n}", "email": f"{first.lower()}.{n}@example.com",
                    "emails": [f"{first.lower()}.{n}@example.com"], "phone": f"+1512555{n % 10000:04d}",
                    "phones": [{"number": f"+1512555{n % 10000:04d}", "type": "cell"}], "city": city,
                    "state": state, "country": "US", "timezone": lead_zone,
                    "balance": Decimal(rng.randrange(500, 50_000)), "days_delinquent": rng.randrange(30, 720),
                    "assignee_id": user_id, "team_id": team_id})
                if rng.random() < 0.02:
                    flag_rows.append({"id": uuid.uuid4(), "lead_id": lead_id, "flag": "cease",
                                      "note": "Written cease request", "set_at": now - timedelta(days=30),
                                      "set_by": "benchmark"})
            for s in range(per_user):
                priority = rng.choice(priorities)
                score = rng.randint(*bands[priority])
                title, org, prev = rng.choice(TITLES), rng.choice(ORGANIZATIONS), rng.choice(ORGANIZATIONS)
                detected = now - timedelta(seconds=rng.randrange(30 * 60, 22 * 3600))
                effective = (detected - timedelta(days=rng.randrange(0, 60))).date() if rng.random() < 0.9 else None
                month, year = months[rng.randrange(12)], 2020 + rng.randrange(7)
                snippet = rng.choice(SNIPPETS).format(title=title, org=org, prev=prev, n=rng.randrange(3, 40),
                                                      years=rng.randrange(2, 15), month=month, year=year,
                                                      later=year + 2, first=rng.choice(FIRST_NAMES),
                                                      last=rng.choice(LAST_NAMES))
                signal_id = uuid.uuid4()
                strength = round(score * 0.6)
                signal_rows.append({
                    "id": signal_id, "lead_id": lead_ids[s % leads_per_user], "assignee_id": user_id,
                    "team_id": team_id, "type": types[(u + s) % len(types)].value, "title": title,
                    "organization": org, "effective_date": effective, "detected_at": detected,
                    "confidence": round(rng.uniform(0.55, 0.99), 2),
                    "evidence_url": f"https://www.linkedin.com/in/digest-bench-{u}-{s}",
                    "evidence_snippet": snippet, "observation_ids": [], "score": score, "priority": priority,
                    "score_breakdown": {"strength": strength, "confidence": round(score * 0.1),
                                        "recency": round(score * 0.15), "corroboration": 0,
                                        "balance": round(score * 0.1), "delinquency": score - strength
                                        - round(score * 0.1) * 2 - round(score * 0.15), "outcomes": 0},
                    "scored_at": detected, "status": "new", "dedupe_key": uuid.uuid4().hex + uuid.uuid4().hex,
                    "created_at": detected, "updated_at": detected})
                seeded.owned[team_id or user_id].append((str(signal_id), priority, score))
        for model, rows in ((User, user_rows), (Lead, lead_rows), (Signal, signal_rows),
                            (LeadComplianceFlag, flag_rows)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start:start + 2000])
    return seeded


@dataclass
class Timed:
    """Wall times of calls to a function, replaced in its module while the context is open."""

    ms: list[float] = field(default_factory=list)

    @contextmanager
    def around(self, module: Any, name: str) -> Iterator[None]:
        real: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.ms.append((time.perf_counter() - started) * 1000)

        setattr(module, name, timed)
        try:
            yield
        finally:
            setattr(module, name, real)


@dataclass(frozen=True)
class Received:
    """One accepted message, whichever the transport."""

    to: str
    message_id: str | None
    subject: str
    text: str
    html: str
    accepted_at: float
    repeat: bool = False


def _from_brevo(messages: list[Any]) -> list[Received]:
    return [Received(to=str((m.to or [{}])[0].get("email", "")), message_id=m.header_message_id,
                     subject=m.subject or "", text=m.text_content or "", html=m.html_content or "",
                     accepted_at=m.accepted_at, repeat=m.repeat) for m in messages]


def _from_smtp(messages: list[Any]) -> list[Received]:
    out = []
    for m in messages:
        plain, html = m.message.get_body(("plain",)), m.message.get_body(("html",))
        out.append(Received(to=m.rcpt_tos[0] if m.rcpt_tos else "", message_id=m.message["Message-ID"],
                            subject=str(m.message["Subject"] or ""),
                            text=plain.get_content() if plain is not None else "",
                            html=html.get_content() if html is not None else "", accepted_at=m.received_at))
    return out


def verify(received: list[Received], seeded: Seeded, deliveries: dict[str, uuid.UUID]) -> dict[str, int]:
    """Problems found, by kind (none: every user got exactly their digest, once)."""
    problems: Counter[str] = Counter()
    by_address = {address: user_id for user_id, address in seeded.users.items()}
    seen: Counter[uuid.UUID] = Counter()
    for message in received:
        user_id = by_address.get(message.to.lower())
        if user_id is None:
            problems["unknown_recipient"] += 1
            continue
        seen[user_id] += 1
        if message.repeat:
            problems["repeat"] += 1
        if deliveries.get(message.message_id or "") != user_id:
            problems["message_id_not_the_users_delivery"] += 1
        match = SUBJECT.match(message.subject)
        counts = Counter({p: int(n) for n, p in SUBJECT_COUNT.findall(match["counts"])}) if match else Counter()
        if counts != seeded.counts[user_id]:
            problems["subject_counts_wrong"] += 1
        expected = seeded.signals[user_id]
        if set(SIGNAL_ID.findall(message.text)) != expected:
            problems["text_signals_wrong"] += 1
        if set(SIGNAL_ID.findall(message.html)) != expected:
            problems["html_signals_wrong"] += 1
    problems["duplicate"] += sum(n - 1 for n in seen.values() if n > 1)
    problems["missing"] += sum(1 for user_id in seeded.users if user_id not in seen)
    return {kind: n for kind, n in problems.items() if n}


def reset(factory: Any) -> None:
    """Forget the digests, their deliveries and send runs: everyone is due again, with the same news."""
    from sqlalchemy import delete

    from upswing.alert.models import AlertDelivery
    from upswing.core.tasks import TaskRun
    from upswing.digest.models import Digest

    with factory() as session, session.begin():
        session.execute(delete(Digest))
        session.execute(delete(AlertDelivery).where(AlertDelivery.event_type == "digest"))
        session.execute(delete(TaskRun).where(TaskRun.name == "alerts.send"))


def database_state(factory: Any) -> tuple[dict[str, uuid.UUID], dict[str, int], dict[str, int]]:
    """Message-ID → user of each digest delivery; deliveries and digests by status."""
    from sqlalchemy import func, select

    from upswing.alert.models import AlertDelivery
    from upswing.digest.models import Digest
    from upswing.notify.email import message_id_for

    with factory() as session:
        ids = {message_id_for(str(d)): u for d, u in session.execute(
            select(AlertDelivery.id, AlertDelivery.user_id).where(AlertDelivery.event_type == "digest"))}
        deliveries = {status: n for status, n in session.execute(
            select(AlertDelivery.status, func.count()).where(AlertDelivery.event_type == "digest")
            .group_by(AlertDelivery.status))}
        digests = {status: n for status, n in session.execute(
            select(Digest.status, func.count()).group_by(Digest.status))}
    return ids, deliveries, digests


def one_pass(transport_name: str, factory: Any, settings: Any, seeded: Seeded, config: dict[str, Any],
             profile_to: Path | None) -> dict[str, Any]:
    """service.run at the current time, then send_due through the transport; timed and checked."""
    from upswing.alert import sending
    from upswing.core.db import utcnow
    from upswing.digest import service
    from upswing.fakes.brevo import FakeBrevo
    from upswing.fakes.smtp import FakeSmtp
    from upswing.notify.email import BrevoTransport, EmailTransport, SmtpTransport

    users = len(seeded.users)
    fake: Any
    transport: EmailTransport
    if transport_name == "brevo":
        fake = FakeBrevo(api_key=BREVO_KEY, rate_limit_per_s=1_000_000)
        url = fake.start()
        transport = BrevoTransport(api_key=BREVO_KEY, base_url=url, sender_email=SENDER, sender_name="Upswing")
    else:
        fake = FakeSmtp().start()
        transport = SmtpTransport(host=fake.host, port=fake.port, sender_email=SENDER, sender_name="Upswing",
                                  starttls=False)
    compose, render = Timed(), Timed()
    profiler = None
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
    try:
        with compose.around(service, "compose"), render.around(service, "render"):
            now = utcnow()
            started_wall, started = time.time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = service.run(factory, now=now, settings=settings)
            recorded = time.perf_counter()
            log(f"  {transport_name}: {report.queued} digests recorded in {recorded - started:.1f} s "
                f"(empty {report.empty}, suppressed {report.suppressed}, failed {report.failed}, "
                f"skipped {report.skipped}); sending")
            sent = sending.send_due(factory, settings=settings, transport=transport)
            if profiler is not None:
                profiler.disable()
            sent_at = time.perf_counter()
            messages = fake.wait_for(users, timeout_s=30)
        time.sleep(0.5)  # a stray late copy would show up here
        messages = fake.messages
    finally:
        if isinstance(transport, BrevoTransport):
            transport.close()
        fake.stop()
    received = _from_brevo(messages) if transport_name == "brevo" else _from_smtp(messages)
    last = max((m.accepted_at for m in received), default=started_wall)
    deliveries, delivery_status, digest_status = database_state(factory)
    problems = verify(received, seeded, deliveries)
    if report.failed or report.queued != users:
        problems["digests_not_queued"] = users - report.queued
    if delivery_status.get("sent", 0) != users:
        problems["deliveries_not_sent"] = users - delivery_status.get("sent", 0)
    html_bytes = [float(len(m.html.encode())) for m in received]
    text_bytes = [float(len(m.text.encode())) for m in received]

    def size(values: list[float], q: float) -> int | None:
        found = percentile(values, q)
        return None if found is None else int(found)

    result = {
        "seconds": round(last - started_wall, 2),
        "run_s": round(recorded - started, 2),
        "send_s": round(sent_at - recorded, 2),
        "digests": report.queued,
        "messages": len(received),
        "digests_per_s": round(report.queued / (last - started_wall), 1) if last > started_wall else None,
        "sent": sent.sent, "retried": sent.retried, "failed": sent.failed,
        "compose_ms_p50": _r(percentile(compose.ms, 50), 1), "compose_ms_p95": _r(percentile(compose.ms, 95), 1),
        "render_ms_p50": _r(percentile(render.ms, 50), 1), "render_ms_p95": _r(percentile(render.ms, 95), 1),
        "render_ms_max": _r(max(render.ms) if render.ms else None, 1),
        "bytes_html_p50": size(html_bytes, 50), "bytes_html_p95": size(html_bytes, 95),
        "bytes_text_p95": size(text_bytes, 95),
        "deliveries": delivery_status, "digest_status": digest_status,
        "errors": sum(problems.values()), "problems": problems,
    }
    if profiler is not None and profile_to is not None:
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        profile_to.parent.mkdir(parents=True, exist_ok=True)
        profile_to.write_text(out.getvalue())
        profiler.dump_stats(profile_to.with_suffix(".prof"))
        log(f"  profile of the recording thread: {profile_to}")
    return result


def warm_up(factory: Any, settings: Any) -> None:
    """What a long-running worker has done before its first digest run: its task modules imported, the templates
    compiled (one preview, nothing recorded)."""
    from sqlalchemy import select

    from upswing.account.models import User
    from upswing.core import tasks
    from upswing.digest import service

    started = time.perf_counter()
    tasks.load_task_modules()
    with factory() as session:
        user = session.scalars(select(User).limit(1)).one()
        service.preview(session, None, user_id=user.id, settings=settings)
        session.rollback()
    log(f"  warmed up (task modules, templates) in {time.perf_counter() - started:.1f} s")


def child(config: dict[str, Any]) -> dict[str, Any]:
    from upswing.core import migrate
    from upswing.core.db import get_engine, session_factory, utcnow
    from upswing.core.logging import configure_logging
    from upswing.settings import get_settings

    configure_logging("WARNING")
    settings = get_settings()
    if config["send_concurrency"]:
        settings = settings.model_copy(update={"alert_send_concurrency": config["send_concurrency"]})
    engine = get_engine()
    started = time.perf_counter()
    migrate.upgrade(engine)
    migrated = time.perf_counter()
    factory = session_factory(engine)
    seeded = seed(factory, config, utcnow())
    seeded.expect(settings.digest_max_items)
    built = time.perf_counter()
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    log(f"  migrated in {migrated - started:.1f} s; {len(seeded.users)} users, "
        f"{len(seeded.users) * config['leads_per_user']} leads, "
        f"{sum(len(s) for s in seeded.owned.values())} signals in {built - migrated:.1f} s; user zones: "
        f"{', '.join(sorted(seeded.zones))}")
    warm_up(factory, settings)
    profile_dir = Path(config["profile_dir"]) if config["profile"] else None
    out: dict[str, Any] = {"url": engine.url.render_as_string(hide_password=True),
                           "migrate_s": round(migrated - started, 1), "seed_s": round(built - migrated, 1),
                           "users": len(seeded.users), "leads": len(seeded.users) * config["leads_per_user"],
                           "signals": sum(len(s) for s in seeded.owned.values()),
                           "user_zones": dict(sorted(seeded.zones.items())),
                           "send_concurrency": settings.alert_send_concurrency}
    for name in ("brevo", "smtp"):
        if name == "smtp":
            reset(factory)
        profile_to = profile_dir / f"profile_{config['kind']}_{name}.txt" if profile_dir else None
        out[name] = one_pass(name, factory, settings, seeded, config, profile_to if name == "brevo" else None)
        r = out[name]
        log(f"  {name}: {r['messages']} messages in {r['seconds']} s (record {r['run_s']} s, send {r['send_s']} s);"
            f" render p95 {r['render_ms_p95']} ms, compose p95 {r['compose_ms_p95']} ms; HTML p95 "
            f"{r['bytes_html_p95']} bytes; errors {r['errors']} {r['problems'] or ''}")
    engine.dispose()
    return out


# ==================================================================================================
# The parent: one child per database
# ==================================================================================================


def environment(workdir: Path, url: str | None) -> dict[str, str]:
    keys = new_keys()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSWING_")}
    env.update({
        "UPSWING_ENVIRONMENT": "production", "UPSWING_DATA_DIR": str(workdir),
        "UPSWING_SECRET_KEY": keys["secret_key"], "UPSWING_ENCRYPTION_KEYS": keys["encryption_keys"],
        "UPSWING_BLIND_INDEX_KEY": keys["blind_index_key"], "UPSWING_LOG_LEVEL": "WARNING",
        "UPSWING_TASK_RUNNER": "embedded", "UPSWING_PUBLIC_BASE_URL": BASE_URL, "UPSWING_EMAIL_FROM": SENDER,
    })
    if url is not None:
        env["UPSWING_DATABASE_URL"] = url
    return env


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    label = "PostgreSQL" if kind == "postgresql" else "SQLite (embedded default)"
    log(f"{label}: {args.users} users × {args.signals_per_user} signals")
    workdir = Path(tempfile.mkdtemp(prefix=f"digest-bench-{kind}-"))
    name = f"upswing_bench_digest_{os.getpid()}"
    url: str | None = None
    try:
        if kind == "postgresql":
            url = postgres_database(args.postgres_url, name)
            if url is None:
                return {"skipped": "PostgreSQL not reachable"}
        config = {"kind": kind, "users": args.users, "signals_per_user": args.signals_per_user,
                  "leads_per_user": args.leads_per_user, "team_size": args.team_size,
                  "send_concurrency": args.send_concurrency, "profile": args.profile,
                  "profile_dir": str(Path(args.results_dir) / "tmp")}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_child", json.dumps(config)],  # noqa: S603
                              env=environment(workdir, url), stdout=subprocess.PIPE, text=True, check=False,
                              timeout=3600)
        if done.returncode != 0:
            return {"skipped": f"the run failed (exit {done.returncode}); see stderr above", "errors": 1}
        result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
        result["elapsed_s"] = round(time.perf_counter() - started, 1)
        return result
    finally:
        if kind == "postgresql" and url is not None and not args.keep:
            postgres_database(args.postgres_url, name, drop_only=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"  kept {workdir}" + (f" and the database {name}" if url else ""))


def table(kind: str, r: dict[str, Any]) -> str:
    if "brevo" not in r:
        return f"{kind}: skipped ({r.get('skipped')})"
    lines = [f"{kind}: {r['users']} users, {r['leads']} leads, {r['signals']} signals (built in {r['seed_s']} s)",
             f"  {'transport':<9} {'total s':>8} {'record s':>9} {'send s':>7} {'/s':>6} {'compose p95':>12} "
             f"{'render p50':>11} {'render p95':>11} {'HTML p95 B':>11} {'errors':>7}"]
    for name in ("brevo", "smtp"):
        p = r[name]
        lines.append(f"  {name:<9} {p['seconds']:>8.2f} {p['run_s']:>9.2f} {p['send_s']:>7.2f} "
                     f"{p['digests_per_s'] or 0:>6.1f} {p['compose_ms_p95'] or 0:>12.1f} "
                     f"{p['render_ms_p50'] or 0:>11.1f} {p['render_ms_p95'] or 0:>11.1f} "
                     f"{p['bytes_html_p95'] or 0:>11} {p['errors']:>7}")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        print(json.dumps(child(json.loads(sys.argv[2]))), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000, help="Agents, each getting one digest")
    parser.add_argument("--signals-per-user", type=int, default=20, help="New signals in each digest (≤ 25 are "
                        "all listed: UPSWING_DIGEST_MAX_ITEMS)")
    parser.add_argument("--leads-per-user", type=int, default=10, help="Leads each agent owns (the signals are "
                        "spread over them)")
    parser.add_argument("--team-size", type=int, default=0,
                        help="Agents per team (0: no teams). An agent's digest lists their team's new signals too: "
                             "with teams, each digest has team size × signals per user, at most 25 per priority")
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES),
                        help="An admin URL; the scratch database is made (and dropped) there")
    parser.add_argument("--send-concurrency", type=int, default=0,
                        help="Override alert_send_concurrency (0: the setting's default, 8)")
    parser.add_argument("--profile", action="store_true", help="cProfile the Brevo pass's recording thread")
    parser.add_argument("--results-dir", default=str(DEFAULT_RESULTS))
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database and the work directory")
    args = parser.parse_args()
    if args.users < 1 or args.signals_per_user < 1 or args.leads_per_user < 1 or args.team_size < 0:
        parser.error("--users, --signals-per-user and --leads-per-user must be positive, --team-size not negative")

    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        results[kind] = run_database(kind, args)
        print(table(kind, results[kind]), file=sys.stderr, flush=True)
    measured = {k: r for k, r in results.items() if "brevo" in r}
    failed_runs = sum(1 for r in results.values() if r.get("errors") and "brevo" not in r)

    def worst(path: tuple[str, str]) -> tuple[float | None, str | None]:
        found = [(r[path[0]][path[1]], kind) for kind, r in measured.items() if r[path[0]][path[1]] is not None]
        return max(found) if found else (None, None)

    seconds_brevo, worst_brevo = worst(("brevo", "seconds"))
    seconds_smtp, worst_smtp = worst(("smtp", "seconds"))
    renders = [v for r in measured.values() for name in ("brevo", "smtp") if (v := r[name]["render_ms_p95"])]
    composes = [v for r in measured.values() for name in ("brevo", "smtp") if (v := r[name]["compose_ms_p95"])]
    sizes = [v for r in measured.values() for name in ("brevo", "smtp") if (v := r[name]["bytes_html_p95"])]
    errors = failed_runs + sum(r[name]["errors"] for r in measured.values() for name in ("brevo", "smtp"))
    totals = {kind: (r["brevo"]["seconds"] or 0) + (r["smtp"]["seconds"] or 0) for kind, r in measured.items()}
    summary: dict[str, Any] = {
        "digests": min((r[name]["messages"] for r in measured.values() for name in ("brevo", "smtp")), default=0),
        "seconds_brevo": seconds_brevo, "seconds_smtp": seconds_smtp,
        "p95_render_ms": max(renders) if renders else None,
        "p95_compose_ms": max(composes) if composes else None,
        "bytes_p95_html": max(sizes) if sizes else None,
        "goal_s": GOAL_S,
        "goal_met": bool(measured) and errors == 0 and all(
            r[name]["seconds"] <= GOAL_S for r in measured.values() for name in ("brevo", "smtp")),
        "errors": errors,
        "database": max(totals, key=lambda k: totals[k]) if totals else None,
        "database_brevo": worst_brevo, "database_smtp": worst_smtp,
        "databases": list(measured),
        "users": args.users, "signals_per_user": args.signals_per_user, "leads_per_user": args.leads_per_user,
        "team_size": args.team_size,
        "cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "elapsed_s": round(time.perf_counter() - started, 1),
        **results,
    }
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"{'goal met' if summary['goal_met'] else 'goal NOT met'}: Brevo {seconds_brevo} s ({worst_brevo}), "
        f"SMTP {seconds_smtp} s ({worst_smtp}), goal ≤ {GOAL_S:g} s; errors {errors}; "
        f"written to {results_dir / 'summary.json'}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
