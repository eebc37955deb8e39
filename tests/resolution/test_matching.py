"""Pure record comparison: names (nicknames, swaps, typos, initials, titles), places, histories, and the decision."""

from __future__ import annotations

import uuid

import pytest

from upswing.core.nicknames import name_variants
from upswing.resolution.matching import (
    PersonRecord,
    compare,
    family_name_level,
    given_name_level,
    name_similarity,
    nickname_equivalent,
    parse_location,
    parse_name,
)
from upswing.resolution.models import MatchMethod, MatchOutcome
from upswing.resolution.records import block_keys
from upswing.resolution.service import Candidate, choose
from upswing.settings import Settings

LINK, REVIEW = Settings().link_threshold, Settings().review_threshold

LEAD = PersonRecord(first_name="Robert", last_name="Whitfield", city="Columbus", state="OH", country="US",
                    employers=("Kroger Co.",), emails=("rw@example.com",), phones=("+16145550101",))


def profile(**fields: object) -> PersonRecord:
    values: dict[str, object] = {"first_name": "Robert", "last_name": "Whitfield", "city": "Columbus",
                                 "state": "Ohio", "employers": ("Kroger", "Target")}
    values.update(fields)
    return PersonRecord(**values)  # type: ignore[arg-type]


def test_same_person_with_corroborating_history_links_and_explains_itself() -> None:
    result = compare(LEAD, profile())
    assert result.score >= LINK
    assert result.agreed == {"first_name": "exact: robert ~ robert", "last_name": "exact: whitfield ~ whitfield",
                             "location": "same city: Columbus, OH", "employers": "agree: kroger"}
    assert result.disagreed == {}
    assert set(result.weights) == set(result.agreed)
    assert 0 < result.score < 1


@pytest.mark.parametrize("elsewhere", [
    {"city": "Denver", "state": "Colorado"},
    {"city": "Phoenix", "state": "AZ"},
    {"city": "Cleveland", "state": "OH"},  # same state, another city
])
def test_a_namesake_in_another_city_with_another_employer_history_is_not_linked(elsewhere: dict[str, str]) -> None:
    result = compare(LEAD, profile(employers=("Starbucks", "Olive Garden"), **elsewhere))
    assert result.score < REVIEW
    assert "employers" in result.disagreed
    assert result.agreed["first_name"].startswith("exact") and result.agreed["last_name"].startswith("exact")


def test_the_same_name_alone_is_never_enough() -> None:
    assert compare(LEAD, PersonRecord(first_name="Robert", last_name="Whitfield")).score < REVIEW
    same_town = compare(LEAD, PersonRecord(first_name="Robert", last_name="Whitfield", city="Columbus",
                                           state="OH"))
    assert REVIEW <= same_town.score < LINK  # a person decides


@pytest.mark.parametrize(("lead_first", "profile_first"), [
    ("Robert", "Bob"), ("William", "Bill"), ("Elizabeth", "Liz"), ("Katherine", "Kate"), ("James", "Jim"),
    ("Michael", "Mike"), ("Christopher", "Chris"), ("Christina", "Tina"), ("Alexandra", "Alex"),
    ("Anthony", "Tony"), ("Jennifer", "Jen"), ("Margaret", "Peggy"), ("Margaret", "Maggie"), ("John", "Jack"),
    ("Richard", "Rick"), ("Henry", "Hank"), ("Jose", "Pepe"), ("Francisco", "Paco"), ("Manuel", "Manny"),
    ("Rebecca", "Becky"), ("Nathaniel", "Nate"), ("Steven", "Stephen"), ("Deborah", "Debbie"),
])
def test_nicknames_link(lead_first: str, profile_first: str) -> None:
    assert nickname_equivalent(lead_first.lower(), profile_first.lower())
    lead = PersonRecord(first_name=lead_first, last_name="Whitfield", city="Columbus", state="OH",
                        employers=("Kroger",))
    result = compare(lead, profile(first_name=profile_first))
    assert result.score >= LINK, result
    assert result.agreed["first_name"].startswith("nickname")


def test_different_given_names_are_not_nicknames() -> None:
    assert not nickname_equivalent("robert", "richard")
    assert given_name_level("maria", "mario") == "disagree"  # too short a name to call it a typo
    assert given_name_level("jonathan", "jon") == "nickname"
    result = compare(LEAD, profile(first_name="Richard"))
    assert result.score < REVIEW and result.disagreed["first_name"].startswith("disagree")


