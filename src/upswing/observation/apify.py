"""Per-Actor adapters: raw Apify LinkedIn profile items → :class:`ProfileSnapshot`.

Five output shapes are known (see ``shared/reference/external-apis.md`` §1a for the Apify Actors):

* ``harvestapi``: top-level camelCase fields; ``experience[]`` with ``position``/``startDate{}``. An older
  build wrapped every field in ``element``; the wrapper is unwrapped here.
* ``dev_fusion``: flattened current job (``jobTitle``, ``companyName``…) plus ``experiences[]`` in either the
  new form (``companyName``/``jobStartedOn``/``jobEndedOn``) or the LinkedIn-UI form (``title``,
  ``subtitle`` = "Company · Full-time", ``caption`` = date range).
* ``apimaestro``: nested ``basic_info{}`` plus snake_case ``experience[]``.
* ``rapidapi``: RapidAPI's "LinkedIn Data API" profile: ``username``, ``urn``, ``geo{}``, ``position[]`` with
  ``start{year,month}``/``end{…}``, ``educations[]``, ``certifications[]``, ``honors[]``.
* ``proxycurl``: Proxycurl's person profile: snake_case top level (``public_identifier``, ``first_name``…),
  ``experiences[]`` with ``starts_at{day,month,year}``/``ends_at``, ``accomplishment_honors_awards[]``.

Detection scores each shape by the keys that identify it; a shape named by the caller is checked against
those keys too, so a wrong ``--actor`` is refused instead of read as empty snapshots.

None of these shapes is contractual, so every adapter reads defensively: a missing or oddly typed field
becomes ``None``, never an exception. Noise (counts, photos, skills, recommendations) is not copied.

Everything here is pure and allocation-light: regexes are compiled once at import, and the small
string normalizers are memoized.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from upswing.core.identifiers import CANONICAL_LINKEDIN_PREFIX, is_member_urn_id, normalize_linkedin_url
from upswing.observation.snapshot import ProfileSnapshot

__all__ = [
    "IDENTITY_FIELDS",
    "ActorShape",
    "ShapeMismatchError",
    "UnknownShapeError",
    "detect_shape",
    "missing_identity_message",
    "normalize_item",
    "normalize_linkedin_url",
    "parse_partial_date",
    "shape_for_actor",
]

Item = Mapping[str, Any]


class ActorShape(StrEnum):
    HARVESTAPI = "harvestapi"
    DEV_FUSION = "dev_fusion"
    APIMAESTRO = "apimaestro"
    RAPIDAPI = "rapidapi"
    PROXYCURL = "proxycurl"


class UnknownShapeError(ValueError):
    """The item does not look like the output of any known LinkedIn profile Actor."""


class ShapeMismatchError(UnknownShapeError):
    """The caller named a shape, and the item does not carry the keys that identify it."""


_ACTOR_PREFIXES: tuple[tuple[str, ActorShape], ...] = (
    ("harvestapi", ActorShape.HARVESTAPI),
    ("dev_fusion", ActorShape.DEV_FUSION),
    ("apimaestro", ActorShape.APIMAESTRO),
)


def shape_for_actor(actor_id: str) -> ActorShape | None:
    """``"harvestapi/linkedin-profile-scraper"`` (or ``harvestapi~…``) → ``ActorShape.HARVESTAPI``."""
    owner = actor_id.strip().replace("~", "/").split("/", 1)[0].casefold()
    for prefix, shape in _ACTOR_PREFIXES:
        if owner == prefix:
            return shape
    return None


# --------------------------------------------------------------------------------------------------
# Small helpers (hot path: plain isinstance checks against dict/list first, ABCs only as a fallback)
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _collapse(text: str) -> str | None:
    return " ".join(text.split()) or None


def _clean(value: Any) -> str | None:
    """Collapse runs of whitespace, strip; empty or non-string → None. Memoized: names repeat a lot."""
    return _collapse(value) if isinstance(value, str) else None


def _first(mapping: Item, *keys: str) -> str | None:
    for key in keys:
        text = _clean(mapping.get(key))
        if text is not None:
            return text
    return None


def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _mapping(value: Any) -> Item:
    return value if _is_mapping(value) else _EMPTY


def _entries(value: Any) -> list[Item]:
    """The mapping entries of a list field (anything else is skipped)."""
    if not isinstance(value, list | tuple) and (
        value is None or isinstance(value, str) or not isinstance(value, Sequence)
    ):
        return []
    return [entry for entry in value if _is_mapping(entry)]


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_EMPTY: Item = {}

# --------------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------------

# Names LinkedIn writes that ISO 3166 (pycountry) does not know.
_COUNTRY_ALIASES = {"russia": "RU", "uk": "GB", "usa": "US", "kosovo": "XK"}


@lru_cache(maxsize=1024)
def _country_code(name: str | None) -> str | None:
    """``"United States"``/``"us"``/``"USA"`` → ``"US"``; an unknown name → None."""
    if not name:
        return None
    alias = _COUNTRY_ALIASES.get(name.casefold())
    if alias is not None:
        return alias
    if len(name) == 2 and name.isalpha():
        return name.upper()
    import pycountry  # here, not at the top: only items that name their country in words need it

    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return None


def _split_comma(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _city_and_region(text: str | None, *, country: str | None = None) -> tuple[str | None, str | None]:
    """``"Austin, Texas"`` → ("Austin", "Texas"); a trailing ``country`` is dropped first. LinkedIn writes
    city, region, country, so a third part is the country. A single part is left alone (None, None): "Texas"
    and "London" read the same, and the full location text keeps it."""
    parts = _split_comma(text)
    if len(parts) > 1 and country is not None and parts[-1].casefold() == country.casefold():
        parts.pop()
    if len(parts) < 2:
        return None, None
    return parts[0], parts[1]


# --------------------------------------------------------------------------------------------------
# LinkedIn URLs
# --------------------------------------------------------------------------------------------------


def _public_id_from_field(value: Any) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    if "linkedin.com" in text.lower():
        parsed = normalize_linkedin_url(text)
        return parsed[1] if parsed else None
    if "%" in text:
        text = unquote(text)
    text = text.strip().strip("/")
    if not text or "/" in text or " " in text or is_member_urn_id(text):
        return None
    return text.lower()


def _identity(public_id_fields: Sequence[Any], url_fields: Sequence[Any]) -> tuple[str | None, str | None]:
    """Pick the public id (explicit field first, then URLs) and build the canonical URL from it."""
    public_id: str | None = None
    for value in public_id_fields:
        public_id = _public_id_from_field(value)
        if public_id:
            break
    if public_id is None:
        for value in url_fields:
            if isinstance(value, str):
                parsed = normalize_linkedin_url(value)
                if parsed is not None:
                    public_id = parsed[1]
                    break
    if public_id is None:
        return None, None
    return public_id, CANONICAL_LINKEDIN_PREFIX + public_id


def _urn(value: Any) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    return text.rsplit(":", 1)[-1] or None


def _emails(*values: Any) -> tuple[str, ...]:
    found: set[str] = set()
    for value in values:
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) else (value,)
        for entry in items:
            if _is_mapping(entry):
                entry = entry.get("email")
            text = _clean(entry)
            if text is not None and "@" in text:
                found.add(text.lower())
    return tuple(sorted(found))


# --------------------------------------------------------------------------------------------------
# Partial dates
# --------------------------------------------------------------------------------------------------

_PRESENT = "present"  # internal sentinel returned by _point()

_MONTHS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

# One date token: optional month name ("Sep", "September", "Sept.") or numeric month before the year
# ("01/2021", "12-2025", "12.2025"), a year, and an optional month after it ("2021-01", "2025/12", "2021-01-15").
_DATE_TOKEN = re.compile(
    r"(?:\b([A-Za-z]{3,9})\.?\s+|\b(\d{1,2})[-/.])?\b((?:19|20)\d\d)(?:[-/.](\d{1,2})\b)?(?!\d)"
)
_PRESENT_WORD = re.compile(r"\b(?:present|current|now|today)\b", re.IGNORECASE)


def _month_from_name(name: str | None) -> int | None:
    if not name:
        return None
    return _MONTHS.get(name[:3].lower())


def _format(year: int, month: int | None) -> str:
    if month is not None and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def _token_to_date(match: re.Match[str]) -> str:
    month_name, month_prefix, year_text, iso_month = match.groups()
    month: int | None = None
    if iso_month is not None:
        month = int(iso_month)
    elif month_prefix is not None:
        month = int(month_prefix)
    elif month_name is not None:
        month = _month_from_name(month_name)
    return _format(int(year_text), month)


@lru_cache(maxsize=16384)
def _text_point(text: str) -> str | None:
    """A date in free text (``"Issued Sep 2023"``), the present sentinel, or None. Memoized."""
    match = _DATE_TOKEN.search(text)
    if match is not None:
        return _token_to_date(match)
    if _PRESENT_WORD.search(text):
        return _PRESENT
    return None


@lru_cache(maxsize=16384)
def _text_range(text: str) -> tuple[str | None, str | None, bool, int]:
    """``"Jan 2020 - Present · 2 yrs"`` → (start, end, present, number of date tokens)."""
    tokens = [_token_to_date(m) for m in _DATE_TOKEN.finditer(text)]
    present = _PRESENT_WORD.search(text) is not None
    start = tokens[0] if tokens else None
    end = tokens[1] if len(tokens) > 1 else None
    return start, end, present, len(tokens)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
    return None


def _point(value: Any) -> str | None:
    """One date in any Actor form → ``"YYYY"``/``"YYYY-MM"``, the present sentinel, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text_point(value)
    if _is_mapping(value):
        year = value.get("year")
        if type(year) is not int:
            year = _as_int(year)
        if year is not None and 1900 <= year <= 2100:
            month = value.get("month")
            if month is None:
                return f"{year:04d}"
            if type(month) is not int:
                month = _as_int(month) or (
                    _month_from_name(month.strip()) if isinstance(month, str) else None
                )
            return _format(year, month)
        label = value.get("text")
        return _text_point(label) if isinstance(label, str) else None
    year = _as_int(value)
    if year is not None and 1900 <= year <= 2100:
        return f"{year:04d}"
    return None


