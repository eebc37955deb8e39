"""The dashboard: first load of the feed, the initial JavaScript, and the feed's API call at a million leads.

    python benchmarks/dashboard.py [--loads 20] [--clients 50] [--seconds 30] [--skip-scale]
                                   [--leads 1000000] [--signals 10000000] [--pg-database upswing_scale]
    python benchmarks/dashboard.py --skip-scale --loads 5          # (a) and (b) only, about a minute

Needs the built dashboard (``make build``), Playwright for Python (``pip install -e '.[bench]'``; it drives Debian's
``/usr/bin/chromium``, never a downloaded browser) and, for (c), PostgreSQL at ``--postgres-url``.

(a) **First load of the feed, cold cache** (goal ≤ 1 s at p95 over ``--loads`` loads). A demo server (``upswing
    demo run`` on a fresh SQLite data directory, the bundled demo loaded) serves the built dashboard. Each load
    is a new browser context (an empty HTTP cache), signed in through the browser flow: ``POST
    /api/v1/auth/session`` sets the refresh cookie, and the app signs in by refresh when the page loads (refresh →
    ``/users/me`` → the feed's ``/signals``), as a returning user's tab does. A script injected before the
    page's own records ``performance.now()`` (milliseconds since the navigation started) once the first
    ``[data-testid=signal-card]`` is in the document and the main thread has then run a frame and a task
    (``requestAnimationFrame`` → ``setTimeout 0``): the feed is shown and the page answers input. One unmeasured
    load first. The same is measured against the scale server of (c) (``first_load_p95_ms_scale``), whose
    first page of signals comes from 10M rows.
(b) **Initial JavaScript** (goal ≤ 250 KB gzipped): the scripts ``dist/index.html`` loads (``<script
    type=module src>``) and preloads (``<link rel=modulepreload>``), each gzipped (level 9) and summed. The lazily
    loaded pages are not part of it; the CSS is reported beside it (``css_gzip_kb``).
(c) **The feed's API call under load** (goal p95 ≤ 100 ms): the exact ``/api/v1/signals`` request the feed made
    in (a) (its default parameters, captured from the browser per role), sent by ``--clients`` concurrent users
    in a closed loop for ``--seconds`` (after a 3 s warm-up), as an agent and as a manager, against ``upswing
    serve --workers 2`` (production settings) on the PostgreSQL database ``benchmarks/api_scale.py`` builds (1M
    leads / 10M signals: reused when it is there for that size, generator and migration head, built otherwise;
    about 15 minutes). The load generator is wrk when installed (``apt-get install wrk``), else the asyncio +
    httpx one, as in ``api_scale.py``. ``leads`` and ``signals`` are the counts actually in the database.

Output: progress on stderr, ``benchmarks/results/dashboard/summary.json``, and as the last line one JSON object:
``first_load_p95_ms``, ``js_gzip_kb``, ``feed_api_p95_ms_50_users`` (the worse role), ``leads``, ``signals``, and
the detail (per-load figures, per role p50/p95/p99/req/s, the captured feed requests, goals met).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit

import httpx
from _scratch import free_port, upswing_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = ROOT / "dashboard" / "dist"
DEFAULT_RESULTS = HERE / "results" / "dashboard"
CHROMIUM = os.environ.get("UPSWING_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run", "--disable-gpu"]
DEMO_PASSWORD = "upswing-demo"  # noqa: S105 - the bundled demo's published password
DEMO_USERS = {"agent": "agent.alvarez", "manager": "manager"}
GOAL_FIRST_LOAD_MS = 1000.0
GOAL_JS_GZIP_KB = 250.0
GOAL_FEED_P95_MS = 100.0
FEED_API = "/api/v1/signals"
LOAD_TIMEOUT_MS = 30_000
FAILED_DIR = DEFAULT_RESULTS / "failed-loads"

#: Runs before the page's scripts: resolves with performance.now() once the first signal card is in the document
#: and the main thread has run a frame and a task after it.
FIRST_CARD_PROBE = """
window.__firstCard = new Promise((resolve) => {
  const found = () => document.querySelector('[data-testid="signal-card"]');
  const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
  const observer = new MutationObserver(() => { if (found()) { observer.disconnect(); done(); } });
  observer.observe(document, { childList: true, subtree: true });
});
"""


def log(message: str) -> None:
    print(f"[dashboard {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ==================================================================================================
# (b) initial JavaScript
# ==================================================================================================


def initial_assets(dist: Path) -> dict[str, list[Path]]:
    html = (dist / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)
    preloads = re.findall(r"<link\b[^>]*\brel=\"modulepreload\"[^>]*\bhref=\"([^\"]+)\"", html)
    preloads += re.findall(r"<link\b[^>]*\bhref=\"([^\"]+)\"[^>]*\brel=\"modulepreload\"", html)
    styles = re.findall(r"<link\b[^>]*\brel=\"stylesheet\"[^>]*\bhref=\"([^\"]+)\"", html)
    styles += re.findall(r"<link\b[^>]*\bhref=\"([^\"]+)\"[^>]*\brel=\"stylesheet\"", html)

    def files(urls: list[str]) -> list[Path]:
        return [dist / urlsplit(url).path.lstrip("/") for url in dict.fromkeys(urls)]

    return {"js": files(scripts + preloads), "css": files(styles)}


def gzip_kb(paths: list[Path]) -> float:
    return round(sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in paths) / 1024, 1)


def measure_bundle(dist: Path) -> dict[str, Any]:
    assets = initial_assets(dist)
    missing = [str(p) for p in assets["js"] + assets["css"] if not p.is_file()]
    if missing:
        raise SystemExit(f"dist/index.html names files that are not there: {missing}")
    return {
        "js_gzip_kb": gzip_kb(assets["js"]),
        "js_raw_kb": round(sum(p.stat().st_size for p in assets["js"]) / 1024, 1),
        "css_gzip_kb": gzip_kb(assets["css"]),
        "initial_js_files": [p.name for p in assets["js"]],
        "lazy_js_files": sorted(p.name for p in (dist / "assets").glob("*.js") if p not in assets["js"]),
    }


# ==================================================================================================
# Servers
# ==================================================================================================


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSWING_")}
    env.update(extra)
    return env


@contextmanager
def demo_server(workdir: Path, dist: Path) -> Iterator[str]:
    """``upswing demo run`` on a fresh SQLite data directory, serving ``dist``; yields its base URL."""
    port = free_port()
    env = clean_env({"UPSWING_DATA_DIR": str(workdir / "demo"), "UPSWING_LOG_LEVEL": "WARNING",
                     "UPSWING_DASHBOARD_DIR": str(dist)})
    log_path = workdir / "demo-server.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen([*upswing_command(), "demo", "run", "--port", str(port)], env=env,  # noqa: S603
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log_path)
        yield base
    finally:
        stop(process)


def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer in {seconds:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


# ==================================================================================================
# (a) first load
# ==================================================================================================


@dataclass
class Load:
    interactive_ms: float  # navigation start → first card shown and the main thread free (in-page clock)
    wall_ms: float  # page.goto called → the same moment seen by this process
    response_start_ms: float
    dom_content_loaded_ms: float
    feed_response_end_ms: float | None
    requests: int
    feed_requests: list[str]
    waterfall: list[tuple[str, int, int]]  # each resource: path, start and end (ms since navigation start)


def first_loads(base: str, username: str, password: str, loads: int, failures: list[str], *,
                warmup: int = 1) -> tuple[list[Load], str]:
    """``loads`` cold loads of the feed (after ``warmup`` unmeasured ones); also returns what the feed asked. A
    load that shows no signal card within ``LOAD_TIMEOUT_MS`` is a failure (noted, with a screenshot)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    results: list[Load] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for number in range(warmup + loads):
                context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
                try:
                    response = context.request.post("/api/v1/auth/session", form={
                        "username": username, "password": password, "grant_type": "password"})
                    if not response.ok:
                        raise RuntimeError(f"sign-in of {username}: {response.status} {response.text()}")
                    page = context.new_page()
                    page.add_init_script(FIRST_CARD_PROBE)
                    requested: list[str] = []
                    page.on("request", lambda r, seen=requested: seen.append(r.url))
                    started = time.perf_counter()
                    page.goto("/", wait_until="commit")
                    try:
                        page.wait_for_selector('[data-testid="signal-card"]', timeout=LOAD_TIMEOUT_MS)
                    except PlaywrightTimeout:
                        shot = FAILED_DIR / f"load-{number}.png"
                        shot.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(shot))
                        failures.append(f"load {number}: no signal card in {LOAD_TIMEOUT_MS} ms at "
                                        f"{page.url} (screenshot {shot.relative_to(ROOT)})")
                        log(f"  {failures[-1]}")
                        continue
                    interactive = float(page.evaluate("() => window.__firstCard"))
                    wall = (time.perf_counter() - started) * 1000
                    timing = page.evaluate("""() => {
                        const nav = performance.getEntriesByType('navigation')[0];
                        const feed = performance.getEntriesByType('resource')
                            .filter((e) => new URL(e.name).pathname === '/api/v1/signals');
                        const waterfall = performance.getEntriesByType('resource').map((e) =>
                            [new URL(e.name).pathname, Math.round(e.startTime), Math.round(e.responseEnd)]);
                        return {responseStart: nav.responseStart, dcl: nav.domContentLoadedEventEnd,
                                feedEnd: feed.length ? feed[0].responseEnd : null, waterfall};
                    }""")
                    feed = [u for u in requested if urlsplit(u).path == FEED_API]
                    load = Load(interactive_ms=round(interactive, 1), wall_ms=round(wall, 1),
                                response_start_ms=round(timing["responseStart"], 1),
                                dom_content_loaded_ms=round(timing["dcl"], 1),
                                feed_response_end_ms=round(timing["feedEnd"], 1) if timing["feedEnd"] else None,
                                requests=len(requested), feed_requests=feed,
                                waterfall=[tuple(row) for row in timing["waterfall"]])
                    if number >= warmup:
                        results.append(load)
                        log(f"  load {number - warmup + 1:>2}/{loads}: interactive {load.interactive_ms:7.1f} ms "
                            f"(wall {load.wall_ms:7.1f}, feed answered at {load.feed_response_end_ms} ms, "
                            f"{load.requests} requests)")
                finally:
                    context.close()
        finally:
            browser.close()
    first_feed = next((load.feed_requests[0] for load in results if load.feed_requests), "")
    split = urlsplit(first_feed)
    return results, f"{split.path}?{split.query}" if split.query else split.path


