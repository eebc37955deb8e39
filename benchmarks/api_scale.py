"""The read path at scale: 1M leads / 10M signals on PostgreSQL (and 100k / 1M on SQLite), through the server.

    python benchmarks/api_scale.py [--leads 1000000] [--signals 10000000] [--clients 50] [--seconds 30]
                                   [--scenarios feed_default,lead_search] [--roles agent] [--databases postgres]
                                   [--rebuild] [--build-only] [--driver auto|wrk|httpx]

1. Data. A scratch PostgreSQL database (``upswing_scale``) and a SQLite file (``var/api_scale/``), migrated with
   the app's migrations, then filled in bulk with ``INSERT … SELECT`` over ``generate_series`` (a recursive CTE on
   SQLite): leads in four portfolios and three teams (1% assigned to the benchmark agent, 10% to the agent's team,
   10% to nobody), names from the demo's lists, signals over two years with a priority skew (urgent 3%, high
   12%, medium 35%, low 50%), one profile snapshot and its evidence for every tenth lead, and the users (admin,
   manager, agent …) created through ``upswing.account.service``. The tables are reflected: every NOT NULL column
   the generator does not know gets a value by its type (reported), and ``signals.assignee_id``/``team_id`` are
   copied from the lead when they exist. Indexes that back no constraint are dropped for the load and rebuilt
   from their own definitions afterwards; then VACUUM ANALYZE. A database that already holds the asked size,
   built by this generator, is reused (upgraded in place when the migrations moved on; ``--rebuild`` forces a new
   one).
2. Server. ``upswing serve`` in a subprocess, as production runs it: ``UPSWING_ENVIRONMENT=production``, generated
   secret and encryption keys, WARNING logs, ``--workers 2`` when the command offers it. Background tasks go to
   Celery (``--task-runner celery``, the default, with no worker attached: the web tier alone; ``embedded``
   runs them in the server, and the daily rescore of every open signal then starts with it).
3. Load. For each role and scenario, ``--clients`` clients in a closed loop for ``--seconds`` (after
   ``--warmup``), each request with one of ``--clients`` login tokens of that role; wrk with
   ``benchmarks/api_scale.lua`` when installed, otherwise ``benchmarks/_api_load.py`` (asyncio + httpx) in its
   own process. A share (``--follow``) of the list requests asks for the second page through the first page's
   ``next_cursor`` when the list gives one. Errors are non-2xx answers, timeouts and connection errors. SQLite
   is measured serially (one client, ``--sqlite-seconds``).
4. EXPLAIN. One request per scenario and role, in a separate process running the same app, with PostgreSQL's
   ``auto_explain`` (ANALYZE, BUFFERS, nested statements) sent back to the client; without it, each SELECT is run
   again under ``EXPLAIN (ANALYZE, BUFFERS)`` in the request's own transaction (same row-level-security claims).
   Plans go to ``benchmarks/results/api_scale/<database>/explain/<scenario>__<role>.txt``; a sequential scan of
   leads or signals (SQLite: ``SCAN leads``/``SCAN signals`` without an index) is flagged.
5. Ingest at scale (PostgreSQL): ``--ingest-snapshots`` harvestapi-shaped first snapshots of existing leads (their
   names and LinkedIn ids) through ``ProfileIngest``, as ``benchmarks/ingest.py`` runs it, timed: in one process,
   then split over ``--ingest-processes`` (2) processes at once on disjoint leads; what it wrote is removed
   afterwards, so that every run measures the same book.

Output: a table per database, ``benchmarks/results/api_scale/summary.json``, and as the last line one JSON object:
``p95_ms_max`` (and its ``_scenario``/``_role``), ``errors``, ``leads``, ``signals``,
``ingest_snapshots_per_s_postgres``, per ``scenario/role`` figures, the SQLite figures (``sqlite_…``) and the
build times. A full run (building both databases the first time) takes about half an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import httpx
import psycopg
import sqlalchemy as sa
from _scratch import free_port, new_keys, upswing_command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LUA_SCRIPT = HERE / "api_scale.lua"
LOAD_SCRIPT = HERE / "_api_load.py"
DEFAULT_RESULTS = HERE / "results" / "api_scale"
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

SCENARIOS = ("feed_default", "feed_filtered", "feed_score", "leads_list", "lead_search", "lead_timeline")
ROLES = ("admin", "manager", "agent")
GOAL_P95_MS = 100.0
#: Bump when the generated data changes: a database built by another version is rebuilt.
BUILDER_VERSION = 1
META_TABLE = "api_scale_meta"
#: Synthetic users of a scratch database; the password is printed in the docs of this benchmark.
PASSWORD = "api-scale-bench-password"  # noqa: S105
TEAMS = ("scale-team-a", "scale-team-b", "scale-team-c")
PORTFOLIOS = ("scale-a", "scale-b", "scale-c", "scale-d")
#: username → (role, team). ``bench.agent`` is the measured agent; the others own the rest of the book.
USERS: dict[str, tuple[str, str | None]] = {
    "bench.admin": ("admin", None), "bench.manager": ("manager", None), "bench.agent": ("agent", "scale-team-a"),
    **{f"bench.agent.a{i}": ("agent", "scale-team-a") for i in (2, 3, 4)},
    **{f"bench.agent.b{i}": ("agent", "scale-team-b") for i in (1, 2, 3)},
    **{f"bench.agent.c{i}": ("agent", "scale-team-c") for i in (1, 2, 3)},
}
ROLE_USERS = {"admin": "bench.admin", "manager": "bench.manager", "agent": "bench.agent"}

TWO_YEARS_S = 730 * 86_400
#: Multipliers of the hash streams (``_h``): (x * m + c) mod (2^31 - 1), a different m per attribute.
_MULTIPLIERS = (950706376, 742938285, 1226874159, 62089911, 1343714438, 630360016, 397204094, 1117695901,
                48271, 69621, 16807, 39373)
_PRIME = 2_147_483_647

SIGNAL_TYPE_WEIGHTS = {
    "new_employment": 250, "promotion": 150, "certification": 90, "license_renewal": 50, "award": 50,
    "business_launch": 50, "education": 80, "job_loss": 120, "intent_growth": 50, "intent_expansion": 40,
    "intent_financial_distress": 30, "intent_loan_need": 20, "intent_consulting_need": 20,
}
#: (priority, share in %); scores are drawn inside each priority's band of the default thresholds.
PRIORITY_SHARES = (("urgent", 3), ("high", 12), ("medium", 35), ("low", 50))
#: Signal status buckets out of 100: new < 85 ≤ acknowledged < 92 ≤ actioned < 96 ≤ resolved < 98 ≤ dismissed.
STATUS_CUTS = (("new", 85), ("acknowledged", 92), ("actioned", 96), ("resolved", 98), ("dismissed", 100))
LEAD_STATUS_SHARES = (("new", 60), ("contacted", 20), ("promise", 8), ("paying", 5), ("resolved", 4), ("lost", 3))
CITIES = (("Houston", "TX"), ("Dallas", "TX"), ("Austin", "TX"), ("San Antonio", "TX"), ("Phoenix", "AZ"),
          ("Los Angeles", "CA"), ("San Diego", "CA"), ("San Jose", "CA"), ("Chicago", "IL"), ("New York", "NY"),
          ("Brooklyn", "NY"), ("Miami", "FL"), ("Orlando", "FL"), ("Tampa", "FL"), ("Atlanta", "GA"),
          ("Charlotte", "NC"), ("Columbus", "OH"), ("Denver", "CO"), ("Seattle", "WA"), ("Philadelphia", "PA"))
TITLES = ("Registered Nurse", "Dental Assistant", "Software Engineer", "Sales Associate", "Account Manager",
          "Project Manager", "Electrician", "Truck Driver", "Warehouse Supervisor", "Teacher", "Accountant",
          "Medical Assistant", "Customer Service Representative", "Operations Manager", "Data Analyst",
          "HVAC Technician", "Store Manager", "Pharmacy Technician", "Paralegal", "Marketing Coordinator",
          "Owner", "Senior Software Engineer", "Nurse Practitioner", "Branch Manager")
ORGANIZATIONS = ("Bright Smiles Dental", "Lone Star Logistics", "Acme Health", "Northwind Traders", "Contoso",
                 "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Enterprises", "Soylent Foods",
                 "Vandelay Industries", "Hooli", "Pied Piper", "Cyberdyne Systems", "Gringotts Credit Union",
                 "Sunrise Senior Living", "Metro Transit", "City Public Schools", "Blue Ridge Builders",
                 "Harbor Freight Lines", "Summit Pharmacy", "Evergreen Realty", "Pinnacle Insurance",
                 "Riverside Hospital", "Coastal Electric", "Keystone Accounting", "Redwood Software",
                 "Maple Leaf Bakery", "Golden Gate Fitness")


def log(message: str) -> None:
    print(f"[api_scale {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ==================================================================================================
# SQL for the bulk load, per dialect
# ==================================================================================================


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _h(expr: str, stream: int) -> str:
    """A deterministic pseudo-random integer in [0, 2^31 - 1) from an integer expression, one stream per use."""
    return f"((({expr}) * {_MULTIPLIERS[stream]} + {stream * 104_729 + 1}) % {_PRIME})"


def _weighted(bucket: str, choices: Sequence[tuple[str, int]]) -> str:
    """CASE over cumulative weights: ``bucket`` must lie in [0, sum of weights)."""
    parts, total = [], 0
    for value, weight in choices[:-1]:
        total += weight
        parts.append(f"WHEN {bucket} < {total} THEN {_lit(value)}")
    return f"(CASE {' '.join(parts)} ELSE {_lit(choices[-1][0])} END)"


class SqlDialect(Protocol):
    name: str
    epoch: int

    def with_series(self, lo: int, hi: int, step: int = 1) -> str: ...
    def uuid(self, tag: str, n: str) -> str: ...
    def uuid_text(self, tag: str, n: str) -> str: ...
    def uuid_lit(self, value: UUID) -> str: ...
    def pick(self, values: Sequence[str], index: str) -> str: ...
    def ts(self, seconds_ago: str) -> str: ...
    def day(self, seconds_ago: str, days_before: str) -> str: ...
    def obj(self, pairs: Sequence[tuple[str, str]], *, binary: bool = True) -> str: ...
    def arr(self, items: Sequence[str]) -> str: ...
    def empty_list(self) -> str: ...
    def true(self) -> str: ...
    def real(self, expr: str) -> str: ...
    def pad(self, n: str, width: int) -> str: ...
    def hexkey(self, tag: str, n: str, length: int) -> str: ...


_TAGS = {"lead": 1, "signal": 2, "obs": 3, "evidence": 4, "dedupe": 5, "content": 6}


@dataclass
class PostgresSql:
    epoch: int
    name: str = "postgresql"

    def with_series(self, lo: int, hi: int, step: int = 1) -> str:
        return f"WITH s(g) AS (SELECT generate_series({lo}::bigint, {hi}::bigint, {step}::bigint))"

    def uuid(self, tag: str, n: str) -> str:
        return f"md5('{tag}:' || ({n}))::uuid"

    def uuid_text(self, tag: str, n: str) -> str:
        return f"(md5('{tag}:' || ({n}))::uuid)::text"

    def uuid_lit(self, value: UUID) -> str:
        return f"'{value}'::uuid"

    def pick(self, values: Sequence[str], index: str) -> str:
        return f"(ARRAY[{', '.join(_lit(v) for v in values)}])[1 + ({index})::int]"

    def ts(self, seconds_ago: str) -> str:
        return f"to_timestamp({self.epoch} - ({seconds_ago}))"

    def day(self, seconds_ago: str, days_before: str) -> str:
        return f"((to_timestamp({self.epoch} - ({seconds_ago})) AT TIME ZONE 'UTC')::date - ({days_before})::int)"

    def obj(self, pairs: Sequence[tuple[str, str]], *, binary: bool = True) -> str:
        function = "jsonb_build_object" if binary else "json_build_object"
        return f"{function}({', '.join(f'{_lit(k)}, {v}' for k, v in pairs)})"

    def arr(self, items: Sequence[str]) -> str:
        return f"jsonb_build_array({', '.join(items)})"

    def empty_list(self) -> str:
        return "'[]'::jsonb"

    def true(self) -> str:
        return "true"

    def real(self, expr: str) -> str:
        return f"(({expr})::float8)"

    def pad(self, n: str, width: int) -> str:
        return f"lpad(({n})::text, {width}, '0')"

    def hexkey(self, tag: str, n: str, length: int) -> str:
        parts = [f"md5('{tag}{i}:' || ({n}))" for i in range((length + 31) // 32)]
        return f"left({' || '.join(parts)}, {length})"


@dataclass
class SqliteSql:
    epoch: int
    name: str = "sqlite"

    def with_series(self, lo: int, hi: int, step: int = 1) -> str:
        return f"WITH RECURSIVE s(g) AS (SELECT {lo} UNION ALL SELECT g + {step} FROM s WHERE g + {step} <= {hi})"  # noqa: S608

    def uuid(self, tag: str, n: str) -> str:  # SQLAlchemy stores a UUID as 32 hex digits on SQLite
        return f"printf('%08x%08x%016x', (({n}) * 2654435761) % 4294967296, {_TAGS[tag]}, ({n}))"

    def uuid_text(self, tag: str, n: str) -> str:
        return (f"printf('%08x-%04x-%04x-%04x-%012x', (({n}) * 2654435761) % 4294967296, 0, {_TAGS[tag]}, "
                f"({n}) >> 48, ({n}) & 281474976710655)")

    def uuid_lit(self, value: UUID) -> str:
        return f"'{value.hex}'"

    def pick(self, values: Sequence[str], index: str) -> str:
        return f"(CASE ({index}) {' '.join(f'WHEN {i} THEN {_lit(v)}' for i, v in enumerate(values))} END)"

    def ts(self, seconds_ago: str) -> str:  # SQLAlchemy's SQLite DATETIME storage format
        return f"(strftime('%Y-%m-%d %H:%M:%S', {self.epoch} - ({seconds_ago}), 'unixepoch') || '.000000')"

    def day(self, seconds_ago: str, days_before: str) -> str:
        return f"date({self.epoch} - ({seconds_ago}) - ({days_before}) * 86400, 'unixepoch')"

    def obj(self, pairs: Sequence[tuple[str, str]], *, binary: bool = True) -> str:
        return f"json_object({', '.join(f'{_lit(k)}, {v}' for k, v in pairs)})"

    def arr(self, items: Sequence[str]) -> str:
        return f"json_array({', '.join(items)})"

    def empty_list(self) -> str:
        return "'[]'"

    def true(self) -> str:
        return "json('true')"

    def real(self, expr: str) -> str:
        return f"(({expr}) * 1.0)"

    def pad(self, n: str, width: int) -> str:
        return f"printf('%0{width}d', {n})"

    def hexkey(self, tag: str, n: str, length: int) -> str:
        return f"printf('%0{length - 8}x%08x', ({n}), {_TAGS[tag]})"


# ==================================================================================================
# Targets: where the data lives
# ==================================================================================================


@dataclass
class Target:
    kind: str  # postgres | sqlite
    url: str  # SQLAlchemy URL the app uses
    leads: int
    signals: int
    admin_url: str | None = None
    database: str | None = None
    path: Path | None = None

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.kind == "postgres" else "SQLite"

    def libpq(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_target(admin_url: str, database: str, leads: int, signals: int) -> Target:
    url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    return Target("postgres", url, leads, signals, admin_url=admin_url, database=database)


def sqlite_target(path: Path, leads: int, signals: int) -> Target:
    return Target("sqlite", f"sqlite:///{path.resolve()}", leads, signals, path=path.resolve())


def pg_admin(target: Target, statement: str) -> None:
    assert target.admin_url is not None
    admin = create_engine(target.admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def pg_database_exists(target: Target) -> bool:
    assert target.admin_url is not None
    admin = create_engine(target.admin_url, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            return connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                      {"name": target.database}).first() is not None
    finally:
        admin.dispose()


def drop_target(target: Target) -> None:
    if target.kind == "postgres":
        pg_admin(target, f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    else:
        assert target.path is not None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target.path}{suffix}").unlink(missing_ok=True)


def app_engine(target: Target) -> Engine:
    from upswing.core.db import make_engine

    return make_engine(target.url)


def read_meta(target: Target) -> dict[str, Any] | None:
    if target.kind == "postgres" and not pg_database_exists(target):
        return None
    if target.kind == "sqlite" and not (target.path and target.path.exists()):
        return None
    engine = app_engine(target)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT key, value FROM {META_TABLE}")).all()  # noqa: S608
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()
    return {key: json.loads(value) for key, value in rows}


def write_meta(target: Target, values: dict[str, Any]) -> None:
    engine = app_engine(target)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR(64) PRIMARY KEY, "
                                    "value TEXT NOT NULL)"))
            for key, value in values.items():
                connection.execute(text(f"DELETE FROM {META_TABLE} WHERE key = :key"), {"key": key})  # noqa: S608
                connection.execute(text(f"INSERT INTO {META_TABLE} (key, value) VALUES (:key, :value)"),  # noqa: S608
                                   {"key": key, "value": json.dumps(value)})
    finally:
        engine.dispose()




# ==================================================================================================
# Build
# ==================================================================================================


class Loader(Protocol):
    def run(self, sql: str) -> int: ...
    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


class PostgresLoader:
    def __init__(self, conninfo: str) -> None:
        self.connection = psycopg.connect(conninfo)
        self.run("SET work_mem = '512MB'")
        self.run("SET maintenance_work_mem = '1GB'")
        self.run("SET max_parallel_maintenance_workers = 2")
        self.run("SET synchronous_commit = off")

    def run(self, sql: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(sql.encode())  # no parameters: "%" is the modulo operator, not a placeholder
            return cursor.rowcount

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql.encode())
            return list(cursor.fetchall())

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


class SqliteLoader:
    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-524288",
                       "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def run(self, sql: str) -> int:
        return self.connection.execute(sql).rowcount

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(sql).fetchall())

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def close(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")
        self.connection.close()


@dataclass
class Reference:
    """Rows made through the app before the bulk load: users, teams, portfolios, the file source."""

    users: dict[str, UUID]
    teams: dict[str, UUID]
    portfolios: list[UUID]
    source_id: UUID
    source_slug: str


def create_reference_rows(target: Target) -> Reference:
    from sqlalchemy import select

    from upswing.account import service as accounts
    from upswing.account.models import Role, Team, User
    from upswing.account.schemas import UserCreate
    from upswing.core.db import session_factory
    from upswing.lead.models import Portfolio
    from upswing.source.service import file_source

    engine = app_engine(target)
    try:
        with session_factory(engine)() as session:
            for username, (role, team) in USERS.items():
                if session.scalar(select(User.id).where(User.username == username)) is None:
                    accounts.create_user(session, UserCreate(username=username, password=PASSWORD, role=Role(role),
                                                             team=team, full_name=username), actor="bench")
            for name in PORTFOLIOS:
                if session.scalar(select(Portfolio.id).where(Portfolio.name == name)) is None:
                    session.add(Portfolio(name=name))
            source = file_source(session)
            session.flush()
            users = {u.username: u.id for u in session.scalars(select(User).where(User.username.in_(list(USERS))))}
            teams = {t.name: t.id for t in session.scalars(select(Team).where(Team.name.in_(TEAMS)))}
            portfolios = [session.scalar(select(Portfolio.id).where(Portfolio.name == name)) for name in PORTFOLIOS]
            reference = Reference(users, teams, [p for p in portfolios if p is not None], source.id, source.slug)
            session.commit()
    finally:
        engine.dispose()
    return reference


@dataclass
class TableShape:
    columns: dict[str, sa.Column[Any]]

    def fill(self, table: str, wanted: dict[str, str], dialect: SqlDialect, notes: list[str]) -> dict[str, str]:
        """The generator's columns that the table has, plus a value for every other NOT NULL column without a
        server default (by its type); columns of the generator the table lacks are left out."""
        chosen = {name: expr for name, expr in wanted.items() if name in self.columns}
        missing = sorted(set(wanted) - set(self.columns))
        if missing:
            notes.append(f"{table}: no column {', '.join(missing)} (left out)")
        for name, column in self.columns.items():
            if name in chosen or column.nullable or column.server_default is not None or column.autoincrement is True:
                continue
            chosen[name] = _fallback(column, dialect)
            notes.append(f"{table}.{name}: NOT NULL without a default, filled with {chosen[name]}")
        return chosen


def _fallback(column: sa.Column[Any], dialect: SqlDialect) -> str:
    kind = column.type
    if isinstance(kind, sa.JSON) or "JSON" in type(kind).__name__.upper():
        return "'{}'" if dialect.name == "sqlite" else "'{}'::jsonb"
    if isinstance(kind, sa.Boolean):
        return "false" if dialect.name == "postgresql" else "0"
    if isinstance(kind, sa.Integer | sa.Numeric):
        return "0"
    if isinstance(kind, sa.DateTime):
        return dialect.ts("0")
    if isinstance(kind, sa.Date):
        return dialect.day("0", "0")
    if isinstance(kind, sa.Uuid):
        raise RuntimeError(f"column {column.name} ({kind}) is NOT NULL with no default: the generator cannot guess it")
    return "''"


def reflect(target: Target, tables: Sequence[str]) -> dict[str, TableShape]:
    engine = app_engine(target)
    try:
        metadata = sa.MetaData()
        with warnings.catch_warnings():  # expression indexes SQLAlchemy cannot reflect on SQLite: not needed here
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            metadata.reflect(bind=engine, only=list(tables))
    finally:
        engine.dispose()
    return {name: TableShape({c.name: c for c in metadata.tables[name].columns}) for name in tables}


def insert_sql(prefix: str, table: str, columns: dict[str, str], source: str) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    values = ",\n       ".join(f"{expr} AS \"{name}\"" for name, expr in columns.items())
    return f"{prefix}\nINSERT INTO {table} ({names})\nSELECT {values}\n{source}"


def lead_columns(d: SqlDialect, ref: Reference) -> dict[str, str]:
    from upswing.demo.generate import FIRST_NAMES, LAST_NAMES

    n = "s.g"
    users, teams = ref.users, ref.teams
    agent = d.uuid_lit(users["bench.agent"])
    team_a, team_b, team_c = (d.uuid_lit(teams[name]) for name in TEAMS)

    def among(prefix: str, numbers: Sequence[int]) -> str:
        picks = " ".join(f"WHEN {i} THEN {d.uuid_lit(users[f'{prefix}{number}'])}" for i, number in enumerate(numbers))
        return f"CASE ({n} / 100) % {len(numbers)} {picks} END"

    bucket = f"({n} % 100)"
    assignee = (f"CASE WHEN {bucket} = 0 THEN {agent} WHEN {bucket} < 10 THEN {among('bench.agent.a', (2, 3, 4))} "
                f"WHEN {bucket} < 70 AND {bucket} % 2 = 0 THEN {among('bench.agent.b', (1, 2, 3))} "
                f"WHEN {bucket} < 70 THEN {among('bench.agent.c', (1, 2, 3))} END")
    team = (f"CASE WHEN {bucket} < 10 THEN {team_a} WHEN {bucket} < 90 AND {bucket} % 2 = 0 THEN {team_b} "
            f"WHEN {bucket} < 90 THEN {team_c} END")
    portfolio = (f"CASE {n} % {len(ref.portfolios)} "
                 f"{' '.join(f'WHEN {i} THEN {d.uuid_lit(p)}' for i, p in enumerate(ref.portfolios))} END")
    city = _h(n, 2) + f" % {len(CITIES)}"
    created = d.ts(f"{TWO_YEARS_S} + {_h(n, 8)} % {TWO_YEARS_S}")
    public_id = f"'scale-' || {n}"
    return {
        "id": d.uuid("lead", n),
        "portfolio_id": portfolio,
        "external_id": f"'L' || {d.pad(n, 8)}",
        "first_name": d.pick(FIRST_NAMES, f"{_h(n, 0)} % {len(FIRST_NAMES)}"),
        "last_name": d.pick(LAST_NAMES, f"{_h(n, 1)} % {len(LAST_NAMES)}"),
        "emails": "'[]'",
        "phones": "'[]'",
        "city": d.pick([c for c, _ in CITIES], city),
        "state": d.pick([s for _, s in CITIES], city),
        "region": d.pick([s for _, s in CITIES], city),
        "region_code": d.pick([f"US-{s}" for _, s in CITIES], city),
        "country": "'US'",
        "linkedin_public_id": f"CASE WHEN {n} % 3 = 0 THEN NULL ELSE {public_id} END",
        "linkedin_url": f"CASE WHEN {n} % 3 = 0 THEN NULL ELSE 'https://www.linkedin.com/in/' || {public_id} END",
        "employer": d.pick(ORGANIZATIONS, f"{_h(n, 3)} % {len(ORGANIZATIONS)}"),
        "title": d.pick(TITLES, f"{_h(n, 4)} % {len(TITLES)}"),
        "balance": f"{d.real(f'{_h(n, 5)} % 4990000 + 5000')} / 100",
        "days_delinquent": f"CASE WHEN {_h(n, 6)} % 50 = 0 THEN NULL ELSE {_h(n, 6)} % 721 END",
        "status": _weighted(f"{_h(n, 7)} % 100", LEAD_STATUS_SHARES),
        "assignee_id": assignee,
        "team_id": team,
        "merged_into_id": f"CASE WHEN {n} % 200 = 199 THEN {d.uuid('lead', f'{n} - 1')} END",
        "created_at": created,
        "updated_at": created,
    }


def lead_of_signal(leads: int) -> str:
    """The lead number (1…leads) of signal ``g``: 90% of signals spread evenly, 10% on the active twentieth of
    the book (every 20th lead, which includes the benchmark agent's own leads): about 9 and 29 signals a lead."""
    if leads < 20:
        return f"1 + {_h('g', 0)} % {leads}"
    spread, active = f"1 + {_h('g', 0)} % {leads}", f"20 + 20 * ({_h('g', 0)} % {leads // 20})"
    return f"(CASE WHEN {_h('g', 10)} % 100 < 90 THEN {spread} ELSE {active} END)"


def signal_columns(d: SqlDialect, leads: int) -> tuple[str, dict[str, str]]:
    """The derived CTE (``q``: g, lead number n, age in seconds, buckets) and the signal columns over it."""
    from upswing.detection.events import SignalType
    from upswing.signal.scoring import DEFAULT_THRESHOLDS

    urgent, high, medium = DEFAULT_THRESHOLDS["urgent"], DEFAULT_THRESHOLDS["high"], DEFAULT_THRESHOLDS["medium"]
    derived = (f"q AS (SELECT g, {lead_of_signal(leads)} AS n, {_h('g', 4)} % {TWO_YEARS_S} AS secs, "  # noqa: S608
               f"{_h('g', 2)} % 100 AS bp, {_h('g', 3)} AS hs, {_h('g', 7)} % 100 AS bs FROM s)")
    score = (f"(CASE WHEN q.bp < 3 THEN {urgent} + q.hs % {101 - urgent} WHEN q.bp < 15 THEN {high} + q.hs % "
             f"{urgent - high} WHEN q.bp < 50 THEN {medium} + q.hs % {high - medium} ELSE q.hs % {medium} END)")
    types = [(t.value, SIGNAL_TYPE_WEIGHTS.get(t.value, 10)) for t in SignalType]
    type_total = sum(w for _, w in types)
    h_effective, h_confidence = _h("q.g", 5), _h("q.g", 6)
    title = d.pick(TITLES, f"{_h('q.g', 8)} % {len(TITLES)}")
    organization = d.pick(ORGANIZATIONS, f"{_h('q.g', 9)} % {len(ORGANIZATIONS)}")
    detected = d.ts("q.secs")
    columns = {
        "id": d.uuid("signal", "q.g"),
        "lead_id": "l.id",
        "type": _weighted(f"{_h('q.g', 1)} % {type_total}", types),
        "title": title,
        "organization": organization,
        "effective_date": f"CASE WHEN {h_effective} % 10 = 0 THEN NULL "
                          f"ELSE {d.day('q.secs', f'{h_effective} % 45')} END",
        "detected_at": detected,
        "confidence": f"{d.real(f'50 + {h_confidence} % 50')} / 100",
        "evidence_url": "'https://www.linkedin.com/in/scale-' || q.n",
        "evidence_snippet": f"'Started a new position as ' || {title} || ' at ' || {organization}",
        "observation_ids": f"CASE WHEN q.n % 10 = 0 THEN {d.arr([d.uuid_text('obs', 'q.n')])} "
                           f"ELSE {d.empty_list()} END",
        "score": score,
        "priority": _weighted("q.bp", [(p, share) for p, share in PRIORITY_SHARES]),
        "score_breakdown": d.obj([("strength", f"{score} - 2 * ({score} / 10)"), ("confidence", "0"), ("recency", "0"),
                                  ("corroboration", "0"), ("balance", f"{score} / 10"),
                                  ("delinquency", f"{score} / 10"), ("outcomes", "0")]),
        "scored_at": detected,
        "status": _weighted("q.bs", [(name, cut - previous) for (name, cut), previous
                                     in zip(STATUS_CUTS, (0, *(c for _, c in STATUS_CUTS[:-1])), strict=True)]),
        "status_changed_at": f"CASE WHEN q.bs >= 85 THEN {d.ts('q.secs - 3600')} END",
        "action": "CASE WHEN q.bs >= 92 AND q.bs < 98 THEN 'call' END",
        "actioned_at": f"CASE WHEN q.bs >= 92 AND q.bs < 98 THEN {d.ts('q.secs - 3600')} END",
        "outcome": "CASE WHEN q.bs >= 96 AND q.bs < 98 THEN 'no_response' END",
        "outcome_at": f"CASE WHEN q.bs >= 96 AND q.bs < 98 THEN {d.ts('q.secs - 7200')} END",
        "dismiss_reason": "CASE WHEN q.bs >= 98 THEN 'not_relevant' END",
        "dedupe_key": d.hexkey("dedupe", "q.g", 64),
        "created_at": detected,
        "updated_at": detected,
        "assignee_id": "l.assignee_id",
        "team_id": "l.team_id",
    }
    return derived, columns


def observation_columns(d: SqlDialect, ref: Reference) -> dict[str, str]:
    n = "s.g"
    observed = d.ts(f"{_h(n, 9)} % {TWO_YEARS_S}")
    experience = d.obj([("title", "l.title"), ("company", "l.employer"), ("current", d.true())])
    body = [("full_name", "l.first_name || ' ' || l.last_name"), ("headline", "l.title || ' at ' || l.employer"),
            ("public_identifier", f"'scale-' || {n}"), ("experiences", d.arr([experience]))]
    return {
        "id": d.uuid("obs", n),
        "source_id": d.uuid_lit(ref.source_id),
        "lead_id": "l.id",
        "kind": "'profile'",
        "subject_key": f"'li:scale-' || {n}",
        "shape": "'harvestapi'",
        "schema_version": "1",
        "version": "1",
        "url": f"'https://www.linkedin.com/in/scale-' || {n}",
        "raw": d.obj([("firstName", "l.first_name"), ("lastName", "l.last_name"),
                      ("publicIdentifier", f"'scale-' || {n}"), ("headline", "l.title || ' at ' || l.employer")],
                     binary=False),
        "normalized": d.obj(body),
        "identifier_index": d.empty_list(),
        "content_hash": d.hexkey("content", n, 64),
        "observed_at": observed,
        "last_observed_at": observed,
        "created_at": observed,
    }


def evidence_columns(d: SqlDialect, ref: Reference) -> dict[str, str]:
    detected = d.ts("q.secs")
    h_confidence = _h("q.g", 6)
    return {
        "id": d.uuid("evidence", "q.g"),
        "signal_id": d.uuid("signal", "q.g"),
        "observation_id": d.uuid("obs", "q.n"),
        "kind": "'profile'",
        "url": "'https://www.linkedin.com/in/scale-' || q.n",
        "snippet": "'Profile snapshot of scale-' || q.n",
        "source": _lit(ref.source_slug),
        "confidence": f"{d.real(f'50 + {h_confidence} % 50')} / 100",
        "observed_at": detected,
        "created_at": detected,
    }


def _batches(total: int, size: int, start: int = 1) -> Iterator[tuple[int, int]]:
    for lo in range(start, total + 1, size):
        yield lo, min(total, lo + size - 1)


def secondary_indexes(loader: Loader, kind: str) -> list[tuple[str, str, str]]:
    """(table, index, definition) of every index that backs no constraint and is not unique."""
    if kind == "postgres":
        return [(str(a), str(b), str(c)) for a, b, c in loader.rows("""
            SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_namespace ns ON ns.oid = c.relnamespace
            WHERE ns.nspname = current_schema() AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname, ic.relname""")]
    return [(str(a), str(b), str(c)) for a, b, c in loader.rows(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY tbl_name, name")]


#: Triggers of the bulk-loaded tables that the load may skip (PostgreSQL ``session_replication_role = replica``,
#: which also skips the foreign-key checks): they copy the lead's owner onto a signal, which the load does itself.
SKIPPABLE_TRIGGERS = {"signals_owner", "signals_owner_moved"}


def build(target: Target, *, notes: list[str]) -> dict[str, float]:
    from upswing.core import migrate

    times: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[f"{name}_s"] = round(now - clock, 1)
        log(f"{target.label}: {name} {now - clock:.1f} s")
        clock = now

    drop_target(target)
    if target.kind == "postgres":
        pg_admin(target, f'CREATE DATABASE "{target.database}"')
    else:
        assert target.path is not None
        target.path.parent.mkdir(parents=True, exist_ok=True)
    engine = app_engine(target)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    lap("migrate")
    reference = create_reference_rows(target)
    lap("users")

    epoch = int(datetime.now(UTC).replace(microsecond=0).timestamp())
    d: SqlDialect = PostgresSql(epoch) if target.kind == "postgres" else SqliteSql(epoch)
    shapes = reflect(target, ("leads", "signals", "observations", "evidence"))
    loader: Loader = PostgresLoader(target.libpq()) if target.kind == "postgres" else SqliteLoader(
        target.path or Path())
    try:
        indexes = secondary_indexes(loader, target.kind)
        for _table, index, _definition in indexes:
            loader.run(f'DROP INDEX "{index}"')
        loader.commit()
        log(f"{target.label}: dropped {len(indexes)} secondary indexes for the load")

        leads_sql = shapes["leads"].fill("leads", lead_columns(d, reference), d, notes)
        lead_batch = 250_000 if target.kind == "postgres" else 100_000
        for lo, hi in _batches(target.leads, lead_batch):
            loader.run(insert_sql(d.with_series(lo, hi), "leads", leads_sql, "FROM s"))
            loader.commit()
        lap("leads")

        replica = False
        if target.kind == "postgres":
            triggers = {str(row[0]) for row in loader.rows(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = current_schema() "
                "AND NOT t.tgisinternal AND c.relname IN ('signals', 'observations', 'evidence')")}
            unknown = triggers - SKIPPABLE_TRIGGERS
            replica = not unknown and "assignee_id" in shapes["signals"].columns
            if unknown:
                notes.append(f"triggers {sorted(unknown)} on the loaded tables: loaded with triggers on (slower)")
            if replica:
                loader.run("SET session_replication_role = replica")  # skips FK checks and the owner trigger

        derived, signal_sql = signal_columns(d, target.leads)
        signal_sql = shapes["signals"].fill("signals", signal_sql, d, notes)
        signal_batch = 1_000_000 if target.kind == "postgres" else 250_000
        for lo, hi in _batches(target.signals, signal_batch):
            loader.run(insert_sql(f"{d.with_series(lo, hi)}, {derived}", "signals", signal_sql,
                                  f"FROM q JOIN leads l ON l.id = {d.uuid('lead', 'q.n')}"))
            loader.commit()
            log(f"{target.label}: signals {hi:,}/{target.signals:,}")
        lap("signals")

        observation_sql = shapes["observations"].fill("observations", observation_columns(d, reference), d, notes)
        loader.run(insert_sql(d.with_series(10, target.leads, 10), "observations", observation_sql,
                              f"FROM s JOIN leads l ON l.id = {d.uuid('lead', 's.g')}"))
        loader.commit()
        evidence_sql = shapes["evidence"].fill("evidence", evidence_columns(d, reference), d, notes)
        evidence_derived = (f"q AS (SELECT g, {lead_of_signal(target.leads)} AS n, "  # noqa: S608
                            f"{_h('g', 4)} % {TWO_YEARS_S} AS secs FROM s)")
        for lo, hi in _batches(target.signals, signal_batch * 2):
            loader.run(insert_sql(f"{d.with_series(lo, hi)}, {evidence_derived}", "evidence", evidence_sql,
                                  "FROM q WHERE q.n % 10 = 0"))
            loader.commit()
        if replica:
            loader.run("SET session_replication_role = origin")
        lap("observations_evidence")

        for table, index, definition in indexes:
            started_index = time.perf_counter()
            loader.run(definition)
            loader.commit()
            if time.perf_counter() - started_index > 2:
                log(f"{target.label}: index {table}.{index} {time.perf_counter() - started_index:.1f} s")
        lap("indexes")
    finally:
        loader.close()

    if target.kind == "postgres":
        with psycopg.connect(target.libpq(), autocommit=True) as pg:
            pg.execute("VACUUM (ANALYZE)")
    else:
        lite = sqlite3.connect(target.path or Path(), isolation_level=None)
        try:
            lite.execute("ANALYZE")
            lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            lite.close()
    lap("analyze")
    times["total_s"] = round(time.perf_counter() - started, 1)
    write_meta(target, {"leads": target.leads, "signals": target.signals, "builder": BUILDER_VERSION,
                        "schema": migrate.head_revision(), "anchor": epoch, "build": times, "notes": notes,
                        "keys": new_keys(), "built_at": datetime.now(UTC).isoformat()})
    return times


def ensure_data(target: Target, rebuild: bool) -> tuple[dict[str, Any], bool]:
    """The target's meta (size, keys, anchor, build times), building it first when needed."""
    from upswing.core import migrate

    meta = None if rebuild else read_meta(target)
    reason = "--rebuild" if rebuild else None
    if meta is not None:
        expected = {"leads": target.leads, "signals": target.signals, "builder": BUILDER_VERSION,
                    "schema": migrate.head_revision()}
        stale = {k: (meta.get(k), v) for k, v in expected.items() if meta.get(k) != v}
        if set(stale) == {"schema"}:
            # Only the schema moved on: upgrade the data in place, as production would (minutes, not a rebuild).
            clock = time.perf_counter()
            engine = app_engine(target)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            write_meta(target, {"schema": expected["schema"]})
            log(f"{target.label}: upgraded the data from {stale['schema'][0]} to {expected['schema']} "
                f"in {time.perf_counter() - clock:.1f} s")
            meta, stale = read_meta(target), {}
        if stale:
            reason = ", ".join(f"{k} {was} → {now}" for k, (was, now) in stale.items())
            meta = None
    elif reason is None:
        reason = "no data yet"
    if meta is not None:
        log(f"{target.label}: reusing {target.url} ({target.leads:,} leads, {target.signals:,} signals, "
            f"built {meta.get('built_at')} in {meta['build']['total_s']} s)")
        return meta, False
    log(f"{target.label}: building {target.leads:,} leads / {target.signals:,} signals ({reason})")
    notes: list[str] = []
    build(target, notes=notes)
    for note in notes:
        log(f"{target.label}: note: {note}")
    meta = read_meta(target)
    assert meta is not None
    return meta, True


# ==================================================================================================
# Facts about the data the scenarios need
# ==================================================================================================


@dataclass
class Facts:
    leads: int
    signals: int
    since: str
    names: list[str]
    timeline_leads: list[str]


def gather_facts(target: Target, meta: dict[str, Any]) -> Facts:
    engine = app_engine(target)
    try:
        with engine.connect() as connection:
            leads = connection.execute(text("SELECT count(*) FROM leads")).scalar_one()
            signals = connection.execute(text("SELECT count(*) FROM signals")).scalar_one()
            agent = connection.execute(text("SELECT id FROM users WHERE username = 'bench.agent'")).scalar_one()
            rows = connection.execute(
                text("SELECT id, first_name, last_name FROM leads WHERE assignee_id = :agent AND merged_into_id IS "
                     "NULL ORDER BY external_id LIMIT 64"), {"agent": agent}).all()
    finally:
        engine.dispose()
    full_names = list(dict.fromkeys(f"{r.first_name} {r.last_name}" for r in rows))[:6]
    last_names = list(dict.fromkeys(r.last_name for r in rows if " " not in r.last_name))[:4]
    since = datetime.fromtimestamp(int(meta["anchor"]), UTC) - timedelta(days=30)
    return Facts(leads=int(leads), signals=int(signals), since=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 names=full_names + last_names, timeline_leads=[str(UUID(str(r.id))) for r in rows])


def scenario_paths(scenario: str, facts: Facts) -> list[str]:
    if scenario == "feed_default":
        return ["/api/v1/signals?limit=50"]
    if scenario == "feed_filtered":
        return [f"/api/v1/signals?type=new_employment&priority=high&since={facts.since}&limit=50"]
    if scenario == "feed_score":
        return ["/api/v1/signals?sort=score&limit=50"]
    if scenario == "leads_list":
        return ["/api/v1/leads?limit=50"]
    if scenario == "lead_search":
        return [f"/api/v1/leads?q={quote(name)}&limit=50" for name in facts.names]
    if scenario == "lead_timeline":
        return [f"/api/v1/leads/{lead}/timeline" for lead in facts.timeline_leads]
    raise ValueError(f"unknown scenario {scenario!r}")


# ==================================================================================================
# The server
# ==================================================================================================






def server_env(target: Target, meta: dict[str, Any], data_dir: Path, task_runner: str, queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSWING_")}
    keys = meta["keys"]
    env.update({
        "UPSWING_DATABASE_URL": target.url, "UPSWING_ENVIRONMENT": "production",
        "UPSWING_SECRET_KEY": keys["secret_key"], "UPSWING_ENCRYPTION_KEYS": keys["encryption_keys"],
        "UPSWING_BLIND_INDEX_KEY": keys["blind_index_key"], "UPSWING_LOG_LEVEL": "WARNING",
        "UPSWING_DATA_DIR": str(data_dir), "UPSWING_TASK_RUNNER": task_runner, "UPSWING_CELERY_QUEUE": queue,
    })
    return env


def workers_option(env: dict[str, str], workers: int) -> list[str]:
    if workers <= 0:
        return []
    shown = subprocess.run([*upswing_command(), "serve", "--help"], env=env, capture_output=True, text=True,  # noqa: S603
                           timeout=120, check=False)
    return ["--workers", str(workers)] if "--workers" in shown.stdout else []


class Server:
    def __init__(self, env: dict[str, str], log_path: Path, workers: int) -> None:
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.extra = workers_option(env, workers)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [*upswing_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        log(f"starting {' '.join(command[-6:])} (log: {self.log_path})")
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(command, env=self.env, stdout=output, stderr=subprocess.STDOUT,  # noqa: S603
                                            start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=5,
                             # as the API's readiness probe (deploy/): the web tier alone, no worker behind it
                             params=[("exclude", "broker"), ("exclude", "outbox")]).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server was not ready in 300 s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # its own session: the group holds the server and its worker processes
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=30)


def login(base_url: str, username: str, count: int) -> list[str]:
    def one(_: int) -> str:
        response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": PASSWORD},
                              timeout=120)
        response.raise_for_status()
        return str(response.json()["access_token"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


# ==================================================================================================
# Load
# ==================================================================================================


@dataclass
class Measured:
    scenario: str
    role: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    rps: float
    errors: int
    error_detail: dict[str, int]
    sample_error: str
    paths: int
    second_pages: int
    first_page: str

    def key(self) -> str:
        return f"{self.scenario}/{self.role}"


def choose_driver(requested: str) -> str:
    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if requested == "wrk" and not wrk:
        raise SystemExit("--driver wrk: wrk is not installed (apt-get install -y wrk)")
    if requested == "auto":
        return "wrk" if wrk else "httpx"
    return requested


def drive(driver: str, base_url: str, paths: list[str], tokens: list[str], clients: int, seconds: float,
          workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    if driver == "wrk":
        spec = workdir / "wrk-spec.txt"
        spec.write_text("".join(f"path {p}\n" for p in paths) + "".join(f"token {t}\n" for t in tokens))
        command = [shutil.which("wrk") or "/usr/bin/wrk", "-t", str(min(2, clients)), "-c", str(clients),
                   "-d", f"{max(1, round(seconds))}s", "--timeout", "60s", "-s", str(LUA_SCRIPT), base_url, "--",
                   str(spec)]
    else:
        spec = workdir / "load-spec.json"
        spec.write_text(json.dumps({"base_url": base_url, "paths": paths, "tokens": tokens, "clients": clients,
                                    "seconds": seconds}))
        command = [sys.executable, str(LOAD_SCRIPT), str(spec)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300, check=False)  # noqa: S603
    figures: dict[str, Any] | None = None
    sample = ""
    for line in done.stdout.splitlines():
        if line.startswith("JSON "):
            figures = json.loads(line[5:])
        elif line.startswith("SAMPLE "):
            sample = line[7:].strip()
    if figures is None:
        raise RuntimeError(f"{driver} gave no figures ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    figures["sample"] = sample
    return figures


def second_pages(base_url: str, token: str, paths: list[str]) -> tuple[dict[str, str], str]:
    """The second-page path of each list path whose first page has a ``next_cursor``; and a note on the first
    page (items, total) for the report."""
    found: dict[str, str] = {}
    note = ""
    with httpx.Client(base_url=base_url, timeout=300, headers={"Authorization": f"Bearer {token}"}) as http:
        for path in paths:
            response = http.get(path)
            if response.status_code != 200:
                note = note or f"HTTP {response.status_code}"
                continue
            body = response.json()
            if not note:
                if isinstance(body.get("items"), list) and "total" in body:
                    exact = body.get("total_is_exact", True)
                    note = f"{len(body['items'])} of {body['total']}{'' if exact else '+'}"
                else:
                    note = f"{len(body.get('items', body) or [])} items"
            cursor = body.get("next_cursor") if isinstance(body, dict) else None
            if isinstance(cursor, str) and cursor:
                found[path] = f"{path}&cursor={quote(cursor, safe='')}"
    return found, note


def rotation(paths: list[str], page_two: dict[str, str], follow: float) -> tuple[list[str], int]:
    """Each first page, and (a share ``follow`` of the time) its second page when it has one."""
    every = max(1, round(1 / follow)) if follow > 0 else 0
    result: list[str] = []
    seconds = 0
    for path in paths:
        if every and path in page_two:
            result += [path] * (every - 1) + [page_two[path]]
            seconds += 1
        else:
            result += [path] * max(1, every)
    return result, seconds


def measure(driver: str, server: Server, scenario: str, role: str, tokens: list[str], facts: Facts,
            args: argparse.Namespace, clients: int, seconds: float, workdir: Path) -> Measured:
    base = scenario_paths(scenario, facts)
    page_two: dict[str, str]
    if scenario == "lead_timeline":  # not a list: no second page
        page_two, first_page = {}, second_pages(server.base_url, tokens[0], base[:1])[1]
    else:
        page_two, first_page = second_pages(server.base_url, tokens[0], base)
    paths, followed = rotation(base, page_two, args.follow)
    if args.warmup > 0:
        drive(driver, server.base_url, paths, tokens, clients, args.warmup, workdir)
    figures = drive(driver, server.base_url, paths, tokens, clients, seconds, workdir)
    detail = {k: int(figures[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non2xx")}
    duration = figures["duration_us"] / 1e6
    return Measured(scenario=scenario, role=role, requests=int(figures["requests"]), seconds=round(duration, 1),
                    p50_ms=round(figures["p50_us"] / 1000, 1), p95_ms=round(figures["p95_us"] / 1000, 1),
                    p99_ms=round(figures["p99_us"] / 1000, 1), mean_ms=round(figures["mean_us"] / 1000, 1),
                    max_ms=round(figures["max_us"] / 1000, 1),
                    rps=round(figures["requests"] / duration, 1) if duration else 0.0,
                    errors=sum(detail.values()), error_detail=detail, sample_error=figures["sample"],
                    paths=len(base), second_pages=followed, first_page=first_page)


# ==================================================================================================
# Workers (separate processes with the server's settings): EXPLAIN capture and the ingest
# ==================================================================================================


def run_worker(kind: str, spec: dict[str, Any], env: dict[str, str], workdir: Path, timeout: float) -> dict[str, Any]:
    return finish_worker(kind, start_worker(kind, spec, env, workdir), timeout)


def start_worker(kind: str, spec: dict[str, Any], env: dict[str, str], workdir: Path,
                 name: str | None = None) -> subprocess.Popen[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / f"{name or kind}-spec.json"
    spec_path.write_text(json.dumps(spec))
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", kind,  # noqa: S603
                             "--worker-spec", str(spec_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_worker(kind: str, process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} worker failed ({process.returncode}):\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_ingest(target: Target, snapshots: int, processes: int, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """The ingest figures: one process alone, then ``processes`` at once on disjoint leads (as production runs
    its workers side by side), started together; their rate is all their snapshots over the wall time from the
    first start to the last end. What they wrote is removed afterwards (``remove_ingested``)."""
    since = datetime.now(UTC)
    try:
        return _measure_ingest(target.url, snapshots, processes, env, workdir)
    finally:
        removed = remove_ingested(target, since)
        log(f"{target.label}: removed what the ingest wrote ({removed})")


def remove_ingested(target: Target, since: datetime) -> dict[str, int]:
    """Delete the rows an ingest wrote from ``since`` on, so that the next run measures the same book: the
    ingest only takes leads without observations and gives each a fresh high-priority signal, so each run
    would leave thousands more of them on top of the feed, none the agent's (their leads all have a snapshot),
    and the agent's filtered feed, which walks the (type, priority) index, read 360,000 of them after six runs
    (p95 0.6 → 9.7 s). The audit log keeps its entries (append-only)."""
    removed: dict[str, int] = {}
    tables = ("evidence", "signals", "matches", "observations", "outbox_events", "task_runs")
    with psycopg.connect(target.libpq()) as pg:
        for table in tables:
            # Our own table names; the time is a parameter. Receipts go with their events (ON DELETE CASCADE).
            removed[table] = pg.execute(f"DELETE FROM {table} WHERE created_at >= %s", (since,)).rowcount  # noqa: S608
    with psycopg.connect(target.libpq(), autocommit=True) as pg:  # the planner's figures as before (~20 s)
        pg.execute(f"VACUUM (ANALYZE) {', '.join((*tables, 'outbox_receipts'))}")
    return removed


def _measure_ingest(url: str, snapshots: int, processes: int, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    one = run_worker("ingest", {"url": url, "snapshots": snapshots}, env, workdir, timeout=7200)
    result = {**one, "processes": 1, "one_process_snapshots_per_s": one["snapshots_per_s"]}
    if processes < 2:
        return result
    barrier = workdir / "ingest-barrier"
    shutil.rmtree(barrier, ignore_errors=True)
    barrier.mkdir(parents=True)
    share = -(-snapshots // processes)
    started = [start_worker("ingest", {"url": url, "snapshots": share, "part": part, "parts": processes,
                                       "barrier": str(barrier)}, env, workdir, name=f"ingest-{part}")
               for part in range(processes)]
    deadline = time.monotonic() + 1800
    while len(list(barrier.glob("ready-*"))) < processes:
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in started):
            break  # a worker failed before it was ready: finish_worker reports why
        time.sleep(0.05)
    (barrier / "go").touch()
    parts = [finish_worker("ingest", process, timeout=7200) for process in started]
    wall = max(p["ended_at"] for p in parts) - min(p["started_at"] for p in parts)
    total = sum(p["snapshots"] for p in parts)
    result.update({
        "processes": processes, "parallel_snapshots": total, "parallel_wall_s": round(wall, 2),
        "snapshots_per_s": round(total / wall, 1) if wall > 0 else None,
        "per_process_snapshots_per_s": [p["snapshots_per_s"] for p in parts],
        "signals_created": one["signals_created"] + sum(p["signals_created"] for p in parts),
        "linked": one["linked"] + sum(p["linked"] for p in parts),
    })
    return result


SEQ_SCAN = {"postgresql": re.compile(r"Seq Scan on (leads|signals)\b"),
            # also a whole scan of the search table (a LIKE its trigram index could not answer: no constraint)
            "sqlite": re.compile(r"\bSCAN (leads|signals)\b(?! USING)|\bSCAN leads_fts VIRTUAL TABLE INDEX \d+:$",
                                 re.MULTILINE)}
#: Statements left out of the plans: the row-level-security claims (``core.rls``) and the pool's pre-ping.
_SKIP_STATEMENT = re.compile(r"set_config\(|^\s*SELECT 1\s*$", re.IGNORECASE)


@dataclass
class Capture:
    active: bool = False
    entries: list[str] = field(default_factory=list)


def worker_explain(spec: dict[str, Any]) -> dict[str, Any]:
    """One request per scenario and role through the app in this process, its statements' plans to files."""
    from sqlalchemy import event
    from starlette.testclient import TestClient

    from upswing.app import create_app

    app = create_app()
    engine: Engine = app.state.engine
    dialect = engine.dialect.name
    capture = Capture()
    method = "EXPLAIN QUERY PLAN (re-run)"
    if dialect == "postgresql":
        try:
            with psycopg.connect(spec["libpq"]) as probe:
                probe.execute("LOAD 'auto_explain'")
            method = "auto_explain (ANALYZE, BUFFERS, nested statements)"
        except psycopg.Error:
            method = "EXPLAIN (ANALYZE, BUFFERS) (re-run)"

    if method.startswith("auto_explain"):
        def on_notice(diagnostic: psycopg.errors.Diagnostic) -> None:
            message = diagnostic.message_primary or ""
            if capture.active and "plan:" in message and "set_config(" not in message \
                    and not _SKIP_STATEMENT.search(_query_text(message)):
                capture.entries.append(message)

        @event.listens_for(engine, "connect")
        def configure(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for statement in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                              "SET auto_explain.log_analyze = on", "SET auto_explain.log_buffers = on",
                              "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_timing = on",
                              "SET client_min_messages = log"):
                cursor.execute(statement)
            cursor.close()
            dbapi_connection.commit()
            dbapi_connection.add_notice_handler(on_notice)
    else:
        @event.listens_for(engine, "after_cursor_execute")
        def explain(connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                    executemany: bool) -> None:
            head = statement.lstrip()[:6].upper()
            if not capture.active or executemany or head not in ("SELECT", "WITH") or _SKIP_STATEMENT.search(statement):
                return
            cursor = connection.connection.dbapi_connection.cursor()
            try:
                if dialect == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(str(row[0]) for row in cursor.fetchall())
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                    plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            finally:
                cursor.close()
            capture.entries.append(f"Query Text: {statement}\nParameters: {parameters!r}\n{plan}")
    engine.dispose()

    out = Path(spec["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    flagged: dict[str, list[str]] = {}
    statements: dict[str, int] = {}
    pattern = SEQ_SCAN[dialect]
    with TestClient(app) as client:
        for role, username in spec["users"].items():
            response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            response.raise_for_status()
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
            for scenario, path in spec["scenarios"].items():
                requests: list[tuple[str, int, float, list[str]]] = []
                for page in (1, 2):
                    capture.active, capture.entries = True, []
                    started = time.perf_counter()
                    answer = client.get(path, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    capture.active = False
                    requests.append((path, answer.status_code, elapsed, list(capture.entries)))
                    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") \
                        else {}
                    cursor = body.get("next_cursor") if isinstance(body, dict) else None
                    if page == 2 or not isinstance(cursor, str) or not cursor:
                        break
                    path = f"{spec['scenarios'][scenario]}&cursor={quote(cursor, safe='')}"
                name = f"{scenario}__{role}"
                lines = [f"# {scenario} as {role} ({username}) — {method}", ""]
                hits: list[str] = []
                for number, (requested, status, elapsed, entries) in enumerate(requests, start=1):
                    lines.append(f"## request {number}: GET {requested} → {status} in {elapsed:.1f} ms "
                                 f"(with plan instrumentation), {len(entries)} statements")
                    for entry in entries:
                        lines += ["", entry.rstrip(), ""]
                        hits += [match.group(0) for match in pattern.finditer(entry)]
                    lines.append("")
                (out / f"{name}.txt").write_text("\n".join(lines), encoding="utf-8")
                statements[f"{scenario}/{role}"] = sum(len(r[3]) for r in requests)
                if hits:
                    flagged[f"{scenario}/{role}"] = sorted(set(hits))
    return {"method": method, "dir": str(out), "seq_scans": flagged, "statements": statements}


def _query_text(message: str) -> str:
    """The statement of an auto_explain message: from "Query Text:" to the plan's first node."""
    found = re.search(r"Query Text:(.*?)\n[^\n]*\(cost=", message, re.DOTALL)
    return found.group(1).strip() if found else ""


def harvest_item(row: Any, started: datetime) -> dict[str, Any]:
    """A harvestapi/linkedin-profile-scraper item: the lead's identity, a new current position (this month,
    inside the look-back window: a new_employment signal) and the lead's employer before it."""
    public_id = row.linkedin_public_id
    month = started.strftime("%b")
    location = {"linkedinText": f"{row.city}, {row.state}, United States",
                "parsed": {"text": f"{row.city}, {row.state}, United States", "city": row.city, "state": row.state,
                           "country": "United States", "countryCode": "US"}}
    digest = zlib.crc32(public_id.encode())
    new_title = TITLES[(digest & 0xFFFF) % len(TITLES)]
    new_company = ORGANIZATIONS[(digest >> 16) % len(ORGANIZATIONS)]
    return {
        "id": f"ACoAA{public_id.replace('-', '').upper()[:20]}", "publicIdentifier": public_id,
        "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": row.first_name,
        "lastName": row.last_name, "headline": f"{new_title} at {new_company}",
        "about": f"{row.title} with years of experience in {row.city}.", "openToWork": False, "hiring": False,
        "premium": False, "influencer": False, "verified": False, "location": location,
        "connectionsCount": 312, "followerCount": 330, "emails": [], "websites": [],
        "currentPosition": [{"companyName": new_company}],
        "experience": [
            {"position": new_title, "companyName": new_company, "location": f"{row.city}, {row.state}",
             "employmentType": "Full-time", "startDate": {"month": month, "year": started.year,
                                                          "text": f"{month} {started.year}"},
             "endDate": {"text": "Present"}, "duration": "1 mo"},
            {"position": row.title, "companyName": row.employer, "location": f"{row.city}, {row.state}",
             "employmentType": "Full-time", "startDate": {"month": "Mar", "year": 2019, "text": "Mar 2019"},
             "endDate": {"month": "Aug", "year": started.year - 1, "text": f"Aug {started.year - 1}"},
             "duration": "5 yrs 6 mos"},
        ],
        "education": [{"schoolName": "State University", "degree": "Bachelor of Science",
                       "fieldOfStudy": "Business", "startDate": {"year": 2008, "text": "2008"},
                       "endDate": {"year": 2012, "text": "2012"}}],
        "certifications": [], "honorsAndAwards": [], "skills": [{"name": "Customer Service"}, {"name": "Teamwork"}],
        "languages": [{"name": "English", "proficiency": "Native or bilingual proficiency"}],
        "receivedRecommendations": [], "projects": [], "volunteering": [],
        "query": f"https://www.linkedin.com/in/{public_id}", "status": 200,
        "scrapedAt": started.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def worker_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """``snapshots`` first snapshots of leads with a LinkedIn id and no observation yet, through ProfileIngest.

    With ``parts``, only the leads of part ``part`` (by a hash of the id: side-by-side workers never take the
    same lead), and with ``barrier`` the timed ingest starts when the parent says go. The modules every worker
    imports at start (the task modules the outbox registers) are imported before the clock starts."""
    from upswing.core import tasks
    from upswing.core.db import make_engine, session_factory
    from upswing.observation.reader import read_items
    from upswing.pipeline.profiles import ProfileIngest
    from upswing.source.service import file_source

    tasks.load_task_modules()
    engine = make_engine(spec["url"])
    factory = session_factory(engine)
    started = datetime.now(UTC)
    parts, part = int(spec.get("parts", 1)), int(spec.get("part", 0))
    with factory() as session:
        rows = session.execute(text(
            "SELECT id, first_name, last_name, city, state, linkedin_public_id, employer, title FROM leads l "
            "WHERE linkedin_public_id IS NOT NULL AND merged_into_id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.lead_id = l.id) "
            "AND abs(hashtext(l.id::text)) % :parts = :part "
            "ORDER BY random() LIMIT :n"), {"n": spec["snapshots"], "parts": parts, "part": part}).all()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "harvestapi-scale.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(harvest_item(row, started), separators=(",", ":")) + "\n")
        if spec.get("barrier"):
            barrier = Path(spec["barrier"])
            (barrier / f"ready-{part}").touch()
            deadline = time.monotonic() + 1800
            while not (barrier / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        started_at, clock = time.time(), time.perf_counter()
        with factory() as session:
            run = ProfileIngest(session, file_source(session))
            report = run.ingest(read_items(path))
            run.record_audit(actor="bench", file=path.name)
            session.commit()
        elapsed = time.perf_counter() - clock
        ended_at = time.time()
    engine.dispose()
    return {"snapshots": len(rows), "ingest_s": round(elapsed, 2),
            "snapshots_per_s": round(len(rows) / elapsed, 1) if elapsed else None,
            "started_at": started_at, "ended_at": ended_at,
            "observations_created": report.observations_created, "linked": report.linked,
            "unlinked": report.unlinked, "review": report.review, "signals_created": report.signals_created,
            "rejected": report.rejected}


# ==================================================================================================
# One database, end to end
# ==================================================================================================


@dataclass
class DatabaseRun:
    target: Target
    built: bool
    build: dict[str, float]
    facts: Facts
    results: list[Measured]
    explain: dict[str, Any] | None
    ingest: dict[str, Any] | None
    workers: list[str]
    clients: int
    seconds: float


def run_database(target: Target, args: argparse.Namespace, driver: str, workdir: Path) -> DatabaseRun:
    meta, built = ensure_data(target, args.rebuild)
    facts = gather_facts(target, meta)
    log(f"{target.label}: {facts.leads:,} leads, {facts.signals:,} signals")
    results_dir = Path(args.results_dir) / target.kind
    data_dir = workdir / f"data-{target.kind}"
    data_dir.mkdir(parents=True, exist_ok=True)
    queue = f"api-scale-bench-{os.getpid()}"
    env = server_env(target, meta, data_dir, args.task_runner, queue)
    serial = target.kind == "sqlite"
    clients = 1 if serial else args.clients
    seconds = args.sqlite_seconds if serial else args.seconds
    results: list[Measured] = []
    explain: dict[str, Any] | None = None
    ingest: dict[str, Any] | None = None
    if args.build_only:
        return DatabaseRun(target, built, meta["build"], facts, results, None, None, [], clients, seconds)
    server = Server(env, results_dir / "server.log", args.workers)
    try:
        server.start()
        for role in args.roles:
            username = ROLE_USERS[role]
            tokens = login(server.base_url, username, max(clients, 1))
            for scenario in args.scenarios:
                if not server.alive():
                    raise RuntimeError(f"the server died:\n{server.log_tail()}")
                result = measure(driver, server, scenario, role, tokens, facts, args, clients, seconds,
                                 workdir / "load")
                results.append(result)
                log(f"{target.label} {result.key():<28} p50 {result.p50_ms:8.1f}  p95 {result.p95_ms:8.1f}  "
                    f"p99 {result.p99_ms:8.1f} ms  {result.rps:7.1f} req/s  errors {result.errors}"
                    + (f"  ({result.sample_error[:120]})" if result.errors else ""))
    finally:
        server.stop()
        purge_queue(args.task_runner, queue)
    if not args.no_explain:
        spec = {"libpq": target.libpq() if target.kind == "postgres" else "",
                "out_dir": str(results_dir / "explain"),
                "users": {role: ROLE_USERS[role] for role in args.roles},
                "scenarios": {s: scenario_paths(s, facts)[0] for s in args.scenarios}}
        shutil.rmtree(results_dir / "explain", ignore_errors=True)
        explain = run_worker("explain", spec, env, workdir, timeout=3600)
        log(f"{target.label}: EXPLAIN plans in {explain['dir']} ({explain['method']}); sequential scans of "
            f"leads/signals: {explain['seq_scans'] or 'none'}")
    if target.kind == "postgres" and args.ingest_snapshots > 0:
        ingest = run_ingest(target, args.ingest_snapshots, args.ingest_processes, env, workdir)
        log(f"{target.label}: ingest {ingest}")
    return DatabaseRun(target, built, meta["build"], facts, results, explain, ingest, server.extra, clients, seconds)


def purge_queue(task_runner: str, queue: str) -> None:
    """Drop the Celery queue the server may have sent runs to (no worker consumes it)."""
    if task_runner != "celery":
        return
    try:
        import redis

        client = redis.Redis.from_url(os.environ.get("UPSWING_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
                                      socket_connect_timeout=2)
        client.delete(queue, f"_kombu.binding.{queue}")
    except Exception as exc:
        log(f"could not purge the Celery queue {queue}: {exc}")


# ==================================================================================================
# Report
# ==================================================================================================


def table(run: DatabaseRun, driver: str) -> str:
    t = run.target
    how = "reused" if not run.built else "built now"
    mode = "serially (1 client)" if run.clients == 1 else f"{run.clients} clients"
    served = " ".join(run.workers) or "(1 worker)"
    lines = [f"{t.label}: {run.facts.leads:,} leads, {run.facts.signals:,} signals (build "
             f"{run.build.get('total_s')} s, {how}); {mode} × {run.seconds:g} s per scenario, {driver}, "
             f"serve {served}",
             f"{'scenario':<15} {'role':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>9} {'req/s':>8} "
             f"{'errors':>7}  first page (2nd pages)"]
    for r in run.results:
        flag = "" if r.p95_ms <= GOAL_P95_MS else " *"
        lines.append(f"{r.scenario:<15} {r.role:<8} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f}{flag:<2}{r.p99_ms:>7.1f} "
                     f"{r.max_ms:>9.1f} {r.rps:>8.1f} {r.errors:>7}  {r.first_page} ({r.second_pages}/{r.paths})")
    if any(r.p95_ms > GOAL_P95_MS for r in run.results):
        lines.append(f"* p95 over the {GOAL_P95_MS:g} ms goal")
    if run.explain:
        lines.append(f"EXPLAIN ({run.explain['method']}): {run.explain['dir']}")
        for key, hits in sorted(run.explain["seq_scans"].items()):
            lines.append(f"  sequential scan in {key}: {', '.join(hits)}")
    if run.ingest:
        ingest = run.ingest
        lines.append(f"ingest, one process: {ingest['snapshots']:,} snapshots in {ingest['ingest_s']} s = "
                     f"{ingest['one_process_snapshots_per_s']} snapshots/s")
        if ingest["processes"] > 1:
            lines.append(f"ingest, {ingest['processes']} processes at once: {ingest['parallel_snapshots']:,} "
                         f"snapshots in {ingest['parallel_wall_s']} s = {ingest['snapshots_per_s']} snapshots/s "
                         f"(each {ingest['per_process_snapshots_per_s']})")
        lines.append(f"  {ingest['linked']:,} linked, {ingest['signals_created']:,} signals")
    return "\n".join(lines)


def agent_seq_scans(run: DatabaseRun) -> list[str] | None:
    """Scenarios whose agent request planned a sequential scan of leads or signals (None: no EXPLAIN)."""
    if run.explain is None:
        return None
    return sorted(key for key in run.explain["seq_scans"] if key.endswith("/agent"))


def figures(runs: dict[str, DatabaseRun], args: argparse.Namespace, driver: str) -> dict[str, Any]:
    out: dict[str, Any] = {"goal_p95_ms": GOAL_P95_MS, "clients": args.clients, "seconds": args.seconds,
                           "driver": driver, "cpu_count": os.cpu_count(), "task_runner": args.task_runner}
    pg = runs.get("postgres")
    if pg is not None:
        worst = max(pg.results, key=lambda r: r.p95_ms, default=None)
        out.update({
            "p95_ms_max": worst.p95_ms if worst else None,
            "p95_ms_max_scenario": worst.scenario if worst else None,
            "p95_ms_max_role": worst.role if worst else None,
            "errors": sum(r.errors for r in pg.results),
            "leads": pg.facts.leads, "signals": pg.facts.signals,
            # One process, as the key always meant; the processes side by side apart.
            "ingest_snapshots_per_s_postgres": pg.ingest["one_process_snapshots_per_s"] if pg.ingest else None,
            "ingest_processes_postgres": pg.ingest["processes"] if pg.ingest else None,
            "ingest_snapshots_per_s_postgres_all_processes": pg.ingest["snapshots_per_s"] if pg.ingest else None,
            "goal_met": bool(pg.results) and all(r.p95_ms <= GOAL_P95_MS for r in pg.results)
            and all(r.errors == 0 for r in pg.results),
            "p95_ms": {r.key(): r.p95_ms for r in pg.results},
            "p50_ms": {r.key(): r.p50_ms for r in pg.results},
            "p99_ms": {r.key(): r.p99_ms for r in pg.results},
            "rps": {r.key(): r.rps for r in pg.results},
            "errors_by": {r.key(): r.errors for r in pg.results if r.errors},
            "build_s_postgres": pg.build.get("total_s"), "build_steps_s_postgres": pg.build,
            "built_postgres_this_run": pg.built, "server_options_postgres": pg.workers,
            "ingest_postgres": pg.ingest,
            "explain_seq_scans_postgres": pg.explain["seq_scans"] if pg.explain else None,
            "explain_agent_seq_scan_postgres": agent_seq_scans(pg),
        })
    lite = runs.get("sqlite")
    if lite is not None:
        worst = max(lite.results, key=lambda r: r.p95_ms, default=None)
        out.update({
            "sqlite_leads": lite.facts.leads, "sqlite_signals": lite.facts.signals,
            "sqlite_p95_ms_max": worst.p95_ms if worst else None,
            "sqlite_p95_ms_max_scenario": worst.scenario if worst else None,
            "sqlite_p95_ms_max_role": worst.role if worst else None,
            "sqlite_errors": sum(r.errors for r in lite.results),
            "sqlite_serial_seconds": lite.seconds,
            "sqlite_p95_ms": {r.key(): r.p95_ms for r in lite.results},
            "sqlite_p50_ms": {r.key(): r.p50_ms for r in lite.results},
            "build_s_sqlite": lite.build.get("total_s"), "build_steps_s_sqlite": lite.build,
            "built_sqlite_this_run": lite.built,
            "explain_seq_scans_sqlite": lite.explain["seq_scans"] if lite.explain else None,
            "explain_agent_seq_scan_sqlite": agent_seq_scans(lite),
        })
    return out


# ==================================================================================================


def _csv(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(value: str) -> list[str]:
        chosen = [v.strip() for v in value.split(",") if v.strip()]
        wrong = [v for v in chosen if v not in allowed]
        if wrong or not chosen:
            raise argparse.ArgumentTypeError(f"choose among {', '.join(allowed)}")
        return chosen

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_argument_group("data")
    size.add_argument("--leads", type=int, default=1_000_000, help="PostgreSQL leads (default 1,000,000)")
    size.add_argument("--signals", type=int, default=10_000_000, help="PostgreSQL signals (default 10,000,000)")
    size.add_argument("--sqlite-leads", type=int, help="SQLite leads (default: 100,000 or --leads if smaller)")
    size.add_argument("--sqlite-signals", type=int, help="SQLite signals (default: 1,000,000 or --signals if smaller)")
    size.add_argument("--rebuild", action="store_true", help="build the data again even when it is there")
    size.add_argument("--build-only", action="store_true", help="build (or check) the data, measure nothing")
    size.add_argument("--databases", type=_csv(("postgres", "sqlite")), default=["postgres", "sqlite"],
                      help="comma-separated: postgres,sqlite (default both)")
    size.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES),
                      help="a PostgreSQL URL whose role may create databases (default: %(default)s)")
    size.add_argument("--pg-database", default="upswing_scale", help="scratch database (default: %(default)s)")
    size.add_argument("--sqlite-path", default=str(ROOT / "var" / "api_scale" / "upswing_scale.db"),
                      help="scratch SQLite file (default: var/api_scale/upswing_scale.db)")
    load = parser.add_argument_group("load")
    load.add_argument("--clients", type=int, default=50, help="concurrent clients on PostgreSQL (default 50)")
    load.add_argument("--seconds", type=float, default=30, help="seconds per scenario and role (default 30)")
    load.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each (default 3)")
    load.add_argument("--sqlite-seconds", type=float, default=10,
                      help="seconds per scenario and role on SQLite, one client (default 10)")
    load.add_argument("--scenarios", type=_csv(SCENARIOS), default=list(SCENARIOS),
                      help=f"comma-separated among {', '.join(SCENARIOS)}")
    load.add_argument("--roles", type=_csv(ROLES), default=list(ROLES),
                      help="comma-separated among admin,manager,agent")
    load.add_argument("--follow", type=float, default=0.2,
                      help="share of list requests that ask for the second page (next_cursor), default 0.2")
    load.add_argument("--driver", choices=("auto", "wrk", "httpx"), default="auto",
                      help="wrk when installed (auto), or the asyncio + httpx generator")
    load.add_argument("--workers", type=int, default=2,
                      help="upswing serve --workers N when the command offers it (0: do not pass it)")
    load.add_argument("--task-runner", choices=("celery", "embedded"), default="celery",
                      help="celery (default): background tasks queued for workers elsewhere, the web tier alone; "
                           "embedded: run in the server (its daily rescore then competes with the load)")
    other = parser.add_argument_group("other")
    other.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN capture")
    other.add_argument("--ingest-snapshots", type=int, default=20_000,
                       help="profile snapshots ingested into the PostgreSQL book (0: skip), default 20,000")
    other.add_argument("--ingest-processes", type=int, default=2,
                       help="then the same number of snapshots by this many processes at once, on disjoint leads, "
                            "as production runs its workers (default 2, as `upswing worker` runs in scale.py; "
                            "1: one process only)")
    other.add_argument("--results-dir", default=str(DEFAULT_RESULTS), help="where plans and the summary go")
    parser.add_argument("--worker", choices=("explain", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sqlite_leads = args.sqlite_leads or min(100_000, args.leads)
    args.sqlite_signals = args.sqlite_signals or min(1_000_000, args.signals)
    return args


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="api_scale_") as tmp:
        yield Path(tmp)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        spec = json.loads(Path(args.worker_spec).read_text(encoding="utf-8"))
        result = worker_explain(spec) if args.worker == "explain" else worker_ingest(spec)
        print(json.dumps(result))
        return
    driver = choose_driver(args.driver)
    log(f"load driver: {driver}")
    targets = []
    if "postgres" in args.databases:
        targets.append(pg_target(args.postgres_url, args.pg_database, args.leads, args.signals))
    if "sqlite" in args.databases:
        targets.append(sqlite_target(Path(args.sqlite_path), args.sqlite_leads, args.sqlite_signals))
    runs: dict[str, DatabaseRun] = {}
    with scratch_dir() as workdir:
        for target in targets:
            runs[target.kind] = run_database(target, args, driver, workdir)
    summary = figures(runs, args, driver)
    if not args.build_only:  # a build alone measured nothing: keep the last summary
        results_dir = Path(args.results_dir)
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for run in runs.values():
        print(table(run, driver))
        print()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
