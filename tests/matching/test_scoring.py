"""The pure match scoring: the factor table for hand-built leads and services, exact codes, stable ranking."""

from __future__ import annotations

import uuid

import pytest

from upswing.matching import scoring
from upswing.matching.scoring import LeadFacts, ServiceFacts, SignalFact

LEAD = uuid.UUID(int=1)


def _service(n: int, name: str, **fields: object) -> ServiceFacts:
    return ServiceFacts(service_id=uuid.UUID(int=100 + n), name=name, **fields)  # type: ignore[arg-type]


HARDSHIP_TX = _service(1, "Hardship forbearance TX", category="hardship_forbearance", states=frozenset({"TX"}),
                       need_profile={"hardship": 1.0, "restart": 0.5}, balance_min=1000.0, balance_max=21000.0)
RESTART_ANY = _service(2, "Plan restart", category="repayment_plan", need_profile={"restart": 1.0})
LOCAL_AUSTIN = _service(3, "Austin office settlement", category="settlement", local_radius_km=50.0,
                        center_latitude=30.2672, center_longitude=-97.7431, need_profile={"settlement": 1.0},
                        days_delinquent_min=90)
CA_ONLY = _service(4, "California rehabilitation", category="rehabilitation", states=frozenset({"CA"}),
                   need_profile={"rehabilitation": 1.0})
RETAIL_LOAN = _service(5, "Retail business loan", category="business_loan", industries=frozenset({"retail"}),
                       need_profile={"loan": 1.0}, signal_types=frozenset({"intent_loan_need"}),
                       employment_states=frozenset({"self_employed", "employed"}))

AUSTIN = dict(state="TX", country="US", latitude=30.2672, longitude=-97.7431, balance=11000.0, days_delinquent=120)


def _lead(*signals: SignalFact, **fields: object) -> LeadFacts:
    return LeadFacts(lead_id=LEAD, signals=signals, **{**AUSTIN, **fields})  # type: ignore[arg-type]


