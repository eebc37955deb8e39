"""Soak: mixed load on PostgreSQL for 30 minutes — the API at 50 users, ingest and alerts — with no error, no
memory growth beyond 10 % and a stable p95.

    python benchmarks/soak.py                       # 30 minutes (the figure the docs quote is this command's)
    python benchmarks/soak.py --minutes 5           # a short proof run
       [--clients 50] [--window-seconds S] [--ingest-every 20] [--ingest-leads 50] [--postgres-url ADMIN_URL]

The system as production runs it, on a scratch database ``upswing_soak`` (dropped after), a private Redis (a
``redis-server`` on a free port) and the fakes (Apify, Brevo) in this process: ``upswing serve --workers 2``,
two ``upswing worker`` processes (Celery) and ``upswing scheduler``. Data: 20 agents, 500 leads with signals from
the start (bulk) plus the leads the ingest will watch (``_cycle.seed``), the alert rule (every signal: in-app +
e-mail to the owner).

Load, all at once for ``--minutes``:

* **API**: ``--clients`` (50) closed-loop clients (``_api_load.py``, asyncio + httpx, a process of its own), each
  signed in as one of the agents, cycling through the feed (``/api/v1/signals?limit=50``, ``sort=score``), the
  leads list and a lead page; run as consecutive windows of ``--window-seconds`` (300; at most a fifth of the run),
  each window's p50/p95/p99, requests/s and errors reported;
* **ingest**: every ``--ingest-every`` s (20), ``source.run`` runs for the next ``--ingest-leads`` (50) leads (one
  actor run each 25) through the fake Apify: new observations, one signal per lead;
* **alerts**: every signal → an alert → an e-mail at the fake Brevo (and the in-app delivery).

Errors: API answers that are not 2xx, timeouts and connection errors; failed task runs; leads ingested but
missing (or repeated) their observation, signal, alert or e-mail at the end (``_cycle.count``, after a drain of
up to 2 minutes). Memory: the resident set (with children) of the server, each worker and the scheduler, at the
start of the load and at its end (``rss_growth_pct``: the worst process). Stability: ``p95_drift_pct`` = (max − min)
÷ min of the windows' p95.

Last line: one JSON object with ``minutes``, ``errors``, ``rss_growth_pct_max``, ``p95_ms_by_window``,
``p95_drift_pct``, ``requests``, ``ingested``, ``alerts_delivered``, ``goal_met`` (0 errors, growth ≤ 10 %)
and the detail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import _cycle as cycle
import httpx
from _scratch import postgres_database
from sqlalchemy import text

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "upswing_soak"
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sign_in(base_url: str, username: str) -> str:
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": cycle.PASSWORD},
                          timeout=60)
    response.raise_for_status()
    return str(response.json()["access_token"])


def wait_ready(server: cycle.Proc, base_url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the server exited:\n{server.tail()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server was not ready in {timeout_s:g} s:\n{server.tail()}")


def load_window(base_url: str, paths: list[str], tokens: list[str], clients: int, seconds: float,
                work: Path) -> dict[str, Any]:
    spec = work / f"load-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(json.dumps({"base_url": base_url, "paths": paths, "tokens": tokens, "clients": clients,
                                "seconds": seconds}))
    done = subprocess.run([sys.executable, str(HERE / "_api_load.py"), str(spec)], capture_output=True,  # noqa: S603
                          text=True, timeout=seconds + 300, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("JSON "):
            figures: dict[str, Any] = json.loads(line[5:])
            sample = next((x[7:] for x in done.stdout.splitlines() if x.startswith("SAMPLE ")), "")
            figures["sample"] = sample
            return figures
    raise RuntimeError(f"the load generator gave no figures: {done.stderr[-1000:]}")


def seed_signals(factory: Any, portfolio_id: uuid.UUID, leads: int) -> None:
    """Signals already there when the load starts (one per lead, bulk), so the feed has pages to read."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from upswing.core.db import utcnow
    from upswing.lead.models import Lead
    from upswing.signal.models import Signal

    now = utcnow()
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Lead.id).where(Lead.portfolio_id == portfolio_id).limit(leads)))
        priorities = ("urgent", "high", "medium", "low")
        rows = [{"id": uuid.uuid4(), "lead_id": lead_id, "type": "promotion", "title": "Senior Nurse",
                 "organization": f"Employer {n % 97}", "effective_date": (now - timedelta(days=n % 30)).date(),
                 "detected_at": now - timedelta(minutes=n), "confidence": 0.9,
                 "evidence_url": f"https://www.linkedin.com/in/soak-{n}", "evidence_snippet": "Senior Nurse",
                 "observation_ids": [], "score": 90 - n % 60, "priority": priorities[n % 4], "score_breakdown": {},
                 "scored_at": now, "status": "new", "dedupe_key": uuid.uuid4().hex + uuid.uuid4().hex,
                 "created_at": now - timedelta(minutes=n), "updated_at": now} for n, lead_id in enumerate(ids)]
        session.execute(insert(Signal), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--window-seconds", type=float, default=None, help="default: min(300, minutes × 60 / 5)")
    parser.add_argument("--ingest-every", type=float, default=20)
    parser.add_argument("--ingest-leads", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    seconds = args.minutes * 60
    window = args.window_seconds or min(300.0, seconds / 5)
    rounds = int(seconds // args.ingest_every) + 1
    watched = rounds * args.ingest_leads

    from upswing.core import migrate
    from upswing.core.db import make_engine, session_factory
    from upswing.core.tasks import get_celery_app
    from upswing.settings import get_settings

    url = postgres_database(args.postgres_url, DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is not reachable")
    procs: list[cycle.Proc] = []
    with tempfile.TemporaryDirectory(prefix="upswing-soak-") as tmp:
        work = Path(tmp)
        redis = cycle.PrivateRedis(work / "redis").start()
        fakes = cycle.Fakes.start()
        engine = make_engine(url)
        try:
            queue = f"upswing-soak-{uuid.uuid4().hex[:8]}"
            port = cycle.free_port()
            env = cycle.environment(url, redis.url, queue, fakes, work, cycle.new_keys(),
                                    UPSWING_ENVIRONMENT="production",
                                    UPSWING_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
            for key, value in env.items():
                if key.startswith("UPSWING_"):
                    os.environ[key] = value
            get_settings.cache_clear()
            get_celery_app.cache_clear()
            migrate.upgrade(engine)
            factory = session_factory(engine)
            seeded = cycle.seed(factory, fakes, watched + 500, agents=args.agents, batch_size=25, run="soak",
                                crm_connection=False)
            ids = cycle.lead_ids(factory, seeded["portfolio_id"])
            seed_signals(factory, seeded["portfolio_id"], 500)  # the first 500 leads: signals, no ingest
            to_watch = ids[500:]
            log(f"seeded {len(ids)} leads ({watched} to ingest over the run) in {seeded['seed_s']} s")
            base_url = f"http://127.0.0.1:{port}"
            server = cycle.Proc("server", [*cycle.upswing_command(), "serve", "--host", "127.0.0.1", "--port",
                                           str(port), "--workers", "2"], env, work / "server.log").start()
            procs.append(server)
            for n in range(2):
                procs.append(cycle.worker(f"worker-{n + 1}", env, work).start())
            procs.append(cycle.scheduler(env, work, interval=5, resend_after=300).start())
            wait_ready(server, base_url)
            users = [f"cycle.soak.agent{n:02d}" for n in range(args.agents)]
            tokens = [sign_in(base_url, users[n % len(users)]) for n in range(min(args.clients, len(users)))]
            with factory() as session:
                lead_pages = [f"/api/v1/leads/{lead_id}" for lead_id in session.scalars(text(
                    "SELECT id FROM leads ORDER BY external_id LIMIT 20"))]
            paths = ["/api/v1/signals?limit=50", "/api/v1/signals?limit=50&sort=score", "/api/v1/leads?limit=50",
                     *lead_pages[:5]]
            # Warm-up (not measured): first requests compile and cache what they need.
            load_window(base_url, paths, tokens, min(10, args.clients), 5, work)
            time.sleep(2)
            rss_start = {p.name: cycle.rss_kib(p.pid) for p in procs}

            stop = threading.Event()
            ingested: list[uuid.UUID] = []

            def ingest() -> None:
                index = 0
                while not stop.is_set() and index * args.ingest_leads < len(to_watch):
                    batch = to_watch[index * args.ingest_leads:(index + 1) * args.ingest_leads]
                    cycle.enqueue_cycle(factory, batch, chunk=25, tag=f"soak-{index}")
                    ingested.extend(batch)
                    index += 1
                    stop.wait(args.ingest_every)

            feeder = threading.Thread(target=ingest, name="ingest", daemon=True)
            statistics = cycle.StatisticsKeeper(engine).start()  # what autovacuum does, when the server has it off
            started = time.time()
            feeder.start()
            windows: list[dict[str, Any]] = []
            while time.time() - started < seconds - 1:
                length = min(window, seconds - (time.time() - started))
                # Fresh access tokens for every window: they live 30 minutes (a dashboard renews its own).
                tokens = [sign_in(base_url, users[n % len(users)]) for n in range(min(args.clients, len(users)))]
                figures = load_window(base_url, paths, tokens, args.clients, length, work)
                figures["rss_mb"] = {p.name: round(cycle.rss_kib(p.pid) / 1024, 1) for p in procs}
                windows.append(figures)
                log(f"window {len(windows)}: {figures['requests']} requests, p95 {figures['p95_us'] / 1000:.0f} ms, "
                    f"errors {sum(figures[k] for k in ('connect_errors', 'read_errors', 'timeouts', 'non2xx'))}")
            stop.set()
            statistics.stop()
            feeder.join(timeout=30)
            rss_end = {p.name: cycle.rss_kib(p.pid) for p in procs}
            load_s = time.time() - started
            dead = [p.name for p in procs if not p.alive()]

            # Drain: what was ingested must arrive (observations → signals → alerts → e-mails).
            expected = len(ingested)
            portfolio = seeded["portfolio_id"]

            def ingested_tally() -> cycle.Tally:  # the leads ingested (not the 500 with seeded signals)
                return cycle.count(factory, fakes, portfolio, expected, crm=False, only=list(ingested))

            cycle.wait_until(lambda: ingested_tally().complete(), 120, 1.0)
            tally = ingested_tally()
            with factory() as session:
                failed: dict[str, int] = {str(name): int(n) for name, n in session.execute(text(
                    "SELECT name, count(*) FROM task_runs WHERE status = 'failed' GROUP BY name")).all()}
                p95_alert = session.scalar(text(
                    "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM d.sent_at - s.created_at))"
                    " FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id JOIN signals s ON s.id = a.signal_id"
                    " WHERE d.channel = 'email' AND d.status = 'sent'"))
        finally:
            for proc in procs:
                proc.stop()
            fakes.stop()
            redis.kill()
            engine.dispose()
            if not args.keep:
                postgres_database(args.postgres_url, DATABASE, drop_only=True)

    api_errors = sum(w[k] for w in windows for k in ("connect_errors", "read_errors", "write_errors", "timeouts",
                                                      "non2xx"))
    pipeline_errors = tally.total_lost + tally.total_duplicated + sum(failed.values()) + len(dead)
    growth = {name: round((rss_end[name] - rss_start[name]) * 100 / rss_start[name], 1)
              for name in rss_start if rss_start[name]}
    p95s = [round(w["p95_us"] / 1000, 1) for w in windows]
    drift = round((max(p95s) - min(p95s)) * 100 / min(p95s), 1) if p95s and min(p95s) else None
    errors = api_errors + pipeline_errors
    result = {
        "minutes": args.minutes, "errors": errors, "api_errors": api_errors, "pipeline_errors": pipeline_errors,
        "rss_growth_pct_max": max(growth.values()) if growth else None, "rss_growth_pct": growth,
        "rss_mb_start": {k: round(v / 1024, 1) for k, v in rss_start.items()},
        "rss_mb_end": {k: round(v / 1024, 1) for k, v in rss_end.items()},
        "p95_ms_by_window": p95s, "p50_ms_by_window": [round(w["p50_us"] / 1000, 1) for w in windows],
        "p99_ms_by_window": [round(w["p99_us"] / 1000, 1) for w in windows],
        "rps_by_window": [round(w["requests"] * 1e6 / w["duration_us"], 1) for w in windows],
        "p95_drift_pct": drift, "window_seconds": window, "requests": sum(w["requests"] for w in windows),
        "clients": args.clients, "load_s": round(load_s, 1), "ingested": expected,
        "alerts_delivered": tally.counts.get("deliveries_email_sent"), "alerts_p95_s": round(float(p95_alert), 2)
        if p95_alert is not None else None, "lost": tally.lost, "duplicated": tally.duplicated,
        "failed_task_runs": failed, "dead_processes": dead, "autovacuum": statistics.autovacuum,
        "analyzes": statistics.analyzes,
        "first_error_sample": next((w["sample"] for w in windows if w.get("sample")), ""),
        "errors_by_kind_by_window": [w.get("errors_by_kind", {}) for w in windows],
        "error_samples": {kind: text for w in windows for kind, text in w.get("error_samples", {}).items()},
        "goal_met": errors == 0 and bool(growth) and max(growth.values()) <= 10.0,
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
