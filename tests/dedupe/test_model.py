"""The pure lead linker: blocking, comparison levels, Fellegi–Sunter scores, explanations and EM training."""

from __future__ import annotations

import random
from typing import Any

import pytest

from upswing.dedupe import model as dedupe
from upswing.dedupe.model import lead_record

# A portfolio of a few thousand leads: the size the default lead prior is stated for.
PORTFOLIO_SIZE = 5000


def _lead(first: str, last: str, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"city": "Austin", "state": "TX", "postal_code": "78701"}
    values.update(fields)
    return lead_record(first_name=first, last_name=last, **values)


def _score(a: dict[str, Any], b: dict[str, Any], size: int = PORTFOLIO_SIZE) -> tuple[float, dict[str, str],
                                                                                  dict[str, str]]:
    model = dedupe.lead_model(size)
    scored = dedupe.score_pairs(model, [a], [b], [(0, 0)])[0]
    agreed, disagreed = dedupe.explain(model, scored.gamma, a, b)
    return scored.probability, agreed, disagreed


# --------------------------------------------------------------------------------------------------- helpers


def test_normalize_text_and_soundex() -> None:
    assert dedupe.normalize_text("  José  O'Brien-Hall ") == "jose o brien hall"
    assert dedupe.normalize_text("   ") is None
    assert dedupe.soundex("Robert") == dedupe.soundex("Rupert") == "R163"
    assert dedupe.soundex("Tymczak") == "T522"
    assert dedupe.soundex("Ashcraft") == "A261"  # h does not separate s and c
    assert dedupe.soundex("Lee") == "L000"
    assert dedupe.soundex("123") is None


def test_lead_record_normalizes_contacts_and_location() -> None:
    record = lead_record(first_name="  Mary-Ann ", last_name="O'Neil", middle_name="beth",
                         emails=["Mary@Example.com", None, "mary@example.com", ""], phones=["+1 (512) 555-0100"],
                         city="Austin", state="TX", postal_code="78701-1234", address="12 Main St.",
                         employer="The Acme Corp., Inc.", linkedin_public_id=" Mary-ONeil ")
    assert record["first_name"] == "mary ann"
    assert record["last_name"] == "oneil"
    assert record["middle_initial"] == "b"
    assert record["emails"] == ("mary@example.com",)
    assert record["phones"] == ("15125550100",)
    assert record["location"] == ("tx", "austin", "78701", "12 main st")
    assert record["employer"] == "acme"
    assert record["linkedin"] == "mary-oneil"
    empty = lead_record(first_name="A", last_name="B")
    assert empty["emails"] is None and empty["phones"] is None and empty["location"] is None


# --------------------------------------------------------------------------------------------------- levels


def test_comparison_levels() -> None:
    jw = dedupe.jaro_winkler("name", (0.8, 0.92))
    assert jw.level("martha", "martha") == jw.top
    assert jw.labels[jw.level("martha", "marhta")] == "jaro_winkler>=0.92"
    assert jw.level("martha", "zebedee") == 0
    assert jw.level(None, "martha") == dedupe.MISSING

    edits = dedupe.edit_distance("id", (1, 2))
    assert [edits.labels[edits.level("1234567", other)] for other in ("1234567", "1234576", "1243576", "7654321")] \
        == ["exact", "edits<=1", "edits<=2", "different"]

    dob = dedupe.date_of_birth("dob")
    assert [dob.labels[dob.level("19800512", other)] for other in ("19800512", "19800513", "19801205", "19800101",
                                                                   "19751212")] \
        == ["exact", "one_typo", "one_typo", "same_year", "different"]

    emails = dedupe.exact("emails")
    assert emails.level(("a@x.com", "b@x.com"), ("c@x.com", "b@x.com")) == 1
    assert emails.level(("a@x.com",), ("c@x.com",)) == 0

    given = dedupe.given_name("first")
    assert given.labels[given.level("bob", "robert")] == "nickname"
    assert given.labels[given.level("jonathan", "jonathon")] == "typo"
    assert given.labels[given.level("j", "jane")] == "initial"
    family = dedupe.family_name("last")
    assert family.labels[family.level("garcia lopez", "garcia")] == "compound"
    assert family.labels[family.level("johnson", "jonhson")] == "typo"


def test_comparison_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        dedupe.Comparison("x", "x", lambda a, b: 0, ("different", "exact"), (0.1, 0.9), (0.9,))


# --------------------------------------------------------------------------------------------------- scores


def test_same_person_with_typos_is_a_match() -> None:
    probability, agreed, disagreed = _score(
        _lead("Jonathan", "Whitaker", emails=["jw@example.com"], employer="Acme Corp"),
        _lead("Jonathon", "Whittaker", emails=["jw@example.com"], employer="ACME"))
    assert probability > 0.99
    assert agreed["first_name"].startswith("typo") and agreed["last_name"].startswith("typo")
    assert agreed["email"] == "exact: jw@example.com / jw@example.com"
    assert not disagreed