def parse_partial_date(value: Any) -> str | None:
    """Parse any single-date form the Actors emit into ``"YYYY"``/``"YYYY-MM"`` (None if absent/Present).

    Accepts ``{"month": "Jan", "year": 2024, "text": "Jan 2024"}``, ``{"year": 2021, "month": 1}``,
    ``"2021-01"``, ``"2023"``, ``"Issued Sep 2023"``, ``"Sep 2023 · Expires Sep 2026"``, ``2023``.
    """
    result = _point(value)
    return None if result == _PRESENT else result


_date = parse_partial_date

_NO_RANGE: tuple[str | None, str | None, bool, int] = (None, None, False, 0)


def _period(value: Any) -> tuple[str | None, str | None, bool, int]:
    """A range given as text (caption) or as ``{startedOn{…}, endedOn{…}}`` → (start, end, present, n)."""
    if isinstance(value, str):
        return _text_range(value)
    if _is_mapping(value):
        start_raw = _point(value.get("startedOn", value.get("start")))
        end_raw = _point(value.get("endedOn", value.get("end")))
        present = end_raw == _PRESENT
        start = None if start_raw == _PRESENT else start_raw
        end = None if present else end_raw
        return start, end, present, (start is not None) + (end is not None)
    return _NO_RANGE


# --------------------------------------------------------------------------------------------------
# Record builders (plain dicts; the whole snapshot is validated once, in pydantic-core)
# --------------------------------------------------------------------------------------------------

