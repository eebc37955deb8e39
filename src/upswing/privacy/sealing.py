"""Direct identifiers inside stored observations (raw payloads and normalized forms) are sealed, not kept in clear.

A scraped profile or post may carry e-mail addresses and phone numbers anywhere in its JSON. Before an
observation is stored, ``seal_identifiers`` replaces every e-mail address found in a string (the whole string or
a part of it) and every value of a phone-like key with a key-ring ciphertext (``enc:v1:…``, context
``observations.identifier``), and returns the blind indexes of what it sealed: the observation keeps them
(``observations.identifier_index``) so that a data-subject request can still find it by e-mail or phone, and a
DSAR export opens the ciphertexts again (``reveal_identifiers``). Names, titles and companies stay readable: the
product works with them, and the privacy mode decides how long they are kept.

In ``gdpr_strict`` the raw payload is not stored at all and the normalized ``emails`` field is dropped
(``privacy.policy``); what remains is sealed the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from upswing.core.crypto import PREFIX, DecryptionError, KeyRing

CONTEXT = "observations.identifier"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Keys whose values are phone numbers (any case, any position in the key: "phone", "phoneNumbers", "mobile").
_PHONE_KEY = re.compile(r"phone|mobile|cell|tel(?:ephone)?$|fax|whatsapp", re.IGNORECASE)
_DIGITS = re.compile(r"\d")


def email_index(ring: KeyRing, email: str) -> str:
    return ring.blind_index(email.strip().lower(), kind="observation:email")


def phone_index(ring: KeyRing, phone: str) -> str:
    return ring.blind_index("".join(_DIGITS.findall(phone))[-10:], kind="observation:phone")


def seal_identifiers(payload: dict[str, Any], ring: KeyRing) -> tuple[dict[str, Any], set[str]]:
    """A copy of ``payload`` with e-mails and phone numbers sealed, and the blind indexes of what was sealed."""
    indexes: set[str] = set()
    sealed = _seal(payload, ring, indexes, phone_key=False)
    return sealed, indexes


def seal_observation(raw: dict[str, Any], normalized: dict[str, Any], ring: KeyRing,
                     ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """An observation's raw payload and normalized form as stored, and its ``identifier_index``."""
    sealed_raw, found = seal_identifiers(raw, ring)
    sealed_normalized, more = seal_identifiers(normalized, ring)
    return sealed_raw, sealed_normalized, sorted(found | more)


def _seal(value: Any, ring: KeyRing, indexes: set[str], *, phone_key: bool) -> Any:
    if isinstance(value, str):
        if value.startswith(PREFIX):
            return value  # sealed already
        if phone_key and len(_DIGITS.findall(value)) >= 7:
            indexes.add(phone_index(ring, value))
            return ring.encrypt(value, context=CONTEXT)
        if "@" in value and _EMAIL.search(value):
            return _EMAIL.sub(lambda match: _seal_email(match.group(), ring, indexes), value)
        return value
    if isinstance(value, dict):
        return {key: _seal(item, ring, indexes, phone_key=_is_phone_key(str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [_seal(item, ring, indexes, phone_key=phone_key) for item in value]
    return value


@lru_cache(maxsize=4096)
def _is_phone_key(key: str) -> bool:
    """Cached: a profile repeats the same few dozen keys, and this ran for every key of every stored payload."""
    return bool(_PHONE_KEY.search(key))


def _seal_email(email: str, ring: KeyRing, indexes: set[str]) -> str:
    indexes.add(email_index(ring, email))
    return ring.encrypt(email, context=CONTEXT)


_SEALED = re.compile(re.escape(PREFIX) + r"[\w-]+:[A-Za-z0-9+/=]+")


def reveal_identifiers(value: Any, ring: KeyRing) -> Any:
    """``value`` with every sealed identifier opened (for the person's own data export)."""
    if isinstance(value, str):
        return _SEALED.sub(lambda match: _open(match.group(), ring), value) if PREFIX in value else value
    if isinstance(value, dict):
        return {key: reveal_identifiers(item, ring) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal_identifiers(item, ring) for item in value]
    return value


def mask_identifiers(text: str) -> str:
    """For display: sealed identifiers as ``[hidden]``."""
    return _SEALED.sub("[hidden]", text) if PREFIX in text else text


def _open(token: str, ring: KeyRing) -> str:
    try:
        return ring.decrypt(token, context=CONTEXT)
    except DecryptionError:
        return token
