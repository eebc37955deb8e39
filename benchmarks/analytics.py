"""The analytics reports at a million leads: 1M leads, 10M signals, 2M outcomes on PostgreSQL, rollups built, then
every report timed over the last 30 and 365 days through the app with a manager's token (all teams).

    python benchmarks/analytics.py [--scale 1.0] [--runs 20] [--rebuild] [--rebuild-rollups] [--build-only]
                                   [--no-gc-freeze]
                                   [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                   [--database upswing_analytics]

1. Data (``benchmarks/api_scale.py``'s generator, reused): the scratch database ``upswing_analytics`` (``_s<scale>``
   below full size), migrated, users and teams created through the app, then ``INSERT … SELECT`` over
   ``generate_series``: leads (2% of them an experiment's control group, ``holdout``), signals over two years with
   a first action on the 15% that were worked (a quarter within the hour, most within a day, some within a week;
   their ``holdout`` copied from the lead), a profile snapshot for every tenth lead spread over three sources, a
   monitoring schedule for the two thirds of leads with a LinkedIn id, today's budget spent, and outcomes over the
   same two years (payments 50% with amounts, promises 30% with due dates and kept/broken when due, arrangements,
   disputes, complaints, closures). Indexes that back no constraint are dropped for the load and rebuilt, then
   VACUUM ANALYZE. A database already holding the asked size from this generator and schema is reused.
2. Rollups: ``upswing.analytics.rollup.rebuild`` over every day with data (timed: the initial build a deployment
   runs once with ``upswing analytics rollup``), and the coverage snapshot.
3. Timing: each report (JSON) through the ASGI app (``httpx.ASGITransport``, in this process), a manager's token,
   ``--runs`` requests per report and range after one warm-up: p50 and p95 in ms. Today is counted live (as the
   reports do); the other days come from the rollups.

The last line is one JSON object: ``analytics_p95_ms_max`` and ``endpoint`` (the report and range that gave it),
the sizes, the build times and per ``report/range`` p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import api_scale as scale
import httpx
import psycopg
from _scratch import new_keys

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPORTS = ("signals", "funnel", "response-times", "outcomes", "recovery", "coverage", "source-health",
           "model-quality")
RANGES = (30, 365)
#: Bump when the generated data changes: a database built by another version is rebuilt.
BUILDER_VERSION = 1
GOAL_P95_MS = 200.0
SOURCES = (("bench-linkedin", "apify-linkedin", "LinkedIn profiles (bench)"),
           ("bench-news", "rss", "News (bench)"))


def log(message: str) -> None:
    print(f"[analytics {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ==================================================================================================
# Data
# ==================================================================================================


def _source_ids(target: scale.Target) -> list[str]:
    """The file source and two more (a LinkedIn monitor with a budget, a news feed), created through the app."""
    from sqlalchemy import select

    from upswing.core.db import session_factory
    from upswing.source.models import BudgetUsage, Source
    from upswing.source.service import FILE_SOURCE_SLUG, get_or_create_source

    engine = scale.app_engine(target)
    try:
        with session_factory(engine)() as session:
            for slug, connector, name in SOURCES:
                source = get_or_create_source(session, slug, connector=connector, name=name)
                if slug == "bench-linkedin":
                    source.budgets = {"linkedin-profiles": 300}
                    source.last_run_at = source.last_success_at = datetime.now(UTC) - timedelta(minutes=20)
                    session.flush()
                    session.add(BudgetUsage(source_id=source.id, name="linkedin-profiles",
                                            day=datetime.now(UTC).date(), used=180))
                if slug == "bench-news":
                    source.state, source.consecutive_failures = "degraded", 3
                    source.last_run_at = source.last_error_at = datetime.now(UTC) - timedelta(minutes=5)
                    source.last_error = "HttpError: 503 from the feed"
            session.commit()
            ids = {s.slug: str(s.id) for s in session.scalars(select(Source))}
    finally:
        engine.dispose()
    return [ids[FILE_SOURCE_SLUG], *(ids[slug] for slug, _, _ in SOURCES)]


def outcome_columns(leads: int, epoch: int) -> dict[str, str]:
    """Outcomes over the two years before the build: one lead each (uniform), a kind, a day, an amount."""
    h = scale._h
    secs = f"({h('g', 4)} % {scale.TWO_YEARS_S})"
    kind = f"({h('g', 1)} % 100)"
    day = f"((to_timestamp({epoch} - {secs}) AT TIME ZONE 'UTC')::date)"
    return {
        "id": "md5('outcome:' || g)::uuid",
        "lead_id": f"md5('lead:' || (1 + {h('g', 0)} % {leads}))::uuid",
        "kind": scale._weighted(kind, (("payment", 50), ("promise", 30), ("arrangement", 8), ("dispute", 6),
                                       ("complaint", 3), ("closure", 3))),
        "amount": f"CASE WHEN {kind} < 80 THEN ((25 + {h('g', 5)} % 200000)::numeric / 100) END",
        "occurred_on": day,
        "due_on": f"CASE WHEN {kind} >= 50 AND {kind} < 80 THEN {day} + 14 END",
        "promise_status": (f"CASE WHEN {kind} >= 50 AND {kind} < 80 THEN (CASE WHEN {secs} < 20 * 86400 THEN "
                           f"'pending' WHEN {h('g', 6)} % 100 < 55 THEN 'kept' ELSE 'broken' END) END"),
        "source": "'import'",
        "external_id": "'bench-' || g",
        "created_by": "'bench'",
        "created_at": f"to_timestamp({epoch} - {secs})",
        "updated_at": f"to_timestamp({epoch} - {secs})",
    }


def build(target: scale.Target, outcomes: int) -> dict[str, float]:
    """api_scale's build, with first actions, holdout, three sources, schedules, budgets and outcomes."""
    from upswing.core import migrate

    times: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[f"{name}_s"] = round(now - clock, 1)
        log(f"{name} {now - clock:.1f} s")
        clock = now

    scale.drop_target(target)
    scale.pg_admin(target, f'CREATE DATABASE "{target.database}"')
    engine = scale.app_engine(target)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    reference = scale.create_reference_rows(target)
    sources = _source_ids(target)
    lap("migrate_users")

    epoch = int(datetime.now(UTC).replace(microsecond=0).timestamp())
    d = scale.PostgresSql(epoch)
    notes: list[str] = []
    shapes = scale.reflect(target, ("leads", "signals", "observations", "evidence", "outcomes",
                                    "source_lead_schedule"))
    loader = scale.PostgresLoader(target.libpq())
    try:
        indexes = scale.secondary_indexes(loader, "postgres")
        for _table, index, _definition in indexes:
            loader.run(f'DROP INDEX "{index}"')
        loader.commit()

        lead_sql = {**scale.lead_columns(d, reference), "holdout": "(s.g % 50 = 7)"}
        for lo, hi in scale._batches(target.leads, 250_000):
            loader.run(scale.insert_sql(d.with_series(lo, hi), "leads", shapes["leads"].fill("leads", lead_sql, d,
                                                                                             notes), "FROM s"))
            loader.commit()
        lap("leads")

        loader.run("SET session_replication_role = replica")  # FK checks and the owner trigger (copied here)
        derived, signal_sql = scale.signal_columns(d, target.leads)
        bucket = f"({scale._h('q.g', 11)} % 100)"
        delay = (f"(CASE WHEN {bucket} < 25 THEN {scale._h('q.g', 11)} % 3600 WHEN {bucket} < 85 THEN "
                 f"{scale._h('q.g', 11)} % 86400 ELSE {scale._h('q.g', 11)} % 604800 END)")
        signal_sql = {**signal_sql, "holdout": "l.holdout",
                      "first_action_at": f"CASE WHEN q.bs >= 85 THEN {d.ts(f'GREATEST(q.secs - {delay}, 0)')} END"}
        signal_sql = shapes["signals"].fill("signals", signal_sql, d, notes)
        for lo, hi in scale._batches(target.signals, 1_000_000):
            loader.run(scale.insert_sql(f"{d.with_series(lo, hi)}, {derived}", "signals", signal_sql,
                                        f"FROM q JOIN leads l ON l.id = {d.uuid('lead', 'q.n')}"))
            loader.commit()
            log(f"signals {hi:,}/{target.signals:,}")
        lap("signals")

        observation_sql = {**scale.observation_columns(d, reference),
                           "source_id": f"(ARRAY[{', '.join(f'{s!r}::uuid' for s in sources)}])[1 + (s.g / 10) % "
                                        f"{len(sources)}]"}
        loader.run(scale.insert_sql(d.with_series(10, target.leads, 10), "observations",
                                    shapes["observations"].fill("observations", observation_sql, d, notes),
                                    f"FROM s JOIN leads l ON l.id = {d.uuid('lead', 's.g')}"))
        evidence_sql = shapes["evidence"].fill("evidence", scale.evidence_columns(d, reference), d, notes)
        evidence_derived = (f"q AS (SELECT g, {scale.lead_of_signal(target.leads)} AS n, "  # noqa: S608
                            f"{scale._h('g', 4)} % {scale.TWO_YEARS_S} AS secs FROM s)")
        for lo, hi in scale._batches(target.signals, 2_000_000):
            loader.run(scale.insert_sql(f"{d.with_series(lo, hi)}, {evidence_derived}", "evidence", evidence_sql,
                                        "FROM q WHERE q.n % 10 = 0"))
            loader.commit()
        lap("observations_evidence")

        checked_ago = f"({scale._h('s.g', 9)} % (14 * 86400))"
        schedule_sql = {"source_id": f"{sources[1]!r}::uuid", "lead_id": d.uuid("lead", "s.g"),
                        "last_checked_at": d.ts(checked_ago),
                        "next_due_at": f"CASE WHEN s.g % 10 = 1 THEN NULL "
                                       f"ELSE {d.ts(f'{checked_ago} - 7 * 86400')} END",
                        "checks": "1 + s.g % 20"}
        loader.run(scale.insert_sql(d.with_series(1, target.leads), "source_lead_schedule", schedule_sql,
                                    "FROM s WHERE s.g % 3 <> 0"))
        loader.commit()
        lap("schedules")

        outcome_sql = shapes["outcomes"].fill("outcomes", outcome_columns(target.leads, epoch), d, notes)
        for lo, hi in scale._batches(outcomes, 1_000_000):
            loader.run(scale.insert_sql(d.with_series(lo, hi), "outcomes", outcome_sql, "FROM s"))
            loader.commit()
        loader.run("SET session_replication_role = origin")
        lap("outcomes")

        for _table, _index, definition in indexes:
            loader.run(definition)
            loader.commit()
        lap("indexes")
    finally:
        loader.close()
    with psycopg.connect(target.libpq(), autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE)")
    lap("analyze")
    for note in notes:
        log(f"note: {note}")
    times["total_s"] = round(time.perf_counter() - started, 1)
    return times


