"""Versions of records for conditional updates: an ``ETag`` on what a client reads, ``If-Match`` on what it changes.

A CRM reads a lead (``ETag: "…"``), decides, and writes back with ``If-Match: "…"``: if someone changed the lead
in between, the write is refused with 412 instead of silently undoing their change. The version is derived from
the record's id and ``updated_at`` (every change to the row sets it), so nothing extra is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from upswing.core.errors import PreconditionFailedError


def etag_of(record_id: uuid.UUID, updated_at: datetime) -> str:
    """The strong entity tag of a record's current version (quoted, as the header carries it)."""
    digest = hashlib.sha256(f"{record_id}:{updated_at.isoformat()}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def check_if_match(if_match: str | None, current: str, what: str) -> None:
    """Refuse (412) a change whose ``If-Match`` names none of the record's current version; no header (or ``*``)
    changes unconditionally. A weak tag (``W/"…"``) is compared by its value."""
    if if_match is None:
        return
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailedError(f"If-Match: the {what} changed since that version was read; read it again "
                                  f"(its current ETag is {current})")