def summarize_loads(loads: list[Load]) -> dict[str, Any]:
    if not loads:
        return {"p95_ms": None, "p50_ms": None, "loads": []}
    interactive = [load.interactive_ms for load in loads]
    return {
        "p95_ms": percentile(interactive, 95),
        "p50_ms": round(median(interactive), 1),
        "max_ms": max(interactive),
        "wall_p95_ms": percentile([load.wall_ms for load in loads], 95),
        "feed_response_end_p50_ms": round(median([load.feed_response_end_ms or 0.0 for load in loads]), 1),
        "dom_content_loaded_p50_ms": round(median([load.dom_content_loaded_ms for load in loads]), 1),
        "requests_per_load": round(median([load.requests for load in loads])),
        "loads": [load.interactive_ms for load in loads],
        # The median load's requests: what the first paint waits for.
        "waterfall_median_load": sorted(loads, key=lambda load: load.interactive_ms)[len(loads) // 2].waterfall,
    }


# ==================================================================================================
# (c) the feed's API call at scale
# ==================================================================================================


def reuse_or_build(scale: Any, target: Any) -> tuple[dict[str, Any], bool]:
    """The api_scale.py database: reused when it holds this size from this generator, even if it was built before
    a later migration (it is then migrated up, as a deployment would be: rebuilding takes a quarter of an hour);
    built otherwise."""
    from upswing.core import migrate

    meta = scale.read_meta(target)
    if meta is None or (meta.get("leads"), meta.get("signals"), meta.get("builder")) != (
            target.leads, target.signals, scale.BUILDER_VERSION):
        return scale.ensure_data(target, rebuild=False)
    engine = scale.app_engine(target)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if before != after:
        log(f"PostgreSQL: migrated the scale database {before} → {after}")
    return meta, False


def feed_under_load(args: argparse.Namespace, feed_paths: dict[str, str], workdir: Path) -> dict[str, Any]:
    import api_scale as scale

    driver = scale.choose_driver(args.driver)
    target = scale.pg_target(args.postgres_url, args.pg_database, args.leads, args.signals)
    meta, built = reuse_or_build(scale, target)
    facts = scale.gather_facts(target, meta)
    log(f"PostgreSQL: {facts.leads:,} leads, {facts.signals:,} signals ({'built now' if built else 'reused'}); "
        f"driver {driver}")
    env = scale.server_env(target, meta, workdir / "scale-data", "celery", f"dashboard-bench-{os.getpid()}")
    env["UPSWING_DASHBOARD_DIR"] = str(args.dist)
    server = scale.Server(env, Path(args.results_dir) / "server.log", args.workers)
    out: dict[str, Any] = {"leads": facts.leads, "signals": facts.signals, "driver": driver, "roles": {},
                           "server_options": server.extra}
    try:
        server.start()
        for role, username in (("agent", scale.ROLE_USERS["agent"]), ("manager", scale.ROLE_USERS["manager"])):
            path = feed_paths.get(role) or f"{FEED_API}?limit=50"
            tokens = scale.login(server.base_url, username, args.clients)
            scale.drive(driver, server.base_url, [path], tokens, args.clients, 3, workdir / "load")
            figures = scale.drive(driver, server.base_url, [path], tokens, args.clients, args.seconds,
                                  workdir / "load")
            errors = sum(int(figures[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts",
                                                   "non2xx"))
            duration = figures["duration_us"] / 1e6
            row = {"path": path, "p50_ms": round(figures["p50_us"] / 1000, 1),
                   "p95_ms": round(figures["p95_us"] / 1000, 1), "p99_ms": round(figures["p99_us"] / 1000, 1),
                   "max_ms": round(figures["max_us"] / 1000, 1), "requests": int(figures["requests"]),
                   "rps": round(figures["requests"] / duration, 1) if duration else 0.0, "errors": errors,
                   "sample_error": figures.get("sample", "")}
            out["roles"][role] = row
            log(f"feed API as {role} ({path}), {args.clients} users: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} "
                f"ms, p99 {row['p99_ms']} ms, {row['rps']} req/s, {errors} errors")
        if args.loads_scale > 0:
            log(f"first load against the scale server as {scale.ROLE_USERS['agent']} ({args.loads_scale} loads)")
            failures: list[str] = []
            loads, _ = first_loads(server.base_url, scale.ROLE_USERS["agent"], scale.PASSWORD, args.loads_scale,
                                   failures)
            out["first_load_scale"] = {**summarize_loads(loads), "failed_loads": failures}
    finally:
        server.stop()
        scale.purge_queue("celery", env["UPSWING_CELERY_QUEUE"])
    return out


# ==================================================================================================


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=20, help="cold first loads measured (default 20)")
    parser.add_argument("--loads-scale", type=int, default=20,
                        help="cold first loads against the 1M-lead server (0: skip), default 20")
    parser.add_argument("--skip-scale", action="store_true", help="skip (c), the PostgreSQL part")
    parser.add_argument("--clients", type=int, default=50, help="concurrent users in (c), default 50")
    parser.add_argument("--seconds", type=float, default=30, help="seconds of load per role in (c), default 30")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--signals", type=int, default=10_000_000)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "UPSWING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL whose role may create databases")
    parser.add_argument("--pg-database", default="upswing_scale",
                        help="the database benchmarks/api_scale.py builds (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="upswing serve --workers (default 2)")
    parser.add_argument("--driver", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--results-dir", default=str(DEFAULT_RESULTS))
    return parser.parse_args(argv)


def build_if_missing() -> None:
    if (DIST / "index.html").is_file():
        return
    log("dashboard/dist is missing: building it (npm run build)")
    subprocess.run(["npm", "run", "build"], cwd=ROOT / "dashboard", check=True)  # noqa: S607


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    build_if_missing()
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"goals": {"first_load_p95_ms": GOAL_FIRST_LOAD_MS, "js_gzip_kb": GOAL_JS_GZIP_KB,
                                         "feed_api_p95_ms": GOAL_FEED_P95_MS}, "cpu_count": os.cpu_count(),
                               # The machine's other work moves every figure here: its load when the run began.
                               "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}

    feed_paths: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="dashboard_bench_") as tmp:
        workdir = Path(tmp)
        # A copy of the build: every part measures the same files, even if dashboard/dist is rebuilt meanwhile.
        args.dist = workdir / "dist"
        shutil.copytree(DIST, args.dist)
        bundle = measure_bundle(args.dist)
        summary.update(bundle)
        log(f"initial JS: {bundle['js_gzip_kb']} KB gzipped ({bundle['js_raw_kb']} KB raw) in "
            f"{', '.join(bundle['initial_js_files'])}; CSS {bundle['css_gzip_kb']} KB gzipped")
        with demo_server(workdir, args.dist) as base:
            log(f"demo server at {base}: {args.loads} cold loads of the feed as {DEMO_USERS['agent']}")
            failures: list[str] = []
            loads, feed_paths["agent"] = first_loads(base, DEMO_USERS["agent"], DEMO_PASSWORD, args.loads, failures)
            summary["first_load"] = {**summarize_loads(loads), "failed_loads": failures}
            _, feed_paths["manager"] = first_loads(base, DEMO_USERS["manager"], DEMO_PASSWORD, 1, [], warmup=0)
        summary["feed_requests"] = feed_paths
        log(f"first load p95 {summary['first_load']['p95_ms']} ms (p50 {summary['first_load']['p50_ms']} ms); "
            f"the feed asked {feed_paths}")
        if not args.skip_scale:
            summary["scale"] = feed_under_load(args, feed_paths, workdir)

    scale_part = summary.get("scale") or {}
    roles = scale_part.get("roles", {})
    feed_p95 = max((row["p95_ms"] for row in roles.values()), default=None)
    summary.update({
        "first_load_p95_ms": summary["first_load"]["p95_ms"],
        "first_load_p95_ms_scale": (scale_part.get("first_load_scale") or {}).get("p95_ms"),
        "feed_api_p95_ms_50_users": feed_p95,
        "feed_api_p95_ms_by_role": {role: row["p95_ms"] for role, row in roles.items()},
        "feed_api_errors": sum(row["errors"] for row in roles.values()),
        "clients": args.clients,
        "leads": scale_part.get("leads"),
        "signals": scale_part.get("signals"),
    })
    summary["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    summary["goal_met"] = {
        "first_load": summary["first_load_p95_ms"] is not None and summary["first_load_p95_ms"] <= GOAL_FIRST_LOAD_MS
        and not summary["first_load"]["failed_loads"],
        "js_gzip": summary["js_gzip_kb"] <= GOAL_JS_GZIP_KB,
        "feed_api": None if feed_p95 is None else feed_p95 <= GOAL_FEED_P95_MS and not summary["feed_api_errors"],
    }
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    headline = ["first_load_p95_ms", "js_gzip_kb", "feed_api_p95_ms_50_users", "leads", "signals"]
    print(json.dumps({**{k: summary[k] for k in headline}, **{k: v for k, v in summary.items() if k not in headline}}))


if __name__ == "__main__":
    main()