def ensure_data(target: scale.Target, outcomes: int, rebuild: bool) -> dict[str, Any]:
    from upswing.core import migrate

    expected = {"leads": target.leads, "signals": target.signals, "outcomes": outcomes,
                "analytics_builder": BUILDER_VERSION, "schema": migrate.head_revision()}
    meta = None if rebuild else scale.read_meta(target)
    if meta is not None and all(meta.get(k) == v for k, v in expected.items()):
        log(f"reusing {target.database} (built {meta.get('built_at')})")
        return meta
    log(f"building {target.leads:,} leads / {target.signals:,} signals / {outcomes:,} outcomes in {target.database}")
    times = build(target, outcomes)
    scale.write_meta(target, {**expected, "build": times, "built_at": datetime.now(UTC).isoformat(),
                              "rollups": None})
    meta = scale.read_meta(target)
    assert meta is not None
    return meta


# ==================================================================================================
# Rollups
# ==================================================================================================


def build_rollups(target: scale.Target, meta: dict[str, Any]) -> dict[str, float]:
    """Every day with data rolled up (as ``upswing analytics rollup`` does), and the coverage snapshot."""
    from upswing.analytics import rollup
    from upswing.core.db import make_engine, session_factory

    if meta.get("rollups"):
        log("rollups already built")
        return dict(meta["rollups"])
    engine = make_engine(target.url)
    factory = session_factory(engine)
    times: dict[str, float] = {}
    try:
        for kind in rollup.DAILY_KINDS:
            started = time.perf_counter()
            days = rollup.rebuild(factory, kind, progress=lambda n, kind=kind: log(f"{kind}: {n} days")
                                  if n % 100 == 0 else None)
            times[f"rollup_{kind}_s"] = round(time.perf_counter() - started, 1)
            times[f"rollup_{kind}_days"] = days
            log(f"rollup {kind}: {days} days in {times[f'rollup_{kind}_s']} s "
                f"({1000 * times[f'rollup_{kind}_s'] / max(days, 1):.0f} ms a day)")
        started = time.perf_counter()
        with factory() as session:
            rollup.snapshot_coverage(session)
            session.commit()
        times["coverage_snapshot_s"] = round(time.perf_counter() - started, 1)
        log(f"coverage snapshot {times['coverage_snapshot_s']} s")
        with psycopg.connect(target.libpq(), autocommit=True) as pg:
            pg.execute("VACUUM (ANALYZE)")
    finally:
        engine.dispose()
    scale.write_meta(target, {"rollups": times})
    return times


