from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from upswing.core.timeparse import LooseDatetime


class IngestReport(BaseModel):
    file: str | None = None
    items: int = 0
    observations_created: int = 0
    duplicates: int = Field(default=0, description="Items whose normalized content was already stored")
    linked: int = 0
    unlinked: int = 0
    review: int = Field(default=0, description="Items waiting in the match review queue (counted as unlinked)")
    signals_created: int = 0
    signals_merged: int = 0
    rejected: int = 0
    suppressed: int = Field(default=0, description="Items about an erased person: not stored (privacy)")
    errors: list[dict[str, Any]] = Field(default_factory=list)


class ObservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    subject_key: str | None
    shape: str | None
    url: str | None
    lead_id: uuid.UUID | None
    version: int | None
    observed_at: datetime
    last_observed_at: datetime
    normalized: dict[str, Any]


class ObservationPage(BaseModel):
    items: list[ObservationRead]
    total: int
    limit: int
    offset: int


_INT_RANGE = (-(2**63), 2**64 - 1)
_MAX_DEPTH = 20


def _unstorable(value: object, *, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return f"nested more than {_MAX_DEPTH} levels deep"
    if isinstance(value, int) and not isinstance(value, bool) and not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        return "an integer too large to store (more than 64 bits)"
    if isinstance(value, dict):
        return next((p for v in value.values() if (p := _unstorable(v, depth=depth + 1))), None)
    if isinstance(value, list):
        return next((p for v in value if (p := _unstorable(v, depth=depth + 1))), None)
    return None


class TextItemIn(BaseModel):
    """One text to ingest (a line of ``upswing ingest texts`` or an item of ``POST /api/v1/ingest/texts``).
    Fields beyond these are kept in the observation's raw payload."""

    model_config = ConfigDict(extra="allow")

    text: str = Field(min_length=1, max_length=100_000, description="The post, news item or page text")
    about: Literal["person", "company"] = Field(
        default="person", description="person: a career event of its author or subject; company: a business intent")
    url: str | None = Field(default=None, max_length=1000)
    title: str | None = Field(default=None, max_length=1000, description="Headline of a news item or page")
    published_at: LooseDatetime | None = None
    lead_id: uuid.UUID | None = Field(default=None, description="The lead the text is about, when known")
    author_public_id: str | None = Field(default=None, max_length=200, description="LinkedIn public id of the author")
    author_name: str | None = Field(default=None, max_length=300)
    company_name: str | None = Field(default=None, max_length=300, description="Company texts: whose leads")
    company_domain: str | None = Field(default=None, max_length=255)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value

    @model_validator(mode="after")
    def _storable_extras(self) -> TextItemIn:
        """Extra fields are stored as JSON: integers beyond 64 bits (which JSON storage cannot hold) and nesting
        deeper than a few levels are refused, naming the field."""
        for name, value in (self.model_extra or {}).items():
            problem = _unstorable(value, depth=0)
            if problem:
                raise ValueError(f"field {name!r}: {problem}")
        return self


class TextIngestRequest(BaseModel):
    source: str = Field(default="text-api", min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9_.-]*$",
                        description="Slug of the source the texts came from (created when new)")
    items: list[TextItemIn] = Field(min_length=1, max_length=5000)


class TextIngestResult(BaseModel):
    source: str
    stored: int
    duplicates: int = Field(description="Texts whose normalized content was already stored")
    linked: int
    unlinked: int
    classified: int
    detected: int = Field(description="Texts whose label is an event above the confidence threshold")
    below_threshold: int = Field(0, description="Texts whose top guess is an event below its type's confidence "
                                                "threshold: no signal, listed at /api/v1/signals/low-confidence")
    signals_created: int
    signals_updated: int
    observation_ids: list[uuid.UUID]
