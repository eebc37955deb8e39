"""What the benchmarks beside it share: scratch PostgreSQL databases, fresh keys, the `upswing` command and a
free port for the servers they start."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_database(admin_url: str, name: str, *, drop_only: bool = False) -> str | None:
    """Create (anew) a scratch database and return its URL; ``drop_only`` just drops it. None, with a note on
    stderr, when no server answers."""
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return None
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def new_keys() -> dict[str, str]:
    """A fresh secret key, encryption key and blind-index key for a scratch deployment."""
    return {"secret_key": secrets.token_urlsafe(48),
            "encryption_keys": f"bench1:{base64.b64encode(os.urandom(32)).decode()}",
            "blind_index_key": base64.b64encode(os.urandom(32)).decode()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def upswing_command() -> list[str]:
    """The ``upswing`` CLI of this interpreter's environment."""
    script = Path(sys.executable).with_name("upswing")
    if script.exists():
        return [str(script)]
    found = shutil.which("upswing")
    if found:
        return [found]
    return [sys.executable, "-c", "from upswing.cli import main; main()"]
