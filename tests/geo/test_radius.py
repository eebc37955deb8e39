"""Geocoding of lead locations (precision recorded, kept in step on create, import, update and backfill) and the
lead list's radius search: the SQL answer equals a haversine brute force over 100,000 random points, its
prefilter uses the (latitude, longitude) index on PostgreSQL, agents stay scoped (both databases)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_team, make_user
from upswing.account.models import Role
from upswing.core.bulk import encode, encoders, insert_encoded
from upswing.core.db import utcnow
from upswing.geo.distance import EARTH_RADIUS_KM, bounding_box, haversine_km, within_clause
from upswing.geo.geocode import GeoPrecision, geocode, resolve_location
from upswing.lead import geocoding
from upswing.lead import service as lead_service
from upswing.lead.models import Lead
from upswing.lead.schemas import LeadFilters

AUSTIN = (30.2672, -97.7431)


@pytest.mark.parametrize(("city", "state", "postal", "country", "precision", "near", "within_km"), [
    (None, None, "78701", None, GeoPrecision.ZIP, (30.2713, -97.7426), 0.01),
    ("Austin", "TX", "78701-4321", "US", GeoPrecision.ZIP, (30.2713, -97.7426), 0.01),  # ZIP+4
    ("Austin", "TX", None, "US", GeoPrecision.CITY, AUSTIN, 1),
    ("  st. louis ", "mo", None, None, GeoPrecision.CITY, (38.627, -90.198), 1),
    ("Ft Worth", "TX", "00000", None, GeoPrecision.CITY, (32.725, -97.321), 1),  # unknown ZIP: the city
    ("Nowhereville", "TX", None, None, GeoPrecision.STATE, (31.25, -97.94), 150),  # TX: central Texas
    (None, "CO", None, None, GeoPrecision.STATE, (39.0, -105.5), 150),
])
def test_geocoding_of_known_places(city: str | None, state: str | None, postal: str | None, country: str | None,
                                   precision: GeoPrecision, near: tuple[float, float], within_km: float) -> None:
    point = geocode(city, state, postal, country)
    assert point is not None and point.precision is precision
    assert haversine_km(point.latitude, point.longitude, *near) < within_km


def test_no_coordinates_outside_the_us_or_for_nothing_known() -> None:
    assert geocode("Toronto", "ON", "M5V 2T6", "CA") is None
    assert geocode("Austin", "TX", "78701", "DE") is None
    assert geocode(None, None, None, None) is None
    assert geocode("Springfield", None, None, None) is None  # a city without its state is ambiguous
    assert resolve_location("Austin, TX").precision is GeoPrecision.CITY
    assert resolve_location("78701").precision is GeoPrecision.ZIP
    assert (resolve_location(" 30.5 , -97.25 ").latitude, resolve_location("30.5,-97.25").longitude) == (30.5, -97.25)
    for bad in ("Atlantis, ZZ", "Nowhereville, TX", "", "91.0,10", "hello"):
        with pytest.raises(Exception, match="location"):
            resolve_location(bad)


def test_leads_get_coordinates_on_create_update_import_and_backfill(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, city="Austin", state="TX", postal_code=None)
    assert (lead.latitude, lead.longitude, lead.geo_precision) == (*AUSTIN, "city")
    lead.postal_code = "10001"  # ORM update of the location: geocoded again
    db_session.flush()
    assert lead.geo_precision == "zip" and round(lead.latitude or 0) == 41

    rows = [{"external_id": "G-1", "first_name": "A", "last_name": "B", "city": "Denver", "state": "CO"},
            {"external_id": "G-2", "first_name": "C", "last_name": "D", "postal_code": "78701"},
            {"external_id": "G-3", "first_name": "E", "last_name": "F", "city": "Paris", "country": "FR"}]
    lead_service.import_leads(db_session, rows, actor="test", portfolio_name=portfolio.name)
    found = {r.external_id: r for r in db_session.execute(
        select(Lead.external_id, Lead.latitude, Lead.longitude, Lead.geo_precision)
        .where(Lead.portfolio_id == portfolio.id))}
    assert found["G-1"].geo_precision == "city" and abs(found["G-1"].latitude - 39.74) < 0.1
    assert (found["G-2"].latitude, found["G-2"].geo_precision) == (30.2713, "zip")
    assert (found["G-3"].latitude, found["G-3"].geo_precision) == (None, None)
    # A re-import that changes the location moves the lead; one that does not leaves it alone.
    lead_service.import_leads(db_session, [{**rows[0], "city": "Boulder"}, rows[1]], actor="test",
                              portfolio_name=portfolio.name)
    db_session.expire_all()
    moved = db_session.execute(select(Lead.latitude, Lead.geo_precision).where(Lead.external_id == "G-1")).one()
    assert moved.geo_precision == "city" and abs(moved.latitude - 40.01) < 0.1

    # Leads written around the ORM (or before migration 0026) get theirs from the backfill, batch by batch.
    ids = [row[0] for row in db_session.execute(select(Lead.id).where(Lead.portfolio_id == portfolio.id))]
    db_session.execute(update(Lead).where(Lead.id.in_(ids)).values(latitude=None, longitude=None,
                                                                      geo_precision=None))
    report = geocoding.backfill(db_session, batch=2)
    assert (report.geocoded, report.not_found) == (len(ids) - 1, 1)
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).geo_precision == "zip"  # type: ignore[union-attr]
    again = geocoding.backfill(db_session)  # only the lead without coordinates is looked at again
    assert (again.scanned, again.geocoded, again.not_found) == (1, 0, 1)


def test_bounding_box_edges() -> None:
    pole = bounding_box(89.5, 10, 200)
    assert pole.max_lat == 90 and pole.lng_ranges == ((-180.0, 180.0),)
    east = bounding_box(0, 179.9, 100)
    assert len(east.lng_ranges) == 2 and east.lng_ranges[1][0] == -180.0
    plain = bounding_box(*AUSTIN, 25)
    (low, high), = plain.lng_ranges
    # The box's sides touch the circle: a point on each edge is ~25 km away.
    assert abs(haversine_km(*AUSTIN, plain.max_lat, AUSTIN[1]) - 25) < 0.01
    assert 24.5 < haversine_km(*AUSTIN, AUSTIN[0], high) < 25.01
    assert 24.5 < haversine_km(*AUSTIN, AUSTIN[0], low) < 25.01


# Centres and radii: a city, a wide area, across the antimeridian, around a pole, the southern hemisphere.
CENTRES = [(AUSTIN, 25.0), ((40.7, -74.0), 300.0), ((0.5, 179.8), 500.0), ((-65.0, -179.5), 800.0),
           ((88.9, 45.0), 400.0), ((-33.9, 151.2), 5.0), ((37.0, -95.0), 2500.0)]
POINTS = 100_000


def _random_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Half clustered around the centres (so each radius holds many points), half uniform on the sphere."""
    per = POINTS // 2 // len(CENTRES)
    lats, lngs = [], []
    for (lat, lng), radius in CENTRES:
        spread = 1.5 * radius / 111.0
        lats.append(np.clip(lat + rng.normal(0, spread, per), -90, 90))
        lngs.append((lng + rng.normal(0, spread / max(0.05, math.cos(math.radians(lat))), per) + 180) % 360 - 180)
    rest = POINTS - per * len(CENTRES)
    lats.append(np.degrees(np.arcsin(rng.uniform(-1, 1, rest))))
    lngs.append(rng.uniform(-180, 180, rest))
    return np.round(np.concatenate(lats), 6), np.round(np.concatenate(lngs), 6)


