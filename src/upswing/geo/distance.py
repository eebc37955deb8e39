"""Great-circle distances and the radius predicate (docs/geo.md, "Radius search").

A radius search is two conditions: a bounding box on the indexed ``(latitude, longitude)`` columns, which an index
range scan answers, then the haversine distance itself on the rows the box lets through. The box is the exact one
of the circle on the sphere (J. P. Matuschek, "Finding points within a distance of a latitude/longitude using
bounding coordinates"): latitudes ±r; longitudes ±asin(sin r / cos lat). Near a pole (the circle reaches it) the
box spans every longitude; across the antimeridian it is two longitude ranges. Latitudes are clamped to ±90.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, func, literal, or_

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
#: Half the Earth's circumference: no two points are further apart.
MAX_RADIUS_KM = math.pi * EARTH_RADIUS_KM


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    #: One or two ``(min_lng, max_lng)`` ranges (two when the circle crosses the antimeridian).
    lng_ranges: tuple[tuple[float, float], ...]


def bounding_box(latitude: float, longitude: float, radius_km: float) -> BoundingBox:
    """The smallest latitude/longitude box holding every point within ``radius_km`` of the centre."""
    r = radius_km / EARTH_RADIUS_KM
    lat = math.radians(latitude)
    min_lat, max_lat = lat - r, lat + r
    if min_lat <= -math.pi / 2 or max_lat >= math.pi / 2 or r >= math.pi:  # the circle holds a pole
        return BoundingBox(math.degrees(max(min_lat, -math.pi / 2)), math.degrees(min(max_lat, math.pi / 2)),
                           ((-180.0, 180.0),))
    dlng = math.degrees(math.asin(min(1.0, math.sin(r) / math.cos(lat))))
    low, high = longitude - dlng, longitude + dlng
    # A hair wider than the exact box: the haversine condition decides, the box must never cut a point off.
    pad = 1e-9
    box_lat = (math.degrees(min_lat) - pad, math.degrees(max_lat) + pad)
    if low < -180.0:
        return BoundingBox(*box_lat, ((low + 360.0 - pad, 180.0), (-180.0, high + pad)))
    if high > 180.0:
        return BoundingBox(*box_lat, ((low - pad, 180.0), (-180.0, high - 360.0 + pad)))
    return BoundingBox(*box_lat, ((low - pad, high + pad),))


def box_clause(lat: Any, lng: Any, box: BoundingBox) -> ColumnElement[bool]:
    """``lat``/``lng`` (columns) inside the box: ranges an index on ``(lat, lng)`` answers."""
    lngs = [lng.between(low, high) for low, high in box.lng_ranges]
    return and_(lat.between(box.min_lat, box.max_lat), lngs[0] if len(lngs) == 1 else or_(*lngs))


def distance_sql(lat: Any, lng: Any, latitude: float, longitude: float, dialect: str) -> ColumnElement[float]:
    """The haversine distance in km from the point to ``lat``/``lng`` (columns), in SQL (PostgreSQL; SQLite's
    built-in math functions, 3.35+)."""
    # Floats only (a division by an integer would make PostgreSQL compute in NUMERIC, ten times slower).
    phi = math.radians(latitude)
    half_rad = math.pi / 360.0
    sin_dphi = func.sin(lat * literal(half_rad, Float) - literal(phi / 2, Float))
    sin_dlmb = func.sin(lng * literal(half_rad, Float) - literal(math.radians(longitude) / 2, Float))
    h = sin_dphi * sin_dphi + literal(math.cos(phi), Float) * func.cos(lat * literal(2 * half_rad, Float)) \
        * sin_dlmb * sin_dlmb
    root = func.sqrt(h, type_=Float)
    capped = (func.least(root, literal(1.0, Float), type_=Float) if dialect == "postgresql"
              else func.min(root, literal(1.0, Float), type_=Float))
    return literal(2 * EARTH_RADIUS_KM, Float) * func.asin(capped, type_=Float)


def within_clause(lat: Any, lng: Any, latitude: float, longitude: float, radius_km: float,
                  dialect: str) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    """``(condition, distance)``: the rows within ``radius_km`` (box prefilter, then haversine) and the distance
    expression (for ordering and showing)."""
    distance = distance_sql(lat, lng, latitude, longitude, dialect)
    condition = and_(box_clause(lat, lng, bounding_box(latitude, longitude, radius_km)), distance <= radius_km)
    return condition, distance
