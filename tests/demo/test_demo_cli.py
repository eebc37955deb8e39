"""`make demo` never wipes the demo database: `upswing demo load` keeps a loaded demo as it is (what was done in it
stays), `--reset` / `make demo-reset` start afresh, and a port in use is reported before anything is touched."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from upswing.account.models import User
from upswing.core import migrate
from upswing.core.db import make_engine, transaction

ROOT = Path(__file__).resolve().parents[2]


def _signals(cli: Callable[..., Any], *args: str) -> list[dict[str, Any]]:
    listed = cli("signals", "list", "--format", "jsonl", *args)
    assert listed.exit_code == 0, listed.output
    return [json.loads(line) for line in listed.output.splitlines()]


def test_loading_the_demo_again_keeps_what_was_done_and_reset_starts_afresh(cli: Callable[..., Any]) -> None:
    first = cli("demo", "load")
    assert first.exit_code == 0, first.output
    assert "recent posts: 8 new, 7 new signals, 1 on the low-confidence list" in first.output
    assert "Demo login" in first.output
    before = _signals(cli)
    urgent = _signals(cli, "--priority", "urgent")
    assert len(urgent) >= 3  # on the day it is loaded
    target = urgent[0]
    acked = cli("signals", "ack", target["id"][:8], "--as", "admin")
    assert acked.exit_code == 0 and "acknowledged" in acked.output, acked.output

    again = cli("demo", "load")
    assert again.exit_code == 0 and "already loaded" in again.output and "kept as it is" in again.output
    after = {line["id"]: line for line in _signals(cli)}
    assert set(after) == {line["id"] for line in before}
    assert after[target["id"]]["status"] == "acknowledged"

    reset = cli("demo", "load", "--reset")
    assert reset.exit_code == 0 and "recent posts: 8 new" in reset.output
    fresh = _signals(cli)
    assert len(fresh) == len(before) and target["id"] not in {line["id"] for line in fresh}
    assert {line["status"] for line in fresh} == {"new"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _revision() -> str | None:
    url = os.environ["UPSWING_DATABASE_URL"]
    if url.startswith("sqlite") and not Path(url.split("///", 1)[1]).exists():
        return "no file"
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_a_port_in_use_is_reported_before_the_database_is_touched(cli: Callable[..., Any], taken_port: int) -> None:
    message = f"port {taken_port} on 127.0.0.1 is already in use"
    for words in (["demo", "run"], ["demo", "run", "--reset"], ["serve"]):
        refused = cli(*words, "--port", str(taken_port))
        assert refused.exit_code == 1 and message in refused.output, refused.output
        assert f"PORT={taken_port + 1}" in refused.output or "--port" in refused.output
    assert _revision() in ("no file", None)  # nothing created or migrated

    assert cli("db", "upgrade").exit_code == 0
    assert cli("users", "create", "keeper", "--role", "admin", UPSWING_NEW_USER_PASSWORD="long-password-1"
               ).exit_code == 0
    assert cli("demo", "run", "--reset", "--port", str(taken_port)).exit_code == 1
    with transaction() as session:  # not reset: the user is still there
        assert session.scalar(select(User.username).where(User.username == "keeper")) == "keeper"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_keeps_the_database_and_make_demo_reset_resets_it() -> None:
    def commands(target: str) -> list[str]:
        variables = ["PORT=8123", "HOST=127.0.0.1", "DEMO_DIR=var/demo"]  # whatever the environment says
        done = subprocess.run(["make", "-n", target, *variables], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                              text=True, timeout=60, check=True)
        return [line for line in done.stdout.splitlines() if "upswing " in line]

    demo = commands("demo")
    assert demo == ["UPSWING_DATA_DIR=var/demo .venv/bin/upswing demo run --host 127.0.0.1 --port 8123"]
    reset = commands("demo-reset")
    assert reset == ["UPSWING_DATA_DIR=var/demo .venv/bin/upswing demo run --reset --host 127.0.0.1 --port 8123"]