def test_swapped_first_and_last_names() -> None:
    result = compare(LEAD, profile(first_name="Whitfield", last_name="Robert"))
    assert result.score >= LINK
    assert result.agreed["name"].startswith("swapped first/last name")
    assert "first_name" not in result.disagreed


@pytest.mark.parametrize(("first", "last"), [("Robret", "Whitfield"), ("Robert", "Whitfeild"),
                                             ("Rbert", "Whitfield"), ("Robert", "Whitfied")])
def test_typos(first: str, last: str) -> None:
    result = compare(LEAD, profile(first_name=first, last_name=last))
    assert result.score >= LINK, result
    assert "typo" in result.agreed.get("first_name", "") + result.agreed.get("last_name", "")


def test_middle_names_and_initials() -> None:
    lead = PersonRecord(first_name="Robert", middle_name="James", last_name="Whitfield", city="Columbus",
                        state="OH", employers=("Kroger",))
    initial = compare(lead, profile(first_name="Robert J."))
    assert initial.agreed["middle_name"] == "compatible: james ~ j"
    assert initial.score > compare(lead, profile()).score  # the middle initial adds a little
    conflict = compare(lead, profile(first_name="Robert K."))
    assert conflict.disagreed["middle_name"] == "conflict: james ~ k"
    assert conflict.score < initial.score
    by_middle = compare(PersonRecord(first_name="J.", middle_name="Robert", last_name="Whitfield", city="Columbus",
                                     state="OH", employers=("Kroger",)), profile())
    assert by_middle.agreed["first_name"].startswith("middle as first")
    assert compare(LEAD, profile(first_name="R.")).agreed["first_name"].startswith("initial")


def test_titles_suffixes_credentials_and_quoted_nicknames() -> None:
    assert parse_name(None, None, None, "Dr. Robert J. Whitfield Jr.") == parse_name("Robert", "J", "Whitfield")
    assert parse_name("Robert", None, "Whitfield, MBA, PMP").last == "whitfield"
    assert parse_name("Mr. Robert", None, "Whitfield III").first == "robert"
    quoted = parse_name('Robert "Bobby"', None, "Whitfield")
    assert (quoted.first, quoted.aliases) == ("robert", ("bobby",))
    assert parse_name("José", None, "García-López").last == "garcia lopez"
    result = compare(LEAD, PersonRecord(full_name="Dr. Robert Whitfield Jr.", city="Columbus", state="OH",
                                        employers=("Kroger",)))
    assert result.score >= LINK


def test_family_name_forms() -> None:
    assert family_name_level("de la cruz", "delacruz") == "exact"
    assert family_name_level("garcia lopez", "garcia") == "compound"
    assert family_name_level("nguyen", "ngyuen") == "typo"
    assert family_name_level("li", "le") == "disagree"


def test_places_from_linkedin_text_and_fields() -> None:
    place = parse_location(None, None, None, "Columbus, Ohio, United States")
    assert (place.city, place.state, place.country) == ("columbus", "OH", "US")
    assert parse_location(None, None, None, "Greater Houston").city == "houston"
    assert parse_location(None, None, None, "Texas, United States").state == "TX"
    assert parse_location("Austin", "Texas", "US") == parse_location(None, None, None, "Austin, TX")
    assert compare(LEAD, profile(city="Dallas", state="TX")).disagreed["location"] == "other state: OH vs TX"
    assert compare(LEAD, profile(country="CA", state=None, city="Toronto")).disagreed["location"].startswith(
        "other country")


def test_employer_names_are_normalized() -> None:
    for name in ("KROGER", "The Kroger Co.", "Kroger Company", "kroger inc"):
        assert compare(LEAD, profile(employers=(name,))).agreed["employers"] == "agree: kroger"
    similar = compare(PersonRecord(first_name="Robert", last_name="Whitfield", employers=("Amazon.com",)),
                      profile(employers=("Amazon",)))
    assert similar.agreed["employers"].startswith("similar")
    assert "employers" not in compare(LEAD, profile(employers=("Self-employed",))).disagreed


