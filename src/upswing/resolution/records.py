"""Lead rows and profile snapshots as ``PersonRecord``s, and the blocking keys that find candidates. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from upswing.core.nicknames import name_variants
from upswing.observation.snapshot import ProfileSnapshot
from upswing.resolution.matching import PersonRecord, parse_location, parse_name


class LeadLike(Protocol):
    """The lead columns the linker reads (an ORM ``Lead`` or a row of the blocking query)."""

    first_name: str
    middle_name: str | None
    last_name: str
    email: str | None
    phone: str | None
    city: str | None
    state: str | None
    country: str | None
    employer: str | None
    linkedin_public_id: str | None


def lead_record(lead: LeadLike) -> PersonRecord:
    return PersonRecord(
        first_name=lead.first_name, last_name=lead.last_name, middle_name=lead.middle_name,
        emails=(lead.email,) if lead.email else (), phones=(lead.phone,) if lead.phone else (),
        city=lead.city, state=lead.state, country=lead.country,
        employers=(lead.employer,) if lead.employer else (), linkedin_id=lead.linkedin_public_id,
    )


def _year(value: str | None) -> int | None:
    return int(value[:4]) if value and value[:4].isdigit() else None


def snapshot_record(snapshot: ProfileSnapshot) -> PersonRecord:
    """A profile as a person: its name, where it says it is, every employer and school, the last degree's year."""
    place = parse_location(snapshot.city, snapshot.state, snapshot.country_code, snapshot.location)
    years = [y for y in (_year(e.end) for e in snapshot.education) if y is not None]
    return PersonRecord(
        first_name=snapshot.first_name, last_name=snapshot.last_name, full_name=snapshot.full_name,
        emails=snapshot.emails, city=place.city or None, state=place.state or None,
        country=place.country or None,
        employers=tuple(dict.fromkeys(e.company for e in snapshot.experiences if e.company)),
        schools=tuple(dict.fromkeys(e.school for e in snapshot.education if e.school)),
        graduation_year=max(years) if years else None, linkedin_id=snapshot.public_identifier,
    )


# --------------------------------------------------------------------------------------------------
# Blocking keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockKey:
    """Candidates are leads whose ``column`` equals ``value`` (exactly, as stored), in ``state`` (any state
    when empty), whose other name starts with ``initial`` (lower case; any when empty)."""

    column: str  # "last_name" | "first_name"
    value: str
    state: str
    initial: str


def _spellings(name: str, folded: str) -> set[str]:
    """How a name may be stored in a lead file: as typed, Title, UPPER, lower; with and without accents."""
    return {s for form in (name, folded) for s in (form, form.title(), form.upper(), form.lower()) if s}


def block_keys(record: PersonRecord) -> set[BlockKey]:
    """The keys that find a record's candidate leads.

    Its family name in its state, for leads whose given name starts like one of the record's given-name
    forms (Bob finds Robert); its given name in its state, for leads whose family name starts with the same
    letter (finds family-name typos); and the two names swapped. Without a state, the family name anywhere.
    """
    parsed = parse_name(record.first_name, record.middle_name, record.last_name, record.full_name)
    keys: set[BlockKey] = set()
    if not parsed.last or not parsed.first:
        return keys
    state = record.state if record.state and len(record.state) == 2 else ""
    raw_last = (record.last_name or "").strip() or parsed.last
    raw_first = (record.first_name or "").strip().split(" ")[0] or parsed.first
    given = {parsed.first, *parsed.aliases} - {""}
    initials = {form[0] for name in given for form in name_variants(name) if form}
    for value in _spellings(raw_last, parsed.last):
        for initial in initials:
            keys.add(BlockKey("last_name", value, state, initial))
    if state:
        for name in given:
            for value in _spellings(raw_first if name == parsed.first else name, name):
                keys.add(BlockKey("first_name", value, state, parsed.last[0]))
    if " " not in parsed.first:  # swapped: the record's given name is the lead's family name
        for value in _spellings(raw_first, parsed.first):
            keys.add(BlockKey("last_name", value, state, parsed.last[0]))
    return keys


def lead_matches_key(lead: Any, key: BlockKey) -> bool:
    """Whether a lead row satisfies a key (the query's condition, checked again in Python)."""
    value = getattr(lead, key.column)
    if value != key.value or (key.state and lead.state != key.state):
        return False
    if not key.initial:
        return True
    other = lead.first_name if key.column == "last_name" else lead.last_name
    return bool(other) and other[:1].lower() == key.initial


def distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