def _brute_force(lat: np.ndarray, lng: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    phi1, phi2 = math.radians(centre[0]), np.radians(lat)
    h = (np.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lng - centre[1]) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def test_radius_search_equals_brute_force_on_100k_points(db_session: Session) -> None:
    rng = np.random.default_rng(19)
    lat, lng = _random_points(rng)
    portfolio = make_portfolio(db_session)
    connection = db_session.connection()
    dialect = connection.dialect.name
    table: Any = Lead.__table__
    # Only what the radius predicate reads, plus the required columns, through the import's bulk path (COPY on
    # PostgreSQL): the values the same for every row are encoded (sealed) once.
    columns = ["portfolio_id", "first_name", "last_name", "emails", "phones", "contact_bidx", "status", "holdout",
               "created_at", "updated_at", "id", "external_id", "latitude", "longitude"]
    codecs = encoders(db_session, table, columns)
    now = utcnow()
    constant = encode([portfolio.id, "R", "P", [], [], [], "new", False, now, now], codecs[:10])
    id_codec = codecs[10]
    rows = [(*constant, id_codec(uuid.UUID(int=i + 1)) if id_codec else uuid.UUID(int=i + 1), f"R{i}",
             float(lat[i]), float(lng[i])) for i in range(POINTS)]
    insert_encoded(db_session, table, columns, [rows])
    if dialect == "postgresql":
        connection.execute(text("ANALYZE leads"))
    for centre, radius in CENTRES:
        condition, _ = within_clause(Lead.latitude, Lead.longitude, *centre, radius, dialect)
        got = {row[0].int - 1 for row in connection.execute(
            select(table.c.id).where(condition, table.c.portfolio_id == portfolio.id))}
        distances = _brute_force(lat, lng, centre)
        expected = set(np.flatnonzero(distances <= radius).tolist())
        # Floating point may decide a point within a micrometre of the circle either way.
        unsure = set(np.flatnonzero(np.abs(distances - radius) < 1e-9).tolist())
        assert got - unsure == expected - unsure, (centre, radius, len(got ^ expected))
        assert len(expected) > 50, (centre, radius)  # each case holds real work
    if dialect == "postgresql":
        condition, _ = within_clause(Lead.latitude, Lead.longitude, *AUSTIN, 25.0, dialect)
        statement = select(table.c.id).where(condition).compile(connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {statement}")))
        assert "ix_leads_latitude_longitude" in plan, plan


def test_lead_list_near_radius_sorted_scoped_and_validated(db_session: Session, client: Any, app: Any) -> None:
    team, other = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    manager = make_user(db_session, Role.MANAGER)
    portfolio = make_portfolio(db_session)
    places = {"austin": ("Austin", "TX", "78701"), "round_rock": ("Round Rock", "TX", "78664"),
              "san_marcos": ("San Marcos", "TX", "78666"), "dallas": ("Dallas", "TX", "75201")}
    leads = {name: make_lead(db_session, portfolio, city=c, state=s, postal_code=z, team_id=team.id)
             for name, (c, s, z) in places.items()}
    hidden = make_lead(db_session, portfolio, city="Austin", state="TX", postal_code="78702", team_id=other.id)
    db_session.commit()

    near = f"{AUSTIN[0]},{AUSTIN[1]}"
    response = client.get("/api/v1/leads", params={"near": near, "radius_km": 60, "limit": 2},
                          headers=auth(app, manager))
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [item["id"] for item in body["items"]]
    assert ids == [str(leads["austin"].id), str(hidden.id)]  # nearest first
    assert body["items"][0]["distance_km"] == pytest.approx(
        haversine_km(*AUSTIN, leads["austin"].latitude, leads["austin"].longitude), abs=1e-3)
    rest = client.get("/api/v1/leads", params={"near": near, "radius_km": 60, "cursor": body["next_cursor"]},
                      headers=auth(app, manager)).json()
    assert [item["id"] for item in rest["items"]] == [str(leads["round_rock"].id), str(leads["san_marcos"].id)]
    distances = [item["distance_km"] for item in body["items"] + rest["items"]]
    assert distances == sorted(distances) and max(distances) <= 60  # Dallas (~290 km) is out

    mine = client.get("/api/v1/leads", params={"near": near, "radius_km": 60}, headers=auth(app, agent)).json()
    assert str(hidden.id) not in {item["id"] for item in mine["items"]} and len(mine["items"]) == 3
    plain = client.get("/api/v1/leads", headers=auth(app, manager)).json()
    assert all(item["distance_km"] is None for item in plain["items"])
    by_delinquency = client.get("/api/v1/leads", params={"near": near, "radius_km": 600, "sort": "-days_delinquent"},
                                headers=auth(app, manager)).json()
    assert len(by_delinquency["items"]) == 5 and all(i["distance_km"] is not None for i in by_delinquency["items"])

    for params, field in [({"near": "30.2"}, "near"), ({"near": "95,10", "radius_km": 5}, "near"),
                          ({"near": near}, "radius_km"),
                          ({"near": near, "radius_km": -1}, "radius_km"), ({"near": near, "radius_km": "x"},
                                                                           "radius_km")]:
        bad = client.get("/api/v1/leads", params=params, headers=auth(app, manager))
        assert bad.status_code == 422, (params, bad.text)
        assert field in bad.text, (params, bad.text)

    # Without near, radius_km and sort=distance have nothing to measure from: the usual list.
    usual = client.get("/api/v1/leads", params={"radius_km": 5, "sort": "distance"}, headers=auth(app, manager))
    assert [i["id"] for i in usual.json()["items"]] == [i["id"] for i in plain["items"]]
    # The service: a radius of the whole Earth holds every geocoded lead.
    result = lead_service.page_leads(db_session, LeadFilters(near="0,0", radius_km=20_015), user=manager)
    assert len(result.items) == 5
