"""The seniority ladder against real career ladders of the jobs our borrowers hold.

``data/title_ladder.tsv`` lists pairs of real titles (retail, food service, warehouses, hospitals, pharmacies,
trades, federal grades, the armed forces, police and fire departments, software and office jobs), each labelled
``higher`` / ``same`` / ``lower``: how ``after`` ranks against ``before`` at the same employer. The table was
written from the employers' ladders before the function was tuned; pairs that depend on the employer are left out.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import pytest

from upswing.demo.generate import TRACKS
from upswing.detection import profile_diff, seniority
from upswing.detection.seniority import EXECUTIVE, INTERN, LEAD, MANAGER, SENIOR, seniority_level

LADDER_FILE = Path(__file__).parent / "data" / "title_ladder.tsv"
LABELS = ("higher", "same", "lower")


class Pair(NamedTuple):
    line: int
    industry: str
    employer: str
    before: str
    after: str
    expected: str


def load_pairs() -> list[Pair]:
    with LADDER_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Pair(line, row["industry"], row["employer"], row["before"], row["after"], row["expected"])
        for line, row in enumerate(rows, start=2)
    ]


def relation(before: str, after: str) -> str:
    low, high = seniority_level(before), seniority_level(after)
    return "higher" if high > low else "lower" if high < low else "same"


def test_the_table_is_large_and_well_formed() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 200
    assert {p.expected for p in pairs} <= set(LABELS)
    assert all(p.industry and p.before.strip() and p.after.strip() for p in pairs)
    assert len({p.industry for p in pairs}) >= 10


def test_every_pair_of_the_table() -> None:
    failures = [
        f"line {p.line} [{p.industry}, {p.employer}] {p.before!r} ({seniority_level(p.before):g}) -> "
        f"{p.after!r} ({seniority_level(p.after):g}): expected {p.expected}, got {relation(p.before, p.after)}"
        for p in load_pairs()
        if relation(p.before, p.after) != p.expected
    ]
    assert not failures, f"{len(failures)} pairs disagree:\n" + "\n".join(failures)


def test_each_demo_track_climbs_one_rung_at_a_time() -> None:
    # The demo's ground truth: one rung up is a promotion, a move within a rung is not.
    failures = []
    for name, track in TRACKS.items():
        for titles, next_titles in zip(track.ladder, (*track.ladder[1:], ()), strict=True):
            if len({seniority_level(t) for t in titles}) > 1:
                failures.append(f"{name}: {titles} are not level")
            failures += [
                f"{name}: {title} -> {above} is not a step up"
                for title in titles
                for above in next_titles
                if seniority_level(above) <= seniority_level(title)
            ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        # A numbered level moves a title within its band, never past the next band.
        ("Software Engineer IX", "Senior Software Engineer"),
        ("Registered Nurse IV", "Charge Nurse"),
        ("Analyst 9", "Senior Analyst"),
        ("Program Analyst GS-15", "Supervisory Program Analyst GS-7"),
        ("Senior Software Engineer III", "Staff Software Engineer"),
        ("Principal Software Engineer", "Engineering Manager"),
        ("Fourth Year Apprentice", "Journeyman Electrician"),
    ],
)
def test_fractions_stay_inside_their_band(lower: str, higher: str) -> None:
    assert seniority_level(lower) < seniority_level(higher)


@pytest.mark.parametrize(
    ("title", "band"),
    [
        ("Software Engineering Intern", INTERN),
        ("Senior Analyst", SENIOR),
        ("Team Lead", LEAD),
        ("Store Manager", MANAGER),
        ("Chief Executive Officer", EXECUTIVE),
        ("Founder", EXECUTIVE),
    ],
)
def test_band_anchors(title: str, band: float) -> None:
    assert seniority_level(title) == band


@pytest.mark.parametrize(
    "title",
    [
        "Chief Petty Officer",
        "Master Chief Petty Officer",
        "Chief Warrant Officer 3",
        "Battalion Chief",
        "Crew Chief",
        "Chief Resident",
    ],
)
def test_chief_in_a_rank_is_not_c_level(title: str) -> None:
    assert seniority_level(title) < seniority_level("Chief Operating Officer")


@pytest.mark.parametrize(
    ("title", "same_as"),
    [
        ("Sales Lead Generation Specialist", "Lead Generation Specialist"),
        ("Private Investigator", "Investigator"),
        ("Major Account Executive", "Account Executive"),
        ("Head Start Teacher", "Teacher"),
        ("Lead Abatement Worker", "Abatement Worker"),
        ("Crew Member - Store 1234", "Crew Member"),
        ("Warehouse Associate, 3rd Shift", "Warehouse Associate"),
        ("RN, IV Team", "RN"),
        ("Staff Pharmacist", "Pharmacist"),
        ("Staff Accountant", "Accountant"),
        ("", "Analyst"),
        (None, "Analyst"),
    ],
)
def test_unrelated_words_do_not_set_a_level(title: str | None, same_as: str) -> None:
    assert seniority_level(title) == seniority_level(same_as)


def test_profile_diff_reexports_the_ladder() -> None:
    assert profile_diff.seniority_level is seniority.seniority_level
    assert profile_diff.is_founder_title is seniority.is_founder_title
