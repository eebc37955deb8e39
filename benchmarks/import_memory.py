"""Lead import at scale: peak memory (RSS) and rows/s importing 1,000,000 leads, then re-importing them.

For each database (a SQLite file, and a scratch PostgreSQL database when a server answers), on a fresh
migrated database with the demo users (the rows' assignees):

1. ``import``: the generated CSV, every row a new lead;
2. ``reimport``: the same file again, every row unchanged (each lead is looked up, nothing is written);
3. ``update``: a refreshed file of the same leads: every row's days past due grew, half the balances
   changed and one e-mail in twenty is new (every row is an update).

Each import is the real command, ``upswing leads import FILE --portfolio bench``, run as a child process: its
peak resident memory is the child's own ``ru_maxrss`` (``os.wait4``), its time the command's wall clock
(Python start-up, the CLI's row count for its progress bar, validation and the writes: what a person waits).

The file has the demo's columns (``upswing.demo.generate.LEAD_COLUMNS``) with values drawn from the bundled
demo leads (names, cities, ZIP codes, employers, titles, phone area codes and exchanges): about 230 bytes a
row.

    python benchmarks/import_memory.py [--rows N] [--postgres-url URL] [--databases sqlite,postgresql]

Last line: one JSON object with ``rows``, ``peak_rss_mb`` (the highest of every run, ``peak_rss_db`` says
where), ``rows_per_s`` (the slowest first import), and per database ``<step>_rows_per_s_<db>``,
``<step>_s_<db>`` and ``<step>_peak_rss_mb_<db>``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any

from _scratch import postgres_database

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEMO_LEADS = Path(__file__).resolve().parents[1] / "src" / "upswing" / "demo" / "data" / "leads.csv"
SCRATCH_DATABASE = "upswing_bench_import"
_REPORT = re.compile(r"(\d+) rows into portfolio '[^']*': (\d+) created, (\d+) updated, (\d+) unchanged, "
                     r"(\d+) rejected")


# --------------------------------------------------------------------------------------------
# The input files
# --------------------------------------------------------------------------------------------


class _Pool:
    """Realistic values, taken from the bundled demo leads."""

    def __init__(self) -> None:
        with DEMO_LEADS.open(newline="", encoding="utf-8") as handle:
            demo = list(csv.DictReader(handle))
        self.columns: list[str] = list(demo[0])
        self.first = sorted({r["first_name"] for r in demo})
        self.last = sorted({r["last_name"] for r in demo})
        self.places = sorted({(r["city"], r["state"], r["postal_code"][:3]) for r in demo})
        self.jobs = sorted({(r["employer"], r["title"]) for r in demo})
        self.domains = sorted({r["email"].rsplit("@", 1)[1] for r in demo})
        self.phones = sorted({re.sub(r"\D", "", r["phone"])[-10:-4] for r in demo})  # area code + exchange
        self.assignees = sorted({r["assignee"] for r in demo})


def _phone(rng: Random, prefix: str) -> str:
    digits = f"{prefix}{rng.randrange(10_000):04d}"
    style = rng.random()
    if style < 0.5:
        return digits
    if style < 0.8:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", folded.lower())


def _rows(pool: _Pool, n: int, seed: int) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(row of the first file, the same lead in the refreshed file)."""
    rng = Random(seed)
    for i in range(1, n + 1):
        first, last = rng.choice(pool.first), rng.choice(pool.last)
        city, state, zip3 = rng.choice(pool.places)
        employer, title = rng.choice(pool.jobs) if rng.random() < 0.8 else ("", "")
        handle = _slug(first), _slug(last)
        email = f"{handle[0]}.{handle[1]}{i}@{rng.choice(pool.domains)}"
        slug = f"{handle[0]}-{handle[1]}-{i:x}"
        balance = round(rng.lognormvariate(10, 0.6), 2)
        days = rng.randrange(30, 720)
        row = {
            "external_id": f"BRW-{i:07d}", "first_name": first, "last_name": last, "email": email,
            "phone": _phone(rng, rng.choice(pool.phones)), "phone_type": rng.choice(("cell", "cell", "home", "work")),
            "address": f"{rng.randrange(100, 9900)} {rng.choice(pool.last)} St", "city": city, "state": state,
            "postal_code": f"{zip3}{rng.randrange(100):02d}", "country": "US",
            "linkedin_url": f"https://www.linkedin.com/in/{slug}" if rng.random() < 0.85 else "",
            "employer": employer, "title": title, "balance": f"{balance:.2f}", "days_delinquent": str(days),
            "assignee": rng.choice(pool.assignees),
        }
        refreshed = dict(row, days_delinquent=str(days + 30))
        if i % 2:
            refreshed["balance"] = f"{max(balance - 50, 0):.2f}"
        if i % 20 == 0:
            refreshed["email"] = f"{handle[0]}.{handle[1]}.{i}@example.net"
        yield row, refreshed


