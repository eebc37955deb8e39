"""Match scoring: how well a service fits a lead, 0–100, with the points per factor and the reasons in words.

Pure: plain data in (``LeadFacts``, ``ServiceFacts``, the day's ``today`` passed in), a ``MatchScore`` out — no
database, no clock. ``matching.service`` gathers the facts in bulk and calls ``score``.

The 100 points (docs/matching.md has the tables):

* **geographic** 0–25. A local service (``local_radius_km`` around a centre): within the radius,
  ``25 × (1 − 0.5 × distance / radius)`` (12.5 at the edge), by the haversine distance from the lead's
  coordinates; outside it, or without coordinates, not eligible. A service limited to states/regions: 25 when the
  lead's USPS ``state`` is one of ``states``, or its ISO ``region_code`` (or ``US-`` + state) is one of
  ``region_codes`` — **codes compared exactly**, so "CA" never matches "Chicago" (or "Canada", or "ca"); else not
  eligible. A service offered everywhere: 15 (it fits, but is not aimed at the lead's area).
* **industry** 0–20. The lead's industry (``infer_industry``: the employer and company description read against a
  keyword table) in the service's ``industries``: 20; a service for any industry: 10; the lead's industry unknown:
  5; another industry: 0.
* **need** 0–25. The lead's needs come from its recent signals (``NEED_TABLE``: job_loss → hardship,
  new_employment → restart…), each weighted by the table and halved every ``NEED_HALF_LIFE_DAYS``; a need's level
  is the strongest signal's. Points = ``25 × max over needs (level × the service's weight for it)``. A recent
  signal of a type the service lists in ``signal_types`` gives at least ``25 × its recency``.
* **profile** 0–15: balance 0–8 and delinquency 0–7. Outside a service's range: not eligible. Inside a bounded
  range: from full points at its middle to half at its ends; open range: full points; unknown value: half.
  **Age band: not used** — age is a prohibited basis under the ECOA/Regulation B except in an empirically derived,
  demonstrably sound scoring system, which this is not; and the birth date is encrypted PII we do not read for it.
* **behaviour** 0–15: consented first-party engagement (``portal_engagement`` signals raised by the tracking
  domain only after consent): 5 points per engagement in the last ``ENGAGEMENT_WINDOW_DAYS``, each halved every
  ``ENGAGEMENT_HALF_LIFE_DAYS``, at most 15. None: 0.

A service the lead is not eligible for (geography, balance, delinquency, employment) scores what the factors give
but ``eligible`` is False and ``ineligible`` says why: such matches are not proposed. ``rank`` orders matches by
score, then need, then the service's name and id (ties broken the same way every time).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from upswing.geo.distance import haversine_km

#: Points per factor (they add up to 100).
MAX_POINTS: Mapping[str, float] = MappingProxyType({"geographic": 25.0, "industry": 20.0, "need": 25.0,
                                                    "profile": 15.0, "behaviour": 15.0})
FACTORS = tuple(MAX_POINTS)

#: Signal type → the needs it shows (weight 0–1). Company intents are read about the lead's employer.
NEED_TABLE: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "job_loss": {"hardship": 1.0, "settlement": 0.4},
    "intent_financial_distress": {"hardship": 0.6, "settlement": 0.5},
    "new_employment": {"restart": 1.0, "rehabilitation": 0.6},
    "promotion": {"restart": 0.8, "refinance": 0.6},
    "business_launch": {"loan": 0.8, "restart": 0.4},
    "intent_loan_need": {"loan": 1.0},
    "intent_growth": {"loan": 0.6, "refinance": 0.3},
    "intent_expansion": {"loan": 0.6},
    "certification": {"restart": 0.3},
    "license_renewal": {"restart": 0.3},
    "education": {"restart": 0.3},
    "award": {"restart": 0.2},
})
#: Signal type → the employment state it shows (the most recent such signal decides).
EMPLOYMENT_BY_SIGNAL: Mapping[str, str] = MappingProxyType({
    "job_loss": "unemployed", "new_employment": "employed", "promotion": "employed",
    "business_launch": "self_employed",
})
ENGAGEMENT_TYPE = "portal_engagement"
NEED_HALF_LIFE_DAYS = 60.0
#: Signals older than this are not "recent" (they give no need and no employment state).
RECENT_DAYS = 365
ENGAGEMENT_WINDOW_DAYS = 30
ENGAGEMENT_HALF_LIFE_DAYS = 14.0
ENGAGEMENT_POINTS = 5.0
NATIONWIDE_POINTS = 15.0

#: Industry → words (whole words, lower case) in the employer's name or description that show it.
INDUSTRY_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "healthcare": ("hospital", "health", "healthcare", "clinic", "medical", "pharmacy", "nursing", "dental"),
    "education": ("school", "university", "college", "academy", "education", "district"),
    "finance": ("bank", "financial", "insurance", "credit", "capital", "lending", "investments"),
    "government": ("county", "city of", "state of", "department", "federal", "government", "agency"),
    "hospitality": ("hotel", "restaurant", "cafe", "resort", "hospitality", "catering", "bar", "grill"),
    "manufacturing": ("manufacturing", "factory", "industries", "plant", "steel", "machining", "fabrication"),
    "professional_services": ("consulting", "law", "legal", "accounting", "advisors", "partners", "llp"),
    "real_estate": ("realty", "real estate", "properties", "homes", "property"),
    "retail": ("retail", "store", "stores", "market", "mart", "shop", "boutique", "walmart", "target"),
    "technology": ("software", "tech", "technologies", "labs", "systems", "data", "cloud", "digital", "ai"),
    "transportation": ("logistics", "trucking", "transport", "freight", "airlines", "shipping", "delivery"),
    "construction": ("construction", "builders", "contracting", "roofing", "plumbing", "electric", "concrete"),
    "agriculture": ("farm", "farms", "ranch", "agriculture", "dairy"),
    "energy": ("energy", "oil", "gas", "solar", "power", "utilities"),
    "media": ("media", "news", "publishing", "studio", "studios", "broadcasting"),
})
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SignalFact:
    type: str
    #: Days since the event (its effective date, else its detection), as of the scoring day.
    age_days: float
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class LeadFacts:
    lead_id: uuid.UUID
    state: str | None = None
    region_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    balance: float | None = None
    days_delinquent: int | None = None
    industry: str | None = None
    employer: str | None = None
    #: The lead's signals (every type, portal engagement included).
    signals: tuple[SignalFact, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    service_id: uuid.UUID
    name: str
    category: str = "repayment_plan"
    states: frozenset[str] = frozenset()
    region_codes: frozenset[str] = frozenset()
    local_radius_km: float | None = None
    center_latitude: float | None = None
    center_longitude: float | None = None
    balance_min: float | None = None
    balance_max: float | None = None
    days_delinquent_min: int | None = None
    days_delinquent_max: int | None = None
    employment_states: frozenset[str] = frozenset()
    signal_types: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    need_profile: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MatchScore:
    lead_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    score: int
    #: Points per factor (unrounded; they add up to the unrounded total).
    breakdown: dict[str, float]
    #: One sentence per factor, in ``FACTORS`` order.
    reasons: list[str]
    eligible: bool
    ineligible: list[str]


def infer_industry(*texts: str | None) -> str | None:
    """The first industry of ``INDUSTRY_KEYWORDS`` whose keyword appears as whole word(s) in the texts."""
    words = " " + " ".join(" ".join(_WORDS.findall(text.lower())) for text in texts if text) + " "
    if not words.strip():
        return None
    for industry, keywords in INDUSTRY_KEYWORDS.items():
        if any(f" {keyword} " in words for keyword in keywords):
            return industry
    return None


def decay(age_days: float, half_life: float) -> float:
    return float(0.5 ** (max(age_days, 0.0) / half_life))


def lead_needs(signals: Iterable[SignalFact]) -> dict[str, float]:
    """Need → level 0–1: per need, the strongest recent signal's table weight × confidence × recency."""
    needs: dict[str, float] = {}
    for signal in signals:
        if signal.age_days > RECENT_DAYS:
            continue
        strength = signal.confidence * decay(signal.age_days, NEED_HALF_LIFE_DAYS)
        for need, weight in NEED_TABLE.get(signal.type, {}).items():
            needs[need] = max(needs.get(need, 0.0), weight * strength)
    return needs


