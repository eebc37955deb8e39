"""Erasure tombstones: the identifiers of people erased on request, who must never be collected again.

Every write path that takes in personal data (lead import, profile and text ingest) asks ``ErasedFilter``
about its records before storing them. Tombstones hold only blind indexes (keyed HMACs) of the normalized
identifiers, never the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.core.crypto import get_key_ring
from upswing.core.identifiers import normalize_linkedin_url, normalize_phone
from upswing.privacy.models import ErasureTombstone, TombstoneKind

_CHUNK = 500
def canonical_email(value: str) -> str:
    return value.strip().lower()


def canonical_phone(value: str) -> str:
    try:
        return normalize_phone(value.strip())
    except ValueError:
        digits = "".join(c for c in value if c.isdigit())
        return f"+{digits}" if value.strip().startswith("+") else digits


def canonical_linkedin(value: str) -> str:
    normalized = normalize_linkedin_url(value) if "/" in value else None
    return normalized[1] if normalized else value.strip().lower()


def name_birth_key(first_name: str, last_name: str, birth_date: date | str) -> str:
    born = birth_date.isoformat() if isinstance(birth_date, date) else str(birth_date)
    return f"{first_name} {last_name}|{born}"


def identifier_keys(*, email: str | None = None, phone: str | None = None, linkedin_public_id: str | None = None,
                    first_name: str | None = None, last_name: str | None = None,
                    birth_date: date | str | None = None) -> list[tuple[TombstoneKind, str]]:
    """``(kind, blind index)`` of each identifier given, normalized as ingest normalizes them."""
    ring = get_key_ring()
    keys: list[tuple[TombstoneKind, str]] = []
    if email:
        keys.append((TombstoneKind.EMAIL, ring.blind_index(canonical_email(email), kind="tombstone:email")))
    if phone:
        keys.append((TombstoneKind.PHONE, ring.blind_index(canonical_phone(phone), kind="tombstone:phone")))
    if linkedin_public_id:
        keys.append((TombstoneKind.LINKEDIN,
                     ring.blind_index(canonical_linkedin(linkedin_public_id), kind="tombstone:linkedin")))
    if first_name and last_name and birth_date:
        keys.append((TombstoneKind.NAME_BIRTH_DATE,
                     ring.blind_index(name_birth_key(first_name, last_name, birth_date), kind="tombstone:name")))
    return keys


def erased_keys(session: Session, keys: Iterable[tuple[TombstoneKind, str]]) -> set[tuple[str, str]]:
    """Of these ``(kind, blind index)`` pairs, the ones with a tombstone (one query per 500 keys)."""
    wanted = list({(str(kind), index) for kind, index in keys})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        indexes = {index for _, index in chunk}
        for kind, index in session.execute(select(ErasureTombstone.kind, ErasureTombstone.value_index)
                                           .where(ErasureTombstone.value_index.in_(indexes))):
            if (kind, index) in chunk:
                found.add((kind, index))
    return found


def is_erased(session: Session, *, email: str | None = None, phone: str | None = None,
              linkedin_public_id: str | None = None, first_name: str | None = None, last_name: str | None = None,
              birth_date: date | str | None = None) -> bool:
    """Whether any of these identifiers belongs to an erased person (who must never be collected again)."""
    keys = identifier_keys(email=email, phone=phone, linkedin_public_id=linkedin_public_id, first_name=first_name,
                           last_name=last_name, birth_date=birth_date)
    return bool(keys) and bool(erased_keys(session, keys))


class ErasedFilter:
    """Batch check for ingest paths: build it once per chunk of records, then ask about them all at once.

    ``add(ref, email=…, phone=…, linkedin_public_id=…)`` for every record, ``erased()`` gives the refs of
    those with a tombstone. One query per 500 identifiers, and no hashing at all while nobody has been erased.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self.active = session.scalar(select(ErasureTombstone.id).limit(1)) is not None
        self._keys: dict[tuple[str, str], list[object]] = {}

    def add(self, ref: object, **identifiers: Any) -> None:
        if not self.active:
            return
        for kind, index in identifier_keys(**identifiers):
            self._keys.setdefault((str(kind), index), []).append(ref)

    def erased(self) -> set[object]:
        if not self._keys:
            return set()
        hits = erased_keys(self._session, [(TombstoneKind(k), i) for k, i in self._keys])
        return {ref for key in hits for ref in self._keys[key]}
