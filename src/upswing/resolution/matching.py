"""Is this the same person? Pure record comparison for linking observations to leads (and leads to leads).

``compare(a, b)`` scores two ``PersonRecord``s the Fellegi–Sunter way: each field is compared into a
level (exact, nickname, typo, same city, other state, ...), each level carries the probability of being
seen for a true match (m) and for two different people (u), and the evidence adds up as log-likelihood
ratios ``ln(m/u)`` on top of a prior. The sum is the log-odds of a match; the logistic function turns it
into the 0..1 ``score`` that the link and review thresholds apply to. Every field that took part is
explained in ``agreed`` or ``disagreed``.

The m/u values below are set by hand for US consumer-credit leads against LinkedIn profiles: a full name
alone is never enough (namesakes are common: the prior is low), an agreeing location, employer history,
school or graduation year has to corroborate it, and a different state or an employer history with
nothing in common counts against. ``benchmarks`` and the resolution tests hold the thresholds to
precision on labelled data.

Names go through nameparser only when needed (titles, suffixes, a full name without parts) and are
compared accent- and case-insensitively, with a nickname table (Bob ~ Robert), Jaro–Winkler for typos,
initials, compound surnames and swapped first/last names. Nothing here touches a database or a clock.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nameparser import HumanName
from nameparser.config import CONSTANTS
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from upswing.core.names import company_key
from upswing.core.nicknames import formal_names
from upswing.lead.importer import normalize_us_state

__all__ = [
    "PRIOR_LOG_ODDS",
    "WEIGHTS",
    "MatchResult",
    "ParsedName",
    "PersonRecord",
    "compare",
    "family_name_level",
    "fold",
    "given_name_level",
    "name_similarity",
    "nickname_equivalent",
    "parse_location",
    "parse_name",
]


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What we know about a person, from a lead row or a profile snapshot. Every field may be empty."""

    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    full_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    country: str | None = None
    employers: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    graduation_year: int | None = None
    linkedin_id: str | None = None  # LinkedIn public identifier, when known


@dataclass(frozen=True, slots=True)
class MatchResult:
    score: float  # 0..1, the posterior probability of a match
    log_odds: float
    agreed: dict[str, str] = field(default_factory=dict)
    disagreed: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)  # per field, ln(m/u)


# --------------------------------------------------------------------------------------------------
# Weights: (m, u) per field and level; the weight of a level is ln(m / u).
# --------------------------------------------------------------------------------------------------

_MU: dict[str, dict[str, tuple[float, float]]] = {
    "first_name": {
        "exact": (0.86, 0.02),
        "nickname": (0.07, 0.004),
        "middle_as_first": (0.02, 0.002),
        "typo": (0.03, 0.003),
        "initial": (0.02, 0.01),
        "disagree": (0.01, 0.96),
    },
    "last_name": {
        "exact": (0.9, 0.01),
        "compound": (0.03, 0.002),
        "typo": (0.05, 0.004),
        "disagree": (0.02, 0.98),
    },
    "middle_name": {"agree": (0.5, 0.1), "disagree": (0.02, 0.3)},
    "location": {
        "same_city": (0.6, 0.02),
        "same_state": (0.25, 0.1),  # one side has no city
        "same_state_other_city": (0.1, 0.08),
        "other_state": (0.05, 0.8),
        "other_country": (0.01, 0.5),
    },
    "employers": {"agree": (0.55, 0.03), "similar": (0.1, 0.01), "disagree": (0.3, 0.95)},
    "schools": {"agree": (0.35, 0.02), "disagree": (0.5, 0.95)},
    "graduation_year": {"same": (0.7, 0.06), "close": (0.15, 0.1), "disagree": (0.15, 0.84)},
    "email": {"agree": (0.3, 0.0005), "disagree": (0.6, 0.999)},
    "phone": {"agree": (0.4, 0.0005), "disagree": (0.5, 0.999)},
    "linkedin": {"agree": (0.99, 0.00001), "disagree": (0.01, 0.999)},
}
WEIGHTS: dict[str, dict[str, float]] = {
    name: {level: math.log(m / u) for level, (m, u) in levels.items()} for name, levels in _MU.items()
}
SWAP_PENALTY = 0.7  # first and last name the wrong way round: still the name, a little less sure
# Prior log-odds that a blocked candidate pair is a match. With it, an exact full name (+8.3) alone stays
# far below review; with the same city it reaches review; employer history or a school on top links.
PRIOR_LOG_ODDS = -10.3