def employment_state(lead: LeadFacts) -> str:
    """From the most recent signal that says it, else ``employed`` when the lead has an employer, else unknown."""
    dated = [s for s in lead.signals if s.type in EMPLOYMENT_BY_SIGNAL and s.age_days <= RECENT_DAYS]
    if dated:
        latest = min(dated, key=lambda s: (s.age_days, s.type))
        return EMPLOYMENT_BY_SIGNAL[latest.type]
    return "employed" if lead.employer else "unknown"


def _geographic(lead: LeadFacts, service: ServiceFacts, why_not: list[str]) -> tuple[float, str]:
    top = MAX_POINTS["geographic"]
    if service.local_radius_km is not None and service.center_latitude is not None \
            and service.center_longitude is not None:
        if lead.latitude is None or lead.longitude is None:
            why_not.append("local service and the lead has no coordinates")
            return 0.0, "Local service: the lead's location is unknown"
        distance = haversine_km(lead.latitude, lead.longitude, service.center_latitude, service.center_longitude)
        if distance > service.local_radius_km:
            why_not.append(f"{distance:.0f} km away, outside the {service.local_radius_km:g} km radius")
            return 0.0, f"{distance:.0f} km away: outside the service's {service.local_radius_km:g} km radius"
        return (top * (1 - 0.5 * distance / service.local_radius_km),
                f"{distance:.0f} km from the service (radius {service.local_radius_km:g} km)")
    if service.states or service.region_codes:
        state = lead.state.strip() if lead.state else None
        regions = {code for code in (lead.region_code, f"US-{state}" if state and lead.country in (None, "US")
                                     else None) if code}
        if state is not None and state in service.states:
            return top, f"Offered in {state}"
        hit = sorted(regions & service.region_codes)
        if hit:
            return top, f"Offered in {hit[0]}"
        where = state or lead.region_code or "an unknown area"
        why_not.append(f"not offered in {where}")
        return 0.0, f"Not offered in {where}"
    return NATIONWIDE_POINTS, "Offered everywhere"