Record = dict[str, Any]


def _experience(
    title: str | None,
    company: str | None,
    company_url: str | None,
    location: str | None,
    employment_type: str | None,
    start: str | None,
    end_point: str | None,
    still_working: bool | None,
) -> Record | None:
    """Decide ``current``: an explicit end date wins; "Present" or a missing end means current unless the
    Actor explicitly says the job is over (``jobStillWorking``/``is_current`` false)."""
    if company is not None and _is_duration(company):
        # A grouped entry's header read as a position ("GE Digital" at "1 yr 5 mos"): the title is the employer.
        title, company = None, title
    if title is None and company is None:
        return None
    if end_point == _PRESENT:
        end, current = None, True
    elif end_point is not None:
        end, current = end_point, False
    else:
        end, current = None, still_working is not False
    return {
        "title": title,
        "company": company,
        "company_linkedin_url": company_url,
        "location": location,
        "employment_type": employment_type,
        "start": start,
        "end": end,
        "current": current,
    }


def _education(
    school: str | None, degree: str | None, field_of_study: str | None, start: str | None, end: str | None
) -> Record | None:
    if school is None and degree is None:
        return None
    return {"school": school, "degree": degree, "field_of_study": field_of_study, "start": start, "end": end}


def _credential(name: str | None, issuer: str | None, issued: str | None) -> Record | None:
    if name is None:
        return None
    return {"name": name, "issuer": issuer, "issued": issued}


_EMPLOYMENT_TYPES = frozenset(
    {
        "full-time", "part-time", "self-employed", "freelance", "contract", "internship",
        "apprenticeship", "seasonal", "temporary", "volunteer", "permanent", "permanent full-time",
    }
)  # fmt: skip


def _split_dot(text: str | None) -> list[str]:
    if text is None:
        return []
    return [part.strip() for part in text.split("·") if part.strip()]


def _is_employment_type(text: str) -> bool:
    return text.casefold() in _EMPLOYMENT_TYPES


# How long someone was somewhere ("1 yr 5 mos", "3 mos", "2 yrs", "less than a year"): never a company.
_DURATION = re.compile(
    r"^(?:less\s+than\s+(?:a|one)\s+(?:year|month)|(?:\d+\s*(?:yrs?|years?|mos?|months?)\b\s*)+)$",
    re.IGNORECASE,
)


def _is_duration(text: str) -> bool:
    return _DURATION.match(text) is not None


def _company_and_type(subtitle: str | None) -> tuple[str | None, str | None]:
    """UI subtitle ``"Acme Corp · Full-time"`` → ("Acme Corp", "Full-time"); durations are dropped."""
    parts = [part for part in _split_dot(subtitle) if not _is_duration(part)]
    if not parts:
        return None, None
    if _is_employment_type(parts[0]):
        return None, parts[0]
    employment_type = parts[1] if len(parts) > 1 and _is_employment_type(parts[1]) else None
    return parts[0], employment_type


_ISSUED_BY = re.compile(r"^\s*issued\s+by\s+", re.IGNORECASE)
_ASSOCIATED_WITH = re.compile(r"^\s*associated\s+with\b", re.IGNORECASE)


def _issuer_and_date(*texts: str | None) -> tuple[str | None, str | None]:
    """UI honors subtitle ``"Issued by Acme · Jan 2020"`` → ("Acme", "2020-01")."""
    issuer: str | None = None
    issued: str | None = None
    for text in texts:
        for part in _split_dot(text):
            if _ISSUED_BY.match(part):
                issuer = issuer or _clean(_ISSUED_BY.sub("", part))
                continue
            point = _text_point(part)
            if point is not None:
                if issued is None and point != _PRESENT:
                    issued = point
            elif issuer is None and not _ASSOCIATED_WITH.match(part):
                issuer = part
    return issuer, issued


def _strip_issued_by(text: str | None) -> str | None:
    if text is None or not _ISSUED_BY.match(text):
        return text
    return _clean(_ISSUED_BY.sub("", text))


def _snapshot(
    shape: ActorShape,
    identity: Record,
    experiences: list[Record],
    education: list[Record],
    certifications: list[Record],
    awards: list[Record],
) -> ProfileSnapshot:
    identity["actor"] = shape.value
    identity["experiences"] = experiences
    identity["education"] = education
    identity["certifications"] = certifications
    identity["awards"] = awards
    return ProfileSnapshot.model_validate(identity)


# --------------------------------------------------------------------------------------------------
# Shape detection
# --------------------------------------------------------------------------------------------------