# --------------------------------------------------------------------------------------------------
# Text folding and names
# --------------------------------------------------------------------------------------------------

_APOSTROPHES = re.compile("['`\u2019\u00b4.]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_QUOTED = re.compile(r"[\"\u201c\u201d(\[]([^\"\u201c\u201d)\]]+)[\"\u201c\u201d)\]]")
_TITLES = frozenset(t.replace(".", "") for t in CONSTANTS.titles) | {"mr", "mrs", "ms", "miss", "dr", "prof"}
_SUFFIXES = frozenset(
    s.replace(".", "") for s in (*CONSTANTS.suffix_acronyms, *CONSTANTS.suffix_not_acronyms)
) | {"jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "mba", "cpa", "pmp", "esq", "rn", "lpn", "cna", "shrm"}


@lru_cache(maxsize=131072)
def fold(text: str | None) -> str:
    """Lower-case ASCII words: ``"José  O'Brien-Hall"`` → ``"jose obrien hall"``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").casefold()
    return " ".join(_NON_WORD.sub(" ", _APOSTROPHES.sub("", ascii_text)).split())


@dataclass(frozen=True, slots=True)
class ParsedName:
    first: str  # folded; "" when unknown
    middles: tuple[str, ...]
    last: str  # folded, tokens joined by one space
    aliases: tuple[str, ...] = ()  # other given names the person goes by ('Robert "Bob" Smith')

    @property
    def last_tokens(self) -> tuple[str, ...]:
        return tuple(self.last.split())


def _strip_titles(tokens: list[str]) -> list[str]:
    while len(tokens) > 1 and tokens[0] in _TITLES:
        tokens = tokens[1:]
    return tokens


def _strip_suffixes(tokens: list[str]) -> list[str]:
    while len(tokens) > 1 and tokens[-1] in _SUFFIXES:
        tokens = tokens[:-1]
    return tokens


@lru_cache(maxsize=131072)
def parse_name(first: str | None, middle: str | None, last: str | None, full: str | None = None) -> ParsedName:
    """Split and clean a person's name: titles, suffixes and credentials dropped, nicknames kept as aliases."""
    aliases: list[str] = []
    raw = " ".join(p for p in (first, middle, last) if p) or (full or "")
    for quoted in _QUOTED.findall(raw):
        aliases.extend(fold(quoted).split()[:1])
    first, middle, last, full = (_QUOTED.sub(" ", v) if v else v for v in (first, middle, last, full))
    if not first and not last:
        if not full:
            return ParsedName("", (), "", tuple(aliases))
        human = HumanName(full)
        first, middle, last = human.first, human.middle, human.last
        if human.nickname:
            aliases.extend(fold(human.nickname).split()[:1])
    if last and "," in last:  # "Smith, MBA, PMP": credentials after the comma
        last = last.split(",", 1)[0]
    first_tokens = _strip_titles(fold(first).split())
    last_tokens = _strip_suffixes(fold(last).split())
    middles = fold(middle).split()
    if not last_tokens and len(first_tokens) > 1:  # the whole name came in the first-name field
        first_tokens, last_tokens = first_tokens[:-1], first_tokens[-1:]
    if not first_tokens and len(last_tokens) > 1:
        first_tokens, last_tokens = last_tokens[:1], last_tokens[1:]
    if len(first_tokens) > 1:  # "Mary Ann", "Robert J": the rest reads as middle names
        middles = first_tokens[1:] + middles
        first_tokens = first_tokens[:1]
    return ParsedName(first_tokens[0] if first_tokens else "", tuple(middles), " ".join(last_tokens),
                      tuple(a for a in aliases if a))


def _record_name(record: PersonRecord) -> ParsedName:
    return parse_name(record.first_name, record.middle_name, record.last_name, record.full_name)


@lru_cache(maxsize=131072)
def nickname_equivalent(a: str, b: str) -> bool:
    """True when two folded given names may name the same person (Bob/Robert, Chris/Tina, Pepe/José)."""
    return bool(formal_names(a) & formal_names(b))


@lru_cache(maxsize=262144)
def given_name_level(a: str, b: str) -> str | None:
    """``exact | nickname | initial | typo | disagree`` for two folded given names; None if one is missing."""
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if len(a) == 1 or len(b) == 1:
        return "initial" if a[0] == b[0] else "disagree"
    if nickname_equivalent(a, b):
        return "nickname"
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if _gendered_pair(short, long_):  # Mario/Maria, Daniel/Daniela: two people
        return "disagree"
    if len(short) >= 3 and long_.startswith(short):  # Chris/Christopher, Kat/Katherine
        return "nickname"
    if len(short) >= 3 and JaroWinkler.similarity(a, b) >= 0.9:
        return "typo"
    return "disagree"


_VOWELS = frozenset("aeio")


def _gendered_pair(short: str, long_: str) -> bool:
    """Names that differ only by a final vowel: the masculine and feminine form of one name."""
    if len(long_) == len(short) + 1:
        return long_.startswith(short) and long_[-1] in _VOWELS
    if len(long_) == len(short):
        return long_[:-1] == short[:-1] and long_[-1] in _VOWELS and short[-1] in _VOWELS
    return False


@lru_cache(maxsize=262144)
def family_name_level(a: str, b: str) -> str | None:
    """``exact | compound | typo | disagree`` for two folded family names; None if one is missing."""
    if not a or not b:
        return None
    if a == b:
        return "exact"
    joined_a, joined_b = a.replace(" ", ""), b.replace(" ", "")
    if joined_a == joined_b:  # "de la cruz" / "delacruz"
        return "exact"
    tokens_a, tokens_b = set(a.split()), set(b.split())
    if any(len(t) >= 3 for t in tokens_a & tokens_b):  # "garcia lopez" / "garcia"
        return "compound"
    if min(len(joined_a), len(joined_b)) >= 3 and JaroWinkler.similarity(joined_a, joined_b) >= 0.9:
        return "typo"
    return "disagree"


def _given_best(a: ParsedName, b: ParsedName) -> tuple[str | None, str]:
    """The best level between two people's given names, trying aliases and a middle name used as first."""
    best: str | None = given_name_level(a.first, b.first)
    shown = f"{a.first} ~ {b.first}"
    if best == "exact":
        return best, shown
    for x in (a.first, *a.aliases):
        for y in (b.first, *b.aliases):
            level = given_name_level(x, y)
            if level is not None and _FIRST_RANK[level] > _FIRST_RANK.get(best or "", -1):
                best, shown = level, f"{x} ~ {y}"
    if best in (None, "disagree", "initial"):
        for middles, given in ((a.middles, b.first), (b.middles, a.first)):
            if middles and given and given_name_level(middles[0], given) in ("exact", "nickname"):
                return "middle_as_first", f"{middles[0]} ~ {given}"
    return best, shown


_FIRST_RANK = {"disagree": 0, "initial": 1, "typo": 2, "middle_as_first": 3, "nickname": 4, "exact": 5}


def name_similarity(a: PersonRecord, b: PersonRecord) -> float:
    """How alike two people's names are, 0..1 (1: same first and last name), swaps and nicknames included.

    A quick pre-filter and a feature for lead-vs-lead dedupe; ``compare`` gives the full explanation.
    """
    weight, *_ = _name_evidence(_record_name(a), _record_name(b))
    best = WEIGHTS["first_name"]["exact"] + WEIGHTS["last_name"]["exact"]
    worst = WEIGHTS["first_name"]["disagree"] + WEIGHTS["last_name"]["disagree"]
    return max(0.0, min(1.0, (weight - worst) / (best - worst)))


def _name_evidence(a: ParsedName, b: ParsedName) -> tuple[float, dict[str, str], dict[str, str], dict[str, float]]:
    agreed: dict[str, str] = {}
    disagreed: dict[str, str] = {}
    weights: dict[str, float] = {}
    first_level, first_shown = _given_best(a, b)
    last_level = family_name_level(a.last, b.last)
    straight = (WEIGHTS["first_name"][first_level] if first_level else 0.0) + (
        WEIGHTS["last_name"][last_level] if last_level else 0.0)
    # Swapped: a's first name is b's family name and the other way round.
    swap_first = given_name_level(a.last, b.first) if " " not in a.last else None
    swap_last = family_name_level(a.first, b.last)
    swapped = -math.inf
    if swap_first and swap_last and swap_first != "disagree" and swap_last != "disagree":
        swapped = WEIGHTS["first_name"][swap_first] + WEIGHTS["last_name"][swap_last] - SWAP_PENALTY
    if swapped > straight:
        weights["name"] = swapped
        agreed["name"] = f"swapped first/last name: {a.first} {a.last} ~ {b.first} {b.last}"
        return swapped, agreed, disagreed, weights
    if first_level:
        weights["first_name"] = WEIGHTS["first_name"][first_level]
        (disagreed if first_level == "disagree" else agreed)["first_name"] = (
            f"{first_level.replace('_', ' ')}: {first_shown}")
    if last_level:
        weights["last_name"] = WEIGHTS["last_name"][last_level]
        (disagreed if last_level == "disagree" else agreed)["last_name"] = f"{last_level}: {a.last} ~ {b.last}"
    total = straight
    if a.middles and b.middles and first_level != "middle_as_first":
        x, y = a.middles[0], b.middles[0]
        compatible = (x[0] == y[0]) if (len(x) == 1 or len(y) == 1) else given_name_level(x, y) != "disagree"
        level = "agree" if compatible else "disagree"
        weights["middle_name"] = WEIGHTS["middle_name"][level]
        verdict = "compatible" if compatible else "conflict"
        (agreed if compatible else disagreed)["middle_name"] = f"{verdict}: {x} ~ {y}"
        total += weights["middle_name"]
    return total, agreed, disagreed, weights


# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------

_US_NAMES = frozenset({"us", "usa", "united states", "united states of america", "america"})
_AREA_WORDS = re.compile(r"^(greater|city of)\s+|\s+(metropolitan area|metro area|metroplex|bay area|area|city)$")
_CITY_ALIASES = {"nyc": "new york", "la": "los angeles", "sf": "san francisco", "philly": "philadelphia",
                 "dc": "washington", "washington dc": "washington"}


@dataclass(frozen=True, slots=True)
class Place:
    city: str  # folded, "" when unknown
    state: str  # USPS code (or folded region name outside the US), "" when unknown
    country: str  # ISO alpha-2 upper case, "" when unknown


def _state_code(text: str) -> str:
    try:
        return normalize_us_state(text)
    except ValueError:
        return ""


@lru_cache(maxsize=65536)
def _city_key(city: str | None) -> str:
    key = fold(city)
    for _ in range(2):
        key = _AREA_WORDS.sub("", key).strip()
    return _CITY_ALIASES.get(key, key)


def _country_code(text: str | None) -> str:
    if not text:
        return ""
    if fold(text) in _US_NAMES:
        return "US"
    return text.upper() if len(text) == 2 else fold(text)


@lru_cache(maxsize=65536)
def parse_location(city: str | None, state: str | None, country: str | None,
                   text: str | None = None) -> Place:
    """A place from fields and/or a LinkedIn location text ("Columbus, Ohio, United States")."""
    city_key, state_code, country_code = _city_key(city), "", _country_code(country)
    if state:
        state_code = _state_code(state) or fold(state)
    if text and not (city_key and state_code):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if parts and fold(parts[-1]) in _US_NAMES:
            country_code = country_code or "US"
            parts = parts[:-1]
        if len(parts) >= 2 and not state_code:
            state_code = _state_code(parts[-1])
            if state_code:
                parts = parts[:-1]
        elif len(parts) == 1 and not state_code and _state_code(parts[0]) and not city_key:
            state_code = _state_code(parts[0])  # "Texas, United States"
            parts = []
        if parts and not city_key:
            city_key = _city_key(parts[0])
    if state_code and len(state_code) == 2 and not country_code:
        country_code = "US"
    return Place(city_key, state_code, country_code)


def _same_city(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return f" {short} " in f" {long_} "  # "dallas" in "dallas fort worth"


def _location_evidence(a: Place, b: Place) -> tuple[str | None, str]:
    if a.country and b.country and a.country != b.country:
        return "other_country", f"{a.country} vs {b.country}"
    if a.state and b.state and a.state != b.state:
        return "other_state", f"{a.state} vs {b.state}"
    if a.city and b.city and _same_city(a.city, b.city):
        where = a.city.title() + (f", {a.state or b.state}" if (a.state or b.state) else "")
        return "same_city", where
    if a.state and b.state:
        if a.city and b.city:
            return "same_state_other_city", f"{a.state}: {a.city.title()} vs {b.city.title()}"
        return "same_state", a.state
    return None, ""


# --------------------------------------------------------------------------------------------------
# Employers, schools, years, contact points
# --------------------------------------------------------------------------------------------------

_NOT_EMPLOYERS = frozenset({"self employed", "selfemployed", "freelance", "freelancer", "unemployed",
                            "independent", "none", "n a", "na", "student", "retired", "confidential"})


@lru_cache(maxsize=65536)
def _employer_key(name: str) -> str:
    key = company_key(name)
    return "" if key in _NOT_EMPLOYERS else key


@lru_cache(maxsize=65536)
def _school_key(name: str) -> str:
    words = fold(name).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


@lru_cache(maxsize=65536)
def _similar_names(a: str, b: str) -> bool:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.replace(" ", "").startswith(short.replace(" ", "")):
        return True  # "amazon" / "amazoncom", "starbucks" / "starbucks coffee"
    return fuzz.token_set_ratio(a, b) >= 90


@lru_cache(maxsize=65536)
def _employer_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({k for k in map(_employer_key, names) if k}))


@lru_cache(maxsize=65536)
def _school_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({k for k in map(_school_key, names) if k}))


@lru_cache(maxsize=65536)
def _overlap(keys_a: tuple[str, ...], keys_b: tuple[str, ...]) -> tuple[str | None, str]:
    """Histories (sorted, distinct keys) compared: ``agree`` on a shared key, ``similar`` on a near one."""
    if not keys_a or not keys_b:
        return None, ""
    shared = set(keys_a).intersection(keys_b)
    if shared:
        return "agree", ", ".join(sorted(shared))
    for x in keys_a:
        for y in keys_b:
            if _similar_names(x, y):
                return "similar", f"{x} ~ {y}"
    return "disagree", f"{', '.join(keys_a)} | {', '.join(keys_b)}"


@lru_cache(maxsize=65536)
def _digits(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-10:]


# --------------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------------


def explanation_labels(explanation: Mapping[str, Any]) -> dict[str, Any]:
    """What may be stored of a comparison's explanation: for each field how it compared ("exact", "nickname",
    "agree", "other state" …), never the values that were compared (names, e-mails, phones, profile ids):
    the explanation ``"nickname: robert ~ bob"`` is kept as ``"nickname"``. The values stay on the lead and the
    observation, where they are encrypted or governed by the privacy mode; copies here would escape both."""
    return {name: text.split(":", 1)[0].strip() if isinstance(text, str) else text
            for name, text in explanation.items()}


def _add(field_name: str, level: str | None, detail: str, agreed: dict[str, str], disagreed: dict[str, str],
         weights: dict[str, float]) -> float:
    if level is None:
        return 0.0
    weight = WEIGHTS[field_name][level]
    weights[field_name] = weight
    label = level.replace("_", " ")
    (agreed if weight > 0 else disagreed)[field_name] = f"{label}: {detail}" if detail else label
    return weight


def compare(a: PersonRecord, b: PersonRecord) -> MatchResult:
    """Score two records as the same person (0..1), explaining which fields agreed and which disagreed."""
    total, agreed, disagreed, weights = _name_evidence(_record_name(a), _record_name(b))
    total += PRIOR_LOG_ODDS

    if a.linkedin_id and b.linkedin_id:
        same = a.linkedin_id.casefold() == b.linkedin_id.casefold()
        total += _add("linkedin", "agree" if same else "disagree",
                      a.linkedin_id if same else f"{a.linkedin_id} vs {b.linkedin_id}", agreed, disagreed, weights)
    place_a = parse_location(a.city, a.state, a.country)
    place_b = parse_location(b.city, b.state, b.country)
    level, detail = _location_evidence(place_a, place_b)
    total += _add("location", level, detail, agreed, disagreed, weights)

    if a.employers and b.employers:
        level, detail = _overlap(_employer_keys(a.employers), _employer_keys(b.employers))
        total += _add("employers", level, detail, agreed, disagreed, weights)
    if a.schools and b.schools:
        level, detail = _overlap(_school_keys(a.schools), _school_keys(b.schools))
        total += _add("schools", "agree" if level == "similar" else level, detail, agreed, disagreed, weights)

    if a.graduation_year and b.graduation_year:
        gap = abs(a.graduation_year - b.graduation_year)
        level = "same" if gap == 0 else "close" if gap == 1 else "disagree"
        total += _add("graduation_year", level, f"{a.graduation_year} vs {b.graduation_year}"
                      if gap else str(a.graduation_year), agreed, disagreed, weights)

    if a.emails and b.emails:
        shared = {e.casefold() for e in a.emails if e} & {e.casefold() for e in b.emails if e}
        total += _add("email", "agree" if shared else "disagree", ", ".join(sorted(shared)), agreed, disagreed,
                      weights)
    if a.phones and b.phones:
        phones_a = {_digits(p) for p in a.phones if p} - {""}
        phones_b = {_digits(p) for p in b.phones if p} - {""}
        if phones_a and phones_b:
            shared = phones_a & phones_b
            total += _add("phone", "agree" if shared else "disagree", ", ".join(sorted(shared)), agreed,
                          disagreed, weights)

    score = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))
    return MatchResult(round(score, 6), round(total, 4), agreed, disagreed, weights)