# (case, lead, service, expected breakdown, eligible). Every number worked out by hand from the module's tables.
CASES = [
    # Texas hardship service, fresh job loss (need hardship 1.0 × weight 1.0 = 25); balance 11 000 is the middle
    # of 1 000–21 000 (8); delinquency open range (7); industry: any (10); no engagement (0).
    ("job loss in TX", _lead(SignalFact("job_loss", 0.0)), HARDSHIP_TX,
     {"geographic": 25.0, "industry": 10.0, "need": 25.0, "profile": 15.0, "behaviour": 0.0}, True),
    # A job loss 60 days old: half its strength (12.5); balance at the range's end: 4 + 7.
    ("old job loss, balance at the edge", _lead(SignalFact("job_loss", 60.0), balance=21000.0), HARDSHIP_TX,
     {"geographic": 25.0, "industry": 10.0, "need": 12.5, "profile": 11.0, "behaviour": 0.0}, True),
    # Restart service anywhere (15), a new job (restart 1.0 → 25).
    ("new job, nationwide restart", _lead(SignalFact("new_employment", 0.0)), RESTART_ANY,
     {"geographic": 15.0, "industry": 10.0, "need": 25.0, "profile": 15.0, "behaviour": 0.0}, True),
    # The same service for a job loss: the hardship need is not in its profile (0).
    ("job loss, restart service", _lead(SignalFact("job_loss", 0.0)), RESTART_ANY,
     {"geographic": 15.0, "industry": 10.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, True),
    # At the local service's centre: 25; settlement need 0.4 from the job loss → 10.
    ("local, at the centre", _lead(SignalFact("job_loss", 0.0)), LOCAL_AUSTIN,
     {"geographic": 25.0, "industry": 10.0, "need": 10.0, "profile": 15.0, "behaviour": 0.0}, True),
    # Dallas is ~290 km from Austin: outside the 50 km radius → not eligible, 0 points.
    ("local, too far", _lead(latitude=32.7767, longitude=-96.7970), LOCAL_AUSTIN,
     {"geographic": 0.0, "industry": 10.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, False),
    # No coordinates: a local service cannot be offered.
    ("local, no coordinates", _lead(latitude=None, longitude=None), LOCAL_AUSTIN,
     {"geographic": 0.0, "industry": 10.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, False),
    # Delinquency below the service's minimum: not eligible (profile: balance 8 + delinquency 0).
    ("too few days delinquent", _lead(days_delinquent=30), LOCAL_AUSTIN,
     {"geographic": 25.0, "industry": 10.0, "need": 0.0, "profile": 8.0, "behaviour": 0.0}, False),
    # Unknown balance and delinquency: half points each (4 + 3.5).
    ("unknown balance and delinquency", _lead(balance=None, days_delinquent=None), RESTART_ANY,
     {"geographic": 15.0, "industry": 10.0, "need": 0.0, "profile": 7.5, "behaviour": 0.0}, True),
    # Retail employer (Target → retail: 20); loan need 1.0 (25); two engagements today, 7 days ago: 5 + 5 × 0.7071.
    ("retail loan need, engaged", _lead(SignalFact("intent_loan_need", 0.0), SignalFact("portal_engagement", 0.0),
                                        SignalFact("portal_engagement", 7.0), industry="retail", employer="Target"),
     RETAIL_LOAN, {"geographic": 15.0, "industry": 20.0, "need": 25.0, "profile": 15.0, "behaviour": 8.5355}, True),
    # Another industry: 0; unknown industry: 5. Out-of-window engagement (40 days) counts nothing.
    ("other industry", _lead(SignalFact("portal_engagement", 40.0), industry="healthcare", employer="Mercy Hospital"),
     RETAIL_LOAN, {"geographic": 15.0, "industry": 0.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, True),
    ("unknown industry", _lead(), RETAIL_LOAN,
     {"geographic": 15.0, "industry": 5.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, True),
    # Employment: a recent job loss makes the lead unemployed: the loan is for employed/self-employed.
    ("unemployed, loan for the employed", _lead(SignalFact("job_loss", 3.0), industry="retail"), RETAIL_LOAN,
     {"geographic": 15.0, "industry": 20.0, "need": 0.0, "profile": 15.0, "behaviour": 0.0}, False),
    # Engagement caps at 15 (four fresh ones would be 20).
    ("engagement capped", _lead(*[SignalFact("portal_engagement", 0.0)] * 4), RESTART_ANY,
     {"geographic": 15.0, "industry": 10.0, "need": 0.0, "profile": 15.0, "behaviour": 15.0}, True),
    # A listed signal type gives at least 25 × its recency even without the need (intent_loan_need → loan anyway).
    ("listed signal type, 60 days", _lead(SignalFact("intent_loan_need", 60.0), industry="retail"), RETAIL_LOAN,
     {"geographic": 15.0, "industry": 20.0, "need": 12.5, "profile": 15.0, "behaviour": 0.0}, True),
]


@pytest.mark.parametrize(("case", "lead", "service", "expected", "eligible"), CASES, ids=[c[0] for c in CASES])
def test_the_factor_table(case: str, lead: LeadFacts, service: ServiceFacts, expected: dict[str, float],
                          eligible: bool) -> None:
    result = scoring.score(lead, service)
    assert result.breakdown == pytest.approx(expected, abs=1e-3), case
    assert result.eligible is eligible
    assert bool(result.ineligible) is not eligible
    assert result.score == round(sum(expected.values()))
    assert len(result.reasons) == len(scoring.FACTORS) and all(result.reasons)


def test_factor_maxima_add_up_to_100() -> None:
    assert sum(scoring.MAX_POINTS.values()) == 100


@pytest.mark.parametrize("city_like", ["Chicago", "Canada", "ca", "Cal", "CAL", "US-CAL", "California"])
def test_a_state_code_never_matches_by_substring(city_like: str) -> None:
    lead = _lead(state=city_like, region_code=city_like, latitude=None, longitude=None)
    result = scoring.score(lead, CA_ONLY)
    assert result.breakdown["geographic"] == 0.0 and not result.eligible
    assert scoring.score(_lead(state="CA"), CA_ONLY).breakdown["geographic"] == 25.0
    assert scoring.score(_lead(state=None, region_code="US-CA"),
                         _service(9, "ISO", region_codes=frozenset({"US-CA"}))).breakdown["geographic"] == 25.0


def test_a_lead_in_chicago_is_not_in_california() -> None:
    chicago = _lead(state="IL", latitude=41.8781, longitude=-87.6298)
    assert "Not offered in IL" in scoring.score(chicago, CA_ONLY).reasons[0]


def test_local_points_fall_with_distance() -> None:
    near = scoring.score(_lead(latitude=30.30, longitude=-97.74), LOCAL_AUSTIN).breakdown["geographic"]
    further = scoring.score(_lead(latitude=30.50, longitude=-97.74), LOCAL_AUSTIN).breakdown["geographic"]
    assert 25.0 > near > further >= 12.5


def test_ranking_is_stable_and_explained() -> None:
    twin_a = _service(20, "B twin", need_profile={"restart": 1.0})
    twin_b = _service(21, "A twin", need_profile={"restart": 1.0})
    services = [RESTART_ANY, HARDSHIP_TX, twin_a, CA_ONLY, twin_b, LOCAL_AUSTIN]
    lead = _lead(SignalFact("new_employment", 0.0))
    first = scoring.score_lead(lead, services)
    for order in (list(reversed(services)), services[2:] + services[:2]):
        assert [m.service_id for m in scoring.score_lead(lead, order)] == [m.service_id for m in first]
    scores = [m.score for m in first]
    assert scores == sorted(scores, reverse=True)
    tied = [m.service_name for m in first if m.service_name in ("A twin", "B twin", "Plan restart")]
    assert tied == ["A twin", "B twin", "Plan restart"]  # same score and need: by name
    assert all(len(m.reasons) == 5 for m in first)


def test_a_job_loss_reorders_the_ranking() -> None:
    lead = _lead(SignalFact("new_employment", 2.0))
    before = scoring.score_lead(lead, [RESTART_ANY, HARDSHIP_TX])
    after = scoring.score_lead(_lead(SignalFact("new_employment", 2.0), SignalFact("job_loss", 0.0)),
                               [RESTART_ANY, HARDSHIP_TX])
    assert before[0].service_id == RESTART_ANY.service_id
    assert after[0].service_id == HARDSHIP_TX.service_id


@pytest.mark.parametrize(("texts", "industry"), [
    (("Target",), "retail"), (("Mercy Hospital",), "healthcare"), (("Acme Software Inc",), "technology"),
    (("Austin Independent School District",), "education"), (("Zebra",), None), ((None,), None),
    (("Bart's",), None),  # "bar" is a whole word only
])
def test_industry_from_the_employer(texts: tuple[str | None, ...], industry: str | None) -> None:
    assert scoring.infer_industry(*texts) == industry


def test_employment_state_from_the_latest_signal() -> None:
    assert scoring.employment_state(_lead(SignalFact("job_loss", 10.0), SignalFact("new_employment", 2.0))) \
        == "employed"
    assert scoring.employment_state(_lead(SignalFact("job_loss", 1.0), SignalFact("new_employment", 20.0))) \
        == "unemployed"
    assert scoring.employment_state(_lead(employer="Acme")) == "employed"
    assert scoring.employment_state(_lead()) == "unknown"
