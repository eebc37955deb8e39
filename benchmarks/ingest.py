"""Ingest benchmark: 100,000 synthetic profile snapshots from file to persisted signals, and a 100k-lead import.

Runs on SQLite and on PostgreSQL (skipped with a note when no server answers). Data comes from the
demo generator (deterministic): 100,000 leads, then their dated Apify exports in time order, cut at
exactly 100,000 snapshots, so the run mixes first snapshots with second-snapshot diffs.

    python benchmarks/ingest.py [--snapshots N] [--leads N] [--postgres-url URL]

Last line: one JSON object with snapshots_per_s_sqlite, snapshots_per_s_postgres, import_100k_s, …
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _scratch import postgres_database
from sqlalchemy import func, select

from upswing.core import migrate
from upswing.core.db import make_engine, session_factory
from upswing.demo import service as demo
from upswing.demo.generate import LEAD_COLUMNS, generate_portfolio
from upswing.lead import service as leads
from upswing.observation.reader import read_items
from upswing.pipeline.profiles import ProfileIngest
from upswing.signal.models import Signal
from upswing.source.service import file_source

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_inputs(folder: Path, n_leads: int, n_snapshots: int) -> tuple[Path, list[Path], int]:
    portfolio = generate_portfolio(n_leads)
    leads_csv = folder / "leads.csv"
    with leads_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEAD_COLUMNS)
        writer.writeheader()
        writer.writerows(portfolio.leads)
    exports, remaining = [], n_snapshots
    for export in sorted(portfolio.exports, key=lambda e: e.observed_at):
        if remaining <= 0:
            break
        items = export.items[:remaining]
        remaining -= len(items)
        path = folder / export.filename.replace(".json", ".jsonl").replace(".jsonll", ".jsonl")
        with path.open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, separators=(",", ":")) + "\n")
        exports.append(path)
    return leads_csv, exports, n_snapshots - max(remaining, 0)


def run_on(url: str, leads_csv: Path, exports: list[Path], snapshots: int) -> dict[str, Any]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = session_factory(engine)
    with factory() as session:  # the generated leads are assigned to the demo agents
        demo.ensure_users(session, actor="bench")
        session.commit()

    started = time.perf_counter()
    with factory() as session:
        report = leads.import_leads(session, leads_csv, portfolio_name="bench", actor="bench")
        session.commit()
    import_s = time.perf_counter() - started

    created = linked = 0
    started = time.perf_counter()
    for path in exports:
        with factory() as session:
            run = ProfileIngest(session, file_source(session))
            result = run.ingest(read_items(path))
            run.record_audit(actor="bench", file=path.name)
            session.commit()
        created += result.observations_created
        linked += result.linked
    ingest_s = time.perf_counter() - started
    with factory() as session:
        signals = session.scalar(select(func.count()).select_from(Signal)) or 0
    engine.dispose()
    return {"import_s": round(import_s, 2), "leads_imported": report.created, "ingest_s": round(ingest_s, 2),
            "snapshots": snapshots, "observations_created": created, "linked": linked, "signals": signals,
            "snapshots_per_s": round(snapshots / ingest_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    args = parser.parse_args()

    figures: dict[str, Any] = {"snapshots": args.snapshots, "leads": args.leads, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        leads_csv, exports, snapshots = write_inputs(folder, args.leads, args.snapshots)
        print(f"generated {args.leads} leads and {snapshots} snapshots in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        figures["snapshots"] = snapshots

        sqlite = run_on(f"sqlite:///{folder / 'bench.db'}", leads_csv, exports, snapshots)
        print(f"sqlite: {sqlite}", file=sys.stderr)
        figures.update({"snapshots_per_s_sqlite": sqlite["snapshots_per_s"], "import_100k_s": sqlite["import_s"],
                        "import_100k_s_sqlite": sqlite["import_s"], "signals_sqlite": sqlite["signals"]})

        pg_url = postgres_database(args.postgres_url, "upswing_bench")
        if pg_url:
            postgres = run_on(pg_url, leads_csv, exports, snapshots)
            print(f"postgres: {postgres}", file=sys.stderr)
            figures.update({"snapshots_per_s_postgres": postgres["snapshots_per_s"],
                            "import_100k_s_postgres": postgres["import_s"], "signals_postgres": postgres["signals"]})
            figures["import_100k_s"] = max(sqlite["import_s"], postgres["import_s"])
        else:
            figures.update({"snapshots_per_s_postgres": None, "import_100k_s_postgres": None})
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