_HARVEST_KEYS = frozenset(
    {
        "experience", "currentPosition", "connectionsCount", "followerCount", "openToWork", "photo",
        "topSkills", "registeredAt", "receivedRecommendations", "moreProfiles", "emails", "websites",
        "certifications", "education", "volunteering",
    }
)  # fmt: skip
_DEV_FUSION_KEYS = frozenset(
    {
        "experiences", "educations", "licenseAndCertificates", "fullName", "jobTitle", "jobStartedOn",
        "jobStillWorking", "jobLocation", "linkedinPublicUrl", "linkedinId", "connections", "followers",
        "profilePic", "profilePicHighQuality", "backgroundPic", "isJobSeeker", "addressWithCountry",
        "addressCountryOnly", "addressWithoutCountry", "companyIndustry", "topSkillsByEndorsements",
        "mobileNumber", "currentJobDuration", "volunteerAndAwards",
    }
)  # fmt: skip
_RAPIDAPI_KEYS = frozenset(
    {
        "username", "geo", "position", "fullPositions", "educations", "honors", "isOpenToWork", "isHiring",
        "isCreator", "summary", "profilePicture", "backgroundImage", "multiLocaleFirstName",
        "multiLocaleLastName", "multiLocaleHeadline", "supportedLocales",
    }
)  # fmt: skip
_PROXYCURL_KEYS = frozenset(
    {
        "public_identifier", "first_name", "last_name", "full_name", "profile_pic_url",
        "background_cover_image_url", "occupation", "country_full_name", "city", "state", "country",
        "experiences", "education", "accomplishment_honors_awards", "accomplishment_organisations",
        "accomplishment_publications", "accomplishment_projects", "accomplishment_courses",
        "accomplishment_test_scores", "accomplishment_patents", "volunteer_work", "people_also_viewed",
        "similarly_named_profiles", "follower_count", "personal_emails", "personal_numbers", "inferred_salary",
    }
)  # fmt: skip
_SHAPE_KEYS: dict[ActorShape, frozenset[str]] = {
    ActorShape.HARVESTAPI: _HARVEST_KEYS,
    ActorShape.DEV_FUSION: _DEV_FUSION_KEYS,
    ActorShape.APIMAESTRO: frozenset({"basic_info"}),
    ActorShape.RAPIDAPI: _RAPIDAPI_KEYS,
    ActorShape.PROXYCURL: _PROXYCURL_KEYS,
}
# What each shape is told by, for error messages.
_SHAPE_HINTS: dict[ActorShape, str] = {
    ActorShape.HARVESTAPI: "experience[]/currentPosition/openToWork/location{}…",
    ActorShape.DEV_FUSION: "experiences[]/jobTitle/fullName/addressWithCountry…",
    ActorShape.APIMAESTRO: "basic_info{…}",
    ActorShape.RAPIDAPI: "username/geo{}/position[]/honors[]…",
    ActorShape.PROXYCURL: "public_identifier/first_name/experiences[]/accomplishment_honors_awards[]…",
}
# Where each adapter reads who the profile is (public id, URL, URN, e-mail), for error messages.
IDENTITY_FIELDS: dict[ActorShape, str] = {
    ActorShape.HARVESTAPI: "publicIdentifier, linkedinUrl, query, id, emails",
    ActorShape.DEV_FUSION: "publicIdentifier, linkedinPublicUrl, linkedinUrl, urn, email",
    ActorShape.APIMAESTRO: "basic_info.public_identifier, basic_info.profile_url, basic_info.urn, basic_info.email",
    ActorShape.RAPIDAPI: "username, url, urn, email",
    ActorShape.PROXYCURL: "public_identifier, linkedin_profile_url, personal_emails",
}
# A wrapper that settles the shape on its own.
_DECISIVE = float("inf")


def _unwrap(item: Item) -> Item:
    """harvestapi's older builds put every field under ``element``; newer ones copy them up too."""
    element: Any = item.get("element")
    if not _is_mapping(element):
        return item
    merged = dict(element)
    for key, value in item.items():
        if key != "element" and value is not None:
            merged[key] = value
    return merged


@dataclass(frozen=True, slots=True)
class _Evidence:
    """How well an item fits one shape: a score and the identifying keys it carries."""

    score: float
    keys: tuple[str, ...]

    def describe(self) -> str:
        shown = ", ".join(self.keys[:6]) + (", …" if len(self.keys) > 6 else "")
        return shown or "none of its keys"


def _evidence(item: Item) -> dict[ActorShape, _Evidence]:
    keys = item.keys()
    found: dict[ActorShape, _Evidence] = {}
    for shape, identifying in _SHAPE_KEYS.items():
        matched = tuple(sorted(str(key) for key in identifying.intersection(keys)))
        found[shape] = _Evidence(float(len(matched)), matched)
    if _is_mapping(item.get("basic_info")):
        found[ActorShape.APIMAESTRO] = _Evidence(_DECISIVE, ("basic_info{}",))
    else:
        found[ActorShape.APIMAESTRO] = _Evidence(0.0, ())
    if _is_mapping(item.get("element")):
        found[ActorShape.HARVESTAPI] = _Evidence(_DECISIVE, ("element{}",))
    elif _is_mapping(item.get("location")):
        harvest = found[ActorShape.HARVESTAPI]
        found[ActorShape.HARVESTAPI] = _Evidence(harvest.score + 2, (*harvest.keys, "location{}"))
    return found


def _ranked(evidence: dict[ActorShape, _Evidence]) -> list[tuple[ActorShape, _Evidence]]:
    return sorted(evidence.items(), key=lambda pair: -pair[1].score)


def _item_keys(item: Item) -> str:
    return ", ".join(sorted(str(key) for key in item)[:12]) or "no keys"


def detect_shape(item: Mapping[str, Any]) -> ActorShape:
    """Guess which Actor produced ``item``; raise :class:`UnknownShapeError` when it is not clear."""
    if not _is_mapping(item):
        raise UnknownShapeError(f"expected a JSON object for a profile item, got {type(item).__name__}")
    ranked = _ranked(_evidence(item))
    (best, best_evidence), (_, runner_up) = ranked[0], ranked[1]
    if best_evidence.score > runner_up.score:
        return best
    if best_evidence.score > 0:
        tied = [f"{shape.value} ({ev.describe()})" for shape, ev in ranked if ev.score == best_evidence.score]
        listed = f"{', '.join(tied[:-1])} and {tied[-1]}"
        reason = f"it fits {listed} equally well; name its shape (--actor) to read it"
    else:
        expected = "; ".join(f"{shape.value} ({hint})" for shape, hint in _SHAPE_HINTS.items())
        reason = f"it has none of the fields that identify a known shape: {expected}"
    raise UnknownShapeError(f"unrecognized LinkedIn profile item: {reason}; got {_item_keys(item)}")


