"""The normalized, versioned form of a LinkedIn profile, whatever Actor produced it.

Every Actor adapter (see ``observation/apify.py``) turns its raw item into a ``ProfileSnapshot``.
Detection compares snapshots; the content hash is taken over this form, so fields that are
pure noise (follower and connection counts, photos) are simply not part of it.

Dates are partial: LinkedIn gives a year, or a year and a month. They are kept as ISO strings
``"YYYY"`` or ``"YYYY-MM"`` so that they sort and compare as text and stay JSON-friendly.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_SCHEMA_VERSION = 1

_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2})?$")


def partial_date_to_date(value: str | None, *, end_of_period: bool = False) -> date | None:
    """``"2024-03"`` → 2024-03-01 (or 2024-03-31 with end_of_period); ``"2024"`` → Jan 1 (or Dec 31)."""
    if not value or not _PARTIAL_DATE.match(value):
        return None
    year = int(value[:4])
    if len(value) == 4:
        return date(year, 12, 31) if end_of_period else date(year, 1, 1)
    month = int(value[5:7])
    if not end_of_period:
        return date(year, month, 1)
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(next_month.toordinal() - 1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Experience(_Frozen):
    title: str | None = None
    company: str | None = None
    company_linkedin_url: str | None = None
    location: str | None = None
    employment_type: str | None = None
    start: str | None = Field(default=None, description='"YYYY" or "YYYY-MM"')
    end: str | None = Field(default=None, description='"YYYY" or "YYYY-MM"; None when current')
    current: bool = False


class Credential(_Frozen):
    """A certification, license or honor/award."""

    name: str
    issuer: str | None = None
    issued: str | None = None


class Education(_Frozen):
    school: str | None = None
    degree: str | None = None
    field_of_study: str | None = None
    start: str | None = None
    end: str | None = None


class ProfileSnapshot(_Frozen):
    schema_version: int = SNAPSHOT_SCHEMA_VERSION
    actor: str
    public_identifier: str | None = None
    linkedin_url: str | None = None
    urn: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    headline: str | None = None
    location: str | None = None
    city: str | None = None
    state: str | None = None
    country_code: str | None = None
    emails: tuple[str, ...] = ()
    open_to_work: bool | None = None
    experiences: tuple[Experience, ...] = ()
    certifications: tuple[Credential, ...] = ()
    awards: tuple[Credential, ...] = ()
    education: tuple[Education, ...] = ()

    def content_hash(self) -> str:
        """A hash that ignores list order and the Actor that produced the item.

        Two exports of an unchanged profile hash the same, even if the lists came back reordered.
        Serialization is pydantic's (compiled), field order is the class's: stable across runs.
        """
        digest = hashlib.sha256(self.model_dump_json(exclude=_UNORDERED_EXCLUDE).encode())
        for name in _UNORDERED_FIELDS:
            digest.update(b"\x1e" + name.encode())
            values: tuple[object, ...] = getattr(self, name)
            parts = sorted(v.model_dump_json() if isinstance(v, BaseModel) else json.dumps(v) for v in values)
            for part in parts:
                digest.update(b"\x1f" + part.encode())
        return digest.hexdigest()


_UNORDERED_FIELDS = ("emails", "experiences", "certifications", "awards", "education")
_UNORDERED_EXCLUDE = {"actor", *_UNORDERED_FIELDS}
