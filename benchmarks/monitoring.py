"""Monitoring throughput: 10,000 leads watched through the fake Apify server, within a daily budget.

For each database (SQLite in a temporary directory; PostgreSQL too when the local server answers, or
``--postgres-url``): 10,000 leads with LinkedIn profiles and 10,000 profiles seeded in the fake Apify server
(harvestapi shape), then the real engine and ``apify-linkedin`` connector over loopback HTTP:

1. budget phase: the daily budget is 2,500 profiles. A run scrapes exactly that many (counted on the fake
   server's request log), and a second run the same day scrapes none;
2. the budget is raised to 10,000 and a run fetches the remaining 7,500.

``leads_per_s`` is leads fetched and stored per second of run time (plan, actor runs, ingest, schedule,
commits); ``p95_ms`` is the 95th percentile over leads of the time from the start of the actor run that
fetched a lead to the commit that stored it (each batch of 100 is one actor run and one transaction).

    python benchmarks/monitoring.py [--leads 10000] [--budget 2500] [--postgres-url URL] [--no-postgres]

Last line: one JSON object (SQLite figures as leads_per_s / p95_ms; PostgreSQL ones prefixed pg_).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from upswing.core import migrate
from upswing.core.db import make_engine, session_factory
from upswing.core.http import BudgetStore, HttpClient
from upswing.fakes.apify import HARVEST_PROFILES, FakeApify
from upswing.lead.models import Lead, Portfolio
from upswing.observation.models import Observation
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.source import service
from upswing.source.schemas import SourceUpdate

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLUG = "apify-linkedin"
BUDGET = "linkedin-profiles"


def profile(public_id: str, n: int) -> dict[str, Any]:
    return {
        "id": f"ACoAA{public_id}", "publicIdentifier": public_id,
        "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": "Pat", "lastName": f"Lee{n}",
        "headline": "Accountant", "location": {"linkedinText": "Columbus, Ohio, United States"},
        "experience": [{"position": "Accountant", "companyName": f"Firm {n % 500}",
                        "startDate": {"month": "Mar", "year": 2019, "text": "Mar 2019"},
                        "endDate": {"text": "Present"}}],
        "certifications": [], "honorsAndAwards": [], "education": [],
    }


def seed(factory: Any, fake: FakeApify, leads: int) -> None:
    with factory() as session, session.begin():
        portfolio = Portfolio(name=f"bench-{uuid.uuid4().hex[:6]}")
        session.add(portfolio)
        session.flush()
        rows = []
        for n in range(leads):
            public_id = f"bench-{n:06d}"
            rows.append({"portfolio_id": portfolio.id, "external_id": f"B-{n:06d}", "first_name": "Pat",
                         "last_name": f"Lee{n}", "emails": [], "phones": [],
                         "linkedin_url": f"https://www.linkedin.com/in/{public_id}",
                         "linkedin_public_id": public_id, "balance": Decimal(500 + (n % 40) * 1000)})
        session.execute(insert(Lead), rows)
    fake.add_profiles(HARVEST_PROFILES, [profile(f"bench-{n:06d}", n) for n in range(leads)])


def scraped(fake: FakeApify) -> int:
    return sum(len((r.json() or {}).get("queries", [])) for r in fake.requests_to("run-sync"))


def bench(url: str, leads: int, budget: int) -> dict[str, Any]:
    engine_db = make_engine(url)
    migrate.upgrade(engine_db)
    factory = session_factory(engine_db)
    fake = FakeApify()
    with fake:
        t0 = time.perf_counter()
        seed(factory, fake, leads)
        print(f"  seeded {leads} leads and profiles in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        with factory() as session, session.begin():
            service.configure(session, SLUG, SourceUpdate(
                config={"token": fake.token, "base_url": fake.url, "batch_size": 100}, enabled=True,
                budgets={BUDGET: budget}), actor="benchmark")

        def http(budgets: BudgetStore) -> HttpClient:
            return HttpClient(budgets=budgets)

        monitor = MonitoringEngine(factory, http_factory=http, batch_size=100)
        run_seconds = 0.0

        started = time.perf_counter()
        first = monitor.run(SLUG)
        run_seconds += time.perf_counter() - started
        after_first = scraped(fake)
        second = monitor.run(SLUG)  # same day, budget spent
        after_second = scraped(fake)
        budget_respected = after_first == budget and after_second == budget and second.stopped == "budget"
        print(f"  budget phase: {first.observations_created} stored, {after_first} scraped of a budget of "
              f"{budget}; second run: {after_second - after_first} scraped ({second.stopped})", file=sys.stderr)

        with factory() as session, session.begin():
            service.configure(session, SLUG, SourceUpdate(budgets={BUDGET: leads}), actor="benchmark")
        started = time.perf_counter()
        rest = monitor.run(SLUG)
        run_seconds += time.perf_counter() - started
        total_scraped = scraped(fake)
        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(Observation)) or 0
        budget_respected = budget_respected and total_scraped <= leads
    engine_db.dispose()
    latencies = sorted(monitor.lead_latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    fetched = first.targets + rest.targets
    print(f"  rest: {rest.observations_created} stored; total {stored} observations, {total_scraped} scraped, "
          f"errors: {len(first.errors) + len(rest.errors)}", file=sys.stderr)
    return {"leads": fetched, "stored": stored, "leads_per_s": round(fetched / run_seconds, 1),
            "p95_ms": round(p95 * 1000, 1), "median_ms": round(statistics.median(latencies) * 1000, 1),
            "budget_respected": budget_respected and stored == leads, "run_s": round(run_seconds, 2)}


def postgres_url(explicit: str | None) -> str | None:
    url = explicit or LOCAL_POSTGRES
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--budget", type=int, default=2_500, help="Daily budget in the budget phase")
    parser.add_argument("--postgres-url", default=None, help="An admin URL; a scratch database is made there")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not 0 < args.budget < args.leads:
        parser.error("--budget must be between 0 and --leads")

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({args.leads} leads, budget {args.budget}):", file=sys.stderr)
        sqlite = bench(f"sqlite:///{Path(tmp) / 'bench.db'}", args.leads, args.budget)
        print(f"  {sqlite}")
        result.update(sqlite)
    admin = None if args.no_postgres else postgres_url(args.postgres_url)
    if admin is not None:
        name = f"upswing_bench_monitoring_{os.getpid()}"
        admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(f"PostgreSQL ({args.leads} leads, budget {args.budget}):", file=sys.stderr)
            pg = bench(make_url(admin).set(database=name).render_as_string(hide_password=False), args.leads,
                       args.budget)
            print(f"  {pg}")
            result.update({f"pg_{k}": v for k, v in pg.items()})
            result["budget_respected"] = result["budget_respected"] and pg["budget_respected"]
        finally:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
    else:
        print("PostgreSQL: not reachable, skipped", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