def _check_fits(item: Item, shape: ActorShape) -> None:
    """A shape the caller named must be the item's best fit by identifying keys (ties allowed)."""
    if not _is_mapping(item):
        raise ShapeMismatchError(f"expected a JSON object for a {shape.value} item, got {type(item).__name__}")
    evidence = _evidence(item)
    own = evidence[shape]
    best, best_evidence = _ranked(evidence)[0]
    if own.score > 0 and own.score >= best_evidence.score:
        return
    found = f"found only {own.describe()}" if own.keys else "found none of them"
    closest = ""
    if best is not shape and best_evidence.score > 0:
        closest = f"; it looks like {best.value} output ({best_evidence.describe()})"
    raise ShapeMismatchError(
        f"item is not {shape.value} output: expected {shape.value} fields ({_SHAPE_HINTS[shape]}), {found}{closest}; "
        f"item keys: {_item_keys(item)}"
    )


def missing_identity_message(item: Mapping[str, Any], shape: ActorShape, *, named: bool) -> str:
    """Why a normalized item has no identity: which shape read it, on what grounds, and where it looked."""
    how = "as named by the caller" if named else f"recognised by {_evidence(_unwrap(item))[shape].describe()}"
    return (
        f"item has no public identifier, URN or e-mail: read as {shape.value} ({how}), whose identity fields "
        f"({IDENTITY_FIELDS[shape]}) are missing or empty"
    )


# --------------------------------------------------------------------------------------------------
# harvestapi/linkedin-profile-scraper
# --------------------------------------------------------------------------------------------------


def _harvest(item: Item) -> ProfileSnapshot:
    get = item.get
    location = _mapping(get("location"))
    parsed = _mapping(location.get("parsed"))
    first_name = _clean(get("firstName"))
    last_name = _clean(get("lastName"))
    public_id, url = _identity((get("publicIdentifier"),), (get("linkedinUrl"), get("query")))
    country = _clean(location.get("countryCode")) or _clean(parsed.get("countryCode"))

    experiences = []
    for entry in _entries(get("experience")):
        exp = _experience(
            _clean(entry.get("position")) or _clean(entry.get("title")),
            _clean(entry.get("companyName")),
            _clean(entry.get("companyLinkedinUrl")),
            _clean(entry.get("location")),
            _clean(entry.get("employmentType")),
            _date(entry.get("startDate")),
            _point(entry.get("endDate")),
            None,
        )
        if exp is not None:
            experiences.append(exp)

    education = []
    for entry in _entries(get("education")):
        start = _date(entry.get("startDate"))
        end = _date(entry.get("endDate"))
        if start is None and end is None and entry.get("period") is not None:
            start, end, _, count = _period(entry.get("period"))
            if count == 1:
                start, end = None, start
        edu = _education(
            _clean(entry.get("schoolName")) or _clean(entry.get("title")),
            _clean(entry.get("degree")),
            _clean(entry.get("fieldOfStudy")),
            start,
            end,
        )
        if edu is not None:
            education.append(edu)

    credentials: list[list[Record]] = [[], []]
    for index, key in enumerate(("certifications", "honorsAndAwards")):
        for entry in _entries(get(key)):
            cred = _credential(
                _clean(entry.get("title")) or _clean(entry.get("name")),
                _strip_issued_by(_clean(entry.get("issuedBy")) or _clean(entry.get("issuer"))),
                _date(entry.get("issuedAt")),
            )
            if cred is not None:
                credentials[index].append(cred)

    identity: Record = {
        "public_identifier": public_id,
        "linkedin_url": url,
        "urn": _urn(get("id")),
        "first_name": first_name,
        "last_name": last_name,
        "full_name": " ".join(part for part in (first_name, last_name) if part) or None,
        "headline": _clean(get("headline")),
        "location": _clean(location.get("linkedinText")) or _clean(parsed.get("text")),
        "city": _clean(parsed.get("city")),
        "state": _clean(parsed.get("state")),
        "country_code": country.upper() if country else None,
        "emails": _emails(get("emails"), get("email")),
        "open_to_work": _flag(get("openToWork")),
    }
    return _snapshot(ActorShape.HARVESTAPI, identity, experiences, education, *credentials)


# --------------------------------------------------------------------------------------------------
# dev_fusion/Linkedin-Profile-Scraper
# --------------------------------------------------------------------------------------------------


def _ui_sub_positions(entry: Item) -> list[Item]:
    """UI-style grouped entry (several roles at one company): sub-components carrying their own title and
    date caption. Plain entries only carry descriptions in their sub-components."""
    subs = []
    for sub in _entries(entry.get("subComponents")):
        caption = sub.get("caption")
        if _clean(sub.get("title")) is not None and isinstance(caption, str) and _text_range(caption)[3]:
            subs.append(sub)
    return subs


def _ui_end(end: str | None, present: bool, count: int, start: str | None) -> str | None:
    if present:
        return _PRESENT
    if end is not None:
        return end
    # "Mar 2021 · 1 mo": LinkedIn writes a single date (no "Present") for a role that began and ended in
    # the same month.
    return start if count == 1 else None


