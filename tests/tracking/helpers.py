"""Shared set-up for the tracking tests: a site, its secret, calls as the snippet makes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.core.db import Base
from upswing.tracking import service
from upswing.tracking.models import TrackingSite
from upswing.tracking.schemas import SiteCreate

ORIGIN = "https://portal.lender.example"
ANON = "0123456789abcdef0123456789abcdef"
OTHER_ANON = "fedcba9876543210fedcba9876543210"


def make_site(session: Session, name: str = "portal", **fields: Any) -> tuple[TrackingSite, str]:
    return service.create_site(session, SiteCreate(name=name, allowed_origins=[ORIGIN], **fields), actor="test")


def row_counts(session: Session) -> dict[str, int]:
    """Rows in every table of the metadata (every model Upswing has)."""
    import upswing.models  # noqa: F401  (every model registered)

    session.expire_all()
    return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables}
