"""Text observations (posts, news items, press releases, page texts): store, link, detect.

``ingest_texts`` is the one entry point for every connector that brings text: it stores each item as a
text observation (content-hashed, so the same post seen twice is one row), links it to its lead and runs
text detection, turning what it finds into signals with evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TextItem:
    text: str
    raw: dict[str, Any]  # what the source sent, kept as the observation's raw payload
    about: Literal["person", "company"] = "person"
    url: str | None = None
    title: str | None = None  # headline of a news item or page
    published_at: datetime | None = None
    lead_id: uuid.UUID | None = None  # when the source already knows whose text it is
    author_public_id: str | None = None  # LinkedIn public id of the author, for linking
    author_name: str | None = None
    company_name: str | None = None  # for company texts: whose leads it concerns
    company_domain: str | None = None


@dataclass
class TextIngestReport:
    stored: int = 0
    duplicates: int = 0
    linked: int = 0
    unlinked: int = 0
    signals_created: int = 0
    signals_updated: int = 0
    observation_ids: list[uuid.UUID] = field(default_factory=list)


def ingest_texts(session: Session, items: Sequence[TextItem], *, source_slug: str,
                 observed_at: datetime | None = None) -> TextIngestReport:
    """Store, link and classify text items; does not commit (the caller's boundary does)."""
    raise NotImplementedError