def test_schools_and_graduation_year() -> None:
    a = profile(schools=("Ohio State University",), graduation_year=2018)
    same = compare(a, profile(schools=("The Ohio State University",), graduation_year=2018))
    assert same.agreed["schools"] and same.agreed["graduation_year"] == "same: 2018"
    other_year = compare(a, profile(schools=("Ohio State University",), graduation_year=2012))
    assert other_year.disagreed["graduation_year"] == "disagree: 2018 vs 2012"
    assert other_year.score < same.score
    other_school = compare(a, profile(schools=("University of Houston",), graduation_year=2018))
    assert "schools" in other_school.disagreed


def test_contact_points_and_profile_ids() -> None:
    shared = compare(LEAD, PersonRecord(first_name="Bob", last_name="Whitfield", emails=("RW@example.com",)))
    assert shared.agreed["email"] == "agree: rw@example.com" and shared.score >= LINK
    phone = compare(LEAD, PersonRecord(first_name="Bob", last_name="Whitfield", phones=("(614) 555-0101",)))
    assert phone.agreed["phone"].startswith("agree") and phone.score >= LINK
    other_profile = compare(PersonRecord(first_name="Robert", last_name="Whitfield", linkedin_id="rob-w"),
                            profile(linkedin_id="robert-whitfield-2"))
    assert other_profile.disagreed["linkedin"] == "disagree: rob-w vs robert-whitfield-2"
    assert other_profile.score < REVIEW


def test_name_similarity_helper_for_dedupe() -> None:
    assert name_similarity(LEAD, profile()) == 1.0
    assert name_similarity(LEAD, profile(first_name="Bob")) > name_similarity(LEAD, profile(first_name="Ron"))
    assert name_similarity(LEAD, profile(first_name="Maria", last_name="Garcia")) == 0.0
    assert 0.8 < name_similarity(LEAD, profile(first_name="Whitfield", last_name="Robert")) < 1.0


def _candidate(score: float) -> Candidate:
    return Candidate(uuid.uuid4(), score, MatchMethod.PROBABILISTIC)


def test_decision_links_only_a_clear_single_candidate() -> None:
    assert choose([], link_at=LINK, review_at=REVIEW).outcome is MatchOutcome.UNLINKED
    assert choose([_candidate(0.3)], link_at=LINK, review_at=REVIEW).outcome is MatchOutcome.UNLINKED
    clear = choose([_candidate(0.97), _candidate(0.2)], link_at=LINK, review_at=REVIEW)
    assert clear.outcome is MatchOutcome.LINKED and clear.lead_id is not None
    assert choose([_candidate(0.8)], link_at=LINK, review_at=REVIEW).outcome is MatchOutcome.REVIEW
    # Two leads who might both be the person (namesakes, or two leads sharing an e-mail): never auto-linked.
    both = choose([_candidate(0.99), _candidate(0.97)], link_at=LINK, review_at=REVIEW)
    assert both.outcome is MatchOutcome.REVIEW and len(both.candidates) == 2 and both.lead_id is None
    plausible_namesake = choose([_candidate(0.98), _candidate(0.7)], link_at=LINK, review_at=REVIEW)
    assert plausible_namesake.outcome is MatchOutcome.REVIEW


def test_blocking_keys_find_nicknames_typos_and_swaps() -> None:
    keys = block_keys(PersonRecord(first_name="Bob", last_name="Whitfield", state="OH"))
    last = {(k.value, k.initial) for k in keys if k.column == "last_name" and k.state == "OH"}
    assert ("Whitfield", "r") in last and ("WHITFIELD", "b") in last  # Bob finds Robert and Bob
    assert ("Bob", "w") in last  # swapped
    assert {k.value for k in keys if k.column == "first_name"} >= {"Bob", "BOB", "bob"}  # family-name typos
    assert all(k.state == "" for k in block_keys(PersonRecord(first_name="Bob", last_name="Whitfield")))
    assert block_keys(PersonRecord(first_name="Bob")) == set()
    assert "robert" in name_variants("bob") and "bobby" in name_variants("robert")


def test_thresholds_are_settings_and_must_be_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSWING_LINK_THRESHOLD", "0.95")
    monkeypatch.setenv("UPSWING_REVIEW_THRESHOLD", "0.5")
    assert (Settings().link_threshold, Settings().review_threshold) == (0.95, 0.5)
    with pytest.raises(ValueError, match="REVIEW_THRESHOLD"):
        Settings(link_threshold=0.5, review_threshold=0.7)