def _dev_fusion_ui_experiences(entry: Item) -> list[Record | None]:
    subs = _ui_sub_positions(entry) if entry.get("subComponents") else []
    company_url = _first(entry, "companyLink1", "companyLink", "companyUrl")
    if subs:
        company = _clean(entry.get("title")) or _clean(entry.get("companyName"))
        parent_parts = _split_dot(_clean(entry.get("subtitle")))
        parent_type = parent_parts[0] if parent_parts and _is_employment_type(parent_parts[0]) else None
        grouped = []
        for sub in subs:
            start, end, present, count = _period(sub.get("caption"))
            sub_parts = _split_dot(_clean(sub.get("subtitle")))
            sub_type = next((part for part in sub_parts if _is_employment_type(part)), None)
            grouped.append(
                _experience(
                    _clean(sub.get("title")),
                    company,
                    company_url,
                    _clean(sub.get("metadata")),
                    sub_type or parent_type,
                    start,
                    _ui_end(end, present, count, start),
                    None,
                )
            )
        return grouped
    subtitle = _clean(entry.get("subtitle"))
    company, employment_type = _company_and_type(subtitle)
    title = _clean(entry.get("title"))
    if company is None and (entry.get("breakdown") is True or any(map(_is_duration, _split_dot(subtitle)))):
        # A grouped entry ("GE Digital" over "1 yr 5 mos") whose roles were not exported: its title is the
        # employer, and the role is unknown.
        title, company = None, title
    start, end, present, count = _period(entry.get("caption"))
    return [
        _experience(
            title,
            company,
            company_url,
            _clean(entry.get("metadata")),
            employment_type,
            start,
            _ui_end(end, present, count, start),
            None,
        )
    ]


def _fold(text: str | None) -> str | None:
    return text.casefold() if text else None


def _dev_fusion_experiences(item: Item) -> list[Record]:
    experiences: list[Record] = []
    for entry in _entries(item.get("experiences")):
        if "companyName" in entry or "jobStartedOn" in entry or "jobEndedOn" in entry:
            exp = _experience(
                _clean(entry.get("title")) or _clean(entry.get("jobTitle")),
                _clean(entry.get("companyName")),
                _first(entry, "companyLink1", "companyLinkedin", "companyUrl"),
                _clean(entry.get("jobLocation")),
                _clean(entry.get("employmentType")),
                _date(entry.get("jobStartedOn")),
                _point(entry.get("jobEndedOn")),
                _flag(entry.get("jobStillWorking")),
            )
            if exp is not None:
                experiences.append(exp)
        else:
            experiences.extend(exp for exp in _dev_fusion_ui_experiences(entry) if exp is not None)

    # The flattened current job: add it when the experience list does not already carry it.
    title = _clean(item.get("jobTitle"))
    company = _clean(item.get("companyName"))
    if (title is not None or company is not None) and _flag(item.get("jobStillWorking")) is not False:
        start = _date(item.get("jobStartedOn"))
        company_fold, title_fold = _fold(company), _fold(title)
        listed = any(
            _fold(exp["company"]) == company_fold
            and (_fold(exp["title"]) == title_fold or (start is not None and exp["start"] == start))
            for exp in experiences
        )
        if not listed:
            flattened = _experience(
                title,
                company,
                _clean(item.get("companyLinkedin")),
                _clean(item.get("jobLocation")),
                None,
                start,
                _PRESENT,
                True,
            )
            if flattened is not None:
                experiences.insert(0, flattened)
    return experiences


def _degree_and_field(subtitle: str | None) -> tuple[str | None, str | None]:
    """UI subtitle ``"Bachelor of Science - BS, Computer Science"`` → (degree, field of study)."""
    if subtitle is None:
        return None, None
    degree, sep, field_of_study = subtitle.partition(",")
    return _clean(degree), (_clean(field_of_study) if sep else None)


def _dev_fusion(item: Item) -> ProfileSnapshot:
    get = item.get
    public_id, url = _identity((get("publicIdentifier"),), (get("linkedinPublicUrl"), get("linkedinUrl")))

    education = []
    for entry in _entries(get("educations")):
        period = entry.get("period")
        if period is None:
            period = entry.get("caption")
        start, end, _, count = _period(period)
        if count == 1 and isinstance(period, str):
            start, end = None, start  # a single year under a school is the graduation year
        degree, field_of_study = _degree_and_field(_clean(entry.get("subtitle")))
        edu = _education(
            _clean(entry.get("title")) or _clean(entry.get("schoolName")), degree, field_of_study, start, end
        )
        if edu is not None:
            education.append(edu)

    certifications = []
    for entry in _entries(get("licenseAndCertificates")):
        cred = _credential(
            _clean(entry.get("title")) or _clean(entry.get("name")),
            _strip_issued_by(_first(entry, "subtitle", "issuedBy", "issuer")),
            _date(entry.get("caption")) or _date(entry.get("issuedAt")),
        )
        if cred is not None:
            certifications.append(cred)

    awards = []
    for entry in _entries(get("honorsAndAwards")):
        issuer, issued = _issuer_and_date(_clean(entry.get("subtitle")), _clean(entry.get("caption")))
        cred = _credential(_clean(entry.get("title")) or _clean(entry.get("name")), issuer, issued)
        if cred is not None:
            awards.append(cred)

    first_name = _clean(get("firstName"))
    last_name = _clean(get("lastName"))
    open_to_work = get("isJobSeeker")
    # "Austin, Texas" + "United States"; else "Austin, Texas, United States", whose last part is the country.
    with_country = _split_comma(_clean(get("addressWithCountry")))
    country = _clean(get("addressCountryOnly")) or (with_country[-1] if with_country else None)
    without_country = _clean(get("addressWithoutCountry"))
    city, state = _city_and_region(without_country or ", ".join(with_country[:-1]), country=country)
    identity: Record = {
        "public_identifier": public_id,
        "linkedin_url": url,
        "urn": _urn(get("urn")),
        "first_name": first_name,
        "last_name": last_name,
        "full_name": _clean(get("fullName")) or " ".join(p for p in (first_name, last_name) if p) or None,
        "headline": _clean(get("headline")),
        "location": _first(item, "addressWithCountry", "addressWithoutCountry", "addressCountryOnly"),
        "city": city,
        "state": state,
        "country_code": _country_code(country),
        "emails": _emails(get("email"), get("emails")),
        "open_to_work": _flag(open_to_work if open_to_work is not None else get("openToWork")),
    }
    return _snapshot(
        ActorShape.DEV_FUSION, identity, _dev_fusion_experiences(item), education, certifications, awards
    )


