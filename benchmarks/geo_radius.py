"""Radius search at a million leads: ``GET /api/v1/leads?near=…&radius_km=…`` through the lead service on
PostgreSQL, p50/p95 of 200 queries (docs/geo.md).

    python benchmarks/geo_radius.py [--scale 1.0] [--queries 200] [--rebuild]
                                    [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

1. Data: the scratch database ``upswing_geo_bench`` (``_s<scale>`` below full size), migrated, then one
   ``INSERT … SELECT`` over ``generate_series``: leads spread over the ~41,000 US ZIP centroids of the ``zipcodes``
   package (loaded with COPY into a side table), each lead with its ZIP, city, state and the ZIP's coordinates
   (``geo_precision`` zip); 10% assigned to a bench agent, 20% to their team. VACUUM ANALYZE. A database holding the
   asked size from this builder is reused.
2. Timing: ``upswing.lead.service.page_leads`` (what the API endpoint calls) with ``near`` at a random lead's ZIP
   centroid and ``radius_km`` one of 5, 10, 25, 50, 100 km, nearest first, 50 a page: ``--queries`` queries (a fixed
   seed) after 10 warm-ups, as an admin (the whole book) and, for one in four, as the agent (own and team leads).

Helper for ``benchmarks/matching.py``: ``radius_query_p95_ms(postgres_url, leads=1_000_000)`` returns the figures;
run alone, the last line is JSON ``{"radius_query_p95_ms": …, "leads": …}``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "upswing_geo_bench"
#: Bump when the generated data changes: a database built by another version is rebuilt.
BUILDER_VERSION = 1
RADII_KM = (5.0, 10.0, 25.0, 50.0, 100.0)
AGENT_ID = uuid.UUID("00000000-0000-7000-8000-00000000a9e1")
TEAM_ID = uuid.UUID("00000000-0000-7000-8000-00000000fea1")
PORTFOLIO_ID = uuid.UUID("00000000-0000-7000-8000-0000000090f1")


def log(message: str) -> None:
    print(f"[geo_radius {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _database_name(leads: int) -> str:
    return DATABASE if leads == 1_000_000 else f"{DATABASE}_n{leads}"


def _url(admin_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def _built(admin_url: str, database: str, leads: int) -> bool:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
            if found.first() is None:
                return False
    finally:
        admin.dispose()
    engine = create_engine(_url(admin_url, database))
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT leads, version FROM geo_bench_meta")).first()
            return row is not None and tuple(row) == (leads, BUILDER_VERSION)
    except Exception:
        return False
    finally:
        engine.dispose()


def build(admin_url: str, database: str, leads: int) -> dict[str, float]:
    """The scratch database anew, migrated, with ``leads`` geocoded leads (module docstring)."""
    from sqlalchemy import create_engine, text

    from upswing.core import migrate
    from upswing.core.db import make_engine
    from upswing.geo.geocode import tables, zip_entries

    timings: dict[str, float] = {}
    started = time.perf_counter()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = _url(admin_url, database)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    timings["migrate_s"] = round(time.perf_counter() - started, 1)

    places = [(z["zip_code"], z["city"], z["state"], *tables().zips[z["zip_code"]]) for z in zip_entries()
              if z["zip_code"] in tables().zips and z.get("zip_code_type") != "MILITARY"]
    started = time.perf_counter()
    raw = create_engine(url)
    with raw.begin() as connection:
        connection.execute(text("CREATE TABLE geo_bench_zips (n integer PRIMARY KEY, zip text, city text, "
                                "state text, lat float8, lng float8)"))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        buffer = io.StringIO("".join(f"{n}\t{z}\t{c}\t{s}\t{lat}\t{lng}\n"
                                     for n, (z, c, s, lat, lng) in enumerate(places)))
        with cursor.copy("COPY geo_bench_zips FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        connection.execute(text("INSERT INTO teams (id, name, created_at) VALUES (:t, 'geo-bench', now())"),
                           {"t": TEAM_ID})
        connection.execute(text(
            "INSERT INTO users (id, username, password_hash, role, team_id, is_active, created_at) "
            "VALUES (:a, 'geo.bench.agent', 'x', 'agent', :t, true, now())"), {"a": AGENT_ID, "t": TEAM_ID})
        connection.execute(text("INSERT INTO portfolios (id, name, created_at) VALUES (:p, 'geo-bench', now())"),
                           {"p": PORTFOLIO_ID})
        # A lead per number: its ZIP drawn by a hash of the number (every ZIP about equally often).
        connection.execute(text("""
            INSERT INTO leads (id, portfolio_id, external_id, first_name, last_name, emails, phones, contact_bidx,
                               city, state, postal_code, country, latitude, longitude, geo_precision, balance,
                               days_delinquent, status, assignee_id, team_id, holdout, created_at, updated_at)
            SELECT md5('geo-lead' || g)::uuid, :p, 'G' || lpad(g::text, 8, '0'), 'Geo', 'Lead' || g, '[]', '[]',
                   '[]', z.city, z.state, z.zip, 'US', z.lat, z.lng, 'zip', (g % 50000) + 100, g % 721, 'new',
                   CASE WHEN g % 10 = 0 THEN :a END, CASE WHEN g % 5 = 0 THEN :t END, false, now(), now()
            FROM generate_series(1, CAST(:leads AS integer)) AS g
            JOIN geo_bench_zips z ON z.n = (hashtext('geo' || g) & 2147483647) % CAST(:places AS integer)
        """), {"p": PORTFOLIO_ID, "a": AGENT_ID, "t": TEAM_ID, "leads": leads, "places": len(places)})
        connection.execute(text("CREATE TABLE geo_bench_meta (leads integer, version integer)"))
        connection.execute(text("INSERT INTO geo_bench_meta VALUES (:n, :v)"), {"n": leads, "v": BUILDER_VERSION})
    timings["insert_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("VACUUM ANALYZE leads"))
    raw.dispose()
    timings["analyze_s"] = round(time.perf_counter() - started, 1)
    return timings


def _percentile(ordered: list[float], fraction: float) -> float:
    position = fraction * (len(ordered) - 1)
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def radius_query_p95_ms(postgres_url: str = DEFAULT_POSTGRES, leads: int = 1_000_000, *, queries: int = 200,
                        rebuild: bool = False, seed: int = 19) -> dict[str, Any]:
    """Build (once; reused after) ``leads`` geocoded leads in a scratch database on the server of ``postgres_url``
    and time ``queries`` radius queries through the lead service: p50/p95 in ms and the sizes."""
    from sqlalchemy import text

    from upswing.account.models import Role, User
    from upswing.core.db import make_engine, session_factory
    from upswing.lead import service
    from upswing.lead.schemas import LeadFilters

    database = _database_name(leads)
    build_timings: dict[str, float] = {}
    if rebuild or not _built(postgres_url, database, leads):
        log(f"building {leads:,} leads in {database}")
        build_timings = build(postgres_url, database, leads)
        log(f"built: {build_timings}")
    engine = make_engine(_url(postgres_url, database))
    factory = session_factory(engine)
    admin = User(id=uuid.uuid4(), username="geo.bench.admin", role=Role.ADMIN.value)
    agent = User(id=AGENT_ID, username="geo.bench.agent", role=Role.AGENT.value, team_id=TEAM_ID)
    rng = random.Random(seed)
    with factory() as session:
        centres = [(float(r[0]), float(r[1])) for r in session.execute(
            text("SELECT lat, lng FROM geo_bench_zips ORDER BY n"))]
    plan = [(rng.choice(centres), rng.choice(RADII_KM), agent if i % 4 == 3 else admin) for i in range(queries + 10)]
    times: list[float] = []
    found: list[int] = []
    by_radius: dict[float, list[float]] = {radius: [] for radius in RADII_KM}
    with factory() as session:
        for index, ((lat, lng), radius, user) in enumerate(plan):
            filters = LeadFilters(near=f"{lat},{lng}", radius_km=radius, limit=50)
            started = time.perf_counter()
            page = service.page_leads(session, filters, user=user)
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()
            if index >= 10:
                times.append(elapsed)
                found.append(len(page.items))
                by_radius[radius].append(elapsed)
    engine.dispose()
    ordered = sorted(times)
    return {"radius_query_p95_ms": round(_percentile(ordered, 0.95), 2),
            "radius_query_p50_ms": round(statistics.median(ordered), 2), "leads": leads, "queries": len(times),
            "radii_km": list(RADII_KM), "mean_items": round(statistics.fmean(found), 1), "build": build_timings,
            **{f"p95_ms_{radius:g}km": round(_percentile(sorted(values), 0.95), 2)
               for radius, values in by_radius.items() if values}}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of 1M leads")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    leads = max(1000, round(1_000_000 * args.scale))
    print(json.dumps(radius_query_p95_ms(args.postgres_url, leads, queries=args.queries, rebuild=args.rebuild)))


if __name__ == "__main__":
    main()
