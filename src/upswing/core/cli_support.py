"""Small helpers every CLI command uses: consistent errors, progress bars, the operator identity."""

from __future__ import annotations

import errno
import getpass
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from upswing.core.errors import UpswingError, ValidationFailedError
from upswing.core.timeparse import parse_timestamp

console = Console()
err_console = Console(stderr=True)


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def fail(message: str, errors: list[dict[str, Any]] | None = None, *, show: int = 50) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}")
    for error in (errors or [])[:show]:
        row = error.get("row")
        field = error.get("field")
        where = f"row {row}" if row is not None else "file"
        if field:
            where += f", field '{field}'"
        value = error.get("value")
        shown = f" (value: {value!r})" if value not in (None, "") else ""
        err_console.print(f"  {where}: {error.get('message')}{shown}")
    if errors and len(errors) > show:
        err_console.print(f"  … and {len(errors) - show} more")
    raise typer.Exit(code=1)


def timestamp_option(value: str | None, option: str) -> datetime | None:
    """An optional ISO 8601 option's value as a UTC time; a bad value ends the command naming the option."""
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        fail(f"{option} is not an ISO 8601 timestamp: {value!r}")
    return parsed


def ensure_port_free(host: str, port: int, *, hint: str) -> None:
    """End the command with a clear message when nothing could listen on ``host:port`` (another server has it),
    before anything else happens. ``hint`` says how to choose another port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port whose last connections are in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use (is Upswing already running?): stop the program "
                     f"that listens there, or {hint}")
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn service errors into a clear message and exit code 1, never a traceback."""
    try:
        yield
    except ValidationFailedError as exc:
        fail(str(exc), exc.errors)
    except UpswingError as exc:
        fail(str(exc))


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err_console, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda advance: progress.advance(task, advance)
