"""Canonical forms of identifiers that several domains compare: e-mail addresses, phone numbers (E.164), and
LinkedIn profile URLs and public ids.

Pure: no database, no settings. A lead file, a scraped profile, a data-subject request and a tombstone must
normalize an identifier the same way, or the same person is missed.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from urllib.parse import unquote

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_PROFILE_URL = re.compile(
    r"^(?:https?://)?(?:[a-z0-9-]+\.)*linkedin\.com(?::\d+)?/(?:mwlite/)?in/([^/?#\s]+)",
    re.IGNORECASE,
)


CANONICAL_LINKEDIN_PREFIX = "https://www.linkedin.com/in/"


def is_member_urn_id(public_id: str) -> bool:
    # ``/in/ACoAAB…`` URLs carry an opaque, case-sensitive member urn id, not a vanity public id.
    return public_id.startswith("ACoAA") and len(public_id) >= 30


@lru_cache(maxsize=65536)
def normalize_linkedin_url(url: str) -> tuple[str, str] | None:
    """Return ``(canonical_url, public_id)`` for a LinkedIn profile URL, or None if it is not one.

    Handles http/https, a missing scheme, ``www.``/country subdomains (``uk.linkedin.com``), trailing
    slashes, sub-pages (``/in/jane/details/experience``), query strings, fragments and URL-encoded ids.
    The public id is percent-decoded and lowercased; the canonical URL is
    ``https://www.linkedin.com/in/<public-id>`` built from it. Member-urn URLs (``/in/ACoAA…``) are not
    vanity ids and give None.
    """
    match = _PROFILE_URL.match(url.strip())
    if match is None:
        return None
    raw_id = match.group(1)
    if "%" in raw_id:
        raw_id = unquote(raw_id)
    raw_id = raw_id.strip()
    if not raw_id or is_member_urn_id(raw_id):
        return None
    public_id = raw_id.lower()
    return CANONICAL_LINKEDIN_PREFIX + public_id, public_id


_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


# A conservative subset of what email_validator accepts (ASCII dot-atom local part, LDH labels,
# alphabetic TLD, no "--" anywhere so no IDNA questions): matching addresses skip the slower
# validator. Anything else goes to email_validator, which has the final word.
_FAST_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)


_FAST_PHONE = re.compile(r"\+?[\d\s().\-]+")


_NON_DIGITS = re.compile(r"\D")


def normalize_email(value: str) -> str:
    """Lowercased, syntax-checked e-mail address (no DNS look-up); raises ValueError if invalid."""
    lowered = value.lower()
    match = _FAST_EMAIL.fullmatch(lowered)
    if (match and "--" not in lowered and len(lowered) <= 254 and lowered.index("@") <= 64
            and match.group(1) not in _SPECIAL_USE_TLDS):
        return lowered
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address ({exc})") from exc


@cache
def _us_validity() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(general pattern, any-number-type pattern) of the US metadata, as phonenumbers applies them."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert metadata is not None and metadata.general_desc is not None
    assert metadata.general_desc.national_number_pattern is not None
    descs = [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
             metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
             metadata.fixed_line, metadata.mobile]
    patterns = [d.national_number_pattern for d in descs if d is not None and d.national_number_pattern
                and (not d.possible_length or 10 in d.possible_length)]
    any_type = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(metadata.general_desc.national_number_pattern), re.compile(any_type)


def _valid_us_national(national: str) -> bool:
    """Same verdict as ``phonenumbers.is_valid_number_for_region(number, "US")`` for a 10-digit national
    number, from the same metadata, with one regex instead of a dozen calls (20x faster)."""
    general, any_type = _us_validity()
    return general.fullmatch(national) is not None and any_type.fullmatch(national) is not None


def normalize_phone(value: str, region: str = "US") -> str:
    """E.164 form of a phone number (``region`` applies to numbers without a ``+``); ValueError if invalid."""
    if region == "US" and _FAST_PHONE.fullmatch(value):
        # Fast path for plain North American numbers: same result as phonenumbers.parse, much faster.
        digits = _NON_DIGITS.sub("", value)
        national = None
        if value.startswith("+"):
            if len(digits) == 11 and digits[0] == "1":
                national = digits[1:]
        elif len(digits) == 10:
            national = digits
        elif len(digits) == 11 and digits[0] == "1":
            national = digits[1:]
        if national is not None:
            if not _valid_us_national(national) and not phonenumbers.is_valid_number(
                    phonenumbers.PhoneNumber(country_code=1, national_number=int(national))):
                raise ValueError(f"not a valid phone number for region {region}")
            return "+1" + national
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number for region {region}" if not value.startswith("+")
                         else "not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