# ==================================================================================================
# Timing
# ==================================================================================================


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def _time_reports(app: Any, token: str, runs: int, today: date) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=300) as client:
        for days in RANGES:
            params = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
            for report in REPORTS:
                timings: list[float] = []
                rows = 0
                for run in range(runs + 1):
                    started = time.perf_counter()
                    response = await client.get(f"/api/v1/analytics/{report}", params=params, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{report}: {response.status_code} {response.text[:500]}")
                    if run:  # the first is the warm-up
                        timings.append(elapsed)
                    rows = len(response.json().get("rows", []))
                key = f"{report}/{days}d"
                figures[key] = {"p50_ms": round(statistics.median(timings), 1),
                                "p95_ms": round(_percentile(timings, 0.95), 1), "rows": rows}
                log(f"{key:24} p50 {figures[key]['p50_ms']:8.1f} ms  p95 {figures[key]['p95_ms']:8.1f} ms  "
                    f"({rows} rows)")
    return figures


def time_reports(target: scale.Target, runs: int, *, gc_freeze: bool = False) -> dict[str, dict[str, float]]:
    from sqlalchemy import select

    from upswing.account.models import User
    from upswing.account.security import create_token
    from upswing.app import create_app
    from upswing.core.db import utcnow
    from upswing.settings import Settings

    settings = Settings(database_url=target.url, environment="development", secret_key=new_keys()["secret_key"])
    app = create_app(settings)
    from upswing.core.db import make_engine, session_factory

    engine = make_engine(target.url)
    try:
        with session_factory(engine)() as session:
            manager = session.scalar(select(User).where(User.username == scale.ROLE_USERS["manager"]))
            assert manager is not None
            token = create_token(settings, manager.id, manager.role, "access")
    finally:
        engine.dispose()
    if gc_freeze:  # as `upswing serve` does (app.create_served_app): the app's objects leave the full GC passes
        gc.collect()
        gc.freeze()
    return asyncio.run(_time_reports(app, token, runs, utcnow().date()))


# ==================================================================================================


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of 1M leads / 10M signals / 2M outcomes")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--database", default=None, help="default: upswing_analytics (_s<scale> below full size)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rebuild-rollups", action="store_true", help="build the rollups again (data kept)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                        help="time without gc.freeze() after the app is built (`upswing serve` freezes: "
                             "app.create_served_app), to see what the collector's full passes cost")
    args = parser.parse_args()
    leads, signals, outcomes = (max(100, round(n * args.scale)) for n in (1_000_000, 10_000_000, 2_000_000))
    database = args.database or ("upswing_analytics" if args.scale == 1 else
                                 f"upswing_analytics_s{str(args.scale).replace('.', '_')}")
    target = scale.pg_target(args.postgres_url, database, leads, signals)
    meta = ensure_data(target, outcomes, args.rebuild)
    if args.rebuild_rollups:
        meta["rollups"] = None
    rollups = build_rollups(target, meta)
    if args.build_only:
        return
    figures = time_reports(target, args.runs, gc_freeze=args.gc_freeze)
    worst = max(figures, key=lambda key: figures[key]["p95_ms"])
    summary = {"analytics_p95_ms_max": figures[worst]["p95_ms"], "endpoint": worst.split("/")[0],
               "range": worst.split("/")[1], "goal_p95_ms": GOAL_P95_MS, "leads": leads, "signals": signals,
               "outcomes": outcomes, "runs": args.runs, "gc_freeze": args.gc_freeze, "build": meta.get("build"),
               "rollups": rollups,
               **{f"{key}_{name}": value for key, values in figures.items() for name, value in values.items()
                  if name != "rows"}}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
