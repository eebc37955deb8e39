"""Profile diff rules, exercised end to end: a neutral profile spec is rendered as a raw item of each Actor
shape (after shared/reference/external-apis.md §1a), normalized, then diffed."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from upswing.core.names import company_key, title_key
from upswing.detection.events import CandidateEvent, SignalType
from upswing.detection.profile_diff import diff_profiles, is_founder_title, seniority_level
from upswing.observation.apify import normalize_item
from upswing.observation.snapshot import ProfileSnapshot

OBSERVED = datetime(2026, 5, 15, 9, 30, tzinfo=UTC)
PREVIOUS_OBSERVED = datetime(2026, 4, 15, 9, 30, tzinfo=UTC)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------------------
# A neutral profile spec and one renderer per Actor shape
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    title: str
    company: str
    start: str | None  # "YYYY" or "YYYY-MM"
    end: str | None = None  # None: current

    @property
    def current(self) -> bool:
        return self.end is None


@dataclass(frozen=True)
class Cred:
    name: str
    issuer: str
    issued: str | None


@dataclass(frozen=True)
class School:
    school: str
    degree: str
    field: str
    start: str | None
    end: str | None


@dataclass(frozen=True)
class Spec:
    jobs: tuple[Job, ...] = ()
    certs: tuple[Cred, ...] = ()
    awards: tuple[Cred, ...] = ()
    schools: tuple[School, ...] = ()
    open_to_work: bool = False
    headline: str = "Analyst at Acme"
    followers: int = 812
    connections: int = 500
    photo: str = "https://media.licdn.com/photo-1.jpg"


BASE = Spec(
    jobs=(
        Job("Analyst", "Acme Corp", "2022-01"),
        Job("Finance Intern", "Beta LLC", "2021-06", "2021-12"),
    ),
    certs=(Cred("CFA Level I", "CFA Institute", "2021-08"),),
    awards=(Cred("Dean's List", "State University", "2019-05"),),
    schools=(School("State University", "Bachelor of Science - BS", "Finance", "2017", "2021"),),
)


def ui_date(value: str | None) -> str:
    if value is None:
        return "Present"
    if len(value) == 7:
        return f"{MONTHS[int(value[5:]) - 1]} {value[:4]}"
    return value


def harvest_date(value: str | None) -> dict[str, Any]:
    if value is None:
        return {"text": "Present"}
    out: dict[str, Any] = {"year": int(value[:4]), "text": ui_date(value)}
    if len(value) == 7:
        out["month"] = MONTHS[int(value[5:]) - 1]
    return out


def maestro_date(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {"year": int(value[:4])}
    if len(value) == 7:
        out["month"] = int(value[5:])
    return out


def company_slug(name: str) -> str:
    return "https://www.linkedin.com/company/" + name.lower().replace(" ", "-") + "/"


def harvest(spec: Spec) -> dict[str, Any]:
    return {
        "id": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "publicIdentifier": "jane-doe-42",
        "linkedinUrl": "https://www.linkedin.com/in/jane-doe-42",
        "firstName": "Jane",
        "lastName": "Doe",
        "headline": spec.headline,
        "photo": spec.photo,
        "location": {
            "linkedinText": "Austin, Texas, United States",
            "countryCode": "US",
            "parsed": {"city": "Austin"},
        },
        "connectionsCount": spec.connections,
        "followerCount": spec.followers,
        "openToWork": spec.open_to_work,
        "currentPosition": [{"companyName": j.company} for j in spec.jobs if j.current],
        "experience": [
            {
                "position": j.title,
                "companyName": j.company,
                "companyLinkedinUrl": company_slug(j.company),
                "employmentType": "Full-time",
                "startDate": harvest_date(j.start) if j.start else None,
                "endDate": harvest_date(j.end),
            }
            for j in spec.jobs
        ],
        "education": [
            {
                "schoolName": s.school,
                "degree": s.degree,
                "fieldOfStudy": s.field,
                "startDate": harvest_date(s.start) if s.start else None,
                "endDate": harvest_date(s.end) if s.end else None,
            }
            for s in spec.schools
        ],
        "certifications": [
            {
                "title": c.name,
                "issuedBy": c.issuer,
                "issuedAt": f"Issued {ui_date(c.issued)}" if c.issued else None,
            }
            for c in spec.certs
        ],
        "honorsAndAwards": [
            {"title": a.name, "issuedBy": a.issuer, "issuedAt": ui_date(a.issued) if a.issued else None}
            for a in spec.awards
        ],
        "skills": [{"name": "SQL"}],
    }


def harvest_element(spec: Spec) -> dict[str, Any]:
    return {"element": harvest(spec), "query": "jane-doe-42", "status": 200, "entityId": "1"}


def _dev_fusion_common(spec: Spec, experiences: list[dict[str, Any]]) -> dict[str, Any]:
    current = next((j for j in spec.jobs if j.current), None)
    flattened = current or (spec.jobs[0] if spec.jobs else None)
    return {
        "linkedinUrl": "https://www.linkedin.com/in/ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "linkedinPublicUrl": "https://www.linkedin.com/in/jane-doe-42",
        "publicIdentifier": "jane-doe-42",
        "urn": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "firstName": "Jane",
        "lastName": "Doe",
        "fullName": "Jane Doe",
        "headline": spec.headline,
        "connections": spec.connections,
        "followers": spec.followers,
        "profilePic": spec.photo,
        "isJobSeeker": spec.open_to_work,
        "addressWithCountry": "Austin, Texas, United States",
        "jobTitle": flattened.title if flattened else None,
        "companyName": flattened.company if flattened else None,
        "jobStartedOn": flattened.start if flattened else None,
        "jobStillWorking": current is not None,
        "experiences": experiences,
        "educations": [
            {
                "title": s.school,
                "subtitle": f"{s.degree}, {s.field}",
                "caption": f"{ui_date(s.start)} - {ui_date(s.end)}" if s.start else ui_date(s.end),
            }
            for s in spec.schools
        ],
        "licenseAndCertificates": [
            {
                "title": c.name,
                "subtitle": c.issuer,
                "caption": f"Issued {ui_date(c.issued)}" if c.issued else None,
                "metadata": "Credential ID 1",
            }
            for c in spec.certs
        ],
        "honorsAndAwards": [
            {
                "title": a.name,
                "subtitle": f"Issued by {a.issuer}" + (f" · {ui_date(a.issued)}" if a.issued else ""),
            }
            for a in spec.awards
        ],
        "skills": [{"title": "SQL"}],
    }


def dev_fusion_new(spec: Spec) -> dict[str, Any]:
    experiences = [
        {
            "companyName": j.company,
            "companyLink1": company_slug(j.company),
            "title": j.title,
            "jobStartedOn": j.start,
            "jobEndedOn": j.end,
            "jobStillWorking": j.current,
            "employmentType": "Full-time",
        }
        for j in spec.jobs
    ]
    return _dev_fusion_common(spec, experiences)


def dev_fusion_ui(spec: Spec) -> dict[str, Any]:
    experiences = [
        {
            "title": j.title,
            "subtitle": f"{j.company} · Full-time",
            "caption": f"{ui_date(j.start)} - {ui_date(j.end)} · 1 yr" if j.start else "",
            "metadata": "Austin, Texas",
            "subComponents": [{"description": [{"type": "textComponent", "text": "Did things."}]}],
        }
        for j in spec.jobs
    ]
    return _dev_fusion_common(spec, experiences)


def apimaestro(spec: Spec) -> dict[str, Any]:
    return {
        "basic_info": {
            "fullname": "Jane Doe",
            "first_name": "Jane",
            "last_name": "Doe",
            "headline": spec.headline,
            "public_identifier": "jane-doe-42",
            "profile_url": "https://www.linkedin.com/in/jane-doe-42",
            "profile_picture_url": spec.photo,
            "location": {"full": "Austin, Texas, United States", "city": "Austin", "country_code": "US"},
            "follower_count": spec.followers,
            "connection_count": spec.connections,
            "open_to_work": spec.open_to_work,
            "urn": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        },
        "experience": [
            {
                "title": j.title,
                "company": j.company,
                "start_date": maestro_date(j.start),
                "end_date": maestro_date(j.end),
                "is_current": j.current,
                "company_linkedin_url": company_slug(j.company),
                "employment_type": "Full-time",
            }
            for j in spec.jobs
        ],
        "education": [
            {
                "school": s.school,
                "degree": s.degree,
                "field_of_study": s.field,
                "start_date": maestro_date(s.start),
                "end_date": maestro_date(s.end),
            }
            for s in spec.schools
        ],
        "certifications": [
            {
                "name": c.name,
                "issuer": c.issuer,
                "issued_date": f"Issued {ui_date(c.issued)}" if c.issued else None,
            }
            for c in spec.certs
        ],
        # The honors field name is not verified for this Actor; the adapter accepts the likely names.
        "honors_and_awards": [
            {"title": a.name, "issuer": a.issuer, "issued_date": ui_date(a.issued) if a.issued else None}
            for a in spec.awards
        ],
    }


RENDERERS: dict[str, Callable[[Spec], dict[str, Any]]] = {
    "harvestapi": harvest,
    "harvestapi-element": harvest_element,
    "dev_fusion-new": dev_fusion_new,
    "dev_fusion-ui": dev_fusion_ui,
    "apimaestro": apimaestro,
}
SHAPES = list(RENDERERS)


def snap(shape: str, spec: Spec) -> ProfileSnapshot:
    return normalize_item(RENDERERS[shape](spec))


def diff(shape: str, before: Spec | None, after: Spec, **kwargs: Any) -> list[CandidateEvent]:
    kwargs.setdefault("observed_at", OBSERVED)
    if before is not None:
        kwargs.setdefault("previous_observed_at", PREVIOUS_OBSERVED)
    return diff_profiles(snap(shape, before) if before is not None else None, snap(shape, after), **kwargs)


def only(events: list[CandidateEvent]) -> CandidateEvent:
    assert len(events) == 1, events
    return events[0]


def with_jobs(spec: Spec, *jobs: Job) -> Spec:
    return replace(spec, jobs=jobs)


ANALYST = Job("Analyst", "Acme Corp", "2022-01")
INTERN = Job("Finance Intern", "Beta LLC", "2021-06", "2021-12")
ANALYST_ENDED = Job("Analyst", "Acme Corp", "2022-01", "2026-03")


# --------------------------------------------------------------------------------------------------
# One test per signal type, in every Actor shape
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_new_employment(shape: str) -> None:
    after = with_jobs(BASE, Job("Senior Analyst", "Globex Corporation", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.NEW_EMPLOYMENT
    assert (event.title, event.organization) == ("Senior Analyst", "Globex Corporation")
    assert event.effective_date == date(2026, 4, 1)
    assert event.identity == "globex|senior analyst"
    assert event.confidence == pytest.approx(0.95)
    assert event.snippet == "Experience: Senior Analyst at Globex Corporation (Apr 2026 \u2013 present)"


@pytest.mark.parametrize("shape", SHAPES)
def test_new_employment_while_keeping_a_side_job(shape: str) -> None:
    after = with_jobs(BASE, Job("Bookkeeper", "Corner Shop Ltd.", "2026-05"), ANALYST, INTERN)
    event = only(diff(shape, BASE, after))
    assert (event.type, event.identity) == (SignalType.NEW_EMPLOYMENT, "corner shop|bookkeeper")
    assert event.effective_date == date(2026, 5, 1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("title", ["Co-Founder", "Founder & CEO", "Cofounder", "Owner", "Founding Partner"])
def test_business_launch(shape: str, title: str) -> None:
    after = with_jobs(BASE, Job(title, "Sunrise Bakery", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.BUSINESS_LAUNCH
    assert (event.title, event.organization, event.effective_date) == (
        title,
        "Sunrise Bakery",
        date(2026, 4, 1),
    )
    assert event.identity == f"sunrise bakery|{title_key(title)}"


@pytest.mark.parametrize("shape", SHAPES)
def test_product_owner_is_employment_not_a_business_launch(shape: str) -> None:
    after = with_jobs(BASE, Job("Product Owner", "Globex", "2026-04"), ANALYST_ENDED, INTERN)
    assert only(diff(shape, BASE, after)).type is SignalType.NEW_EMPLOYMENT


@pytest.mark.parametrize("shape", SHAPES)
def test_promotion_as_a_new_entry(shape: str) -> None:
    after = with_jobs(BASE, Job("Senior Analyst", "Acme Corp", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.PROMOTION
    assert (event.title, event.organization, event.effective_date) == (
        "Senior Analyst",
        "Acme Corp",
        date(2026, 4, 1),
    )
    assert event.identity == "acme|senior analyst"
    assert event.details["previous_title"] == "Analyst"
    assert "previously Analyst" in event.snippet


@pytest.mark.parametrize("shape", SHAPES)
def test_promotion_as_an_edited_title(shape: str) -> None:
    after = with_jobs(BASE, Job("Senior Analyst", "Acme Corp", "2022-01"), INTERN)
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.PROMOTION
    assert (event.title, event.organization) == ("Senior Analyst", "Acme Corp")
    assert event.identity == "acme|senior analyst"
    assert event.effective_date is None  # the profile does not say when the title changed
    assert event.confidence < 0.95
    assert "changed from Analyst to Senior Analyst" in event.snippet


@pytest.mark.parametrize("shape", SHAPES)
def test_promotion_across_a_company_suffix_variant(shape: str) -> None:
    before = with_jobs(BASE, Job("Manager", "The Acme Corporation", "2022-01"))
    after = with_jobs(
        BASE,
        Job("Director", "Acme, Inc.", "2026-05"),
        Job("Manager", "The Acme Corporation", "2022-01", "2026-04"),
    )
    event = only(diff(shape, before, after))
    assert (event.type, event.identity, event.effective_date) == (
        SignalType.PROMOTION,
        "acme|director",
        date(2026, 5, 1),
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Analyst", "Financial Analyst"),
        ("Software Engineer", "Backend Engineer"),
        ("Director", "Associate Director"),
    ],
)
def test_lateral_move_or_step_down_gives_nothing(shape: str, old: str, new: str) -> None:
    before = with_jobs(BASE, Job(old, "Acme Corp", "2022-01"), INTERN)
    as_new_entry = with_jobs(
        BASE, Job(new, "Acme Corp", "2026-04"), Job(old, "Acme Corp", "2022-01", "2026-03"), INTERN
    )
    as_edit = with_jobs(BASE, Job(new, "Acme Corp", "2022-01"), INTERN)
    assert diff(shape, before, as_new_entry) == []
    assert diff(shape, before, as_edit) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_certification(shape: str) -> None:
    cert = Cred("AWS Certified Cloud Practitioner", "Amazon Web Services (AWS)", "2026-04")
    after = replace(BASE, certs=(cert, *BASE.certs))
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.CERTIFICATION
    assert (event.title, event.organization) == (
        "AWS Certified Cloud Practitioner",
        "Amazon Web Services (AWS)",
    )
    assert event.effective_date == date(2026, 4, 1)
    assert event.identity == "aws certified cloud practitioner|amazon web services aws"
    assert event.snippet == (
        "Certification: AWS Certified Cloud Practitioner, issued by Amazon Web Services (AWS) (Apr 2026)"
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_award(shape: str) -> None:
    award = Cred("Employee of the Year", "Acme Corp", "2026-04")
    after = replace(BASE, awards=(*BASE.awards, award))
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.AWARD
    assert (event.title, event.organization, event.effective_date) == (
        "Employee of the Year",
        "Acme Corp",
        date(2026, 4, 1),
    )
    assert event.identity == "employee of the year|acme"


@pytest.mark.parametrize("shape", SHAPES)
def test_education_new_degree(shape: str) -> None:
    mba = School("Wharton School", "Master of Business Administration - MBA", "Finance", "2024-09", "2026-05")
    after = replace(BASE, schools=(mba, *BASE.schools))
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.EDUCATION
    assert (event.title, event.organization) == ("Master of Business Administration - MBA", "Wharton School")
    assert event.effective_date == date(2026, 5, 1)
    assert event.identity == "wharton school|master of business administration mba"


@pytest.mark.parametrize("shape", SHAPES)
def test_education_end_date_reached(shape: str) -> None:
    mba = School("Wharton School", "Master of Business Administration - MBA", "Finance", "2024-09", "2026-05")
    spec = replace(BASE, schools=(mba, *BASE.schools))
    event = only(diff(shape, spec, spec))
    assert event.type is SignalType.EDUCATION
    assert event.effective_date == date(2026, 5, 1)
    assert event.identity == "wharton school|master of business administration mba"
    # Already reached at the previous observation: nothing new.
    assert diff(shape, spec, spec, previous_observed_at=datetime(2026, 5, 2, tzinfo=UTC)) == []
    # Not reached yet.
    assert diff(shape, spec, spec, observed_at=datetime(2026, 4, 20, tzinfo=UTC)) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_job_loss_when_the_current_position_ends(shape: str) -> None:
    after = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2026-04"), INTERN)
    event = only(diff(shape, BASE, after))
    assert event.type is SignalType.JOB_LOSS
    assert (event.title, event.organization, event.effective_date) == (
        "Analyst",
        "Acme Corp",
        date(2026, 4, 1),
    )
    assert event.identity == "acme"
    assert event.confidence == pytest.approx(0.9)


@pytest.mark.parametrize("shape", SHAPES)
def test_job_loss_both_triggers_give_the_same_identity(shape: str) -> None:
    ended = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2026-04"), INTERN)
    by_end = only(diff(shape, BASE, ended))
    by_flag = only(diff(shape, ended, replace(ended, open_to_work=True)))
    both = only(diff(shape, BASE, replace(ended, open_to_work=True)))
    assert by_end.type is by_flag.type is both.type is SignalType.JOB_LOSS
    assert by_end.identity == by_flag.identity == both.identity == "acme"
    assert by_flag.confidence == pytest.approx(0.7)
    assert by_flag.organization == "Acme Corp"
    assert by_flag.snippet.startswith("Open to work switched on")
    assert both.details["trigger"] == "position_ended+open_to_work"


@pytest.mark.parametrize("shape", SHAPES)
def test_open_to_work_with_a_current_job_is_not_a_job_loss(shape: str) -> None:
    assert diff(shape, BASE, replace(BASE, open_to_work=True)) == []


# --------------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_noise_gives_nothing_and_keeps_the_hash(shape: str) -> None:
    noisy = Spec(
        jobs=tuple(reversed(BASE.jobs)),
        certs=BASE.certs,
        awards=BASE.awards,
        schools=BASE.schools,
        headline="  Analyst   at Acme ",
        followers=2345,
        connections=9,
        photo="https://media.licdn.com/photo-2.jpg",
    )
    noisy = replace(noisy, jobs=tuple(replace(j, title=f" {j.title}  ") for j in noisy.jobs))
    assert diff(shape, BASE, noisy) == []
    assert snap(shape, BASE).content_hash() == snap(shape, noisy).content_hash()


@pytest.mark.parametrize("shape", SHAPES)
def test_casing_and_punctuation_changes_give_nothing(shape: str) -> None:
    recased = Spec(
        jobs=(Job("ANALYST", "ACME CORP.", "2022-01"), INTERN),
        certs=(Cred("cfa level i", "CFA institute", "2021-08"),),
        awards=BASE.awards,
        schools=(School("state university", "Bachelor of Science - BS", "Finance", "2017", "2021"),),
    )
    assert diff(shape, BASE, recased) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_unchanged_profile_gives_nothing(shape: str) -> None:
    assert diff(shape, BASE, BASE) == []


@pytest.mark.parametrize("first", SHAPES)
@pytest.mark.parametrize("second", SHAPES)
def test_same_profile_through_two_actors_gives_nothing(first: str, second: str) -> None:
    events = diff_profiles(
        snap(first, BASE), snap(second, BASE), observed_at=OBSERVED, previous_observed_at=PREVIOUS_OBSERVED
    )
    assert events == []


def test_random_reordering_of_every_list_gives_nothing() -> None:
    rich = replace(
        BASE,
        jobs=(
            *BASE.jobs,
            Job("Clerk", "Gamma", "2020-01", "2020-06"),
            Job("Tutor", "Delta", "2019-01", "2019-12"),
        ),
        certs=(*BASE.certs, Cred("PMP", "PMI", "2024-02"), Cred("Excel Expert", "Microsoft", None)),
    )
    rng = random.Random(7)
    for _ in range(20):
        shuffled = replace(
            rich,
            jobs=tuple(rng.sample(rich.jobs, len(rich.jobs))),
            certs=tuple(rng.sample(rich.certs, len(rich.certs))),
        )
        for shape in SHAPES:
            assert diff(shape, rich, shuffled) == []
            assert snap(shape, rich).content_hash() == snap(shape, shuffled).content_hash()


# --------------------------------------------------------------------------------------------------
# First snapshot and staleness
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_only_reports_recent_items(shape: str) -> None:
    spec = Spec(
        jobs=(Job("Senior Analyst", "Globex", "2026-03"), ANALYST_ENDED, INTERN),
        certs=(
            Cred("PMP", "PMI", "2026-04"),
            Cred("CFA Level I", "CFA Institute", "2021-08"),
            Cred("CPR", "AHA", None),
        ),
        awards=(
            Cred("Top Performer", "Acme Corp", "2026-02"),
            Cred("Dean's List", "State University", "2019-05"),
        ),
        schools=(
            School(
                "Wharton School", "Master of Business Administration - MBA", "Finance", "2024-09", "2026-05"
            ),
            *BASE.schools,
        ),
    )
    events = diff(shape, None, spec)
    found = {(e.type, e.identity, e.effective_date) for e in events}
    assert found == {
        (SignalType.NEW_EMPLOYMENT, "globex|senior analyst", date(2026, 3, 1)),
        (SignalType.CERTIFICATION, "pmp|pmi", date(2026, 4, 1)),
        (SignalType.AWARD, "top performer|acme", date(2026, 2, 1)),
        (SignalType.EDUCATION, "wharton school|master of business administration mba", date(2026, 5, 1)),
    }
    assert all(e.confidence == pytest.approx(0.8) for e in events)


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_old_profile_gives_nothing(shape: str) -> None:
    assert diff(shape, None, BASE) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_internal_promotion(shape: str) -> None:
    spec = with_jobs(BASE, Job("Senior Analyst", "Acme Corp", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, None, spec))
    assert (event.type, event.identity, event.effective_date) == (
        SignalType.PROMOTION,
        "acme|senior analyst",
        date(2026, 4, 1),
    )
    lateral = with_jobs(BASE, Job("Financial Analyst", "Acme Corp", "2026-04"), ANALYST_ENDED, INTERN)
    assert diff(shape, None, lateral) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_business_launch(shape: str) -> None:
    spec = with_jobs(BASE, Job("Founder", "Sunrise Bakery", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, None, spec))
    assert (event.type, event.identity) == (SignalType.BUSINESS_LAUNCH, "sunrise bakery|founder")


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_job_loss(shape: str) -> None:
    recent = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2026-04"), INTERN)
    event = only(diff(shape, None, recent))
    assert (event.type, event.identity, event.organization) == (SignalType.JOB_LOSS, "acme", "Acme Corp")
    assert event.effective_date == date(2026, 4, 1)
    old = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2024-06"), INTERN)
    assert diff(shape, None, old) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_first_snapshot_undated_items_give_nothing(shape: str) -> None:
    spec = Spec(jobs=(Job("Analyst", "Acme Corp", None),), certs=(Cred("PMP", "PMI", None),))
    assert diff(shape, None, spec) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_lookback_window_is_configurable(shape: str) -> None:
    spec = with_jobs(BASE, Job("Senior Analyst", "Globex", "2025-10"), ANALYST_ENDED)
    assert diff(shape, None, spec) == []
    assert only(diff(shape, None, spec, lookback_days=365)).identity == "globex|senior analyst"


@pytest.mark.parametrize("shape", SHAPES)
def test_stale_items_added_long_after_the_fact_give_nothing(shape: str) -> None:
    after = replace(
        BASE,
        jobs=(Job("Volunteer Treasurer", "Food Bank", "2019-03"), *BASE.jobs),
        certs=(*BASE.certs, Cred("PMP", "PMI", "2020-01")),
        awards=(*BASE.awards, Cred("Hackathon Winner", "MLH", "2018-10")),
        schools=(*BASE.schools, School("City College", "Associate of Arts - AA", "History", "2013", "2015")),
    )
    assert diff(shape, BASE, after) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_job_marked_as_ended_long_ago_is_stale(shape: str) -> None:
    after = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2024-02"), INTERN)
    assert diff(shape, BASE, after) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_undated_new_items_in_a_later_diff_are_reported(shape: str) -> None:
    after = replace(BASE, certs=(*BASE.certs, Cred("PMP", "PMI", None)))
    event = only(diff(shape, BASE, after))
    assert (event.type, event.identity, event.effective_date) == (SignalType.CERTIFICATION, "pmp|pmi", None)


# --------------------------------------------------------------------------------------------------
# The same event through different Actors
# --------------------------------------------------------------------------------------------------

SCENARIOS: dict[str, tuple[Spec, Spec]] = {
    "new_employment": (
        BASE,
        with_jobs(BASE, Job("Senior Analyst", "Globex", "2026-04"), ANALYST_ENDED, INTERN),
    ),
    "business_launch": (BASE, with_jobs(BASE, Job("Co-Founder", "Sunrise Bakery", "2026-04"), ANALYST_ENDED)),
    "promotion": (
        BASE,
        with_jobs(BASE, Job("Senior Analyst", "Acme Corp", "2026-04"), ANALYST_ENDED, INTERN),
    ),
    "certification": (BASE, replace(BASE, certs=(*BASE.certs, Cred("PMP", "PMI", "2026-04")))),
    "award": (BASE, replace(BASE, awards=(*BASE.awards, Cred("Top Performer", "Acme", "2026-04")))),
    "education": (
        BASE,
        replace(BASE, schools=(*BASE.schools, School("Wharton School", "MBA", "Finance", "2024", "2026"))),
    ),
    "job_loss": (BASE, with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2026-04"), INTERN)),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_same_event_through_every_actor_has_the_same_identity(scenario: str) -> None:
    before, after = SCENARIOS[scenario]
    seen = {shape: only(diff(shape, before, after)) for shape in SHAPES}
    assert {e.type.value for e in seen.values()} == {scenario}
    assert len({e.identity for e in seen.values()}) == 1
    assert len({(e.title, e.organization, e.effective_date) for e in seen.values()}) == 1
    # A previous snapshot from one Actor and a current one from another still see exactly the same event.
    mixed = diff_profiles(
        snap("harvestapi", before),
        snap("apimaestro", after),
        observed_at=OBSERVED,
        previous_observed_at=PREVIOUS_OBSERVED,
    )
    assert [e.identity for e in mixed] == [seen["harvestapi"].identity]


def test_same_event_in_two_exports_on_different_days_has_the_same_identity() -> None:
    before, after = SCENARIOS["promotion"]
    early = only(diff("dev_fusion-ui", before, after))
    late = only(diff("harvestapi", before, after, observed_at=datetime(2026, 6, 1, tzinfo=UTC)))
    assert early.identity == late.identity == "acme|senior analyst"


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme Corp", "acme"),
        ("Acme Corp.", "acme"),
        ("ACME, Inc.", "acme"),
        ("The Acme Corporation", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme PLC", "acme"),
        ("Acme LLC", "acme"),
        ("  acme   corp ", "acme"),
        ("The Home Depot", "home depot"),
        ("Ltd", "ltd"),
        (None, ""),
    ],
)
def test_company_key(name: str | None, key: str) -> None:
    assert company_key(name) == key


LADDER = [
    "Software Engineering Intern",
    "Junior Analyst",
    "Analyst",
    "Senior Analyst",
    "Lead Analyst",
    "Analytics Manager",
    "Senior Manager, Analytics",
    "Director of Analytics",
    "Head of Analytics",
    "Vice President, Analytics",
    "Senior Vice President",
    "Chief Financial Officer",
]


def test_seniority_ladder_is_strictly_increasing() -> None:
    levels = [seniority_level(title) for title in LADDER]
    assert levels == sorted(levels)
    assert len(set(levels)) == len(levels)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("Associate", "Senior Associate"),
        ("Assistant Manager", "Manager"),
        ("Associate Director", "Director"),
        ("Director", "Senior Director"),
        ("VP Sales", "SVP Sales"),
        ("VP Sales", "EVP Sales"),
        ("Assistant Vice President", "Vice President"),
        ("Sr. Manager", "Director"),
        ("Staff Engineer", "Engineering Manager"),
        ("Principal Engineer", "Engineering Manager"),
        ("Senior Vice President", "President"),
        ("Senior Vice President", "CEO"),
        ("Senior Associate", "Partner"),
        ("Director", "Managing Director"),
        ("HR Business Partner", "HR Manager"),
        ("Chief of Staff", "Chief Operating Officer"),
    ],
)
def test_seniority_order(lower: str, higher: str) -> None:
    assert seniority_level(lower) < seniority_level(higher)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Software Engineer", "Backend Engineer"),
        ("Analyst", "Financial Analyst"),
        ("Sr. Analyst", "Senior Analyst"),
        ("CFO", "Chief Technology Officer"),
        ("VP of Sales", "Vice President of Marketing"),
    ],
)
def test_seniority_same_level(a: str, b: str) -> None:
    assert seniority_level(a) == seniority_level(b)


@pytest.mark.parametrize(
    ("title", "founder"),
    [
        ("Founder", True),
        ("Co-Founder & CTO", True),
        ("co-founder", True),
        ("Cofounder", True),
        ("Owner", True),
        ("Owner / Operator", True),
        ("Founding Partner", True),
        ("Product Owner", False),
        ("Founding Engineer", False),
        ("Ownership Analyst", False),
        ("Foundersworth Manager", False),
    ],
)
def test_is_founder_title(title: str, founder: bool) -> None:
    assert is_founder_title(title) is founder


def test_title_key_expands_abbreviations() -> None:
    assert title_key("Sr. Mgr, Finance & Ops") == "senior manager finance and ops"


@pytest.mark.parametrize("shape", SHAPES)
def test_an_item_without_any_experience_is_not_a_job_loss(shape: str) -> None:
    # A partial scrape or a profile turned private: the whole list is gone, not just the current job.
    assert diff(shape, BASE, with_jobs(BASE)) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_removing_the_current_position_is_a_weaker_job_loss(shape: str) -> None:
    event = only(diff(shape, BASE, with_jobs(BASE, INTERN)))
    assert (event.type, event.identity, event.effective_date) == (SignalType.JOB_LOSS, "acme", None)
    assert event.confidence == pytest.approx(0.8)
    assert event.snippet.startswith("Experience removed: Analyst at Acme Corp")


@pytest.mark.parametrize("shape", SHAPES)
def test_employer_renamed_on_the_same_entry_gives_nothing(shape: str) -> None:
    renamed = with_jobs(BASE, Job("Analyst", "Acme Global Holdings", "2022-01"), INTERN)
    assert diff(shape, BASE, renamed) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_rehire_at_a_former_employer_is_new_employment(shape: str) -> None:
    before = with_jobs(BASE, Job("Analyst", "Acme Corp", "2022-01", "2026-01"), INTERN)
    after = with_jobs(BASE, Job("Intern Mentor", "Beta LLC", "2026-04"), *before.jobs)
    event = only(diff(shape, before, after))
    assert (event.type, event.identity) == (SignalType.NEW_EMPLOYMENT, "beta|intern mentor")


@pytest.mark.parametrize("shape", SHAPES)
def test_ending_one_of_two_current_jobs_is_not_a_job_loss(shape: str) -> None:
    before = with_jobs(BASE, ANALYST, Job("Tutor", "Night School", "2023-09"), INTERN)
    after = with_jobs(BASE, ANALYST, Job("Tutor", "Night School", "2023-09", "2026-04"), INTERN)
    assert diff(shape, before, after) == []


# --------------------------------------------------------------------------------------------------
# Cases found by replaying the bundled demo against its ground truth
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("Sales Associate", "Assistant Store Manager"), ("Assistant Store Manager", "Store Manager"),
     ("Associate Engineer", "Engineer"), ("Assistant Manager", "Manager")],
)
def test_ladder_orders_entry_level_and_assistant_titles(lower: str, higher: str) -> None:
    assert seniority_level(lower) < seniority_level(higher)


@pytest.mark.parametrize(("before", "after"), [("Fulfillment Associate", "Package Handler"),
                                               ("Teaching Assistant", "Tutor")])
def test_entry_level_head_nouns_are_lateral(before: str, after: str) -> None:
    assert seniority_level(before) == seniority_level(after)


def test_degree_finished_early_is_an_education_event() -> None:
    from upswing.observation.snapshot import Education

    school = "Arizona State University Online"
    degree = "Associate of Applied Science - AAS"
    before = ProfileSnapshot(actor="harvestapi", public_identifier="p",
                             education=(Education(school=school, degree=degree, start="2023", end="2028"),))
    after = ProfileSnapshot(actor="harvestapi", public_identifier="p",
                            education=(Education(school=school, degree=degree, start="2023", end="2026-09"),))
    events = diff_profiles(before, after, observed_at=datetime(2026, 10, 1, tzinfo=UTC),
                           previous_observed_at=datetime(2026, 9, 1, tzinfo=UTC))
    assert [(e.type, e.title, e.organization, e.effective_date) for e in events] == [
        (SignalType.EDUCATION, degree, school, date(2026, 9, 1))]
    # Seen again a month later with the same end date: nothing new.
    assert diff_profiles(after, after, observed_at=datetime(2026, 11, 1, tzinfo=UTC),
                         previous_observed_at=datetime(2026, 10, 1, tzinfo=UTC)) == []


# --------------------------------------------------------------------------------------------------
# Findings on real exports: entries that are not jobs, and items first listed late
# --------------------------------------------------------------------------------------------------


def test_dev_fusion_career_break_as_the_flattened_job_is_not_a_new_job() -> None:
    # dev_fusion's flat current job for a career break: a title, no company, no start date.
    before = dev_fusion_new(BASE)
    after = dev_fusion_new(with_jobs(BASE, ANALYST_ENDED, INTERN))
    after.update(jobTitle="Professional development", companyName=None, jobStartedOn=None, jobStillWorking=True)
    current = normalize_item(after)
    assert [(e.title, e.company, e.current) for e in current.experiences if e.current] == [
        ("Professional development", None, True)
    ]
    events = diff_profiles(
        normalize_item(before), current, observed_at=OBSERVED, previous_observed_at=PREVIOUS_OBSERVED
    )
    # The career break does not become a job, nor does it hide the one that ended.
    event = only(events)
    assert (event.type, event.organization) == (SignalType.JOB_LOSS, "Acme Corp")
    assert event.effective_date == date(2026, 3, 1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "entry",
    [
        Job("Career Break", "Travel", "2026-04"),
        Job("Open to Work", "Self-employed", "2026-04"),
        Job("Looking for new opportunities in finance", "Independent", "2026-04"),
        Job("Consultant", "Self-employed", "2026-04"),
        Job("Senior Analyst", "Globex", None),  # no start date
    ],
    ids=["career-break", "open-to-work", "looking-for", "self-employed", "undated"],
)
def test_entries_that_are_not_dated_jobs_give_no_job_event(shape: str, entry: Job) -> None:
    after = with_jobs(BASE, entry, ANALYST, INTERN)
    assert diff(shape, BASE, after) == []
    assert diff(shape, None, after) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_undated_entry_at_the_current_employer_is_not_a_promotion(shape: str) -> None:
    after = with_jobs(BASE, Job("Director of Finance", "Acme Corp", None), ANALYST_ENDED, INTERN)
    assert [e.type for e in diff(shape, BASE, after)] == []


@pytest.mark.parametrize("shape", SHAPES)
def test_a_career_break_after_the_job_ended_is_a_job_loss(shape: str) -> None:
    after = with_jobs(BASE, Job("Career Break", "Caregiving", "2026-04"), ANALYST_ENDED, INTERN)
    event = only(diff(shape, BASE, after))
    assert (event.type, event.identity, event.effective_date) == (SignalType.JOB_LOSS, "acme", date(2026, 3, 1))
    first = only(diff(shape, None, after))
    assert (first.type, first.identity) == (SignalType.JOB_LOSS, "acme")


# The November snapshot is the first to list what happened in June; the previous one was taken on 1 August,
# whose look-back window began on 3 May.
NOVEMBER = datetime(2026, 11, 15, 9, tzinfo=UTC)
AUGUST = datetime(2026, 8, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("shape", SHAPES)
def test_items_dated_after_the_previous_lookback_start_are_news(shape: str) -> None:
    after = replace(
        BASE,
        jobs=(Job("Controller", "Globex", "2026-06"), ANALYST_ENDED, INTERN),
        certs=(*BASE.certs, Cred("PMP", "PMI", "2026-06")),
        schools=(*BASE.schools, School("Wharton School", "Master of Business Administration - MBA", "Finance",
                                       "2024-09", "2026-06")),
    )
    events = diff(shape, BASE, after, observed_at=NOVEMBER, previous_observed_at=AUGUST)
    assert {(e.type, e.identity, e.effective_date) for e in events} == {
        (SignalType.NEW_EMPLOYMENT, "globex|controller", date(2026, 6, 1)),
        (SignalType.CERTIFICATION, "pmp|pmi", date(2026, 6, 1)),
        (SignalType.EDUCATION, "wharton school|master of business administration mba", date(2026, 6, 1)),
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_items_dated_before_the_previous_lookback_start_stay_stale(shape: str) -> None:
    after = replace(
        BASE,
        jobs=(Job("Controller", "Globex", "2026-04"), ANALYST_ENDED, INTERN),
        certs=(*BASE.certs, Cred("PMP", "PMI", "2026-04")),
        schools=(*BASE.schools, School("Wharton School", "MBA", "Finance", "2024-09", "2026-04")),
    )
    assert diff(shape, BASE, after, observed_at=NOVEMBER, previous_observed_at=AUGUST) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_staff_pharmacist_to_pharmacist_in_charge_is_a_promotion(shape: str) -> None:
    # Seen on real data: "staff" is a senior grade only in engineering titles, not a pharmacist's.
    staff = Job("Staff Pharmacist", "CVS Health", "2023-06")
    before = with_jobs(BASE, staff, INTERN)
    as_new_entry = with_jobs(
        BASE, Job("Pharmacist in Charge", "CVS Health", "2026-04"), replace(staff, end="2026-03"), INTERN
    )
    event = only(diff(shape, before, as_new_entry))
    assert (event.type, event.identity, event.effective_date) == (
        SignalType.PROMOTION,
        "cvs health|pharmacist in charge",
        date(2026, 4, 1),
    )
    assert event.details["previous_title"] == "Staff Pharmacist"
    as_edit = with_jobs(BASE, Job("Pharmacist in Charge", "CVS Health", "2023-06"), INTERN)
    assert only(diff(shape, before, as_edit)).type is SignalType.PROMOTION
    # And back down is no promotion.
    assert diff(shape, with_jobs(BASE, Job("Pharmacist in Charge", "CVS Health", "2023-06"), INTERN),
                with_jobs(BASE, staff, INTERN)) == []
