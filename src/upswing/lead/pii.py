"""Blind indexes of a lead's e-mails and phones (``lead.queries`` has the SQL look-ups that use them).

A lead's ``email``, ``emails``, ``phone``, ``phones``, ``address`` and ``birth_date`` are encrypted at rest
(``upswing.core.crypto``), so SQL can no longer compare them. Exact look-ups go through blind indexes, keyed
HMACs of the normalized value, kept on the lead's row:

* ``email_bidx`` / ``phone_bidx``: the primary e-mail and phone (B-tree indexed: the linker's hot path);
* ``contact_bidx``: every e-mail and phone of the lead, sorted (a JSON list, scanned: used by lead search and
  data-subject look-ups, which read the whole book anyway).

ORM writes keep them in step by themselves (events in ``lead.models``); a Core ``insert``/``update`` or a COPY
that sets ``email``/``emails``/``phone``/``phones`` must pass its values through ``with_blind_indexes``.
Phones are indexed in the stored form (E.164): normalize input first (``core.identifiers.normalize_phone``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from upswing.core.crypto import KeyRing, get_key_ring

EMAIL = "email"
PHONE = "phone"
#: Lead attributes the blind indexes are computed from.
CONTACT_FIELDS = frozenset({"email", "emails", "phone", "phones"})
#: The blind index columns, in the order ``blind_indexes`` returns them.
INDEX_FIELDS = ("email_bidx", "phone_bidx", "contact_bidx")


#: Hex digits kept of each HMAC: 128 bits never collide by chance in a book of leads, and half the width
#: halves what the two B-tree indexes cost every import.
INDEX_LENGTH = 32


def _index(ring: KeyRing, value: str, kind: str) -> str:
    return ring.blind_index(value, kind=kind)[:INDEX_LENGTH]


def email_index(email: str, ring: KeyRing | None = None) -> str:
    return _index(ring or get_key_ring(), email, EMAIL)


def phone_index(phone: str, ring: KeyRing | None = None) -> str:
    return _index(ring or get_key_ring(), phone, PHONE)


def blind_indexes(email: str | None, emails: Iterable[str] | None, phone: str | None,
                  phones: Iterable[dict[str, Any]] | None, ring: KeyRing | None = None) -> dict[str, Any]:
    """``email_bidx``, ``phone_bidx`` and ``contact_bidx`` for these contact values."""
    ring = ring or get_key_ring()
    # Each distinct value is hashed once (the primary e-mail and phone are usually in the lists too).
    email_values: set[str] = {value for value in (email, *(emails or ())) if value}
    phone_values: set[str] = {str(entry["number"]) for entry in phones or ()
                              if isinstance(entry, dict) and entry.get("number")}
    if phone:
        phone_values.add(phone)
    by_email = {value: _index(ring, value, EMAIL) for value in email_values}
    by_phone = {value: _index(ring, value, PHONE) for value in phone_values}
    return {"email_bidx": by_email[email] if email else None, "phone_bidx": by_phone[phone] if phone else None,
            "contact_bidx": sorted({*by_email.values(), *by_phone.values()})}


def with_blind_indexes(values: dict[str, Any], ring: KeyRing | None = None) -> dict[str, Any]:
    """Add the blind index columns to a row of values that has every contact field; returns ``values``."""
    values.update(blind_indexes(values["email"], values["emails"], values["phone"], values["phones"], ring))
    return values