def test_nickname_is_a_match() -> None:
    probability, agreed, _ = _score(_lead("Robert", "Kowalski", address="12 Elm St", employer="Initech"),
                                    _lead("Bob", "Kowalski", address="12 Elm Street", employer="Initech"))
    assert probability > 0.95
    assert agreed["first_name"] == "nickname: robert / bob"
    assert agreed["location"].startswith("same_street_address")


def test_swapped_first_and_last_name_is_a_match_and_says_so() -> None:
    probability, agreed, _ = _score(_lead("Nguyen", "Thanh", phones=["+15125550111"]),
                                    _lead("Thanh", "Nguyen", phones=["+1 512 555 0111"]))
    assert probability > 0.99
    assert agreed["first_name"] == "exact (swapped): nguyen / nguyen"
    assert agreed["last_name"] == "exact (swapped): thanh / thanh"


def test_different_people_with_the_same_name_are_not_a_match() -> None:
    austin = _lead("Maria", "Garcia", emails=["maria.g@example.com"], phones=["+15125550100"], employer="Dell")
    portland = _lead("Maria", "Garcia", emails=["mgarcia@example.org"], phones=["+15035550199"], employer="Nike",
                     city="Portland", state="OR", postal_code="97201")
    probability, agreed, disagreed = _score(austin, portland)
    assert probability < 0.05
    assert set(agreed) == {"first_name", "last_name"}
    assert {"location", "email", "phone", "employer"} <= set(disagreed)
    # Same name and town, but every contact detail and the employer differ: still not proposed.
    neighbour = _lead("Maria", "Garcia", emails=["mgarcia@example.org"], phones=["+15125550199"], employer="Nike",
                      postal_code="78745")
    assert _score(austin, neighbour)[0] < 0.5


def test_different_names_at_one_address_are_not_a_match() -> None:
    probability, _, disagreed = _score(_lead("Maria", "Garcia", address="5 Oak Ave"),
                                       _lead("Peter", "Smith", address="5 Oak Ave"))
    assert probability < 0.001
    assert set(disagreed) == {"first_name", "last_name"}


def test_a_shared_email_outweighs_a_different_town_but_not_a_different_name() -> None:
    moved = _score(_lead("Ana", "Lopez", emails=["ana@example.com"]),
                   _lead("Ana", "Lopez", emails=["ana@example.com"], city="Denver", state="CO",
                         postal_code="80202"))
    assert moved[0] > 0.99
    family_address = _score(_lead("Ana", "Lopez", emails=["lopez.family@example.com"]),
                            _lead("Carlos", "Lopez", emails=["lopez.family@example.com"]))
    assert family_address[0] < 0.5


def test_prior_follows_portfolio_size_with_a_floor() -> None:
    assert dedupe.lead_model(3).prior == dedupe.lead_model(dedupe.LEAD_PRIOR_MIN_RECORDS).prior
    assert dedupe.lead_model(100_001).prior == pytest.approx(dedupe.LEAD_DUPLICATE_RATE / 100_000)


def test_term_frequencies_make_common_names_weigh_less() -> None:
    records = [_lead("John", "Smith") for _ in range(200)] + [
        _lead(f"Person{i}", f"Family{i}") for i in range(dedupe.LEAD_TERM_FREQUENCY_MIN_RECORDS)]
    records += [_lead("Zebulon", "Quackenbush"), _lead("Zebulon", "Quackenbush")]
    model = dedupe.lead_model(len(records), records)
    common = dedupe.score_pairs(model, records, records, [(0, 1)])[0]
    rare = dedupe.score_pairs(model, records, records, [(len(records) - 2, len(records) - 1)])[0]
    assert rare.weight - common.weight > 8
    assert common.probability < 0.5 < rare.probability


# --------------------------------------------------------------------------------------------------- blocking


def test_blocking_finds_typos_swaps_nicknames_and_shared_contacts_but_not_strangers() -> None:
    records = [
        _lead("Robert", "Kowalski"),                                    # 0
        _lead("Bob", "Kowalski"),                                       # 1: nickname
        _lead("Kowalski", "Robert"),                                    # 2: swapped
        _lead("Robert", "Kowalsky", state="NM", postal_code="87101"),   # 3: typo (same phonetic names)
        _lead("Zed", "Unrelated", emails=["shared@example.com"], state="WA", postal_code="98101"),  # 4
        _lead("Yolanda", "Other", emails=["shared@example.com"], state="ME", postal_code="04101"),  # 5
        _lead("Quentin", "Nobody", state="VT", postal_code="05401"),    # 6
    ]
    pairs = set(dedupe.candidate_pairs(dedupe.lead_blocking_rules(), records))
    assert {(0, 1), (0, 2), (0, 3), (1, 2), (4, 5)} <= pairs
    assert not any(6 in pair for pair in pairs)
    assert all(i < j for i, j in pairs)


