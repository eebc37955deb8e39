"""Matchmaking at scale: 100,000 leads × 50 services scored and stored through ``matching.service.compute_matches``
(the same batched path the API, the daily task and the signal consumer use) on PostgreSQL; and the radius query at
1M leads from ``benchmarks/geo_radius.py`` (docs/matching.md).

    python benchmarks/matching.py [--scale 1.0] [--radius-leads 1000000] [--skip-radius]
                                  [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

1. Data: the scratch database ``upswing_matching_bench`` (anew each run), migrated, then ``INSERT … SELECT`` over
   ``generate_series``: ``100,000 × scale`` leads in 30 states, coordinates near their state's centre, balances
   100–60,100, 0–720 days delinquent, an employer from a list of 12 (industries inferred from the names); one signal
   for every other lead (job loss, new job, promotion, business launch, a loan intent, a portal engagement), dated
   over the last 200 days. 50 services through ``service_catalog.service.upsert_service``: every category, a third
   limited to 1–6 states, one in five local (50–300 km around a state centre), balance and delinquency ranges,
   need profiles, industries and employment states drawn with a fixed seed.
2. Timing: ``compute_matches`` over every lead in chunks of 500 leads (two queries load a chunk's facts; eligible
   matches written with COPY), one transaction, committed: ``matches_per_s`` = lead × service pairs scored per
   second of the whole call (load + score + write), with the rows stored and the split of the time.
3. ``radius_query_p95_ms``: ``geo_radius.radius_query_p95_ms(postgres_url, leads=--radius-leads)`` (its database
   is built once and reused). Null when the helper or PostgreSQL is missing (noted on stderr).

The last line is one JSON object: ``matches_per_s``, ``radius_query_p95_ms`` and the details.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "upswing_matching_bench"
LEADS = 100_000
SERVICES = 50
PORTFOLIO_ID = uuid.UUID("00000000-0000-7000-8000-0000000a7c11")
#: State → a point inside it (the leads scatter ±1.5° around it).
CENTRES = {"TX": (31.0, -99.0), "CA": (36.8, -119.4), "NY": (42.9, -75.5), "FL": (28.6, -82.4),
           "IL": (40.0, -89.2), "PA": (40.9, -77.8), "OH": (40.3, -82.8), "GA": (32.7, -83.4),
           "NC": (35.5, -79.4), "MI": (44.3, -85.4), "NJ": (40.1, -74.7), "VA": (37.5, -78.8),
           "WA": (47.4, -120.5), "AZ": (34.3, -111.7), "MA": (42.3, -71.8), "TN": (35.9, -86.4),
           "IN": (39.9, -86.3), "MO": (38.4, -92.5), "MD": (39.0, -76.8), "WI": (44.6, -89.9),
           "CO": (39.0, -105.5), "MN": (46.3, -94.3), "SC": (33.9, -80.9), "AL": (32.8, -86.8),
           "LA": (31.1, -92.0), "KY": (37.5, -85.3), "OR": (43.9, -120.6), "OK": (35.6, -97.5),
           "CT": (41.6, -72.7), "UT": (39.3, -111.7)}
EMPLOYERS = ("Target", "Walmart", "Mercy Hospital", "Acme Software", "Lone Star Construction", "City of Austin",
             "First National Bank", "Blue Sky Logistics", "Sunrise Hotel", "Riverside School District",
             "Green Valley Farms", "Zebra")
SIGNAL_TYPES = ("job_loss", "new_employment", "promotion", "business_launch", "intent_loan_need",
                "portal_engagement")
CATEGORIES = ("repayment_plan", "rehabilitation", "settlement", "hardship_forbearance", "refinancing",
              "consolidation", "business_loan")
NEEDS = ("hardship", "restart", "settlement", "rehabilitation", "refinance", "loan")
INDUSTRIES = ("retail", "healthcare", "technology", "construction", "finance", "education")


def log(message: str) -> None:
    print(f"[matching {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build(admin_url: str, leads: int) -> str:
    from _scratch import postgres_database
    from sqlalchemy import create_engine, text

    from upswing.core import migrate
    from upswing.core.db import make_engine

    url = postgres_database(admin_url, DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is needed")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    states = list(CENTRES)
    values = ", ".join(f"({n}, '{s}', {lat}, {lng})" for n, (s, (lat, lng)) in enumerate(CENTRES.items()))
    employers = ", ".join(f"({n}, '{e}')" for n, e in enumerate(EMPLOYERS))
    kinds = ", ".join(f"({n}, '{k}')" for n, k in enumerate(SIGNAL_TYPES))
    raw = create_engine(url)
    with raw.begin() as connection:
        connection.execute(text("INSERT INTO portfolios (id, name, created_at) VALUES (:p, 'match-bench', now())"),
                           {"p": PORTFOLIO_ID})
        connection.execute(text(f"""
            WITH st(n, state, lat, lng) AS (VALUES {values}), em(n, name) AS (VALUES {employers})
            INSERT INTO leads (id, portfolio_id, external_id, first_name, last_name, emails, phones, contact_bidx,
                               state, country, latitude, longitude, geo_precision, balance, days_delinquent, employer,
                               status, holdout, created_at, updated_at)
            SELECT md5('match-lead' || g)::uuid, :p, 'M' || lpad(g::text, 8, '0'), 'Match', 'Lead' || g, '[]', '[]',
                   '[]', st.state, 'US', st.lat + ((hashtext('lat' || g) % 1500) / 1000.0),
                   st.lng + ((hashtext('lng' || g) % 1500) / 1000.0), 'zip', (g * 7919 % 60000) + 100, g % 721,
                   em.name, 'new', false, now(), now()
            FROM generate_series(1, {int(leads)}) AS g
            JOIN st ON st.n = g % {len(states)}
            JOIN em ON em.n = (g / 7) % {len(EMPLOYERS)}
        """), {"p": PORTFOLIO_ID})  # noqa: S608 - our own constants
        connection.execute(text(f"""
            WITH k(n, kind) AS (VALUES {kinds})
            INSERT INTO signals (id, lead_id, type, detected_at, effective_date, confidence, observation_ids, status,
                                 dedupe_key, created_at, updated_at)
            SELECT md5('match-signal' || g)::uuid, md5('match-lead' || g)::uuid, k.kind,
                   now() - ((g % 200) || ' days')::interval, (now() - ((g % 200) || ' days')::interval)::date,
                   0.9, '[]', 'new', md5('match-signal' || g), now(), now()
            FROM generate_series(2, {int(leads)}, 2) AS g
            JOIN k ON k.n = (g / 2) % {len(SIGNAL_TYPES)}
        """))  # noqa: S608 - our own constants
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("VACUUM ANALYZE leads"))
        connection.execute(text("VACUUM ANALYZE signals"))
    raw.dispose()
    return url


def add_services(url: str, count: int, seed: int = 27) -> None:
    from upswing.core.db import make_engine, session_factory
    from upswing.service_catalog.schemas import ServiceCreate
    from upswing.service_catalog.service import upsert_service

    rng = random.Random(seed)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        for n in range(count):
            fields: dict[str, Any] = {"name": f"Bench service {n:02d}", "category": CATEGORIES[n % len(CATEGORIES)],
                                      "need_profile": {need: round(rng.uniform(0.3, 1.0), 2)
                                                       for need in rng.sample(NEEDS, rng.randint(1, 3))}}
            if n % 5 == 0:
                lat, lng = CENTRES[rng.choice(list(CENTRES))]
                fields.update(local_radius_km=rng.choice((50, 100, 300)), center_latitude=lat, center_longitude=lng)
            elif n % 3 == 0:
                fields["states"] = rng.sample(list(CENTRES), rng.randint(1, 6))
            if rng.random() < 0.5:
                low = rng.choice((0, 500, 2000, 5000))
                fields.update(balance_min=Decimal(low), balance_max=Decimal(low + rng.choice((20000, 50000))))
            if rng.random() < 0.4:
                fields["days_delinquent_min"] = rng.choice((30, 90, 180))
            if rng.random() < 0.3:
                fields["industries"] = rng.sample(INDUSTRIES, 2)
            if rng.random() < 0.2:
                fields["employment_states"] = rng.sample(("employed", "unemployed", "self_employed"), 2)
            if rng.random() < 0.3:
                fields["signal_types"] = [rng.choice(SIGNAL_TYPES)]
            upsert_service(session, ServiceCreate.model_validate(fields), actor="bench")
        session.commit()
    engine.dispose()


def run_matching(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from upswing.core.db import make_engine, session_factory
    from upswing.lead.models import Lead
    from upswing.matching import scoring, service
    from upswing.matching.models import ServiceMatch

    engine = make_engine(url)
    timings = {"load_s": 0.0, "score_s": 0.0}
    load, score_lead = service.load_lead_facts, scoring.score_lead

    def timed_load(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return load(*args, **kwargs)
        finally:
            timings["load_s"] += time.perf_counter() - started

    def timed_score(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return score_lead(*args, **kwargs)
        finally:
            timings["score_s"] += time.perf_counter() - started

    service.load_lead_facts, scoring.score_lead = timed_load, timed_score  # type: ignore[assignment]
    try:
        with session_factory(engine)() as session:
            ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
            started, cpu = time.perf_counter(), time.process_time()
            report = service.compute_matches(session, ids)
            session.commit()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            stored = session.scalar(select(func.count()).select_from(ServiceMatch)) or 0
    finally:
        service.load_lead_facts, scoring.score_lead = load, score_lead  # type: ignore[assignment]
    engine.dispose()
    return {"matches_per_s": round(report.scored / elapsed), "pairs_scored": report.scored, "leads": report.leads,
            "services": report.services, "matches_stored": stored, "seconds": round(elapsed, 1),
            # This process's CPU seconds (PostgreSQL's are not counted): on a shared machine, the wall-clock rate
            # says how busy it was; pairs per CPU second say what the code costs.
            "cpu_s": round(cpu, 1), "matches_per_cpu_s": round(report.scored / cpu) if cpu else None,
            "load_s": round(timings["load_s"], 1), "score_s": round(timings["score_s"], 1),
            "write_s": round(elapsed - timings["load_s"] - timings["score_s"], 1)}


def radius(postgres_url: str, leads: int) -> dict[str, Any] | None:
    try:
        from geo_radius import radius_query_p95_ms
    except ImportError as exc:
        log(f"radius_query_p95_ms: benchmarks/geo_radius.py is missing ({exc}): null")
        return None
    try:
        return radius_query_p95_ms(postgres_url, leads=leads)
    except Exception as exc:
        log(f"radius_query_p95_ms failed: {exc.__class__.__name__}: {exc}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of 100,000 leads (services stay 50)")
    parser.add_argument("--radius-leads", type=int, default=1_000_000)
    parser.add_argument("--skip-radius", action="store_true")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    leads = max(100, int(LEADS * args.scale))
    log(f"building {leads:,} leads")
    started = time.perf_counter()
    url = build(args.postgres_url, leads)
    add_services(url, SERVICES)
    log(f"built in {time.perf_counter() - started:.1f} s; matching {leads:,} × {SERVICES}")
    result: dict[str, Any] = run_matching(url)
    log(f"matching: {result}")
    geo = None if args.skip_radius else radius(args.postgres_url, args.radius_leads)
    result["radius_query_p95_ms"] = None if geo is None else geo.get("radius_query_p95_ms")
    result["radius"] = geo
    print(json.dumps(result))


if __name__ == "__main__":
    main()