def write_inputs(folder: Path, n: int, seed: int = 7) -> tuple[Path, Path]:
    pool = _Pool()
    first, second = folder / "leads.csv", folder / "leads-refresh.csv"
    with first.open("w", newline="", encoding="utf-8") as a, second.open("w", newline="", encoding="utf-8") as b:
        writer_a, writer_b = csv.DictWriter(a, fieldnames=pool.columns), csv.DictWriter(b, fieldnames=pool.columns)
        writer_a.writeheader()
        writer_b.writeheader()
        for row, refreshed in _rows(pool, n, seed):
            writer_a.writerow(row)
            writer_b.writerow(refreshed)
    return first, second


# --------------------------------------------------------------------------------------------
# Databases and runs
# --------------------------------------------------------------------------------------------


def prepare(url: str) -> None:
    """Migrate and add the demo users (the rows' assignees), in this process: only the imports are measured."""
    from upswing.core import migrate
    from upswing.core.db import make_engine, session_factory
    from upswing.demo import service as demo

    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_factory(engine)() as session:
        demo.ensure_users(session, actor="bench")
        session.commit()
    engine.dispose()


def run_import(url: str, path: Path, folder: Path) -> dict[str, Any]:
    """``upswing leads import`` in a child process: its wall time, peak RSS and report line."""
    command = Path(sys.executable).with_name("upswing")
    args = [str(command)] if command.exists() else [sys.executable, "-c", "from upswing.cli import main; main()"]
    env = {**os.environ, "UPSWING_DATABASE_URL": url, "UPSWING_DATA_DIR": str(folder), "COLUMNS": "200"}
    log = folder / "child.log"
    with log.open("w") as output:
        started = time.perf_counter()
        child = subprocess.Popen([*args, "leads", "import", str(path), "--portfolio", "bench"],  # noqa: S603
                                 stdout=output, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    text_out = log.read_text(errors="replace")
    if child.returncode != 0:
        raise SystemExit(f"the import failed ({child.returncode}):\n{text_out[-3000:]}")
    match = _REPORT.search(text_out)
    if match is None:
        raise SystemExit(f"no report line in the output:\n{text_out[-3000:]}")
    total, created, updated, unchanged, rejected = map(int, match.groups())
    return {"rows": total, "created": created, "updated": updated, "unchanged": unchanged, "rejected": rejected,
            "s": round(seconds, 1), "rows_per_s": round(total / seconds), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


STEPS = ("import", "reimport", "update")


def run_database(name: str, url: str, leads: Path, refreshed: Path, folder: Path, rows: int,
                 steps: list[str]) -> dict[str, Any]:
    prepare(url)
    figures: dict[str, Any] = {}
    expected = {"import": ("created", rows), "reimport": ("unchanged", rows), "update": ("updated", rows)}
    for step, path in (("import", leads), ("reimport", leads), ("update", refreshed)):
        if step not in steps:
            continue
        result = run_import(url, path, folder)
        print(f"{name} {step}: {result}", file=sys.stderr, flush=True)
        field, count = expected[step]
        if result[field] != count or result["rejected"]:
            raise SystemExit(f"{name} {step}: expected {count} {field}, got {result}")
        figures.update({f"{step}_rows_per_s_{name}": result["rows_per_s"], f"{step}_s_{name}": result["s"],
                        f"{step}_peak_rss_mb_{name}": result["peak_rss_mb"]})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated: import, reimport, update")
    args = parser.parse_args()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]

    figures: dict[str, Any] = {"rows": args.rows, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="upswing-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        leads, refreshed = write_inputs(folder, args.rows)
        figures["file_mb"] = round(leads.stat().st_size / 2**20, 1)
        print(f"generated {args.rows} rows ({figures['file_mb']} MB) in {time.perf_counter() - started:.1f} s",
              file=sys.stderr, flush=True)
        measured: list[str] = []
        if "sqlite" in databases:
            figures.update(run_database("sqlite", f"sqlite:///{folder / 'bench.db'}", leads, refreshed, folder,
                                        args.rows, steps))
            measured.append("sqlite")
        if "postgresql" in databases:
            url = postgres_database(args.postgres_url, SCRATCH_DATABASE)
            if url is not None:
                try:
                    figures.update(run_database("postgresql", url, leads, refreshed, folder, args.rows, steps))
                    measured.append("postgresql")
                finally:
                    postgres_database(args.postgres_url, SCRATCH_DATABASE, drop_only=True)
    peaks = {(db, step): figures[f"{step}_peak_rss_mb_{db}"] for db in measured for step in steps}
    worst = max(peaks, key=lambda key: peaks[key])
    figures["peak_rss_mb"] = peaks[worst]
    figures["peak_rss_db"] = f"{worst[0]} ({worst[1]})"
    figures["rows_per_s"] = min(figures[f"{steps[0]}_rows_per_s_{db}"] for db in measured)
    figures["databases"] = measured
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