def test_candidate_pairs_link_two_files_and_skip_huge_blocks() -> None:
    left = [{"k": "a"}, {"k": "b"}, {"k": None}]
    right = [{"k": "b"}, {"k": "a"}, {"k": "a"}]
    assert dedupe.candidate_pairs([dedupe.on("k")], left, right) == [(0, 1), (0, 2), (1, 0)]
    capped = dedupe.BlockingRule("k", lambda r: r["k"], max_pairs=1)
    assert dedupe.candidate_pairs([capped], left, right) == [(1, 0)]


# --------------------------------------------------------------------------------------------------- training


def _synthetic(count: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[tuple[int, int]]]:
    """Two files of the same people: the right one has typos, missing values and a moved minority."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def word(n: int) -> str:
        return "".join(rng.choice(letters) for _ in range(n))

    def typo(text: str) -> str:
        i = rng.randrange(len(text))
        return text[:i] + rng.choice(letters) + text[i + 1:]

    firsts = [word(6) for _ in range(150)]
    lefts, rights = [], []
    for _ in range(count):
        person = {"first": rng.choice(firsts), "last": word(8), "dob": f"19{rng.randrange(40, 99)}0"
                  f"{rng.randrange(1, 10)}{rng.randrange(10, 29)}", "zip": f"{rng.randrange(100, 400)}"}
        lefts.append(dict(person))
        other = dict(person)
        if rng.random() < 0.3:
            other["last"] = typo(other["last"])
        if rng.random() < 0.1:
            other["dob"] = None
        if rng.random() < 0.2:
            other["zip"] = f"{rng.randrange(100, 400)}"
        rights.append(other)
    order = list(range(count))
    rng.shuffle(order)
    shuffled = [rights[i] for i in order]
    truth = {(original, position) for position, original in enumerate(order)}
    return lefts, shuffled, truth


def test_em_training_learns_the_parameters_and_links_without_labels() -> None:
    left, right, truth = _synthetic(1500, seed=7)
    model = dedupe.LinkageModel((
        dedupe.jaro_winkler("first", term_frequency=True),
        dedupe.jaro_winkler("last"),
        dedupe.date_of_birth("dob"),
        dedupe.exact("zip"),
    ))
    trained, report = dedupe.train(model, left, right, sessions=["dob", "zip"], u_pairs=50_000)
    assert report.sampled_pairs == 50_000
    assert [s["block"] for s in report.sessions] == ["dob", "zip"]
    last = trained.position("last")
    # About 70% of the true pairs have the same family name, 30% one typo apart.
    assert trained.m[last][-1] == pytest.approx(0.7, abs=0.05)
    assert trained.u[last][-1] < 0.001
    assert trained.m[trained.position("zip")][1] == pytest.approx(0.8, abs=0.05)
    # One match per left record: the prior is about 1 / 1500.
    assert trained.prior == pytest.approx(1 / 1500, rel=0.25)

    rules = [dedupe.on("dob"), dedupe.on("zip"), dedupe.BlockingRule("first+last3", lambda r: (r["first"],
                                                                                               r["last"][:3]))]
    result = dedupe.link(trained, rules, left, right, threshold=0.5)
    found = {(p.left, p.right) for p in result.matches}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision > 0.99 and recall > 0.97
    assert result.candidates > len(found)


def test_training_needs_two_sessions() -> None:
    with pytest.raises(ValueError, match="two sessions"):
        dedupe.train(dedupe.LinkageModel((dedupe.exact("x"),)), [{"x": "a"}], None, sessions=["x"])


def test_dedupe_mode_links_within_one_file() -> None:
    records = [_lead("Robert", "Kowalski", emails=["rk@example.com"]), _lead("Maria", "Garcia"),
               _lead("Bob", "Kowalski", emails=["rk@example.com"])]
    result = dedupe.link(dedupe.lead_model(len(records)), dedupe.lead_blocking_rules(), records, threshold=0.5)
    assert [(p.left, p.right) for p in result.matches] == [(0, 2)]
    assert dedupe.lead_model(3).parameters()["comparisons"]["email"]["exact"]["u"] == 0.00001


def test_location_levels_need_the_same_house_number_for_the_same_address() -> None:
    location = next(c for c in dedupe.lead_comparisons() if c.name == "location")

    def level(a: dict[str, Any], b: dict[str, Any]) -> str:
        return location.labels[location.level(a["location"], b["location"])]

    home = _lead("A", "B", address="8496 Bayou Dr")
    assert level(home, _lead("A", "B", address="8496 Bayou Drive")) == "same_street_address"
    assert level(home, _lead("A", "B", address="9480 Bayou Dr")) == "same_postal_code"
    assert level(home, _lead("A", "B", postal_code="78745")) == "same_city"
    assert level(home, _lead("A", "B", city="Dallas", postal_code="75201")) == "same_state"
    assert level(home, _lead("A", "B", city="Tulsa", state="OK", postal_code="74103")) == "different_state"
    assert location.level(home["location"], lead_record(first_name="A", last_name="B")["location"]) \
        == dedupe.MISSING
