"""Scale: a full monitoring cycle on PostgreSQL with the Celery runner and 2 worker processes, at N leads.

    python benchmarks/scale.py                          # --leads 10000 (the spec's size)
    python benchmarks/scale.py --leads 10000,100000     # both sizes: per-lead cost side by side
       [--postgres-url ADMIN_URL] [--chunk 100] [--leads-per-run N] [--workers 2] [--crm] [--keep]
       [--timeout-minutes 60]

For each size, on a scratch database ``upswing_scale_cycle`` of the local server (``--postgres-url``: an admin
URL; dropped and created anew per size, dropped after unless ``--keep``: the cycle writes into it, so a second
run could not find the same work to do), a private Redis (``redis-server`` on a free port, no persistence) and
the fakes (Apify, Brevo, and with ``--crm`` HubSpot) in this process:

1. **import**: agents (a team whose digest waits), the alert rule (every signal: in-app + e-mail to the lead's
   owner), the ``apify-linkedin`` source, then N leads through the product's import (``lead.service.
   import_leads``, 5,000 rows per transaction: validation, normalisation, blind indexes, assignment), timed:
   ``import_leads_per_s``. The real path, not the bulk builder of ``api_scale.py``: the import is one of the
   stages whose per-lead cost is looked at. The fake Apify gets one harvestapi profile per lead with a new
   current position, so each lead's first observation makes exactly one ``new_employment`` signal;
2. **cycle**: ``upswing worker --pool solo`` × ``--workers`` (2) on the private Redis; the clock starts when this
   quarter hour's scheduled runs are enqueued (``source.monitor`` among them, as ``upswing scheduler`` would; it
   starts next and enqueues the later quarter hours'). From there everything follows by itself, as deployed: the
   monitor queues the source's round, whose first part puts the leads on the schedule; each part of
   ``UPSWING_MONITOR_LEADS_PER_RUN`` leads (``--leads-per-run``; the product's default unless given) queues the
   next (``pipeline/tasks.py``) and fetches through the fake Apify, one actor run per ``--chunk`` (100) leads;
   ingest → signals (``signal.created`` in the outbox) → ``events.deliver`` → the alert consumer → alerts and
   deliveries → ``alerts.send`` → the fake Brevo (and ``crm.enqueue`` → ``crm.push`` → the fake HubSpot with
   ``--crm``). When every e-mail is sent, the team's digest time is moved to 00:00 and ``digest.run`` enqueued:
   one digest per agent, sent through the fake Brevo too.
3. **truth**: one observation, signal, alert, in-app and e-mail delivery and received e-mail (and CRM note) per
   lead; ``lost``/``duplicated`` count the differences (``_cycle.count``).

Figures per size: ``import_leads_per_s``; ``profiles_per_s`` (observations ÷ start → last observation
committed); ``signals_per_s`` (signals ÷ start → last signal); ``alerts_delivered`` and ``alerts_p95_s`` (p50,
max: signal committed (``signals.created_at``) → e-mail accepted by the fake Brevo (``alert_deliveries.
sent_at``)); ``digests`` and ``digests_per_s``; ``cycle_seconds`` (start → the last digest sent); per-lead
costs (``cycle_ms_per_lead``, ``import_ms_per_lead``); ``source_runs`` (the rounds' parts); the workers' RSS.
The last line is one JSON object: the last size's figures, with the other sizes' under ``<leads>_`` prefixes.

The machine has 2 cores shared with other work; the figures move with it (the load average is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import _cycle as cycle
from _scratch import postgres_database
from sqlalchemy import text

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "upswing_scale_cycle"


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def scalar(factory: Any, sql: str, **params: Any) -> Any:
    with factory() as session:
        return session.scalar(text(sql), params)


def run_size(leads: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from upswing.core import migrate
    from upswing.core.db import make_engine, session_factory
    from upswing.core.tasks import enqueue, enqueue_schedules, get_celery_app
    from upswing.settings import get_settings

    url = postgres_database(args.postgres_url, DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is not reachable")
    work = root / f"n{leads}"
    work.mkdir(parents=True)
    redis = cycle.PrivateRedis(work / "redis").start()
    fakes = cycle.Fakes.start()
    procs: list[cycle.Proc] = []
    engine = None
    try:
        queue = f"upswing-scale-{uuid.uuid4().hex[:8]}"
        extra = {"UPSWING_MONITOR_LEADS_PER_RUN": str(args.leads_per_run)} if args.leads_per_run else {}
        env = cycle.environment(url, redis.url, queue, fakes, work, cycle.new_keys(), **extra)
        for key, value in env.items():
            if key.startswith("UPSWING_"):
                os.environ[key] = value
        get_settings.cache_clear()
        get_celery_app.cache_clear()
        engine = make_engine(url)
        migrate.upgrade(engine)
        factory = session_factory(engine)
        log(f"{leads} leads: importing")
        agents = args.agents or agents_for(leads)
        seeded = cycle.seed(factory, fakes, leads, agents=agents, batch_size=args.chunk, run="scale",
                            importer="import", crm_connection=args.crm,
                            progress=lambda m: log(m) if leads >= 50_000 else None)
        import_s = seeded["import_s"]
        log(f"imported in {import_s:.1f} s ({leads / import_s:.0f} leads/s); seeding took {seeded['seed_s']:.1f} s")
        # Committed: statistics written by a rolled-back ANALYZE are gone, yet it resets the table's change
        # counter, so autovacuum does not analyze either (a 1M-lead run planned every look-up as a parallel
        # sequential scan of the leads, 300 ms each, until analyzed by hand).
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        for n in range(args.workers):
            procs.append(cycle.worker(f"worker-{n + 1}", env, work).start())
        time.sleep(4)  # the workers' start-up (imports, broker connection) is not the cycle's
        load_start = os.getloadavg()

        statistics = cycle.StatisticsKeeper(engine).start()  # what autovacuum does, when the server has it off
        started = time.time()
        with factory() as session, session.begin():
            enqueue_schedules(session)  # this quarter hour's source.monitor (and the other schedules)
        # The scheduler as deployed (re-sends a run whose message has not been taken after 300 s, as a lost
        # message would be), for the later quarter hours: each starts a new round beside the running one.
        procs.append(cycle.scheduler(env, work, interval=5, resend_after=300).start())
        rss_start = {p.name: cycle.rss_kib(p.pid) for p in procs}
        log("the monitoring round is queued")
        marks: dict[str, float] = {}
        deadline = time.monotonic() + args.timeout_minutes * 60
        last_note = 0.0
        digests_enqueued = False
        while time.monotonic() < deadline:
            with factory() as session:
                obs, sig, sent = session.execute(text(
                    "SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM signals), "
                    "(SELECT count(*) FROM alert_deliveries WHERE channel = 'email' AND status = 'sent' "
                    " AND alert_id IS NOT NULL)")).one()
                digests_sent = session.scalar(text(
                    "SELECT count(*) FROM digests g JOIN alert_deliveries d ON d.id = g.delivery_id "
                    "WHERE d.status = 'sent'")) or 0
                notes = len(fakes.hubspot._objects.get("notes", {})) if args.crm else leads
            now = time.time()
            for name, done in (("observations", obs >= leads), ("signals", sig >= leads), ("emails", sent >= leads),
                               ("crm", args.crm and notes >= leads), ("digests", digests_sent >= agents)):
                if done and name not in marks:
                    marks[name] = now
                    log(f"{name} complete at {now - started:.1f} s")
            if "emails" in marks and ("crm" in marks or not args.crm) and not digests_enqueued:
                cycle.release_digests(factory)
                with factory() as session, session.begin():
                    enqueue(session, "digest.run", key=f"scale-digests-{leads}-{uuid.uuid4()}")
                digests_enqueued, marks["digests_enqueued"] = True, time.time()
            if "digests" in marks:
                break
            if now - last_note > 30:
                runs = scalar(factory, "SELECT count(*) FROM task_runs WHERE name = 'source.run'")
                log(f"{now - started:.0f} s: observations {obs}, signals {sig}, e-mails sent {sent}, "
                    f"notes {notes}, digests {digests_sent}; source runs {runs}; queue {redis.depth(queue)}")
                last_note = now
            for proc in procs:
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            # Three counts over the growing tables: every 0.5 s they would cost a 1M-lead run a share of a core.
            time.sleep(0.5 if leads < 200_000 else 5)
        rss_end = {p.name: cycle.rss_kib(p.pid) for p in procs}
        statistics.stop()
        end = marks.get("digests", time.time())
        tally = cycle.count(factory, fakes, seeded["portfolio_id"], leads, crm=args.crm)
        with factory() as session:
            latency = session.execute(text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.95) WITHIN GROUP "
                "(ORDER BY x), max(x), count(*) FROM (SELECT extract(epoch FROM d.sent_at - s.created_at) AS x "
                "FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id JOIN signals s ON s.id = a.signal_id "
                "WHERE d.channel = 'email' AND d.status = 'sent') t")).one()
            first_signal, last_signal = session.execute(text(
                "SELECT min(created_at), max(created_at) FROM signals")).one()
            last_observation = session.scalar(text("SELECT max(created_at) FROM observations"))
            digests = session.scalar(text("SELECT count(*) FROM digests")) or 0
            failed = session.execute(text("SELECT name, count(*) FROM task_runs WHERE status = 'failed' "
                                          "GROUP BY name")).all()
            runs = session.scalar(text("SELECT count(*) FROM task_runs WHERE name = 'source.run'")) or 0
            retried = session.scalar(text("SELECT count(*) FROM task_runs WHERE attempts > 1")) or 0
        monitoring_s = (last_observation.timestamp() - started) if last_observation else None
        signals_s = (last_signal.timestamp() - started) if last_signal else None
        digest_s = end - marks["digests_enqueued"] if "digests_enqueued" in marks and "digests" in marks else None
        complete = "digests" in marks
        result = {
            "leads": leads, "complete": complete, "cycle_seconds": round(end - started, 1),
            "import_s": round(import_s, 1), "import_leads_per_s": round(leads / import_s, 1),
            "monitoring_s": round(monitoring_s, 1) if monitoring_s else None,
            "profiles_per_s": round(tally.counts["observations"] / monitoring_s, 1) if monitoring_s else None,
            "signals": tally.counts["signals"],
            "signals_per_s": round(tally.counts["signals"] / signals_s, 1) if signals_s else None,
            "alerts_delivered": int(latency[3] or 0),
            "alerts_p50_s": round(float(latency[0]), 2) if latency[0] is not None else None,
            "alerts_p95_s": round(float(latency[1]), 2) if latency[1] is not None else None,
            "alerts_max_s": round(float(latency[2]), 2) if latency[2] is not None else None,
            "alerts_per_s": round(int(latency[3] or 0) / (marks["emails"] - started), 1) if "emails" in marks
            else None,
            "digests": digests, "digests_s": round(digest_s, 1) if digest_s else None,
            "digests_per_s": round(digests / digest_s, 2) if digest_s else None,
            "lost": tally.total_lost, "duplicated": tally.total_duplicated,
            "lost_by_kind": tally.lost, "duplicated_by_kind": tally.duplicated,
            "email_resent_same_message_id": tally.extra["email_resent_same_message_id"],
            "failed_task_runs": {name: n for name, n in failed},
            "cycle_ms_per_lead": round((end - started) * 1000 / leads, 2),
            "import_ms_per_lead": round(import_s * 1000 / leads, 3),
            "stage_marks_s": {k: round(v - started, 1) for k, v in marks.items()},
            "source_runs": runs, "retried_task_runs": retried, "chunk": args.chunk,
            "leads_per_run": get_settings().monitor_leads_per_run,  # the environment above, or the default
            "workers": args.workers, "autovacuum": statistics.autovacuum, "analyzes": statistics.analyzes,
            "agents": agents, "crm": args.crm,
            "rss_mb_start": {k: round(v / 1024, 1) for k, v in rss_start.items()},
            "rss_mb_end": {k: round(v / 1024, 1) for k, v in rss_end.items()},
            "load_avg_start": [round(x, 2) for x in load_start],
            "load_avg_end": [round(x, 2) for x in os.getloadavg()],
            "first_signal_after_s": round(first_signal.timestamp() - started, 1) if first_signal else None,
        }
        log(json.dumps(result))
        return result
    finally:
        for proc in procs:
            proc.stop()
        fakes.stop()
        redis.kill()
        if engine is not None:
            engine.dispose()
        if not args.keep:
            postgres_database(args.postgres_url, DATABASE, drop_only=True)


def agents_for(leads: int) -> int:
    """A specialist's case load of about 500 leads. With 20 agents at a million leads, each recipient's hour held
    ~50,000 deliveries, which the hourly cap's count read for every batch of alerts (the last 1M run's slowdown);
    no team works that way."""
    return max(20, leads // 500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", default="10000", help="One size or several, comma-separated")
    parser.add_argument("--postgres-url", default=os.environ.get("UPSWING_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    parser.add_argument("--chunk", type=int, default=100, help="Leads per actor run")
    parser.add_argument("--leads-per-run", type=int, default=None,
                        help="Leads per part of the monitoring round (default: the product's setting)")
    parser.add_argument("--workers", type=int, default=2, help="upswing worker processes")
    parser.add_argument("--agents", type=int, default=None,
                        help="Specialists sharing the leads (default: one per 500 leads, at least 20)")
    parser.add_argument("--crm", action="store_true", help="Also push every signal to the fake HubSpot "
                        "(the fake's own cost grows with the square of the contacts: see crm_sync.py)")
    parser.add_argument("--timeout-minutes", type=float, default=90)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database")
    args = parser.parse_args()
    sizes = [int(x.replace("_", "")) for x in args.leads.split(",") if x.strip()]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="upswing-scale-") as tmp:
        for size in sizes:
            results.append(run_size(size, args, Path(tmp)))
    last = dict(results[-1])
    for other in results[:-1]:
        last.update({f"{other['leads']}_{k}": v for k, v in other.items() if not isinstance(v, dict)})
    if len(results) > 1:
        first = results[0]
        last["per_lead_cycle_ratio"] = round(last["cycle_ms_per_lead"] / first["cycle_ms_per_lead"], 2)
    print(json.dumps(last))


if __name__ == "__main__":
    main()
