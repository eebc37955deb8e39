"""Planning a scheduled source run at a million leads: what one part of a monitoring round costs the database.

    python benchmarks/monitor_plan.py [--leads 1000000] [--per-run 100] [--parts 20] [--postgres-url ADMIN_URL]

On a scratch PostgreSQL database (``upswing_monitor_plan``, dropped after unless ``--keep``): N leads with a
LinkedIn profile written in bulk and the ``apify-linkedin`` source, then the engine's own planning
(``MonitoringEngine._plan``: lock the source, pick the due leads, lease them) timed in three states:

1. **first round**: no lead has a schedule row yet. The round's first part puts every lead on the schedule
   (``_enrol``: one ``INSERT … SELECT`` of the leads without a row) and plans ``--per-run`` leads
   (``first_part_ms``); the later parts plan from the schedule's index (``part_ms_p50``/``p95`` over ``--parts``);
2. **steady state**: every lead checked, 1% of them due now (more at small ``--leads``: enough for the parts):
   the next round's first part (``steady_first_part_ms``: the enrolment finds nobody new) and its parts
   (``steady_part_ms_p50``/``p95``);
3. **without enrolment**, for comparison: the due query as it was before rounds came in parts (the leads outer-joined
   to their schedule rows, ordered by ``coalesce(next_due_at, created_at)``), ``scan_query_ms`` (median of 5).

Last line: one JSON object of the figures (milliseconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import _cycle as cycle
from _scratch import postgres_database
from sqlalchemy import text

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "upswing_monitor_plan"


def log(message: str) -> None:
    print(f"[monitor_plan {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--per-run", type=int, default=None,
                        help="Leads per part (default: the product's UPSWING_MONITOR_LEADS_PER_RUN)")
    parser.add_argument("--parts", type=int, default=20, help="Parts timed after each first part")
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database")
    args = parser.parse_args()

    url = postgres_database(args.postgres_url, DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is not reachable")
    keys = cycle.new_keys()
    os.environ.update({"UPSWING_SECRET_KEY": keys["secret_key"], "UPSWING_ENCRYPTION_KEYS": keys["encryption_keys"],
                       "UPSWING_BLIND_INDEX_KEY": keys["blind_index_key"], "UPSWING_LOG_LEVEL": "WARNING",
                       "UPSWING_OUTBOUND_ALLOW_HOSTS": "127.0.0.1"})
    from upswing.core import migrate
    from upswing.core.db import make_engine, session_factory, utcnow
    from upswing.pipeline import monitoring
    from upswing.pipeline.monitoring import MonitoringEngine
    from upswing.settings import get_settings
    from upswing.source.schemas import RunReport
    from upswing.source.service import get_source

    get_settings.cache_clear()
    args.per_run = args.per_run or get_settings().monitor_leads_per_run
    engine = make_engine(url)
    fakes = cycle.Fakes.start()
    try:
        migrate.upgrade(engine)
        factory = session_factory(engine)
        log(f"writing {args.leads} leads")
        seeded = cycle.seed(factory, fakes, args.leads, profiles=False, crm_connection=False,
                            progress=lambda m: log(m) if args.leads >= 200_000 else None)
        log(f"seeded in {seeded['seed_s']:.0f} s")
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        planner = MonitoringEngine(factory)

        def plan(*, enrol: bool) -> tuple[float, int]:
            started = time.perf_counter()
            planned = planner._plan(cycle.SLUG, lead_ids=None, limit=None, max_targets=args.per_run, enrol=enrol,
                                    scheduled=True, report=RunReport(slug=cycle.SLUG))
            return (time.perf_counter() - started) * 1000, len(planned.items) if planned else 0

        def parts() -> list[float]:
            times = []
            for _ in range(args.parts):
                ms, planned = plan(enrol=False)
                if planned != args.per_run:
                    raise RuntimeError(f"a part planned {planned} leads, not {args.per_run}")
                times.append(ms)
            return times

        first_ms, planned = plan(enrol=True)
        with factory() as session:
            on_schedule = session.scalar(text("SELECT count(*) FROM source_lead_schedule")) or 0
        if planned != args.per_run or on_schedule != args.leads:
            raise RuntimeError(f"the first part planned {planned} and enrolled {on_schedule}")
        log(f"first part (enrolling {on_schedule} leads): {first_ms:.0f} ms")
        with engine.begin() as connection:
            connection.execute(text("ANALYZE source_lead_schedule"))
        first_round = parts()
        log(f"later parts: p50 {statistics.median(first_round):.1f} ms")

        due_share = max(0.01, (args.parts + 2) * args.per_run / args.leads)  # enough for the parts timed
        with engine.begin() as connection:  # every lead checked; 1% due now
            connection.execute(text(
                "UPDATE source_lead_schedule SET checks = 1, last_checked_at = now() - interval '6 days', "
                "next_due_at = CASE WHEN random() < :share THEN now() - interval '1 minute' "
                "ELSE now() + interval '1 day' END"), {"share": due_share})
            connection.execute(text("ANALYZE"))
        steady_first_ms, _ = plan(enrol=True)
        steady = parts()
        log(f"steady state: first part {steady_first_ms:.0f} ms, parts p50 {statistics.median(steady):.1f} ms")

        scan = []
        with factory() as session:
            source = get_source(session, cycle.SLUG)
            query = monitoring._ordered(monitoring._profiles_query(source, utcnow()), enrolled=False)
            for _ in range(5):
                started = time.perf_counter()
                session.execute(query.limit(args.per_run)).all()
                scan.append((time.perf_counter() - started) * 1000)

        def p95(values: list[float]) -> float:
            return round(statistics.quantiles(values, n=20)[-1], 1)

        result: dict[str, Any] = {
            "leads": args.leads, "per_run": args.per_run, "parts_timed": args.parts,
            "first_part_ms": round(first_ms, 1), "part_ms_p50": round(statistics.median(first_round), 1),
            "part_ms_p95": p95(first_round), "steady_first_part_ms": round(steady_first_ms, 1),
            "steady_part_ms_p50": round(statistics.median(steady), 1), "steady_part_ms_p95": p95(steady),
            "steady_due_share": round(due_share, 3),
            "scan_query_ms": round(statistics.median(scan), 1),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(result))
    finally:
        fakes.stop()
        engine.dispose()
        if not args.keep:
            postgres_database(args.postgres_url, DATABASE, drop_only=True)


if __name__ == "__main__":
    main()
