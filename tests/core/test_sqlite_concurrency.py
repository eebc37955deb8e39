"""The embedded default serves a small team: a real server on SQLite, 20 client threads logging in, viewing
leads and their timelines, listing signals and acting on them, while `upswing leads import` runs again and again
in a second process — for a minute (``UPSWING_TEST_CONCURRENCY_SECONDS``). No request fails (no 5xx, no refused
connection, no "database is locked"), and the audit chain verifies afterwards."""

from __future__ import annotations

import csv
import itertools
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("UPSWING_TEST_CONCURRENCY_SECONDS", "60"))
CLIENTS = 20
PASSWORD = "upswing-demo"
DEMO_USERS = ("admin", "manager", "agent.alvarez", "agent.chen", "agent.okafor")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _upswing(env: dict[str, str], *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from upswing.cli import main; main()", *args],  # noqa: S603
                          env=env, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def _import_file(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "first_name", "last_name", "email", "phone", "city", "state", "postal_code",
                         "balance", "days_delinquent"])
        for n in range(rows):
            writer.writerow([f"C-{n:06d}", "Casey", f"Import{n}", f"casey{n}@example.org", "", "Austin", "TX",
                             "78701", f"{1000 + n % 9000}.00", 90 + n % 200])


@pytest.fixture
def server(tmp_path: Path) -> tuple[str, dict[str, str]]:
    env = {**os.environ, "UPSWING_DATA_DIR": str(tmp_path), "UPSWING_ENVIRONMENT": "test",
           "UPSWING_SECRET_KEY": "concurrency-test-secret-key-0123456789abcdef", "UPSWING_LOG_LEVEL": "WARNING"}
    env.pop("UPSWING_DATABASE_URL", None)
    loaded = _upswing(env, "demo", "load", timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", "from upswing.cli import main; main()",  # noqa: S603
                                "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise AssertionError((tmp_path / "server.log").read_text()[-3000:])
    yield base, env
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_twenty_clients_and_an_import_on_sqlite_see_no_error(server: tuple[str, dict[str, str]],
                                                            tmp_path: Path) -> None:
    base, env = server
    big = tmp_path / "big.csv"
    _import_file(big, 20_000)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def note(kind: str, response: httpx.Response | None = None, error: Exception | None = None) -> None:
        with lock:
            if error is not None:
                outcomes["error"] += 1
                failures.append(f"{kind}: {type(error).__name__}: {error}")
            elif response is not None and response.status_code >= 500:
                outcomes["5xx"] += 1
                failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
            else:
                outcomes[kind] += 1

    def client(number: int) -> None:
        username = DEMO_USERS[number % len(DEMO_USERS)]
        chooser = random.Random(number)
        with httpx.Client(base_url=base, timeout=60) as http:
            headers: dict[str, str] = {}
            for step in itertools.count():
                if stop.is_set():
                    return
                try:
                    if step % 25 == 0:
                        token = http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
                        note("login", token)
                        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                    leads = http.get("/api/v1/leads", headers=headers, params={"limit": 20})
                    note("lead list", leads)
                    items = leads.json().get("items", [])
                    if items:
                        lead = chooser.choice(items)
                        note("lead view", http.get(f"/api/v1/leads/{lead['id']}", headers=headers))
                        note("timeline", http.get(f"/api/v1/leads/{lead['id']}/timeline", headers=headers))
                    signals = http.get("/api/v1/signals", headers=headers, params={"limit": 20})
                    note("signal list", signals)
                    signal_items = signals.json().get("items", [])
                    if signal_items and username != "viewer":
                        signal = chooser.choice(signal_items)
                        note("acknowledge", http.post(f"/api/v1/signals/{signal['id']}/acknowledge", headers=headers))
                        note("action", http.post(f"/api/v1/signals/{signal['id']}/action", headers=headers,
                                                 json={"action": "crm_task", "note": f"load {number}-{step}"}))
                except (httpx.HTTPError, ValueError) as exc:
                    note("request", error=exc)

    imports: list[subprocess.CompletedProcess[str]] = []

    def importer() -> None:
        while not stop.is_set():
            imports.append(_upswing(env, "leads", "import", str(big), "--portfolio", "Concurrency", timeout=300))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=importer))
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=320)

    assert failures == [], f"{len(failures)} failures, first: {failures[:5]}"
    assert outcomes["lead view"] > 100 and outcomes["action"] > 50 and outcomes["login"] >= CLIENTS, outcomes
    assert imports and all(run.returncode == 0 for run in imports), [r.stdout + r.stderr for r in imports][-1:]
    verified = _upswing(env, "audit", "verify", timeout=120)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
    print(dict(outcomes), f"imports: {len(imports)}")
