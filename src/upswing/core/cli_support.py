"""Small helpers every CLI command uses: consistent errors, progress bars, the operator identity."""

from __future__ import annotations

import errno
import getpass
import re
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from upswing.core.errors import UpswingError, ValidationFailedError
from upswing.core.timeparse import parse_timestamp

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy import Select
    from sqlalchemy.orm import InstrumentedAttribute, Session

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


def fail_invalid(exc: ValidationError) -> NoReturn:
    """End the command with each invalid field named (``conditions.min_score: …``)."""
    fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


#: Characters of an id a table shows (more when two listed rows share them).
SHORT_ID = 8
#: Candidates named when an id prefix is ambiguous.
_SHOW_MATCHES = 5
_ID_PREFIX = re.compile(r"^[0-9a-f-]+$")


def short_ids(ids: Sequence[uuid.UUID], minimum: int = SHORT_ID) -> list[str]:
    """Each id cut to ``minimum`` hex digits, or to as many as it takes to tell it from the others listed."""
    hexes = [value.hex for value in ids]
    length = minimum
    while length < 32 and len({h[:length] for h in hexes}) < len(set(hexes)):
        length += 1
    return [h[:length] for h in hexes]


def resolve_id(session: Session, query: Select[uuid.UUID], column: InstrumentedAttribute[uuid.UUID],
               given: str, noun: str) -> uuid.UUID:
    """The row of ``query`` whose id (``column``) is ``given`` or starts with it (dashes and case do not matter);
    a clear error naming the ``noun`` when none or several match."""
    from sqlalchemy import String, cast, func

    wanted = given.strip().lower()
    try:
        exact: uuid.UUID | None = uuid.UUID(wanted)
    except ValueError:
        exact = None
    prefix = wanted.replace("-", "")
    if exact is None and (not prefix or not _ID_PREFIX.match(wanted)):
        fail(f"{given!r} is not a {noun} id: give the id or its first characters (hex digits)")
    if exact is not None:
        query = query.where(column == exact)
    else:
        # The id as 32 hex digits on both databases (PostgreSQL writes uuids with dashes, SQLite stores hex).
        digits = func.lower(func.replace(cast(column, String), "-", ""))
        query = query.where(digits.like(f"{prefix}%")).order_by(column)
    found = list(session.scalars(query.limit(_SHOW_MATCHES + 1)))
    if not found:
        fail(f"no {noun} with id {given!r}" if exact is not None else f"no {noun} id starts with {given!r}")
    if len(found) > 1:
        shown = ", ".join(short_ids(found[:_SHOW_MATCHES], minimum=len(prefix) + 1))
        more = " and more" if len(found) > _SHOW_MATCHES else ""
        fail(f"the id prefix {given!r} is ambiguous: it matches {shown}{more}; give more characters")
    return found[0]