# --------------------------------------------------------------------------------------------------
# apimaestro/linkedin-profile-detail
# --------------------------------------------------------------------------------------------------

_APIMAESTRO_HONOR_KEYS = ("honors_and_awards", "honors", "awards", "honorsAndAwards")


def _prefer_current_company(experiences: list[Record], current_company: str | None) -> None:
    """apimaestro's experience entries may carry a mangled employer name ("Zebra" for "Zebra Robotics"); the
    top card's ``current_company`` is the one LinkedIn shows. It names the only current position, or the
    current position whose employer shares a word with it."""
    if current_company is None:
        return
    current = [exp for exp in experiences if exp["current"]]
    if len(current) > 1:
        wanted = set(current_company.casefold().split())
        current = [exp for exp in current if wanted & set((exp["company"] or "").casefold().split())][:1]
    for exp in current:
        exp["company"] = current_company


def _apimaestro(item: Item) -> ProfileSnapshot:
    info = _mapping(item.get("basic_info"))
    location = _mapping(info.get("location"))
    public_id, url = _identity((info.get("public_identifier"),), (info.get("profile_url"),))

    experiences = []
    for entry in _entries(item.get("experience")):
        start = _date(entry.get("start_date"))
        end_point = _point(entry.get("end_date"))
        duration = entry.get("duration")
        if start is None and end_point is None and isinstance(duration, str):
            start, end, present, count = _period(duration)
            end_point = _ui_end(end, present, count, start)
        exp = _experience(
            _clean(entry.get("title")),
            _clean(entry.get("company")),
            _clean(entry.get("company_linkedin_url")),
            _clean(entry.get("location")),
            _clean(entry.get("employment_type")),
            start,
            end_point,
            _flag(entry.get("is_current")),
        )
        if exp is not None:
            experiences.append(exp)
    _prefer_current_company(experiences, _clean(info.get("current_company")))

    education = []
    for entry in _entries(item.get("education")):
        start = _date(entry.get("start_date"))
        end = _date(entry.get("end_date"))
        duration = entry.get("duration")
        if start is None and end is None and isinstance(duration, str):
            start, end, _, count = _period(duration)
            if count == 1:
                start, end = None, start
        edu = _education(
            _clean(entry.get("school")),
            _clean(entry.get("degree")) or _clean(entry.get("degree_name")),
            _clean(entry.get("field_of_study")),
            start,
            end,
        )
        if edu is not None:
            education.append(edu)

    certifications = []
    for entry in _entries(item.get("certifications")):
        cred = _credential(
            _clean(entry.get("name")) or _clean(entry.get("title")),
            _strip_issued_by(_first(entry, "issuer", "authority", "issued_by")),
            _date(entry.get("issued_date")) or _date(entry.get("issue_date")),
        )
        if cred is not None:
            certifications.append(cred)

    awards: list[Record] = []
    for key in _APIMAESTRO_HONOR_KEYS:
        for entry in _entries(item.get(key)):
            cred = _credential(
                _clean(entry.get("title")) or _clean(entry.get("name")),
                _strip_issued_by(_first(entry, "issuer", "issued_by", "issuedBy")),
                _date(entry.get("issued_date")) or _date(entry.get("date")) or _date(entry.get("issuedAt")),
            )
            if cred is not None:
                awards.append(cred)
        if awards:
            break

    first_name = _clean(info.get("first_name"))
    last_name = _clean(info.get("last_name"))
    country = _clean(location.get("country"))
    full = _clean(location.get("full"))
    city_field = _clean(location.get("city"))
    # The city field may carry the region too ("Mississauga, Ontario"); else the full text may name it.
    city, state = _city_and_region(city_field, country=country)
    if city is None:
        full_city, full_state = _city_and_region(full, country=country)
        if city_field is None or (full_city or "").casefold() == city_field.casefold():
            city, state = city_field or full_city, full_state
        else:
            city = city_field  # the full text names another place: its region is not this city's
    identity: Record = {
        "public_identifier": public_id,
        "linkedin_url": url,
        "urn": _urn(info.get("urn")),
        "first_name": first_name,
        "last_name": last_name,
        "full_name": _clean(info.get("fullname"))
        or " ".join(p for p in (first_name, last_name) if p)
        or None,
        "headline": _clean(info.get("headline")),
        "location": full,
        "city": city,
        "state": state,
        "country_code": _country_code(_clean(location.get("country_code")) or country),
        "emails": _emails(info.get("email")),
        "open_to_work": _flag(info.get("open_to_work")),
    }
    return _snapshot(ActorShape.APIMAESTRO, identity, experiences, education, certifications, awards)


# --------------------------------------------------------------------------------------------------
# RapidAPI "LinkedIn Data API" profile
# --------------------------------------------------------------------------------------------------


