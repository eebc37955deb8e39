"""Extraction: titles and organizations across phrasings, credentials, dates, places and people."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from upswing.detection.extraction import (
    effective_date,
    extract,
    extract_credential,
    extract_dates,
    extract_locations,
    extract_people,
    extract_role,
    leading_organization,
)

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from extraction import evaluate, normalize  # noqa: E402  (the benchmark's own scoring)

ROLES = [
    # first person, LinkedIn style
    ("new_employment", "I'm happy to share that I'm starting a new position as Implementation Manager at Rippling!",
     "Implementation Manager", "Rippling"),
    ("new_employment", "Thrilled to announce I've joined Stripe as a Senior Software Engineer on the Payments team!",
     "Senior Software Engineer", "Stripe"),
    ("new_employment", "Excited to join ChipAgents as an AI Agent Engineer Intern for winter quarter!",
     "AI Agent Engineer Intern", "ChipAgents"),
    ("new_employment", "I recently accepted an offer to work as a Business Analyst at Accenture in Atlanta.",
     "Business Analyst", "Accenture"),
    ("new_employment", "Happy to say I accepted an offer from Airbnb as a UX Researcher!", "UX Researcher", "Airbnb"),
    ("new_employment", "Today is my first day at Salesforce as a Solutions Engineer.", "Solutions Engineer",
     "Salesforce"),
    ("new_employment", "I start at Vanguard on Monday as an Investment Analyst.", "Investment Analyst", "Vanguard"),
    ("new_employment", "Started my machine learning engineering internship at KLA Corporation.",
     "machine learning engineering internship", "KLA Corporation"),
    ("new_employment", "I will join EQT group to develop AI solutions in Finance.", None, "EQT group"),
    ("new_employment", "I'm joining the Climate Policy Lab at Tufts as a graduate research assistant.",
     "graduate research assistant", "Climate Policy Lab at Tufts"),
    ("new_employment", "I have officially joined Wells Fargo as a Financial Analyst 🎉", "Financial Analyst",
     "Wells Fargo"),
    # third person, news and press releases
    ("new_employment", "Dr. Samuel Lee was appointed Dean of the School of Engineering at Rice University in 2023.",
     "Dean of the School of Engineering", "Rice University"),
    ("new_employment", "Kevin Brooks, formerly chief marketing officer at PepsiCo, was named president of Frito-Lay "
                       "North America.", "president", "Frito-Lay North America"),
    ("new_employment", "Marcus left IBM last spring to become chief technology officer of Brightline Health.",
     "chief technology officer", "Brightline Health"),
    ("new_employment", "Acme Robotics Inc. (NASDAQ: ACRB) today announced that Maria Gonzalez has joined the company "
                       "as Chief Financial Officer, effective March 1, 2025.", "Chief Financial Officer",
     "Acme Robotics Inc."),
    ("new_employment", "CHICAGO, June 3, 2024 /PRNewswire/ -- Lakeshore Bank today announced the appointment of "
                       "Robert Kim as Executive Vice President and Chief Risk Officer.",
     "Executive Vice President and Chief Risk Officer", "Lakeshore Bank"),
    ("new_employment", "Harlan & Pierce LLP is pleased to announce that Rebecca Stone has joined the firm as a "
                       "Partner in its litigation practice.", "Partner", "Harlan & Pierce LLP"),
    ("new_employment", "He was recruited by Tesla in 2020 to serve as vice president of manufacturing.",
     "vice president of manufacturing", "Tesla"),
    # headlines
    ("new_employment", "Northwind Traders Names Jane Okafor Chief Operating Officer", "Chief Operating Officer",
     "Northwind Traders"),
    ("new_employment", "Jane Okafor Joins Northwind Traders as Chief Operating Officer", "Chief Operating Officer",
     "Northwind Traders"),
    ("new_employment", "Cascade Financial names Alan Wu president and CEO", "president and CEO", "Cascade Financial"),
    # promotions
    ("promotion", "I was promoted to Lead Data Scientist. I will be working on AI/ML.", "Lead Data Scientist", None),
    ("promotion", "Promoted to Senior Consultant in IT Audit @ Protiviti", "Senior Consultant in IT Audit",
     "Protiviti"),
    ("promotion", "Promoted to Associate Director, Clinical Operations @ Pfizer 🚀",
     "Associate Director, Clinical Operations", "Pfizer"),
    ("promotion", "At IPaySmart, I was promoted to Associate 2 Product Manager, delivering AI-driven products.",
     "Associate 2 Product Manager", "IPaySmart"),
    ("promotion", "After one week of working as an accessioner Helix promoted me to a Clinical Lab Tech.",
     "Clinical Lab Tech", "Helix"),
    ("promotion", "Got promoted into a PM role a couple weeks ago.", "PM", None),
    ("promotion", "She was elevated to partner at Baker McKenzie in 2022.", "partner", "Baker McKenzie"),
    ("promotion", "Oakridge Health Systems promoted Karen White to chief nursing officer, effective Jan. 15.",
     "chief nursing officer", "Oakridge Health Systems"),
    ("promotion", "Universal Corporation's Board of Directors has elected Allen B. King, currently President, to "
                  "succeed Mr. Harrell as Chief Executive Officer as of January 1, 2003.", "Chief Executive Officer",
     "Universal Corporation"),
    ("promotion", "He joined the bank as a teller in 2010 and was promoted to branch manager four years later.",
     "branch manager", None),
    ("promotion", "OGE Energy Corp. (NYSE: OGE) today announced that Sean Trauschke, President and CEO, has been "
                  "named Chairman of the Board and will succeed Peter Delaney.", "Chairman of the Board",
     "OGE Energy Corp."),
    # business launches
    ("business_launch", "Instead of giving up, I started my own company Virtua Tech, which later grew.", "Founder",
     "Virtua Tech"),
    ("business_launch", "Co-founded Meridian, a proactive intelligence OS for finance teams.", "Co-founder",
     "Meridian"),
    ("business_launch", "I founded a company called 3VOT to invent products.", "Founder", "3VOT"),
]


@pytest.mark.parametrize(("label", "text", "title", "organization"), ROLES, ids=[r[1][:40] for r in ROLES])
def test_role_extraction_across_phrasings(label: str, text: str, title: str | None, organization: str | None) -> None:
    role = extract_role(text, label)
    assert normalize(role.title) == normalize(title)
    assert normalize(role.organization) == normalize(organization)


@pytest.mark.parametrize("label", ["certification", "job_loss", "none", "award", "unknown"])
def test_title_and_organization_do_not_apply_to_other_labels(label: str) -> None:
    role = extract_role("I joined Stripe as a Senior Software Engineer.", label)
    assert (role.title, role.organization) == (None, None)
    found = extract("I joined Stripe as a Senior Software Engineer.", label)
    assert (found.title, found.organization) == (None, None)


def test_generic_jobs_and_references_are_not_titles_or_organizations() -> None:
    assert extract_role("But then I started a new job and wound up busy.", "new_employment") == \
        extract_role("", "new_employment")
    # "the firm" with no organization named anywhere stays unknown rather than guessed
    role = extract_role("Ryan Beiermeister, who did cool analysis, has joined the firm as a partner.", "new_employment")
    assert (role.title, role.organization) == ("partner", None)
    # a person named in the sentence is not the employer
    assert extract_role("The Board appointed Robert Ford, a 23-year veteran, to succeed Mr. White as CEO.",
                        "promotion").organization is None


@pytest.mark.parametrize("name", ["roles_heldout.jsonl", "roles_heldout_2.jsonl", "roles_heldout_3.jsonl"])
def test_held_out_phrasings_generalize(name: str) -> None:
    """Hand-written items outside the dev set (see docs/detection.md for how they were used)."""
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    result = evaluate(rows)
    assert result["fields_match_pct"] >= 90.0, result


def test_leading_organization_of_press_releases() -> None:
    assert leading_organization("Mazda Motor of America Inc. (Irvine, Calif.) --  Clark J. Vitulli was named "
                                "senior vice president.") == "Mazda Motor of America Inc."
    assert leading_organization("Duracell International Inc. of Bethel said Thursday that its president will "
                                "become chief executive.") == "Duracell International Inc."
    assert leading_organization("High-tech equipment manufacturer Coherent, Inc. has named John Ambroseo as CEO."
                                ) == "Coherent, Inc."
    assert leading_organization("Mary Smith said she was thrilled.") is None
    assert leading_organization("I joined Stripe last week.") is None


CREDENTIALS = [
    ("certification", "Prepared for and passed the CISSP exam", "CISSP", "ISC2"),
    ("certification", "I earned my CompTIA Security+ Certificate and graduated in September 2024.",
     "CompTIA Security+", "CompTIA"),
    ("certification", "Earned the GCP Professional Machine Learning Engineer certification",
     "GCP Professional Machine Learning Engineer", "Google Cloud"),
    ("certification", "In April 2022 I got certified as a Full-Stack Developer by Codecademy.",
     "Full-Stack Developer", "Codecademy"),
    ("license_renewal", "I passed the NCLEX on my first try!", "NCLEX", "NCSBN"),
    ("license_renewal", "Shortly after graduation, George obtained his real estate license.", "real estate license",
     None),
    ("license_renewal", "Sudath Perera was called to the Bar of the Supreme Court of Sri Lanka in 1991.",
     "called to the Bar", "Supreme Court of Sri Lanka"),
    ("award", "Song received the NSF CAREER Award for efficient algorithms.", "NSF CAREER Award", None),
    ("award", "In 2015, he was named a Fellow of the Association for Computing Machinery \"for contributions\".",
     "Fellow", "Association for Computing Machinery"),
    ("award", "West was inducted into the United States Air Force Hall of Fame in 2018.",
     "United States Air Force Hall of Fame", None),
    ("award", "In May 2005, Cochrane received an Honorary Doctorate from Brandon University in Manitoba.",
     "Honorary Doctorate", "Brandon University"),
    ("education", "Graduated with an MSc Computer Science degree from ETH Zürich!", "MSc Computer Science degree",
     "ETH Zürich"),
    ("education", "Started my M.S. in Computer Science at Purdue University Fort Wayne.", "M.S. in Computer Science",
     "Purdue University Fort Wayne"),
    ("education", "Carnes received his B.S. from the University of Alabama in 1972.", "B.S.", "University of Alabama"),
]


@pytest.mark.parametrize(("label", "text", "name", "issuer"), CREDENTIALS, ids=[c[1][:40] for c in CREDENTIALS])
def test_credential_and_issuer(label: str, text: str, name: str, issuer: str | None) -> None:
    found = extract_credential(text, label)
    assert found is not None
    assert (found.name, found.issuer) == (name, issuer)


def test_no_credential_for_other_labels() -> None:
    assert extract_credential("I passed the CISSP exam", "new_employment") is None


REFERENCE = date(2025, 1, 8)  # a Wednesday


@pytest.mark.parametrize(("text", "value", "granularity", "cue"), [
    ("I start at Acme starting Monday", date(2025, 1, 13), "day", "starting"),
    ("Promoted as of Jan 2025", date(2025, 1, 1), "month", "as of"),
    ("I'll begin my PhD next fall", date(2025, 9, 1), "season", None),
    ("He will become CEO effective Oct. 1", date(2024, 10, 1), "day", "effective"),
    ("Effective February 3, 2025, she leads sales", date(2025, 2, 3), "day", "effective"),
    ("Posted on 2024-03-15", date(2024, 3, 15), "day", None),
    ("I was laid off two weeks ago", date(2024, 12, 25), "week", None),
    ("Joined the firm in December 2018", date(2018, 12, 1), "month", None),
    ("I graduated yesterday", date(2025, 1, 7), "day", None),
    ("See you next month", date(2025, 2, 1), "month", None),
    ("Interning this summer", date(2025, 6, 1), "season", None),
    ("Laid off on 3/4/2024", date(2024, 3, 4), "day", None),
    ("Promoted in 2020", date(2020, 1, 1), "year", None),
    ("Signed the offer last Friday", date(2025, 1, 3), "day", None),
])
def test_dates_are_normalized_against_the_reference_date(text: str, value: date, granularity: str,
                                                        cue: str | None) -> None:
    dates = extract_dates(text, REFERENCE)
    assert len(dates) == 1, dates
    assert (dates[0].value, dates[0].granularity, dates[0].cue) == (value, granularity, cue)
    assert text[dates[0].start:dates[0].end] == dates[0].text


def test_effective_date_prefers_the_cue_then_the_evidence() -> None:
    text = "In 2019 she joined Acme. She was promoted to VP effective March 1, 2025."
    dates = extract_dates(text, REFERENCE)
    assert effective_date(dates) == date(2025, 3, 1)
    plain = extract_dates("In 2019 she joined Acme. In June 2024 she was promoted.", REFERENCE)
    assert effective_date(plain, near=(25, 55)) == date(2024, 6, 1)
    assert effective_date([]) is None


def test_numbers_that_are_not_years() -> None:
    assert extract_dates("We have 2,000 employees and 2019 customers", REFERENCE)[0].text == "2019"
    assert extract_dates("May I ask a question?", REFERENCE) == []


@pytest.mark.parametrize(("text", "places"), [
    ("CENTRAL ILLINOIS PUBLIC SERVICE Co. (Springfield, Ill.) -- Lowell A. Dodd was named", ["Springfield, IL"]),
    ("Joined Meta in Seattle after five years in Texas", ["Seattle, WA", "Texas"]),
    ("Our office in Austin, TX opened", ["Austin, TX"]),
    ("He practiced law in Illinois and later moved to New York City", ["Illinois", "New York City, NY"]),
    ("She lives in Washington, D.C. now", ["Washington, DC"]),
    ("I joined the Boston Red Sox", ["Boston, MA"]),
    ("No places here at all", []),
])
def test_locations(text: str, places: list[str]) -> None:
    assert extract_locations(text) == places


@pytest.mark.parametrize(("text", "people"), [
    ("Mr. Dodd, 51 years old, succeeds Robert G. Lane, 63, who is retiring.", ["Dodd", "Robert G. Lane"]),
    ("Congrats to Maria Gonzalez and Dr. Samuel Lee!", ["Maria Gonzalez", "Samuel Lee"]),
    ("Thanks Jane Doe for the referral", ["Jane Doe"]),
    ("Joined Goldman Sachs as an Associate", []),
])
def test_people(text: str, people: list[str]) -> None:
    assert extract_people(text) == people


def test_extract_gathers_everything() -> None:
    found = extract("Thrilled to share that I joined Stripe as a Senior Engineer in Seattle, WA starting Monday! "
                    "Thanks Jane Doe.", "new_employment", reference_date=REFERENCE)
    assert (found.title, found.organization) == ("Senior Engineer", "Stripe")
    assert found.people == ("Jane Doe",)
    assert found.locations == ("Seattle, WA",)
    assert found.effective_date == date(2025, 1, 13)
    assert found.credential is None