def _industry(lead: LeadFacts, service: ServiceFacts) -> tuple[float, str]:
    top = MAX_POINTS["industry"]
    if not service.industries:
        return top / 2, "For any industry"
    if lead.industry is None:
        return top / 4, "The lead's industry is unknown"
    if lead.industry in service.industries:
        return top, f"Aimed at {lead.industry.replace('_', ' ')}, the lead's industry"
    return 0.0, f"Aimed at other industries than {lead.industry.replace('_', ' ')}"


def _need(lead: LeadFacts, service: ServiceFacts, needs: Mapping[str, float]) -> tuple[float, str]:
    top = MAX_POINTS["need"]
    best, best_need = 0.0, None
    for need, weight in sorted(service.need_profile.items()):
        level = min(1.0, needs.get(need, 0.0)) * weight
        if level > best:
            best, best_need = level, need
    points, reason = top * best, (f"Meets the lead's {best_need} need" if best_need else "No recent need it meets")
    relevant = [s for s in lead.signals if s.type in service.signal_types and s.age_days <= RECENT_DAYS]
    if relevant:
        freshest = min(relevant, key=lambda s: (s.age_days, s.type))
        floor = top * decay(freshest.age_days, NEED_HALF_LIFE_DAYS)
        if floor > points:
            points = floor
            reason = f"Recent {freshest.type.replace('_', ' ')} signal ({freshest.age_days:.0f} days ago)"
    if best_need and points == top * best:
        causes = sorted({s.type for s in lead.signals if best_need in NEED_TABLE.get(s.type, {})
                         and s.age_days <= RECENT_DAYS})
        reason += f" ({', '.join(c.replace('_', ' ') for c in causes)})" if causes else ""
    return points, reason


