"""Leads' coordinates (geo/geocode.py) for leads stored before geocoding or written around the ORM: ``upswing geo
backfill`` and the ``geo.backfill`` task. New and changed leads get theirs as they are written (the ORM events of
``lead.models`` and the import's rows)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from upswing.core import tasks
from upswing.core.db import transaction
from upswing.geo.geocode import coordinates
from upswing.lead.models import Lead

#: Leads read and written together (one keyset read, one executemany).
BACKFILL_BATCH = 5000

_LEADS: Table = Lead.__table__  # type: ignore[assignment]
_UPDATE = (update(_LEADS).where(_LEADS.c.id == bindparam("b_id"))
           # updated_at kept as it is: a centroid is derived data, not a change a sync client must fetch again
           .values(latitude=bindparam("b_lat"), longitude=bindparam("b_lng"), geo_precision=bindparam("b_prec"),
                   updated_at=_LEADS.c.updated_at))


@dataclass
class BackfillReport:
    scanned: int = 0
    geocoded: int = 0
    #: Leads whose location gives no coordinates (not US, or nothing known).
    not_found: int = 0


def backfill(session: Session, *, everything: bool = False, batch: int = BACKFILL_BATCH,
             progress: Callable[[int], None] | None = None) -> BackfillReport:
    """Geocode the leads without coordinates (``everything``: every lead again, after a data update), a batch at a
    time in id order. The caller commits (the CLI and the task commit each batch's writes at the end)."""
    report = BackfillReport()
    after: uuid.UUID | None = None
    columns = (_LEADS.c.id, _LEADS.c.city, _LEADS.c.state, _LEADS.c.postal_code, _LEADS.c.country,
               _LEADS.c.latitude, _LEADS.c.longitude, _LEADS.c.geo_precision)
    while True:
        query = select(*columns).order_by(_LEADS.c.id).limit(batch)
        if not everything:
            query = query.where(_LEADS.c.latitude.is_(None))
        if after is not None:
            query = query.where(_LEADS.c.id > after)
        rows = session.execute(query).all()
        if not rows:
            return report
        changes = []
        for row in rows:
            found = coordinates(row.city, row.state, row.postal_code, row.country)
            if found[0] is None:
                report.not_found += 1
            else:
                report.geocoded += 1
            if found != (row.latitude, row.longitude, row.geo_precision):
                changes.append({"b_id": row.id, "b_lat": found[0], "b_lng": found[1], "b_prec": found[2]})
        if changes:
            session.execute(_UPDATE, changes)
        report.scanned += len(rows)
        after = rows[-1].id
        if progress is not None:
            progress(len(rows))


@tasks.task("geo.backfill")
def backfill_task(everything: bool = False) -> dict[str, int]:
    """Coordinates for the leads that have none (``everything``: all leads again)."""
    with transaction() as session:
        report = backfill(session, everything=everything)
    return {"scanned": report.scanned, "geocoded": report.geocoded, "not_found": report.not_found}
