"""Actor adapters: shape detection, URL and date normalization, and each Actor's item → ProfileSnapshot.

The raw items below are hand-built after the field lists in shared/reference/external-apis.md §1a.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from upswing.observation.apify import (
    ActorShape,
    ShapeMismatchError,
    UnknownShapeError,
    detect_shape,
    missing_identity_message,
    normalize_item,
    normalize_linkedin_url,
    parse_partial_date,
    shape_for_actor,
)
from upswing.observation.snapshot import Credential, Education, Experience


def harvest_item() -> dict[str, Any]:
    return {
        "id": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "publicIdentifier": "Jane-Doe-42",
        "linkedinUrl": "https://www.linkedin.com/in/Jane-Doe-42/",
        "firstName": " Jane ",
        "lastName": "Doe",
        "headline": "Senior  Analyst\nat Acme",
        "about": "Numbers person.",
        "photo": "https://media.licdn.com/photo-1.jpg",
        "location": {
            "linkedinText": "Austin, Texas, United States",
            "countryCode": "us",
            "parsed": {"text": "Austin, Texas, United States", "city": "Austin", "state": "Texas"},
        },
        "registeredAt": "2014-03-01T00:00:00Z",
        "topSkills": "Excel • SQL",
        "connectionsCount": 500,
        "followerCount": 812,
        "openToWork": False,
        "hiring": False,
        "emails": ["Jane.Doe@Example.com"],
        "currentPosition": [{"companyName": "Acme Corp"}],
        "experience": [
            {
                "position": "Senior Analyst",
                "companyName": "Acme Corp",
                "companyLinkedinUrl": "https://www.linkedin.com/company/acme-corp/",
                "location": "Austin, Texas",
                "employmentType": "Full-time",
                "duration": "2 mos",
                "startDate": {"month": "Mar", "year": 2026, "text": "Mar 2026"},
                "endDate": {"text": "Present"},
                "skills": ["SQL"],
            },
            {
                "position": "Analyst",
                "companyName": "Acme Corp",
                "startDate": {"month": "Jan", "year": 2022, "text": "Jan 2022"},
                "endDate": {"month": "Feb", "year": 2026, "text": "Feb 2026"},
            },
        ],
        "education": [
            {
                "schoolName": "State University",
                "degree": "Bachelor of Science - BS",
                "fieldOfStudy": "Finance",
                "startDate": {"year": 2017, "text": "2017"},
                "endDate": {"year": 2021, "text": "2021"},
            }
        ],
        "certifications": [
            {"title": "CFA Level I", "issuedAt": "Issued Sep 2023", "issuedBy": "CFA Institute"},
        ],
        "honorsAndAwards": [
            {"title": "Dean's List", "issuedBy": "State University", "issuedAt": "Issued May 2020"},
        ],
        "skills": [{"name": "SQL", "endorsements": "12"}],
        "receivedRecommendations": [{"givenBy": "Bob", "description": "Great"}],
        "query": "jane-doe-42",
        "status": 200,
        "entityId": "123",
        "requestId": "abc",
    }


def dev_fusion_item(*, ui_experiences: bool = False) -> dict[str, Any]:
    if ui_experiences:
        experiences: list[dict[str, Any]] = [
            {
                "title": "Senior Analyst",
                "subtitle": "Acme Corp · Full-time",
                "caption": "Mar 2026 - Present · 2 mos",
                "metadata": "Austin, Texas",
                "logo": "https://media.licdn.com/logo.png",
                "subComponents": [{"description": [{"type": "textComponent", "text": "Models."}]}],
            },
            {
                "title": "Analyst",
                "subtitle": "Acme Corp · Full-time",
                "caption": "Jan 2022 - Feb 2026 · 4 yrs 2 mos",
                "metadata": "Austin, Texas",
                "subComponents": [],
            },
        ]
    else:
        experiences = [
            {
                "companyId": "1234",
                "companyUrn": "urn:li:fsd_company:1234",
                "companyLink1": "https://www.linkedin.com/company/acme-corp/",
                "companyName": "Acme Corp",
                "companySize": "1001-5000",
                "title": "Senior Analyst",
                "jobStartedOn": "2026-03",
                "jobEndedOn": None,
                "jobLocation": "Austin, Texas",
                "jobStillWorking": True,
                "employmentType": "Full-time",
            },
            {
                "companyName": "Acme Corp",
                "title": "Analyst",
                "jobStartedOn": "2022-01",
                "jobEndedOn": "2026-02",
                "jobStillWorking": False,
            },
        ]
    return {
        "linkedinUrl": "https://www.linkedin.com/in/ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "linkedinPublicUrl": "https://uk.linkedin.com/in/jane-doe-42",
        "publicIdentifier": "jane-doe-42",
        "linkedinId": "998877",
        "urn": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "firstName": "Jane",
        "lastName": "Doe",
        "fullName": "Jane Doe",
        "headline": "Senior Analyst at Acme",
        "connections": 500,
        "followers": 812,
        "email": "JANE.DOE@example.com",
        "jobTitle": "Senior Analyst",
        "jobStartedOn": "2026-03",
        "jobLocation": "Austin, Texas",
        "jobStillWorking": True,
        "companyName": "Acme Corp",
        "companyIndustry": "Financial Services",
        "currentJobDuration": "2 mos",
        "addressWithCountry": "Austin, Texas, United States",
        "addressCountryOnly": "United States",
        "profilePic": "https://media.licdn.com/p.jpg",
        "isPremium": False,
        "isJobSeeker": False,
        "experiences": experiences,
        "educations": [
            {
                "title": "State University",
                "subtitle": "Bachelor of Science - BS, Finance",
                "caption": "2017 - 2021",
            }
        ],
        "licenseAndCertificates": [
            {
                "title": "CFA Level I",
                "subtitle": "CFA Institute",
                "caption": "Issued Sep 2023",
                "metadata": "Credential ID 42",
            }
        ],
        "honorsAndAwards": [{"title": "Dean's List", "subtitle": "Issued by State University · May 2020"}],
        "skills": [{"title": "SQL"}],
        "updates": [{"postText": "hello"}],
    }


def apimaestro_item() -> dict[str, Any]:
    return {
        "basic_info": {
            "fullname": "Jane Doe",
            "first_name": "Jane",
            "last_name": "Doe",
            "headline": "Senior Analyst at Acme",
            "public_identifier": "jane-doe-42",
            "profile_url": "https://linkedin.com/in/jane-doe-42",
            "profile_picture_url": "https://media.licdn.com/p.jpg",
            "about": "Numbers person.",
            "location": {
                "country": "United States",
                "city": "Austin",
                "full": "Austin, Texas, United States",
                "country_code": "US",
            },
            "current_company": "Acme Corp",
            "follower_count": 812,
            "connection_count": 500,
            "open_to_work": False,
            "top_skills": ["SQL"],
            "email": None,
            "urn": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        },
        "experience": [
            {
                "title": "Senior Analyst",
                "company": "Acme Corp",
                "location": "Austin, Texas",
                "duration": "Mar 2026 - Present · 2 mos",
                "start_date": {"year": 2026, "month": "Mar"},
                "end_date": None,
                "is_current": True,
                "company_linkedin_url": "https://www.linkedin.com/company/acme-corp/",
                "employment_type": "Full-time",
            },
            {
                "title": "Analyst",
                "company": "Acme Corp",
                "start_date": {"year": 2022, "month": 1},
                "end_date": {"year": 2026, "month": 2},
                "is_current": False,
            },
        ],
        "education": [
            {
                "school": "State University",
                "degree": "Bachelor of Science - BS",
                "field_of_study": "Finance",
                "start_date": {"year": 2017},
                "end_date": {"year": 2021},
            }
        ],
        "certifications": [
            {"name": "CFA Level I", "issuer": "CFA Institute", "issued_date": "Issued Sep 2023"}
        ],
        "languages": [{"language": "English", "proficiency": "Native"}],
    }


EXPECTED_EXPERIENCES = (
    ("Senior Analyst", "Acme Corp", "2026-03", None, True),
    ("Analyst", "Acme Corp", "2022-01", "2026-02", False),
)


def _jobs(experiences: tuple[Experience, ...]) -> tuple[tuple[Any, ...], ...]:
    return tuple((e.title, e.company, e.start, e.end, e.current) for e in experiences)


# --------------------------------------------------------------------------------------------------
# Shape detection
# --------------------------------------------------------------------------------------------------


def test_detects_each_shape() -> None:
    assert detect_shape(harvest_item()) is ActorShape.HARVESTAPI
    assert detect_shape(dev_fusion_item()) is ActorShape.DEV_FUSION
    assert detect_shape(dev_fusion_item(ui_experiences=True)) is ActorShape.DEV_FUSION
    assert detect_shape(apimaestro_item()) is ActorShape.APIMAESTRO


def test_detects_and_unwraps_harvestapi_element_wrapper() -> None:
    inner = harvest_item()
    for key in ("query", "status", "entityId", "requestId"):
        inner.pop(key)
    wrapped = {"element": inner, "query": "jane-doe-42", "status": 200, "entityId": "123"}
    assert detect_shape(wrapped) is ActorShape.HARVESTAPI
    snapshot = normalize_item(wrapped)
    assert snapshot.public_identifier == "jane-doe-42"
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert snapshot.content_hash() == normalize_item(harvest_item()).content_hash()


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"foo": 1, "bar": 2},
        {"publicIdentifier": "jane", "linkedinUrl": "https://www.linkedin.com/in/jane"},
    ],
)
def test_unknown_shape_raises_with_clear_message(item: dict[str, Any]) -> None:
    with pytest.raises(UnknownShapeError, match="unrecognized LinkedIn profile item"):
        detect_shape(item)
    with pytest.raises(ValueError):
        normalize_item(item)


def test_non_mapping_item_is_rejected() -> None:
    with pytest.raises(UnknownShapeError, match="expected a JSON object"):
        detect_shape(["not", "a", "dict"])  # type: ignore[arg-type]


def test_explicit_shape_skips_detection() -> None:
    snapshot = normalize_item({"basic_info": {"public_identifier": "x-y"}}, ActorShape.APIMAESTRO)
    assert snapshot.actor == "apimaestro"
    assert snapshot.linkedin_url == "https://www.linkedin.com/in/x-y"


def test_shape_for_actor_ids() -> None:
    assert shape_for_actor("harvestapi/linkedin-profile-scraper") is ActorShape.HARVESTAPI
    assert shape_for_actor("dev_fusion~Linkedin-Profile-Scraper") is ActorShape.DEV_FUSION
    assert shape_for_actor("apimaestro/linkedin-profile-detail") is ActorShape.APIMAESTRO
    assert shape_for_actor("curious_coder/linkedin-profile-scraper") is None


# --------------------------------------------------------------------------------------------------
# URLs and dates
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "public_id"),
    [
        ("https://www.linkedin.com/in/jane-doe", "jane-doe"),
        ("https://www.linkedin.com/in/Jane-Doe/", "jane-doe"),
        ("http://www.linkedin.com/in/jane-doe", "jane-doe"),
        ("https://linkedin.com/in/jane-doe", "jane-doe"),
        ("linkedin.com/in/jane-doe", "jane-doe"),
        ("www.linkedin.com/in/jane-doe/", "jane-doe"),
        ("https://uk.linkedin.com/in/jane-doe", "jane-doe"),
        ("https://de.linkedin.com/in/jane-doe?originalSubdomain=de", "jane-doe"),
        ("https://www.linkedin.com/in/jane-doe?trk=public_profile&x=1#experience", "jane-doe"),
        ("https://www.linkedin.com/in/jane-doe/details/experience/", "jane-doe"),
        ("  HTTPS://WWW.LINKEDIN.COM/IN/JANE-DOE  ", "jane-doe"),
        ("https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller-4b1a", "jürgen-müller-4b1a"),
        ("https://www.linkedin.com/in/J%C3%BCrgen", "jürgen"),
    ],
)
def test_normalize_linkedin_url(url: str, public_id: str) -> None:
    assert normalize_linkedin_url(url) == (f"https://www.linkedin.com/in/{public_id}", public_id)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/company/acme-corp/",
        "https://www.linkedin.com/in/",
        "https://example.com/in/jane-doe",
        "https://notlinkedin.com/in/jane-doe",
        "jane-doe",
        "",
        "https://www.linkedin.com/in/ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
    ],
)
def test_normalize_linkedin_url_rejects_non_profiles(url: str) -> None:
    assert normalize_linkedin_url(url) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"month": "Jan", "year": 2024, "text": "Jan 2024"}, "2024-01"),
        ({"year": 2021, "month": 1}, "2021-01"),
        ({"year": 2021, "month": "9"}, "2021-09"),
        ({"year": 2019}, "2019"),
        ({"year": 2019, "text": "2019"}, "2019"),
        ({"text": "Feb 2020"}, "2020-02"),
        ({"text": "Present"}, None),
        ({"year": None, "month": None}, None),
        ({}, None),
        (None, None),
        ("2021-01", "2021-01"),
        ("2023", "2023"),
        (2023, "2023"),
        ("Issued Sep 2023", "2023-09"),
        ("Issued Sep 2023 · Expires Sep 2026", "2023-09"),
        ("September 2021", "2021-09"),
        ("Sept. 2021", "2021-09"),
        ("2021-01-15", "2021-01"),
        ("01/2021", "2021-01"),
        # Month-year in every order and separator the Actors use, and a bare year.
        ("12-2025", "2025-12"),
        ("12/2025", "2025-12"),
        ("2025-12", "2025-12"),
        ("Dec 2025", "2025-12"),
        ("December 2025", "2025-12"),
        ("2025/12", "2025-12"),
        ("12.2025", "2025-12"),
        ("2025", "2025"),
        ("13-2025", "2025"),  # no month 13: the year alone
        ("Present", None),
        ("", None),
        ("no date here", None),
    ],
)
def test_parse_partial_date(value: Any, expected: str | None) -> None:
    assert parse_partial_date(value) == expected


# --------------------------------------------------------------------------------------------------
# Adapters
# --------------------------------------------------------------------------------------------------


def test_harvestapi_item() -> None:
    snapshot = normalize_item(harvest_item())
    assert snapshot.actor == "harvestapi"
    assert snapshot.public_identifier == "jane-doe-42"
    assert snapshot.linkedin_url == "https://www.linkedin.com/in/jane-doe-42"
    assert snapshot.urn == "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP"
    assert (snapshot.first_name, snapshot.last_name, snapshot.full_name) == ("Jane", "Doe", "Jane Doe")
    assert snapshot.headline == "Senior Analyst at Acme"
    assert snapshot.location == "Austin, Texas, United States"
    assert (snapshot.city, snapshot.state, snapshot.country_code) == ("Austin", "Texas", "US")
    assert snapshot.emails == ("jane.doe@example.com",)
    assert snapshot.open_to_work is False
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    first = snapshot.experiences[0]
    assert first.company_linkedin_url == "https://www.linkedin.com/company/acme-corp/"
    assert (first.location, first.employment_type) == ("Austin, Texas", "Full-time")
    assert snapshot.education == (
        Education(
            school="State University",
            degree="Bachelor of Science - BS",
            field_of_study="Finance",
            start="2017",
            end="2021",
        ),
    )
    assert snapshot.certifications == (
        Credential(name="CFA Level I", issuer="CFA Institute", issued="2023-09"),
    )
    assert snapshot.awards == (Credential(name="Dean's List", issuer="State University", issued="2020-05"),)


def test_harvestapi_older_education_fields() -> None:
    item = harvest_item()
    item["education"] = [
        {"title": "State University", "link": "https://x", "degree": "BS", "period": "2017 - 2021"}
    ]
    snapshot = normalize_item(item)
    assert snapshot.education == (
        Education(school="State University", degree="BS", start="2017", end="2021"),
    )


@pytest.mark.parametrize("ui_experiences", [False, True], ids=["new-form", "ui-form"])
def test_dev_fusion_item(ui_experiences: bool) -> None:
    snapshot = normalize_item(dev_fusion_item(ui_experiences=ui_experiences))
    assert snapshot.actor == "dev_fusion"
    # linkedinUrl carries the opaque member id; the public URL wins.
    assert snapshot.public_identifier == "jane-doe-42"
    assert snapshot.linkedin_url == "https://www.linkedin.com/in/jane-doe-42"
    assert snapshot.urn == "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP"
    assert snapshot.full_name == "Jane Doe"
    assert snapshot.location == "Austin, Texas, United States"
    assert snapshot.emails == ("jane.doe@example.com",)
    assert snapshot.open_to_work is False
    # The flattened current job is already in the list, so it is not added twice.
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert snapshot.experiences[0].employment_type == "Full-time"
    assert snapshot.experiences[0].location == "Austin, Texas"
    assert snapshot.education == (
        Education(
            school="State University",
            degree="Bachelor of Science - BS",
            field_of_study="Finance",
            start="2017",
            end="2021",
        ),
    )
    assert snapshot.certifications == (
        Credential(name="CFA Level I", issuer="CFA Institute", issued="2023-09"),
    )
    assert snapshot.awards == (Credential(name="Dean's List", issuer="State University", issued="2020-05"),)


def test_dev_fusion_flattened_current_job_added_when_missing() -> None:
    item = dev_fusion_item()
    item["experiences"] = item["experiences"][1:]  # only the old Analyst role is listed
    snapshot = normalize_item(item)
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    item["experiences"] = []
    assert _jobs(normalize_item(item).experiences) == EXPECTED_EXPERIENCES[:1]


def test_dev_fusion_flattened_job_not_added_when_not_still_working() -> None:
    item = dev_fusion_item()
    item["experiences"] = []
    item["jobStillWorking"] = False
    assert normalize_item(item).experiences == ()


def test_dev_fusion_ui_grouped_roles_at_one_company() -> None:
    item = dev_fusion_item(ui_experiences=True)
    item["experiences"] = [
        {
            "title": "Acme Corp",
            "subtitle": "Full-time · 4 yrs 4 mos",
            "caption": "Austin, Texas",
            "subComponents": [
                {"title": "Senior Analyst", "caption": "Mar 2026 - Present · 2 mos", "description": []},
                {"title": "Analyst", "caption": "Jan 2022 - Feb 2026 · 4 yrs 2 mos", "description": []},
            ],
        }
    ]
    snapshot = normalize_item(item)
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert {e.employment_type for e in snapshot.experiences} == {"Full-time"}


def test_dev_fusion_education_period_object() -> None:
    item = dev_fusion_item()
    item["educations"] = [
        {
            "title": "State University",
            "subtitle": "Bachelor of Science - BS",
            "period": {"startedOn": {"year": 2017}, "endedOn": {"year": 2021}},
        }
    ]
    snapshot = normalize_item(item)
    assert snapshot.education == (
        Education(school="State University", degree="Bachelor of Science - BS", start="2017", end="2021"),
    )


def test_apimaestro_item() -> None:
    snapshot = normalize_item(apimaestro_item())
    assert snapshot.actor == "apimaestro"
    assert snapshot.public_identifier == "jane-doe-42"
    assert snapshot.linkedin_url == "https://www.linkedin.com/in/jane-doe-42"
    assert (snapshot.first_name, snapshot.full_name, snapshot.city, snapshot.country_code) == (
        "Jane",
        "Jane Doe",
        "Austin",
        "US",
    )
    assert snapshot.emails == ()
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert snapshot.certifications == (
        Credential(name="CFA Level I", issuer="CFA Institute", issued="2023-09"),
    )
    assert snapshot.education[0].degree == "Bachelor of Science - BS"
    assert snapshot.education[0].end == "2021"


@pytest.mark.parametrize(
    ("end_date", "is_current", "current", "end"),
    [
        (None, True, True, None),
        ({}, True, True, None),
        ({"year": None}, None, True, None),
        ({"year": 2025, "month": 6}, True, False, "2025-06"),  # an explicit end date wins over the flag
        ({"year": 2025, "month": 6}, False, False, "2025-06"),
        (None, False, False, None),  # no end and the Actor says it is over
    ],
)
def test_current_flag_rules(end_date: Any, is_current: bool | None, current: bool, end: str | None) -> None:
    item = apimaestro_item()
    item["experience"] = [
        {"title": "Analyst", "company": "Acme", "start_date": {"year": 2022}, "end_date": end_date}
        | ({"is_current": is_current} if is_current is not None else {})
    ]
    (exp,) = normalize_item(item).experiences
    assert (exp.current, exp.end) == (current, end)


def test_harvest_past_end_date_is_not_current_present_is() -> None:
    item = harvest_item()
    item["experience"] = [
        {"position": "A", "companyName": "X", "startDate": {"year": 2020}, "endDate": None},
        {"position": "B", "companyName": "Y", "startDate": {"year": 2019}, "endDate": {"text": "Present"}},
        {
            "position": "C",
            "companyName": "Z",
            "startDate": {"year": 2018},
            "endDate": {"year": 2019, "text": "2019"},
        },
    ]
    snapshot = normalize_item(item)
    assert [(e.title, e.current, e.end) for e in snapshot.experiences] == [
        ("A", True, None),
        ("B", True, None),
        ("C", False, "2019"),
    ]


def test_noise_is_not_copied_and_does_not_change_hash() -> None:
    base = normalize_item(harvest_item())
    noisy_raw = harvest_item()
    noisy_raw.update(
        followerCount=9999,
        connectionsCount=12,
        photo="https://media.licdn.com/photo-2.jpg",
        topSkills="Python",
        skills=[{"name": "Python"}],
        receivedRecommendations=[],
        requestId="other",
    )
    noisy_raw["experience"] = list(reversed(noisy_raw["experience"]))
    noisy_raw["experience"][0]["position"] = "  Analyst "
    noisy_raw["experience"][1]["companyName"] = "Acme\u00a0 Corp"
    noisy = normalize_item(noisy_raw)
    assert noisy.content_hash() == base.content_hash()
    dumped = base.model_dump()
    for noise in ("photo", "followerCount", "connectionsCount", "skills", "receivedRecommendations"):
        assert noise not in dumped


def test_empty_strings_become_none() -> None:
    item = harvest_item()
    item["headline"] = "   "
    item["experience"][0]["location"] = ""
    snapshot = normalize_item(item)
    assert snapshot.headline is None
    assert snapshot.experiences[0].location is None


def test_malformed_fields_are_tolerated() -> None:
    item = copy.deepcopy(harvest_item())
    item["experience"] = [None, "junk", {"position": None, "companyName": None}, {"position": "Analyst"}]
    item["education"] = "not a list"
    item["location"] = {"parsed": None}
    item["certifications"] = [{"title": ""}, {"title": "PMP", "issuedAt": {"text": "garbage"}}]
    snapshot = normalize_item(item, ActorShape.HARVESTAPI)
    assert _jobs(snapshot.experiences) == (("Analyst", None, None, None, True),)
    assert snapshot.education == ()
    assert snapshot.certifications == (Credential(name="PMP"),)


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("Jan 2020 - Present · 6 yrs 5 mos", ("2020-01", None, True)),
        ("Jan 2020 \u2013 Mar 2022 · 2 yrs 3 mos", ("2020-01", "2022-03", False)),
        ("2016 - 2020 · 4 yrs", ("2016", "2020", False)),
        ("Mar 2021 · 1 mo", ("2021-03", "2021-03", False)),  # began and ended in the same month
        ("", (None, None, True)),  # no dates at all: no end, so current
    ],
)
def test_dev_fusion_ui_caption_ranges(caption: str, expected: tuple[str | None, str | None, bool]) -> None:
    item = dev_fusion_item(ui_experiences=True)
    item.update(jobTitle=None, companyName=None)
    item["experiences"] = [{"title": "Analyst", "subtitle": "Acme Corp · Full-time", "caption": caption}]
    (exp,) = normalize_item(item).experiences
    assert (exp.start, exp.end, exp.current) == expected


@pytest.mark.parametrize(
    ("field", "public_id"),
    [
        ("Jane-Doe-42", "jane-doe-42"),
        ("jane-doe-42/", "jane-doe-42"),
        ("j%C3%BCrgen", "jürgen"),
        ("  ", None),
    ],
)
def test_public_identifier_field_is_normalized(field: str, public_id: str | None) -> None:
    item = harvest_item()
    item["publicIdentifier"] = field
    item["linkedinUrl"] = None
    snapshot = normalize_item(item)
    assert snapshot.public_identifier == public_id
    assert snapshot.linkedin_url == (f"https://www.linkedin.com/in/{public_id}" if public_id else None)


def test_vanity_id_that_looks_like_a_member_id_is_kept() -> None:
    assert normalize_linkedin_url("https://www.linkedin.com/in/ACoolGuyWithAVeryLongName") == (
        "https://www.linkedin.com/in/acoolguywithaverylongname",
        "acoolguywithaverylongname",
    )


# --------------------------------------------------------------------------------------------------
# Findings on real exports
# --------------------------------------------------------------------------------------------------


def test_dev_fusion_month_first_start_keeps_its_month() -> None:
    item = dev_fusion_item()
    item["experiences"] = []
    item.update(jobTitle="Controller", companyName="Globex", jobStartedOn="12-2025")
    (exp,) = normalize_item(item).experiences
    assert (exp.title, exp.company, exp.start, exp.current) == ("Controller", "Globex", "2025-12", True)


@pytest.mark.parametrize("subtitle", ["1 yr 5 mos", "3 mos", "2 yrs", "less than a year", "Full-time · 1 yr 5 mos"])
def test_grouped_entry_without_roles_reads_its_title_as_the_company(subtitle: str) -> None:
    item = dev_fusion_item(ui_experiences=True)
    item.update(jobTitle=None, companyName=None)
    item["experiences"] = [
        {"title": "GE Digital", "subtitle": subtitle, "caption": "San Ramon, California", "breakdown": True}
    ]
    (exp,) = normalize_item(item).experiences
    assert (exp.title, exp.company) == (None, "GE Digital")


def test_a_duration_is_never_a_company_even_without_the_breakdown_flag() -> None:
    item = dev_fusion_item(ui_experiences=True)
    item.update(jobTitle=None, companyName=None)
    item["experiences"] = [
        {"title": "Analyst", "subtitle": "Acme Corp · Full-time", "caption": "Jan 2022 - Feb 2026 · 4 yrs 2 mos"},
        {"title": "GE Digital", "subtitle": "1 yr 5 mos", "caption": "San Ramon, California"},
    ]
    assert [(e.title, e.company) for e in normalize_item(item).experiences] == [
        ("Analyst", "Acme Corp"),
        (None, "GE Digital"),
    ]


def test_a_duration_in_the_company_field_of_any_shape_is_not_a_company() -> None:
    item = harvest_item()
    item["experience"] = [{"position": "GE Digital", "companyName": "1 yr 5 mos", "duration": "1 yr 5 mos"}]
    assert [(e.title, e.company) for e in normalize_item(item).experiences] == [(None, "GE Digital")]


def test_dev_fusion_address_fills_city_state_and_country() -> None:
    item = dev_fusion_item()
    item.update(addressWithoutCountry="Austin, Texas", addressCountryOnly="United States")
    snapshot = normalize_item(item)
    assert (snapshot.city, snapshot.state, snapshot.country_code) == ("Austin", "Texas", "US")
    assert snapshot.location == "Austin, Texas, United States"
    # Only the address with its country: its last part is the country.
    del item["addressWithoutCountry"], item["addressCountryOnly"]
    item["addressWithCountry"] = "Mississauga, Ontario, Canada"
    snapshot = normalize_item(item)
    assert (snapshot.city, snapshot.state, snapshot.country_code) == ("Mississauga", "Ontario", "CA")
    # A single place name could be a city or a region: left to the location text.
    item["addressWithCountry"] = "Texas, United States"
    snapshot = normalize_item(item)
    assert (snapshot.city, snapshot.state, snapshot.country_code) == (None, None, "US")


def test_apimaestro_city_with_its_region_is_split() -> None:
    item = apimaestro_item()
    item["basic_info"]["location"] = {
        "country": "Canada",
        "city": "Mississauga, Ontario",
        "full": "Mississauga, Ontario, Canada",
        "country_code": "CA",
    }
    snapshot = normalize_item(item)
    assert (snapshot.city, snapshot.state, snapshot.country_code) == ("Mississauga", "Ontario", "CA")
    # A plain city takes its region from the full text.
    assert (normalize_item(apimaestro_item()).city, normalize_item(apimaestro_item()).state) == ("Austin", "Texas")


def test_apimaestro_current_company_wins_over_the_split_experience_name() -> None:
    item = apimaestro_item()
    item["basic_info"]["current_company"] = "Zebra Robotics"
    item["experience"][0]["company"] = "Zebra"
    item["experience"][1]["company"] = "Zebra"
    snapshot = normalize_item(item)
    assert [(e.title, e.company, e.current) for e in snapshot.experiences] == [
        ("Senior Analyst", "Zebra Robotics", True),
        ("Analyst", "Zebra", False),  # a past role keeps its own name
    ]


def test_apimaestro_current_company_goes_to_the_matching_one_of_two_current_jobs() -> None:
    item = apimaestro_item()
    item["basic_info"]["current_company"] = "Zebra Robotics"
    item["experience"] = [
        {"title": "Bookkeeper", "company": "Corner Shop", "start_date": {"year": 2025}, "is_current": True},
        {"title": "Engineer", "company": "Zebra", "start_date": {"year": 2024}, "is_current": True},
    ]
    assert [e.company for e in normalize_item(item).experiences] == ["Corner Shop", "Zebra Robotics"]


# A RapidAPI "LinkedIn Data API" profile: dates are {year, month, day}, all zeros when absent.
def rapidapi_item() -> dict[str, Any]:
    return {
        "id": 123456789,
        "urn": "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
        "username": "jane-doe-42",
        "firstName": "Jane",
        "lastName": "Doe",
        "isCreator": False,
        "isOpenToWork": True,
        "isHiring": False,
        "profilePicture": "https://media.licdn.com/p.jpg",
        "summary": "Numbers person.",
        "headline": "Senior Analyst at Acme",
        "geo": {
            "country": "United States",
            "city": "Austin, Texas",
            "full": "Austin, Texas, United States",
            "countryCode": "us",
        },
        "languages": [{"name": "English", "proficiency": "NATIVE_OR_BILINGUAL"}],
        "educations": [
            {
                "start": {"year": 2017, "month": 0, "day": 0},
                "end": {"year": 2021, "month": 0, "day": 0},
                "fieldOfStudy": "Finance",
                "degree": "Bachelor of Science - BS",
                "grade": "",
                "schoolName": "State University",
                "description": "",
                "activities": "",
                "url": "https://www.linkedin.com/school/state-university/",
                "schoolId": "4321",
            }
        ],
        "position": [
            {
                "companyId": 1234,
                "companyName": "Acme Corp",
                "companyUsername": "acme-corp",
                "companyURL": "https://www.linkedin.com/company/acme-corp/",
                "companyIndustry": "Financial Services",
                "companyStaffCountRange": "1001 - 5000",
                "title": "Senior Analyst",
                "location": "Austin, Texas",
                "description": "",
                "employmentType": "Full-time",
                "start": {"year": 2026, "month": 3, "day": 0},
                "end": {"year": 0, "month": 0, "day": 0},
            },
            {
                "companyId": 1234,
                "companyName": "Acme Corp",
                "title": "Analyst",
                "start": {"year": 2022, "month": 1, "day": 0},
                "end": {"year": 2026, "month": 2, "day": 0},
            },
        ],
        "skills": [{"name": "SQL", "passedSkillAssessment": False}],
        "certifications": [
            {
                "name": "CFA Level I",
                "start": {"year": 2023, "month": 9, "day": 0},
                "end": {"year": 0, "month": 0, "day": 0},
                "authority": "CFA Institute",
                "company": {"name": "CFA Institute", "universalName": "cfa-institute"},
            }
        ],
        "honors": [
            {"title": "Dean's List", "description": "", "issuer": "State University",
             "issuedOn": {"year": 2020, "month": 5, "day": 0}},
        ],
    }


# A Proxycurl person profile: snake_case, dates {day, month, year}, ends_at null while current.
def proxycurl_item() -> dict[str, Any]:
    return {
        "public_identifier": "jane-doe-42",
        "profile_pic_url": "https://media.licdn.com/p.jpg",
        "background_cover_image_url": None,
        "first_name": "Jane",
        "last_name": "Doe",
        "full_name": "Jane Doe",
        "follower_count": 812,
        "occupation": "Senior Analyst at Acme Corp",
        "headline": "Senior Analyst at Acme",
        "summary": "Numbers person.",
        "country": "US",
        "country_full_name": "United States of America",
        "city": "Austin",
        "state": "Texas",
        "experiences": [
            {
                "starts_at": {"day": 1, "month": 3, "year": 2026},
                "ends_at": None,
                "company": "Acme Corp",
                "company_linkedin_profile_url": "https://www.linkedin.com/company/acme-corp",
                "title": "Senior Analyst",
                "description": None,
                "location": "Austin, Texas",
                "logo_url": None,
            },
            {
                "starts_at": {"day": 1, "month": 1, "year": 2022},
                "ends_at": {"day": 28, "month": 2, "year": 2026},
                "company": "Acme Corp",
                "company_linkedin_profile_url": "https://www.linkedin.com/company/acme-corp",
                "title": "Analyst",
            },
        ],
        "education": [
            {
                "starts_at": {"day": 1, "month": 9, "year": 2017},
                "ends_at": {"day": 31, "month": 5, "year": 2021},
                "field_of_study": "Finance",
                "degree_name": "Bachelor of Science - BS",
                "school": "State University",
                "school_linkedin_profile_url": None,
                "grade": None,
            }
        ],
        "languages": ["English"],
        "accomplishment_organisations": [],
        "accomplishment_publications": [],
        "accomplishment_honors_awards": [
            {"title": "Dean's List", "issuer": "State University", "issued_on": {"day": 1, "month": 5, "year": 2020},
             "description": None},
        ],
        "accomplishment_patents": [],
        "accomplishment_courses": [],
        "accomplishment_projects": [],
        "accomplishment_test_scores": [],
        "volunteer_work": [],
        "certifications": [
            {"starts_at": {"day": 1, "month": 9, "year": 2023}, "ends_at": None, "name": "CFA Level I",
             "license_number": None, "display_source": None, "authority": "CFA Institute", "url": None},
        ],
        "connections": 500,
        "people_also_viewed": [],
        "recommendations": [],
        "similarly_named_profiles": [],
    }


def test_rapidapi_profile() -> None:
    item = rapidapi_item()
    assert detect_shape(item) is ActorShape.RAPIDAPI
    snapshot = normalize_item(item)
    assert snapshot.actor == "rapidapi"
    assert (snapshot.public_identifier, snapshot.linkedin_url, snapshot.urn) == (
        "jane-doe-42",
        "https://www.linkedin.com/in/jane-doe-42",
        "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP",
    )
    assert (snapshot.full_name, snapshot.headline, snapshot.open_to_work) == (
        "Jane Doe",
        "Senior Analyst at Acme",
        True,
    )
    assert (snapshot.location, snapshot.city, snapshot.state, snapshot.country_code) == (
        "Austin, Texas, United States",
        "Austin",
        "Texas",
        "US",
    )
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert snapshot.experiences[0].company_linkedin_url == "https://www.linkedin.com/company/acme-corp/"
    assert snapshot.education == (
        Education(
            school="State University", degree="Bachelor of Science - BS", field_of_study="Finance",
            start="2017", end="2021",
        ),
    )
    assert snapshot.certifications == (Credential(name="CFA Level I", issuer="CFA Institute", issued="2023-09"),)
    assert snapshot.awards == (Credential(name="Dean's List", issuer="State University", issued="2020-05"),)


def test_proxycurl_profile() -> None:
    item = proxycurl_item()
    assert detect_shape(item) is ActorShape.PROXYCURL
    snapshot = normalize_item(item)
    assert snapshot.actor == "proxycurl"
    assert (snapshot.public_identifier, snapshot.linkedin_url) == (
        "jane-doe-42",
        "https://www.linkedin.com/in/jane-doe-42",
    )
    assert (snapshot.first_name, snapshot.full_name) == ("Jane", "Jane Doe")
    assert snapshot.headline == "Senior Analyst at Acme"
    assert (snapshot.location, snapshot.city, snapshot.state, snapshot.country_code) == (
        "Austin, Texas, United States of America",
        "Austin",
        "Texas",
        "US",
    )
    assert _jobs(snapshot.experiences) == EXPECTED_EXPERIENCES
    assert snapshot.education == (
        Education(
            school="State University", degree="Bachelor of Science - BS", field_of_study="Finance",
            start="2017-09", end="2021-05",
        ),
    )
    assert snapshot.certifications == (Credential(name="CFA Level I", issuer="CFA Institute", issued="2023-09"),)
    assert snapshot.awards == (Credential(name="Dean's List", issuer="State University", issued="2020-05"),)


@pytest.mark.parametrize(
    ("make", "named", "expected", "found", "closest"),
    [
        (harvest_item, ActorShape.APIMAESTRO, "basic_info", "found none of them", "harvestapi"),
        (harvest_item, ActorShape.DEV_FUSION, "experiences", "found none of them", "harvestapi"),
        (dev_fusion_item, ActorShape.HARVESTAPI, "currentPosition", "found none of them", "dev_fusion"),
        # A key it shares with the named shape does not make it fit: its own keys outnumber it.
        (rapidapi_item, ActorShape.HARVESTAPI, "currentPosition", "found only certifications", "rapidapi"),
        (proxycurl_item, ActorShape.DEV_FUSION, "jobTitle", "found only connections, experiences", "proxycurl"),
        (apimaestro_item, ActorShape.RAPIDAPI, "username", "found none of them", "apimaestro"),
    ],
)
def test_a_named_shape_that_does_not_fit_is_refused(
    make: Callable[[], dict[str, Any]], named: ActorShape, expected: str, found: str, closest: str
) -> None:
    with pytest.raises(ShapeMismatchError) as refused:
        normalize_item(make(), named)
    message = str(refused.value)
    assert message.startswith(f"item is not {named.value} output: expected {named.value} fields (")
    assert expected in message and found in message
    assert f"it looks like {closest} output (" in message


def test_a_named_shape_that_fits_is_read_as_named() -> None:
    for make, shape in [
        (harvest_item, ActorShape.HARVESTAPI),
        (dev_fusion_item, ActorShape.DEV_FUSION),
        (apimaestro_item, ActorShape.APIMAESTRO),
        (rapidapi_item, ActorShape.RAPIDAPI),
        (proxycurl_item, ActorShape.PROXYCURL),
    ]:
        assert normalize_item(make(), shape).actor == shape.value


def test_rapidapi_item_is_no_longer_outvoted_into_harvestapi() -> None:
    # The keys it shares with harvestapi (certifications, location-like fields) must not win over its own.
    item = rapidapi_item()
    item.update(emails=[], openToWork=True)
    assert detect_shape(item) is ActorShape.RAPIDAPI
    assert normalize_item(item).urn == "ACoAAB1a2b3c4d5e6f7g8h9i0jKLMNOP"


def test_an_ambiguous_item_names_the_shapes_it_fits() -> None:
    with pytest.raises(UnknownShapeError) as unknown:
        detect_shape({"certifications": [], "educations": [], "firstName": "Jane"})
    message = str(unknown.value)
    assert "harvestapi (certifications)" in message and "dev_fusion (educations)" in message
    assert "equally well" in message and "certifications, educations, firstName" in message


def test_missing_identity_names_the_shape_and_where_it_looked() -> None:
    item = rapidapi_item()
    del item["username"], item["urn"]
    snapshot = normalize_item(item)
    assert (snapshot.public_identifier, snapshot.urn) == (None, None)
    message = missing_identity_message(item, ActorShape.RAPIDAPI, named=False)
    assert message.startswith("item has no public identifier, URN or e-mail: read as rapidapi (recognised by ")
    assert "geo" in message and "(username, url, urn, email) are missing or empty" in message
    assert "as named by the caller" in missing_identity_message(item, ActorShape.RAPIDAPI, named=True)