def _in_range(value: float | None, low: float | None, high: float | None, top: float, what: str,
              why_not: list[str], shown: str) -> tuple[float, str]:
    if value is None:
        return top / 2, f"{what} unknown"
    if (low is not None and value < low) or (high is not None and value > high):
        why_not.append(f"{what} {shown} outside the service's range")
        return 0.0, f"{what} {shown} outside the service's range"
    if low is not None and high is not None and high > low:
        middle, half = (low + high) / 2, (high - low) / 2
        return top * (1 - 0.5 * abs(value - middle) / half), f"{what} {shown} within the service's range"
    return top, f"{what} {shown} fits"


def _profile(lead: LeadFacts, service: ServiceFacts, why_not: list[str]) -> tuple[float, str]:
    balance, balance_reason = _in_range(lead.balance, service.balance_min, service.balance_max, 8.0, "balance",
                                        why_not, f"${lead.balance:,.0f}" if lead.balance is not None else "")
    days, days_reason = _in_range(None if lead.days_delinquent is None else float(lead.days_delinquent),
                                  None if service.days_delinquent_min is None else float(service.days_delinquent_min),
                                  None if service.days_delinquent_max is None else float(service.days_delinquent_max),
                                  7.0, "delinquency", why_not, f"{lead.days_delinquent} days")
    return balance + days, f"{balance_reason.capitalize()}; {days_reason}"


def _behaviour(lead: LeadFacts) -> tuple[float, str]:
    recent = [s for s in lead.signals if s.type == ENGAGEMENT_TYPE and s.age_days <= ENGAGEMENT_WINDOW_DAYS]
    if not recent:
        return 0.0, "No consented portal engagement"
    points = min(MAX_POINTS["behaviour"],
                 sum(ENGAGEMENT_POINTS * decay(s.age_days, ENGAGEMENT_HALF_LIFE_DAYS) for s in recent))
    return points, f"{len(recent)} portal engagement(s) in the last {ENGAGEMENT_WINDOW_DAYS} days"


def score(lead: LeadFacts, service: ServiceFacts, *, needs: Mapping[str, float] | None = None,
          employment: str | None = None, behaviour: tuple[float, str] | None = None) -> MatchScore:
    """The match of one lead and one service (``needs``, ``employment`` and ``behaviour`` depend on the lead
    only: ``score_lead`` works them out once per lead)."""
    why_not: list[str] = []
    needs = lead_needs(lead.signals) if needs is None else needs
    parts = {"geographic": _geographic(lead, service, why_not), "industry": _industry(lead, service),
             "need": _need(lead, service, needs), "profile": _profile(lead, service, why_not),
             "behaviour": _behaviour(lead) if behaviour is None else behaviour}
    if service.employment_states:
        state = employment or employment_state(lead)
        if state != "unknown" and state not in service.employment_states:
            why_not.append(f"the lead looks {state.replace('_', ' ')}; the service is for "
                           f"{', '.join(sorted(s.replace('_', ' ') for s in service.employment_states))}")
    breakdown = {name: round(points, 4) for name, (points, _) in parts.items()}
    total = sum(points for points, _ in parts.values())
    return MatchScore(lead_id=lead.lead_id, service_id=service.service_id, service_name=service.name,
                      score=max(0, min(100, round(total))), breakdown=breakdown,
                      reasons=[reason for _, reason in parts.values()], eligible=not why_not, ineligible=why_not)


def score_lead(lead: LeadFacts, services: Sequence[ServiceFacts]) -> list[MatchScore]:
    """Every service scored for one lead (its needs and employment worked out once), ranked."""
    needs = lead_needs(lead.signals)
    employment = employment_state(lead)
    behaviour = _behaviour(lead)
    return rank([score(lead, service, needs=needs, employment=employment, behaviour=behaviour)
                 for service in services])


def rank(matches: Iterable[MatchScore]) -> list[MatchScore]:
    """Highest score first; ties by need points, then the service's name, then its id (stable everywhere)."""
    return sorted(matches, key=lambda m: (-m.score, -m.breakdown["need"], m.service_name, m.service_id))


def age_days(event_day: date | None, detected_day: date, today: date) -> float:
    """A signal's age in days: from its effective date when it has one, else from its detection."""
    return float(max(0, (today - (event_day or detected_day)).days))
