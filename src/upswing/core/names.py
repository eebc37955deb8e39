"""Canonical keys of company names and job titles, so that "The Acme Corp., Inc." = "ACME" and
"Sr. Analyst" = "Senior Analyst" wherever two sightings are compared (ingest, detection, linking, signals).

Pure and memoized: repeated employer names and titles cost a dict look-up.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DROP = re.compile("[.'`\u2019\u00b4]")
_PUNCT = re.compile(r"[^\w\s]+|_")

_COMPANY_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation", "co",
        "company", "gmbh", "plc", "ag", "sa", "bv", "nv", "pty", "pvt", "srl", "sarl", "kg",
    }
)  # fmt: skip


_TITLE_ABBREVIATIONS = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "jnr": "junior",
    "mgr": "manager",
    "mngr": "manager",
    "asst": "assistant",
    "assoc": "associate",
    "dir": "director",
    "&": "and",
}


def words(text: str) -> list[str]:
    return _PUNCT.sub(" ", _DROP.sub("", text.casefold().replace("&", " and "))).split()


@lru_cache(maxsize=65536)
def company_key(name: str | None) -> str:
    """``"The Acme Corp., Inc."`` → ``"acme"``: casefold, punctuation and legal suffixes dropped."""
    if not name:
        return ""
    parts = words(name)
    if len(parts) > 1 and parts[0] == "the":
        parts = parts[1:]
    while len(parts) > 1 and parts[-1] in _COMPANY_SUFFIXES:
        parts.pop()
    return " ".join(parts)


@lru_cache(maxsize=65536)
def title_key(title: str | None) -> str:
    """``"Sr. Analyst"`` → ``"senior analyst"``."""
    if not title:
        return ""
    return " ".join(_TITLE_ABBREVIATIONS.get(word, word) for word in words(title))


@lru_cache(maxsize=65536)
def name_key(text: str | None) -> str:
    if not text:
        return ""
    return " ".join(words(text))