def _rapidapi(item: Item) -> ProfileSnapshot:
    get = item.get
    geo = _mapping(get("geo"))
    public_id, url = _identity((get("username"),), (get("url"), get("linkedinUrl"), get("profileURL")))

    experiences = []
    # Dates are {year, month, day}; a missing one is all zeros, which reads as no date (a current role).
    for entry in _entries(get("position") if get("position") is not None else get("fullPositions")):
        exp = _experience(
            _clean(entry.get("title")),
            _clean(entry.get("companyName")),
            _first(entry, "companyURL", "companyUrl", "companyLinkedinUrl"),
            _clean(entry.get("location")),
            _clean(entry.get("employmentType")),
            _date(entry.get("start")),
            _point(entry.get("end")),
            None,
        )
        if exp is not None:
            experiences.append(exp)

    education = []
    for entry in _entries(get("educations")):
        edu = _education(
            _clean(entry.get("schoolName")) or _clean(entry.get("school")),
            _clean(entry.get("degree")),
            _clean(entry.get("fieldOfStudy")),
            _date(entry.get("start")),
            _date(entry.get("end")),
        )
        if edu is not None:
            education.append(edu)

    credentials: list[list[Record]] = [[], []]
    for index, key in enumerate(("certifications", "honors")):
        for entry in _entries(get(key)):
            company = _mapping(entry.get("company"))
            cred = _credential(
                _clean(entry.get("name")) or _clean(entry.get("title")),
                _strip_issued_by(_first(entry, "authority", "issuer") or _clean(company.get("name"))),
                _date(entry.get("start")) or _date(entry.get("issuedOn")) or _date(entry.get("issueDate")),
            )
            if cred is not None:
                credentials[index].append(cred)

    country = _clean(geo.get("country"))
    city, state = _city_and_region(_clean(geo.get("city")), country=country)
    first_name = _clean(get("firstName"))
    last_name = _clean(get("lastName"))
    identity: Record = {
        "public_identifier": public_id,
        "linkedin_url": url,
        "urn": _urn(get("urn")),
        "first_name": first_name,
        "last_name": last_name,
        "full_name": " ".join(part for part in (first_name, last_name) if part) or None,
        "headline": _clean(get("headline")),
        "location": _clean(geo.get("full")),
        "city": city or _clean(geo.get("city")),
        "state": state,
        "country_code": _country_code(_clean(geo.get("countryCode")) or country),
        "emails": _emails(get("email"), get("emails")),
        "open_to_work": _flag(get("isOpenToWork")),
    }
    return _snapshot(ActorShape.RAPIDAPI, identity, experiences, education, *credentials)


# --------------------------------------------------------------------------------------------------
# Proxycurl person profile
# --------------------------------------------------------------------------------------------------


def _proxycurl(item: Item) -> ProfileSnapshot:
    get = item.get
    public_id, url = _identity(
        (get("public_identifier"),), (get("linkedin_profile_url"), get("profile_url"), get("url"))
    )

    experiences = []
    for entry in _entries(get("experiences")):
        exp = _experience(
            _clean(entry.get("title")),
            _clean(entry.get("company")),
            _clean(entry.get("company_linkedin_profile_url")),
            _clean(entry.get("location")),
            None,
            _date(entry.get("starts_at")),
            _point(entry.get("ends_at")),
            None,
        )
        if exp is not None:
            experiences.append(exp)

    education = []
    for entry in _entries(get("education")):
        edu = _education(
            _clean(entry.get("school")),
            _clean(entry.get("degree_name")),
            _clean(entry.get("field_of_study")),
            _date(entry.get("starts_at")),
            _date(entry.get("ends_at")),
        )
        if edu is not None:
            education.append(edu)

    certifications = []
    for entry in _entries(get("certifications")):
        cred = _credential(
            _clean(entry.get("name")),
            _strip_issued_by(_clean(entry.get("authority"))),
            _date(entry.get("starts_at")),
        )
        if cred is not None:
            certifications.append(cred)

    awards = []
    for entry in _entries(get("accomplishment_honors_awards")):
        cred = _credential(
            _clean(entry.get("title")),
            _strip_issued_by(_clean(entry.get("issuer"))),
            _date(entry.get("issued_on")),
        )
        if cred is not None:
            awards.append(cred)

    first_name = _clean(get("first_name"))
    last_name = _clean(get("last_name"))
    city = _clean(get("city"))
    state = _clean(get("state"))
    country_name = _clean(get("country_full_name"))
    country = _clean(get("country"))  # ISO alpha-2
    identity: Record = {
        "public_identifier": public_id,
        "linkedin_url": url,
        "first_name": first_name,
        "last_name": last_name,
        "full_name": _clean(get("full_name")) or " ".join(p for p in (first_name, last_name) if p) or None,
        "headline": _clean(get("headline")) or _clean(get("occupation")),
        "location": ", ".join(part for part in (city, state, country_name or country) if part) or None,
        "city": city,
        "state": state,
        "country_code": _country_code(country or country_name),
        "emails": _emails(get("personal_emails")),
    }
    return _snapshot(ActorShape.PROXYCURL, identity, experiences, education, certifications, awards)


_ADAPTERS: dict[ActorShape, Callable[[Item], ProfileSnapshot]] = {
    ActorShape.HARVESTAPI: _harvest,
    ActorShape.DEV_FUSION: _dev_fusion,
    ActorShape.APIMAESTRO: _apimaestro,
    ActorShape.RAPIDAPI: _rapidapi,
    ActorShape.PROXYCURL: _proxycurl,
}


def normalize_item(item: Mapping[str, Any], shape: ActorShape | None = None) -> ProfileSnapshot:
    """Turn one raw Actor item into a :class:`ProfileSnapshot` (auto-detecting the shape when None).

    A named shape is checked against the item's keys first: :class:`ShapeMismatchError` when it does not fit.
    """
    if shape is None:
        shape = detect_shape(item)
    else:
        shape = ActorShape(shape)
        _check_fits(item, shape)
    if shape is ActorShape.HARVESTAPI:
        item = _unwrap(item)
    return _ADAPTERS[shape](item)
