"""Deterministic demo data: a lead CSV plus Apify LinkedIn profile-scraper exports taken over time.

Pure Python, standard library only, driven by seeded ``Random`` objects: the same arguments always
give the same output, byte for byte once written.

What ``generate_portfolio(n_leads, seed)`` builds:

* ``leads``: rows for the lead CSV (``LEAD_COLUMNS``): young US borrowers in "second chance" jobs
  (barista, sales associate, junior developer, nursing assistant, teaching assistant...). About 85 %
  carry a ``linkedin_url`` in varied human formatting (trailing slash, no ``www``, upper case, no
  scheme, share query strings). Some pairs of leads share a full name but live in different cities
  (``namesakes``); some LinkedIn profiles show a nickname (CSV "Robert", profile "Rob") or an accented
  surname (CSV "Gonzalez", profile "González"). The CSV employer/title is the job at
  import time, sometimes empty, upper-cased or stale.
* ``exports``: the Apify dataset exports, in time order (``EXPORT_PLAN``):

  ====  ==========  ==========  =======  ==============================================
  idx   actor       observed    file     who is in it
  ====  ==========  ==========  =======  ==============================================
  0     harvestapi  2026-09-01  JSON     every tracked profile (first snapshot)
  1     harvestapi  2026-10-01  JSONL    every tracked profile
  2     dev_fusion  2026-11-01  JSON     most (about 90 %) of the tracked profiles
  3     apimaestro  2026-11-03  JSON     the rest (none of them ever has an award)
  ====  ==========  ==========  =======  ==============================================

  Tracked profiles: the leads with a LinkedIn URL; a few leads without one whose items carry the
  lead's e-mail (harvestapi ``emails``, dev_fusion ``email``, apimaestro ``basic_info.email``;
  ``email_linked``); and profiles of people who are not leads (``unlinked``, about one per 30 leads;
  two share a full name with a lead). Items follow each Actor's shape as documented in
  ``/work/shared/reference/external-apis.md`` section 1a, and each also carries a top-level
  ``scrapedAt`` (ISO 8601, UTC, ``...Z``) at or shortly after the export's ``observed_at``; file names
  carry the date too (``apify-<actor>-<YYYY-MM-DD>.json[l]``). apimaestro's
  ``basic_info.created_timestamp`` is the account's creation time, not a scrape time.
* ``expected_changes``: ground truth, ``ExpectedChange(external_id, export_index, kind)`` for leads
  only. ``kind`` is one of ``SIGNAL_KINDS`` (what a detector should report at that export) or
  ``"title_change"``: a lateral title change at the same employer, which must NOT be reported as a
  promotion. Export 0 lists the few leads whose current job started within 90 days of the first
  snapshot (``new_employment``; every other role then is older than 4 months). About 40 % of tracked
  profiles change in export 1 or in round 2 (export 2 or 3), some in both:

  - new_employment: a current role at another employer, started the month of the export or the one
    before; the previous role gets an end date (unless the person had none).
  - promotion: a more senior title at the same employer, as a new entry (the old one ends) or edited
    in place; ``title_change``: same level, e.g. "Software Engineer" -> "Backend Engineer".
  - business_launch: a "Founder"/"Owner" role at a new small business (the old job ends, or goes on).
  - certification / award: a new entry issued the month of the export or the one before.
  - education: an in-progress degree (expected end year in the future) gets its real end month, or a
    just-completed degree appears.
  - job_loss: the current role(s) get an end date, no new role; often ``openToWork`` switches on.
* ``noise``: non-changes that must not become signals, by kind: ``photo`` (a new picture), ``reorder``
  (lists come back in another order), ``whitespace`` / ``casing`` (a title or headline re-typed). On top
  of those, follower and connection counts drift, photo URLs are re-signed at every export,
  ``duration`` texts grow, and round 2 switches Actor (same positions with the same title, company and
  start, in another shape): none of these is a change either.

Dates inside items, per Actor: harvestapi ``startDate{month:"Mar",year:2026,text:"Mar 2026"}`` (or
``{year,text}`` when only the year is known) and ``endDate{text:"Present"}`` for a current role;
dev_fusion ``jobStartedOn``/``jobEndedOn`` ``"2026-03"`` or ``"2019"``, ``jobEndedOn`` null and
``jobStillWorking`` true for a current role; apimaestro ``start_date{year, month:"Mar"}``, no
``end_date`` and ``is_current`` true for a current role. Education dates are years, plus a month
when a degree was just completed. The UI-style dev_fusion lists, whose shape the reference leaves
loose, look like: ``educations[]{title: school, subtitle: "Degree, Field", caption: "2022 - 2024",
period{startedOn{year}, endedOn{year, month?}}}``, ``licenseAndCertificates[]{title, subtitle: issuer,
caption: "Issued Sep 2023", metadata: "Credential ID ..."}``, ``honorsAndAwards[]{title, subtitle:
"Issued by <issuer> \u00b7 Oct 2026", metadata: "Associated with ..."}``. Certificates may read
"Issued Sep 2023 \u00b7 Expires Sep 2026" in all three Actors. apimaestro items have no honors.

Scale: ``generate_portfolio(100_000)`` takes some seconds. From ``COMPACT_FROM`` leads it runs in
compact mode (see ``generate_portfolio``); ``iter_snapshot_items`` streams the items instead.

Command line: ``python -m upswing.demo.generate OUTDIR [--leads N] [--seed S]``.
The bundled demo in ``upswing/demo/data`` is ``write_demo(<that folder>, 300, 7)``.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import csv
import functools
import gc
import itertools
import json
import math
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "ACTORS",
    "CAREER_POOL",
    "COMPACT_FROM",
    "DEFAULT_DATA_DIR",
    "EXPORT_PLAN",
    "LEAD_COLUMNS",
    "NON_SIGNAL_KINDS",
    "SIGNAL_KINDS",
    "DemoExport",
    "DemoPortfolio",
    "ExpectedChange",
    "ExportSpec",
    "NoiseChange",
    "SnapshotItem",
    "generate_portfolio",
    "iter_snapshot_items",
    "main",
    "summarize",
    "write_demo",
]

LEAD_COLUMNS = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_type",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "linkedin_url",
    "employer",
    "title",
    "balance",
    "days_delinquent",
    "assignee",
)

ACTORS = ("harvestapi", "dev_fusion", "apimaestro")
SIGNAL_KINDS = frozenset(
    {"new_employment", "promotion", "business_launch", "certification", "award", "education", "job_loss"}
)
NON_SIGNAL_KINDS = frozenset({"title_change"})

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"

YM = tuple[int, int | None]  # (year, month) or (year, None) when only the year is known
Item = dict[str, Any]  # one raw Apify dataset item
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DOT = "\u00b7"  # the middle dot LinkedIn puts between "Issued Oct 2026" and "Expires Oct 2029"


class ExportSpec(NamedTuple):
    round: int  # 0, 1, 2: the snapshot round; exports 2 and 3 together form round 2
    actor: str
    observed_at: datetime
    fmt: str  # "json" (one JSON array) or "jsonl"

    @property
    def filename(self) -> str:
        return f"apify-{self.actor}-{self.observed_at:%Y-%m-%d}.{self.fmt}"


EXPORT_PLAN: tuple[ExportSpec, ...] = (
    ExportSpec(0, "harvestapi", datetime(2026, 9, 1, 6, 0, tzinfo=UTC), "json"),
    ExportSpec(1, "harvestapi", datetime(2026, 10, 1, 6, 0, tzinfo=UTC), "jsonl"),
    ExportSpec(2, "dev_fusion", datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "json"),
    ExportSpec(2, "apimaestro", datetime(2026, 11, 3, 7, 30, tzinfo=UTC), "json"),
)
COMPACT_FROM = 10_000  # from this many leads, generate_portfolio runs in compact mode by default
CAREER_POOL = 3_000  # careers generated in compact mode, shared by all the members

_ROUND_MONTH: tuple[tuple[int, int], ...] = ((2026, 9), (2026, 10), (2026, 11))
_REG_END = datetime(2024, 12, 31, tzinfo=UTC)
_CHANGE_RATE = 0.40  # share of tracked profiles with a change in export 1 or 2
_APIMAESTRO_EXPORT = 3
_DEVFUSION_EXPORT = 2


# --------------------------------------------------------------------------------------------- results


class ExpectedChange(NamedTuple):
    """A real change of a lead's profile, first visible in ``exports[export_index]``."""

    external_id: str
    export_index: int
    kind: str


class NoiseChange(NamedTuple):
    """A difference between two snapshots that is not a change of the person's situation."""

    external_id: str | None  # None for a profile that is not a lead
    public_identifier: str
    export_index: int
    kind: str  # "photo" | "reorder" | "whitespace" | "casing"


@dataclass(slots=True)
class DemoExport:
    """One Apify dataset export: raw items in ``actor``'s shape, as scraped from ``observed_at`` (UTC) on."""

    observed_at: datetime
    actor: str
    items: list[dict[str, Any]]
    fmt: str = "json"

    @property
    def filename(self) -> str:
        return f"apify-{self.actor}-{self.observed_at:%Y-%m-%d}.{self.fmt}"


@dataclass(slots=True)
class DemoPortfolio:
    """Leads, exports over time, and the ground truth to check detection and matching against."""

    leads: list[dict[str, str]]
    exports: list[DemoExport]
    expected_changes: list[ExpectedChange]
    noise: list[NoiseChange] = field(default_factory=list)
    lead_profiles: dict[str, str] = field(default_factory=dict)  # external_id -> publicIdentifier
    email_linked: list[str] = field(default_factory=list)  # external_ids linked only by e-mail
    unlinked: list[str] = field(default_factory=list)  # publicIdentifiers of non-lead profiles
    namesakes: list[tuple[str, str]] = field(default_factory=list)  # external_id pairs, same full name


class SnapshotItem(NamedTuple):
    """One streamed item with the export it belongs to."""

    export_index: int
    actor: str
    observed_at: datetime
    item: dict[str, Any]


# --------------------------------------------------------------------------------------- static tables


class City(NamedTuple):
    name: str
    state: str
    state_name: str
    zips: tuple[str, ...]
    area_codes: tuple[int, ...]
    schools: tuple[tuple[str, str], ...]  # (name, LinkedIn school slug)
    linkedin_text: str = ""  # "Austin, Texas, United States"; filled in below


# fmt: off
CITIES: tuple[City, ...] = (
    City("New York", "NY", "New York", ("100", "101", "102"), (212, 646, 917),
         (("Borough of Manhattan Community College", "bmcc"), ("Hunter College", "hunter-college"))),
    City("Brooklyn", "NY", "New York", ("112",), (718, 347, 929),
         (("Kingsborough Community College", "kingsborough-community-college"),
          ("Brooklyn College", "brooklyn-college"))),
    City("Chicago", "IL", "Illinois", ("606",), (312, 773, 872),
         (("City Colleges of Chicago", "city-colleges-of-chicago"),
          ("Northeastern Illinois University", "northeastern-illinois-university"))),
    City("San Francisco", "CA", "California", ("941",), (415, 628),
         (("City College of San Francisco", "city-college-of-san-francisco"),
          ("San Francisco State University", "san-francisco-state-university"))),
    City("Oakland", "CA", "California", ("946",), (510, 341),
         (("Laney College", "laney-college"), ("California State University, East Bay", "csueastbay"))),
    City("Los Angeles", "CA", "California", ("900",), (213, 323, 310),
         (("Los Angeles City College", "los-angeles-city-college"),
          ("California State University, Los Angeles", "cal-state-la"))),
    City("Sacramento", "CA", "California", ("958",), (916, 279),
         (("Sacramento City College", "sacramento-city-college"), ("Sacramento State", "sacramento-state"))),
    City("Boston", "MA", "Massachusetts", ("021",), (617, 857),
         (("Bunker Hill Community College", "bunker-hill-community-college"),
          ("University of Massachusetts Boston", "umass-boston"))),
    City("Houston", "TX", "Texas", ("770",), (713, 832, 281),
         (("Houston Community College", "houston-community-college"),
          ("University of Houston", "university-of-houston"))),
    City("Dallas", "TX", "Texas", ("752",), (214, 469, 972),
         (("Dallas College", "dallas-college"), ("University of North Texas at Dallas", "untdallas"))),
    City("Austin", "TX", "Texas", ("787",), (512, 737),
         (("Austin Community College", "austin-community-college"),
          ("Texas State University", "texas-state-university"))),
    City("San Antonio", "TX", "Texas", ("782",), (210, 726),
         (("San Antonio College", "san-antonio-college"),
          ("The University of Texas at San Antonio", "utsa"))),
    City("Atlanta", "GA", "Georgia", ("303",), (404, 470, 678),
         (("Atlanta Technical College", "atlanta-technical-college"),
          ("Georgia State University", "georgia-state-university"))),
    City("Seattle", "WA", "Washington", ("981",), (206,),
         (("Seattle Central College", "seattle-central-college"),
          ("University of Washington", "university-of-washington"))),
    City("Miami", "FL", "Florida", ("331",), (305, 786),
         (("Miami Dade College", "miami-dade-college"),
          ("Florida International University", "florida-international-university"))),
    City("Orlando", "FL", "Florida", ("328",), (407, 689),
         (("Valencia College", "valencia-college"), ("University of Central Florida", "ucf"))),
    City("Denver", "CO", "Colorado", ("802",), (303, 720),
         (("Community College of Denver", "community-college-of-denver"),
          ("Metropolitan State University of Denver", "msudenver"))),
    City("Phoenix", "AZ", "Arizona", ("850",), (602, 480, 623),
         (("Phoenix College", "phoenix-college"), ("Arizona State University", "arizona-state-university"))),
    City("Philadelphia", "PA", "Pennsylvania", ("191",), (215, 267),
         (("Community College of Philadelphia", "community-college-of-philadelphia"),
          ("Temple University", "temple-university"))),
    City("Pittsburgh", "PA", "Pennsylvania", ("152",), (412,),
         (("Community College of Allegheny County", "ccac"),
          ("University of Pittsburgh", "university-of-pittsburgh"))),
    City("Detroit", "MI", "Michigan", ("482",), (313,),
         (("Wayne County Community College District", "wcccd"),
          ("Wayne State University", "wayne-state-university"))),
    City("Minneapolis", "MN", "Minnesota", ("554",), (612,),
         (("Minneapolis College", "minneapolis-college"), ("Metropolitan State University", "metrostate"))),
    City("Charlotte", "NC", "North Carolina", ("282",), (704, 980),
         (("Central Piedmont Community College", "cpcc"), ("UNC Charlotte", "unc-charlotte"))),
    City("Nashville", "TN", "Tennessee", ("372",), (615, 629),
         (("Nashville State Community College", "nashville-state-community-college"),
          ("Tennessee State University", "tennessee-state-university"))),
    City("Columbus", "OH", "Ohio", ("432",), (614, 380),
         (("Columbus State Community College", "columbus-state-community-college"),
          ("The Ohio State University", "the-ohio-state-university"))),
    City("Las Vegas", "NV", "Nevada", ("891",), (702, 725),
         (("College of Southern Nevada", "college-of-southern-nevada"),
          ("University of Nevada, Las Vegas", "unlv"))),
    City("Portland", "OR", "Oregon", ("972",), (503, 971),
         (("Portland Community College", "portland-community-college"),
          ("Portland State University", "portland-state-university"))),
    City("Baltimore", "MD", "Maryland", ("212",), (410, 443),
         (("Community College of Baltimore County", "ccbc"),
          ("Morgan State University", "morgan-state-university"))),
    City("St. Louis", "MO", "Missouri", ("631",), (314,),
         (("St. Louis Community College", "st-louis-community-college"),
          ("University of Missouri-St. Louis", "umsl"))),
    City("New Orleans", "LA", "Louisiana", ("701",), (504,),
         (("Delgado Community College", "delgado-community-college"),
          ("University of New Orleans", "university-of-new-orleans"))),
)
_CITY_WEIGHTS = (9, 5, 8, 3, 3, 7, 2, 4, 7, 5, 4, 3, 6, 3, 4, 3, 3, 4, 4, 2, 3, 2, 3, 2, 2, 2, 2, 2, 2, 2)
_ONLINE_SCHOOLS = (
    ("Southern New Hampshire University", "southern-new-hampshire-university"),
    ("Western Governors University", "western-governors-university"),
    ("University of Phoenix", "university-of-phoenix"),
    ("Arizona State University Online", "asu-online"),
)
# fmt: on
CITIES = tuple(c._replace(linkedin_text=f"{c.name}, {c.state_name}, United States") for c in CITIES)


_MEDIA = "https://media.licdn.com/dms/image/v2"


class Company(NamedTuple):
    name: str
    slug: str | None  # LinkedIn universal name; None for a small business without a page
    cid: str | None
    industry: str
    website: str | None
    size: str | None
    founded: int | None
    url: str | None  # the LinkedIn company page
    logo: str | None


def _company(
    name: str, slug: str | None, cid: str | None, industry: str, website: str | None, size: str, founded: int
) -> Company:
    url = f"https://www.linkedin.com/company/{slug}/" if slug else None
    logo = f"{_MEDIA}/C4E0BAQ{cid}/company-logo_200_200/0/1630000000000" if cid else None
    return Company(name, slug, cid, industry, website, size, founded, url, logo)


def _co(name: str, slug: str, industry: str, website: str, size: str, founded: int) -> Company:
    cid = str(zlib.crc32(slug.encode()) % 9_000_000 + 1000)
    return _company(name, slug, cid, industry, website, size, founded)


# fmt: off
_C: dict[str, Company] = {
    c.slug or c.name: c
    for c in (
        _co("Target", "target", "Retail", "https://corporate.target.com", "10001+", 1902),
        _co("Walmart", "walmart", "Retail", "https://corporate.walmart.com", "10001+", 1962),
        _co("Best Buy", "best-buy", "Retail", "https://www.bestbuy.com", "10001+", 1966),
        _co("The Home Depot", "the-home-depot", "Retail", "https://www.homedepot.com", "10001+", 1978),
        _co("Lowe's Companies, Inc.", "lowes-home-improvement", "Retail", "https://www.lowes.com", "10001+",
            1946),
        _co("Macy's", "macys", "Retail", "https://www.macysinc.com", "10001+", 1858),
        _co("Kohl's", "kohls", "Retail", "https://www.kohls.com", "10001+", 1962),
        _co("Costco Wholesale", "costco-wholesale", "Retail", "https://www.costco.com", "10001+", 1983),
        _co("Walgreens", "walgreens", "Retail", "https://www.walgreens.com", "10001+", 1901),
        _co("Old Navy", "old-navy", "Retail Apparel and Fashion", "https://www.oldnavy.com", "10001+", 1994),
        _co("Ulta Beauty", "ulta-beauty", "Retail", "https://www.ulta.com", "10001+", 1990),
        _co("Starbucks", "starbucks", "Food and Beverage Services", "https://www.starbucks.com", "10001+",
            1971),
        _co("Chipotle Mexican Grill", "chipotle-mexican-grill", "Restaurants", "https://www.chipotle.com",
            "10001+", 1993),
        _co("Panera Bread", "panera-bread", "Restaurants", "https://www.panerabread.com", "10001+", 1987),
        _co("Dutch Bros Coffee", "dutch-bros-coffee", "Food and Beverage Services",
            "https://www.dutchbros.com", "10001+", 1992),
        _co("Chick-fil-A", "chick-fil-a", "Restaurants", "https://www.chick-fil-a.com", "10001+", 1967),
        _co("Sweetgreen", "sweetgreen", "Restaurants", "https://www.sweetgreen.com", "5001-10000", 2007),
        _co("Accenture", "accenture", "IT Services and IT Consulting", "https://www.accenture.com", "10001+",
            1989),
        _co("Cognizant", "cognizant", "IT Services and IT Consulting", "https://www.cognizant.com", "10001+",
            1994),
        _co("EPAM Systems", "epam-systems", "IT Services and IT Consulting", "https://www.epam.com", "10001+",
            1993),
        _co("Capital One", "capital-one", "Financial Services", "https://www.capitalone.com", "10001+", 1994),
        _co("Indeed", "indeed-com", "Software Development", "https://www.indeed.com", "10001+", 2004),
        _co("HubSpot", "hubspot", "Software Development", "https://www.hubspot.com", "5001-10000", 2006),
        _co("Rackspace Technology", "rackspace", "IT Services and IT Consulting", "https://www.rackspace.com",
            "5001-10000", 1998),
        _co("Slalom", "slalom-consulting", "Business Consulting and Services", "https://www.slalom.com",
            "10001+", 2001),
        _co("Wayfair", "wayfair", "Retail", "https://www.wayfair.com", "10001+", 2002),
        _co("Chewy", "chewy-com", "Retail", "https://www.chewy.com", "10001+", 2011),
        _co("HCA Healthcare", "hca", "Hospitals and Health Care", "https://hcahealthcare.com", "10001+",
            1968),
        _co("Kaiser Permanente", "kaiser-permanente", "Hospitals and Health Care",
            "https://healthy.kaiserpermanente.org", "10001+", 1945),
        _co("CommonSpirit Health", "commonspirit-health", "Hospitals and Health Care",
            "https://www.commonspirit.org", "10001+", 2019),
        _co("Banner Health", "banner-health", "Hospitals and Health Care", "https://www.bannerhealth.com",
            "10001+", 1999),
        _co("Ascension", "ascension-health", "Hospitals and Health Care", "https://www.ascension.org",
            "10001+", 1999),
        _co("Houston Methodist", "houston-methodist", "Hospitals and Health Care",
            "https://www.houstonmethodist.org", "10001+", 1919),
        _co("Northwell Health", "northwell-health", "Hospitals and Health Care", "https://www.northwell.edu",
            "10001+", 1997),
        _co("Baylor Scott & White Health", "baylor-scott-white-health", "Hospitals and Health Care",
            "https://www.bswhealth.com", "10001+", 2013),
        _co("Houston Independent School District", "houston-independent-school-district",
            "Primary and Secondary Education", "https://www.houstonisd.org", "10001+", 1924),
        _co("Chicago Public Schools", "chicago-public-schools", "Primary and Secondary Education",
            "https://www.cps.edu", "10001+", 1837),
        _co("Los Angeles Unified School District", "lausd", "Primary and Secondary Education",
            "https://www.lausd.org", "10001+", 1961),
        _co("Miami-Dade County Public Schools", "miami-dade-county-public-schools",
            "Primary and Secondary Education", "https://www.dadeschools.net", "10001+", 1885),
        _co("KIPP Public Schools", "kipp", "Education Administration Programs", "https://www.kipp.org",
            "5001-10000", 1994),
        _co("Success Academy Charter Schools", "success-academy-charter-schools",
            "Primary and Secondary Education", "https://www.successacademies.org", "1001-5000", 2006),
        _co("Comcast", "comcast", "Telecommunications", "https://corporate.comcast.com", "10001+", 1963),
        _co("Verizon", "verizon", "Telecommunications", "https://www.verizon.com", "10001+", 2000),
        _co("T-Mobile", "t-mobile", "Telecommunications", "https://www.t-mobile.com", "10001+", 1994),
        _co("Amazon", "amazon", "Software Development", "https://www.aboutamazon.com", "10001+", 1994),
        _co("Teleperformance", "teleperformance", "Outsourcing and Offshoring Consulting",
            "https://www.tp.com", "10001+", 1978),
        _co("Concentrix", "concentrix", "IT Services and IT Consulting", "https://www.concentrix.com",
            "10001+", 1983),
        _co("Progressive Insurance", "progressive-insurance", "Insurance", "https://www.progressive.com",
            "10001+", 1937),
        _co("GEICO", "geico", "Insurance", "https://www.geico.com", "10001+", 1936),
        _co("UPS", "ups", "Truck Transportation", "https://www.ups.com", "10001+", 1907),
        _co("FedEx", "fedex", "Transportation, Logistics, Supply Chain and Storage", "https://www.fedex.com",
            "10001+", 1971),
        _co("DHL Supply Chain", "dhl-supply-chain", "Transportation, Logistics, Supply Chain and Storage",
            "https://www.dhl.com", "10001+", 1969),
        _co("GXO Logistics", "gxo", "Transportation, Logistics, Supply Chain and Storage", "https://gxo.com",
            "10001+", 2021),
        _co("Ryder", "ryder-system-inc", "Transportation, Logistics, Supply Chain and Storage",
            "https://www.ryder.com", "10001+", 1933),
        _co("Robert Half", "robert-half-international", "Staffing and Recruiting",
            "https://www.roberthalf.com", "10001+", 1948),
        _co("Kelly", "kelly-services", "Staffing and Recruiting", "https://www.kellyservices.com",
            "5001-10000", 1946),
        _co("CBRE", "cbre", "Real Estate", "https://www.cbre.com", "10001+", 1906),
        _co("JLL", "jll", "Real Estate", "https://www.us.jll.com", "10001+", 1783),
        _co("Marriott International", "marriott-international", "Hospitality", "https://www.marriott.com",
            "10001+", 1927),
        _co("Hilton", "hilton", "Hospitality", "https://www.hilton.com", "10001+", 1919),
        _co("JPMorgan Chase & Co.", "jpmorganchase", "Financial Services", "https://www.jpmorganchase.com",
            "10001+", 1799),
        _co("Bank of America", "bank-of-america", "Banking", "https://www.bankofamerica.com", "10001+", 1998),
        _co("Wells Fargo", "wellsfargo", "Financial Services", "https://www.wellsfargo.com", "10001+", 1852),
        _co("PNC", "pnc-bank", "Banking", "https://www.pnc.com", "10001+", 1845),
        _co("Truist", "truistfinancial", "Financial Services", "https://www.truist.com", "10001+", 2019),
        _co("U.S. Bank", "usbank", "Banking", "https://www.usbank.com", "10001+", 1863),
        _co("TEKsystems", "teksystems", "IT Services and IT Consulting", "https://www.teksystems.com",
            "10001+", 1983),
        _co("Insight", "insight", "IT Services and IT Consulting", "https://www.insight.com", "10001+", 1988),
        _co("CDW", "cdw", "IT Services and IT Consulting", "https://www.cdw.com", "10001+", 1984),
        _co("Dell Technologies", "delltechnologies", "IT Services and IT Consulting", "https://www.dell.com",
            "10001+", 1984),
        _co("Apex Systems", "apex-systems", "IT Services and IT Consulting", "https://www.apexsystems.com",
            "5001-10000", 1995),
        _co("Yelp", "yelp-com", "Software Development", "https://www.yelp.com", "1001-5000", 2004),
        _co("Zillow", "zillow", "Technology, Information and Internet", "https://www.zillow.com",
            "5001-10000", 2006),
        _co("Publicis Sapient", "publicissapient", "IT Services and IT Consulting",
            "https://www.publicissapient.com", "10001+", 1990),
        _co("Ogilvy", "ogilvy", "Advertising Services", "https://www.ogilvy.com", "10001+", 1948),
    )
}
# fmt: on


class Track(NamedTuple):
    # Career levels. One level up at the same employer is a promotion, and each level's titles carry a
    # plainer seniority marker than the level below (Lead, Senior, Supervisor, Manager...); moving
    # between titles of one level is a lateral change, never a promotion.
    ladder: tuple[tuple[str, ...], ...]
    companies: tuple[str, ...]  # slugs in _C
    certs: tuple[tuple[str, str, str | None], ...]  # (title, issuer, issuer LinkedIn slug); {state} allowed
    skills: tuple[str, ...]
    fields: tuple[str, ...]  # fields of study
    etype: str
    award: str  # a typical workplace award


# fmt: off
TRACKS: dict[str, Track] = {
    "retail": Track(
        (("Sales Associate", "Retail Associate", "Cashier"), ("Lead Sales Associate", "Lead Cashier"),
         ("Assistant Store Manager",), ("Store Manager",), ("District Manager",)),
        ("target", "walmart", "best-buy", "the-home-depot", "lowes-home-improvement", "macys", "kohls",
         "costco-wholesale", "walgreens", "old-navy", "ulta-beauty"),
        (("OSHA 10-Hour General Industry", "OSHA Training Institute", None),
         ("Certified Pharmacy Technician (CPhT)", "Pharmacy Technician Certification Board", "ptcb"),
         ("Google Project Management Certificate", "Google", "google"),
         ("Retail Management Certificate", "National Retail Federation Foundation", "nrf")),
        ("Customer Service", "Retail Sales", "Cash Handling", "Visual Merchandising", "Inventory Management",
         "Teamwork", "Point of Sale (POS) Systems"),
        ("Business Administration", "Marketing", "General Studies"), "Part-time", "Employee of the Month"),
    "food": Track(
        (("Barista", "Crew Member", "Server"), ("Shift Supervisor",),
         ("Assistant Manager", "Assistant Restaurant Manager"), ("General Manager", "Restaurant Manager")),
        ("starbucks", "chipotle-mexican-grill", "panera-bread", "dutch-bros-coffee", "chick-fil-a",
         "sweetgreen"),
        (("ServSafe Food Handler", "National Restaurant Association", "servsafe"),
         ("ServSafe Food Protection Manager", "National Restaurant Association", "servsafe"),
         ("ServSafe Alcohol", "National Restaurant Association", "servsafe")),
        ("Customer Service", "Food Safety", "Espresso", "Cash Handling", "Team Leadership", "Scheduling"),
        ("Hospitality Management", "Culinary Arts", "General Studies"), "Part-time",
        "Partner of the Quarter"),
    "software": Track(
        (("Junior Developer", "Associate Software Engineer", "Junior Web Developer"),
         ("Software Engineer", "Backend Engineer", "Frontend Developer", "Full Stack Developer"),
         ("Senior Software Engineer", "Senior Backend Engineer"), ("Staff Software Engineer",)),
        ("accenture", "cognizant", "epam-systems", "capital-one", "indeed-com", "hubspot", "rackspace",
         "slalom-consulting", "wayfair", "chewy-com", "amazon"),
        (("AWS Certified Cloud Practitioner", "Amazon Web Services (AWS)", "amazon-web-services"),
         ("AWS Certified Developer - Associate", "Amazon Web Services (AWS)", "amazon-web-services"),
         ("Microsoft Certified: Azure Fundamentals", "Microsoft", "microsoft"),
         ("Meta Front-End Developer Professional Certificate", "Meta", "meta"),
         ("Certified Kubernetes Application Developer (CKAD)", "The Linux Foundation", "linux-foundation")),
        ("JavaScript", "Python", "React.js", "SQL", "Git", "Node.js", "Java", "Amazon Web Services (AWS)"),
        ("Computer Science", "Software Development", "Information Technology"), "Full-time",
        "Hackathon Winner"),
    "healthcare": Track(
        (("Certified Nursing Assistant", "Nursing Assistant", "Patient Care Assistant"),
         ("Lead Nursing Assistant", "Lead Patient Care Assistant"), ("Registered Nurse",),
         ("Charge Nurse",), ("Nurse Manager",)),
        ("hca", "kaiser-permanente", "commonspirit-health", "banner-health", "ascension-health",
         "houston-methodist", "northwell-health", "baylor-scott-white-health"),
        (("Certified Nursing Assistant (CNA)", "{state} Department of Health", None),
         ("Basic Life Support (BLS)", "American Heart Association", "american-heart-association"),
         ("Registered Nurse (RN) License", "{state} Board of Nursing", None),
         ("Certified Medical Assistant (CMA)", "American Association of Medical Assistants", "aama"),
         ("Certified Phlebotomy Technician (CPT)", "National Healthcareer Association", "nha")),
        ("Patient Care", "Vital Signs", "Electronic Medical Record (EMR)", "Basic Life Support (BLS)",
         "Patient Safety", "Phlebotomy"),
        ("Nursing", "Health Sciences", "Medical Assisting"), "Full-time",
        "DAISY Award for Extraordinary Nurses"),
    "education": Track(
        (("Teaching Assistant", "Paraprofessional", "Instructional Aide"),
         ("Teacher", "Elementary School Teacher"), ("Lead Teacher",), ("Assistant Principal",)),
        ("houston-independent-school-district", "chicago-public-schools", "lausd",
         "miami-dade-county-public-schools", "kipp", "success-academy-charter-schools"),
        (("CPR/AED and First Aid", "American Red Cross", "american-red-cross"),
         ("ParaPro Assessment", "ETS", "ets"),
         ("{state} Teaching Certificate", "{state} Department of Education", None),
         ("TEFL Certificate", "International TEFL Academy", "international-tefl-academy")),
        ("Classroom Management", "Lesson Planning", "Tutoring", "Special Education",
         "Curriculum Development"),
        ("Education", "Early Childhood Education", "Psychology"), "Full-time", "Rookie Teacher of the Year"),
    "customer_service": Track(
        (("Customer Service Representative", "Customer Support Specialist", "Call Center Agent"),
         ("Senior Customer Service Representative",), ("Team Lead", "Customer Service Team Lead"),
         ("Customer Service Supervisor",), ("Customer Service Manager",)),
        ("comcast", "verizon", "t-mobile", "amazon", "teleperformance", "concentrix", "progressive-insurance",
         "geico"),
        (("Salesforce Certified Administrator", "Salesforce", "salesforce"),
         ("Google Project Management Certificate", "Google", "google"),
         ("HDI Customer Service Representative", "HDI", "hdi")),
        ("Customer Service", "Customer Satisfaction", "Conflict Resolution", "Zendesk", "Salesforce.com",
         "Call Centers"),
        ("Communication", "Business Administration", "General Studies"), "Full-time",
        "Customer Service Excellence Award"),
    "logistics": Track(
        (("Warehouse Associate", "Fulfillment Associate", "Package Handler"),
         ("Lead Warehouse Associate", "Warehouse Team Lead"),
         ("Operations Supervisor", "Warehouse Supervisor"), ("Operations Manager",)),
        ("amazon", "ups", "fedex", "dhl-supply-chain", "gxo", "ryder-system-inc"),
        (("OSHA 10-Hour General Industry", "OSHA Training Institute", None),
         ("Certified Forklift Operator", "National Safety Council", "national-safety-council"),
         ("Commercial Driver's License (CDL) Class A", "{state} Department of Motor Vehicles", None),
         ("Lean Six Sigma Yellow Belt", "Six Sigma Global Institute", None)),
        ("Forklift Operation", "Inventory Control", "Shipping & Receiving", "Warehouse Operations", "Safety"),
        ("Supply Chain Management", "Logistics", "General Studies"), "Full-time", "Safety Star Award"),
    "admin": Track(
        (("Administrative Assistant", "Office Assistant", "Receptionist", "Front Desk Associate"),
         ("Senior Administrative Assistant",), ("Office Manager",), ("Senior Office Manager",)),
        ("robert-half-international", "kelly-services", "cbre", "jll", "marriott-international", "hilton"),
        (("Microsoft Office Specialist: Excel Associate", "Microsoft", "microsoft"),
         ("Notary Public", "{state} Secretary of State", None),
         ("Certified Administrative Professional (CAP)", "IAAP", "iaap")),
        ("Microsoft Office", "Scheduling", "Data Entry", "Front Desk", "Calendar Management", "QuickBooks"),
        ("Business Administration", "Communication", "General Studies"), "Full-time",
        "Above and Beyond Award"),
    "banking": Track(
        (("Bank Teller", "Teller", "Customer Service Teller"), ("Senior Teller", "Senior Bank Teller"),
         ("Assistant Branch Manager",), ("Branch Manager",)),
        ("jpmorganchase", "bank-of-america", "wellsfargo", "pnc-bank", "truistfinancial", "usbank",
         "capital-one"),
        (("Securities Industry Essentials (SIE)", "FINRA", "finra"), ("Series 6", "FINRA", "finra"),
         ("Notary Public", "{state} Secretary of State", None)),
        ("Cash Handling", "Customer Service", "Banking", "Cross-selling", "Financial Services"),
        ("Finance", "Accounting", "Business Administration"), "Full-time", "Top Performer Award"),
    "it_support": Track(
        (("Help Desk Technician", "IT Support Specialist", "Desktop Support Technician"),
         ("Senior IT Support Specialist", "Senior Desktop Support Technician"), ("IT Support Supervisor",),
         ("IT Manager",)),
        ("teksystems", "insight", "cdw", "delltechnologies", "apex-systems", "best-buy"),
        (("CompTIA A+", "CompTIA", "comptia"), ("CompTIA Network+", "CompTIA", "comptia"),
         ("CompTIA Security+", "CompTIA", "comptia"),
         ("Cisco Certified Network Associate (CCNA)", "Cisco", "cisco"),
         ("Google IT Support Professional Certificate", "Google", "google")),
        ("Technical Support", "Active Directory", "Windows", "Troubleshooting", "Networking", "ServiceNow"),
        ("Information Technology", "Computer Networking", "Cybersecurity"), "Full-time", "Spot Award"),
    "data": Track(
        (("Junior Data Analyst", "Junior Business Analyst"),
         ("Data Analyst", "Business Intelligence Analyst", "Business Analyst"),
         ("Senior Data Analyst", "Senior Business Analyst"), ("Analytics Manager",)),
        ("capital-one", "indeed-com", "wayfair", "zillow", "accenture", "progressive-insurance"),
        (("Google Data Analytics Certificate", "Google", "google"),
         ("Microsoft Certified: Power BI Data Analyst Associate", "Microsoft", "microsoft"),
         ("Tableau Desktop Specialist", "Tableau", "tableau-software"),
         ("IBM Data Science Professional Certificate", "IBM", "ibm")),
        ("SQL", "Microsoft Excel", "Tableau", "Power BI", "Python", "Data Analysis"),
        ("Statistics", "Economics", "Data Science"), "Full-time", "Spot Award"),
    "marketing": Track(
        (("Marketing Coordinator", "Social Media Coordinator", "Digital Marketing Coordinator"),
         ("Senior Marketing Coordinator", "Senior Social Media Coordinator"), ("Marketing Manager",),
         ("Senior Marketing Manager",)),
        ("hubspot", "yelp-com", "zillow", "publicissapient", "ogilvy", "wayfair"),
        (("Google Ads Search Certification", "Google", "google"),
         ("HubSpot Inbound Marketing Certification", "HubSpot Academy", "hubspot"),
         ("Google Analytics Certification", "Google", "google")),
        ("Social Media Marketing", "Content Creation", "Canva", "Google Analytics", "Copywriting", "SEO"),
        ("Marketing", "Communication", "Journalism"), "Full-time", "Rising Star Award"),
}
# fmt: on
_TRACK_NAMES = tuple(TRACKS)
_TRACK_WEIGHTS = (18, 14, 6, 12, 8, 12, 10, 8, 6, 3, 2, 3)
_PMP = (
    "Project Management Professional (PMP)",
    "Project Management Institute",
    "project-management-institute",
)
_DEGREES = (
    ("Associate of Applied Science - AAS", 4),
    ("Associate of Arts - AA", 3),
    ("Bachelor of Science - BS", 3),
    ("Bachelor of Arts - BA", 2),
    ("Certificate", 1),
)
_DEGREE_NAMES = tuple(d for d, _ in _DEGREES)
_DEGREE_WEIGHTS = tuple(w for _, w in _DEGREES)

# fmt: off
FIRST_NAMES = (
    "Maria", "Jessica", "Ashley", "Brianna", "Jasmine", "Aaliyah", "Destiny", "Emily", "Sarah", "Hannah",
    "Madison", "Alexis", "Samantha", "Elizabeth", "Jennifer", "Katherine", "Victoria", "Rebecca", "Patricia",
    "Nicole", "Stephanie", "Vanessa", "Gabriela", "Daniela", "Valeria", "Ximena", "Guadalupe", "Mei", "Priya",
    "Anjali", "Fatima", "Aisha", "Nia", "Imani", "Keisha", "Tiana", "Shanice", "Mariana", "Sofia", "Camila",
    "Isabella", "Chloe", "Olivia", "Grace", "Linh", "Thuy", "Jin", "Yesenia", "Lakshmi", "Amara", "Chioma",
    "Adaeze", "Zainab", "Leila", "Noor", "Rachel", "Lauren", "Megan", "Kayla", "Courtney", "Brittany",
    "Amber", "Tamika", "Michael", "Christopher", "Joshua", "Matthew", "Daniel", "David", "James", "Robert",
    "William", "Anthony", "Jonathan", "Nicholas", "Andrew", "Joseph", "Benjamin", "Alexander", "Zachary",
    "Tyler", "Brandon", "Justin", "Kevin", "Jose", "Luis", "Carlos", "Juan", "Miguel", "Alejandro", "Diego",
    "Javier", "Jamal", "DeShawn", "Malik", "Darnell", "Terrell", "Marcus", "Andre", "Tyrone", "Wei", "Jian",
    "Hiroshi", "Kenji", "Minh", "Duc", "Raj", "Arjun", "Rohan", "Vikram", "Mohammed", "Omar", "Ahmed",
    "Yusuf", "Chinedu", "Emeka", "Kwame", "Kofi", "Dmitri", "Ivan", "Mateo", "Santiago", "Ethan", "Noah",
    "Liam", "Caleb", "Isaiah", "Elijah", "Jordan", "Taylor"
)
# fmt: on
# fmt: off
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Patel",
    "Shah", "Singh", "Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Tran", "Pham", "Le", "Park", "Choi",
    "Yamamoto", "Tanaka", "Okafor", "Adeyemi", "Mensah", "Okonkwo", "Diallo", "Abdi", "Hassan", "Ali", "Khan",
    "Ahmed", "Haddad", "Cohen", "Goldberg", "Murphy", "O'Brien", "O'Connor", "Sullivan", "McCarthy",
    "Kowalski", "Nowak", "Russo", "Esposito", "Romano", "Schmidt", "Mueller", "Jensen", "Larsen",
    "Washington", "Jefferson", "Banks", "Freeman", "Coleman", "Jenkins", "Mendoza", "Castillo", "Vargas",
    "Ortiz", "Morales", "Gutierrez", "Reyes", "Cruz", "Ramos", "Nunez", "Alvarez", "Romero", "Delgado",
    "Santos", "Silva", "Oliveira", "Ibrahim", "Mahmoud", "Das", "Gupta", "Reddy", "Iyer", "Rao", "Kaur",
    "Pierre", "Jean-Baptiste", "Dubois", "Morrison", "Fitzgerald", "De La Cruz", "Lopez-Garcia", "Bui", "Vo",
    "Yang", "Xiong", "Begay", "Yazzie"
)
# fmt: on
# fmt: off
NICKNAMES = {
    "Michael": "Mike", "Christopher": "Chris", "Joshua": "Josh", "Matthew": "Matt", "Daniel": "Danny",
    "David": "Dave", "James": "Jimmy", "Robert": "Rob", "William": "Will", "Anthony": "Tony",
    "Jonathan": "Jon", "Nicholas": "Nick", "Andrew": "Drew", "Joseph": "Joe", "Benjamin": "Ben",
    "Alexander": "Alex", "Zachary": "Zach", "Jessica": "Jess", "Samantha": "Sam", "Elizabeth": "Liz",
    "Jennifer": "Jen", "Katherine": "Katie", "Victoria": "Tori", "Rebecca": "Becca", "Patricia": "Trish",
    "Stephanie": "Steph", "Alejandro": "Alex", "Gabriela": "Gaby", "Daniela": "Dani", "Javier": "Javi",
    "Isabella": "Bella", "Nicole": "Nikki", "Mohammed": "Mo"
}
# fmt: on
# fmt: off
ACCENTED = {
    "Gonzalez": "Gonz\xe1lez", "Hernandez": "Hern\xe1ndez", "Rodriguez": "Rodr\xedguez",
    "Martinez": "Mart\xednez", "Lopez": "L\xf3pez", "Perez": "P\xe9rez", "Ramirez": "Ram\xedrez",
    "Sanchez": "S\xe1nchez", "Nunez": "N\xfa\xf1ez", "Gutierrez": "Guti\xe9rrez"
}
# fmt: on
# fmt: off
_STREETS = (
    "Maple Ave", "Oak St", "Cedar Ln", "Elm St", "Pine St", "Washington Blvd", "Park Ave", "Lincoln Rd",
    "2nd St", "3rd Ave", "Main St", "Church St", "Highland Ave", "Sunset Blvd", "Lakeview Dr", "Willow Way",
    "Martin Luther King Jr Blvd", "Jefferson St", "Cherry Hill Rd", "River Rd", "Franklin Ave", "Magnolia Dr",
    "Chestnut St", "Spring St", "Madison Ave", "Meadow Ln", "Hillcrest Dr", "Grand Ave", "Walnut St",
    "Cypress Ct", "Broadway", "Bayou Dr", "Peachtree St NE", "Colfax Ave"
)
# fmt: on
_EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "comcast.net",
    "protonmail.com",
    "live.com",
)
_EMAIL_WEIGHTS = (46, 14, 10, 8, 10, 3, 3, 2, 4)
_ASSIGNEES = ("agent.alvarez", "agent.chen", "agent.okafor", "")
_ASSIGNEE_WEIGHTS = (30, 30, 30, 10)
# fmt: off
_BUSINESS_PATTERNS = (
    "{last} Cleaning Services LLC", "Bright Path Tutoring", "{first}'s Mobile Detailing", "{city} Lawn Care",
    "Sweet {first} Bakery", "{last} Consulting LLC", "{first} {last} Photography", "{city} Meal Prep Co.",
    "{last} Home Health Services", "Fresh Fade Barbershop", "{first} Fitness Coaching", "{last} Web Studio",
    "{city} Pet Sitting", "Golden Hour Events", "{last} Moving & Hauling"
)
# fmt: on
_FOUNDER_TITLES = ("Founder", "Owner", "Founder & CEO", "Co-Founder", "Owner & Operator")
_ABOUT = (
    "Hard-working {role} who loves helping people.",
    "{role} focused on great service and growing every day.",
    "Currently working as a {role}. Always learning.",
    "Reliable team player with experience as a {role}. Open to new challenges.",
)
_PHOTO_SIZES = "profile-displayphoto-shrink_800_800"
_PHOTO_SMALL = "profile-displayphoto-shrink_100_100"


# ------------------------------------------------------------------------------------- profile state


class Pos(NamedTuple):
    title: str
    company: Company
    start: YM
    end: YM | None  # None while current
    location: str
    etype: str
    description: str | None
    track: str
    level: int  # ladder level; -1 for a founder role
    tnoise: int = 0  # 0 clean, 1 trailing space, 2 double space, 3 lower-cased after the first word


class Cert(NamedTuple):
    title: str
    issuer: str
    issuer_slug: str | None
    issued: YM
    expires: YM | None
    credential_id: str | None


class Award(NamedTuple):
    title: str
    issuer: str
    issued: YM
    description: str | None
    associated: str | None


class Edu(NamedTuple):
    school: str
    school_slug: str
    degree: str | None
    field_of_study: str | None
    start: int
    end: YM  # a future year while the degree is in progress


@dataclass(slots=True)
class State:
    headline: str
    about: str | None
    open_to_work: bool
    positions: list[Pos]
    certs: list[Cert]
    awards: list[Award]
    edus: list[Edu]
    skills: list[str]
    connections: int
    followers: int
    photo: str | None  # image token; None when the profile has no picture
    hl_noise: int = 0

    def clone(self) -> State:
        return State(
            self.headline,
            self.about,
            self.open_to_work,
            list(self.positions),
            list(self.certs),
            list(self.awards),
            list(self.edus),
            list(self.skills),
            self.connections,
            self.followers,
            self.photo,
            self.hl_noise,
        )

    def current(self) -> Pos | None:
        """The current position LinkedIn shows first: the latest started one."""
        best: Pos | None = None
        for p in self.positions:
            if p.end is None and (best is None or _ym_key(p.start) > _ym_key(best.start)):
                best = p
        return best

    def sort_positions(self) -> None:
        self.positions.sort(key=_display_order, reverse=True)


def _display_order(p: Pos) -> tuple[bool, int, int]:
    """Current roles first, then by end, then by start (sorted in reverse)."""
    return p.end is None, _ym_key(p.end or p.start), _ym_key(p.start)


@dataclass(slots=True)
class Person:
    """One LinkedIn member: identity, plus the profile states at each round and what changed."""

    index: int
    external_id: str | None  # None: not a lead
    first: str  # as shown on LinkedIn (may be a nickname, or carry accents the CSV lacks)
    last: str
    slug: str
    urn: str
    member_id: str
    registered_at: str
    city: City
    track: str
    email: str | None
    list_email: bool  # harvestapi `emails` lists it
    round2_actor: str
    premium: bool
    verified: bool
    photo_ts: int = 0
    template: Person | None = None  # compact mode: whose career (states, changes) this member shares
    states: list[State] = field(default_factory=list)
    changes: list[tuple[int, str]] = field(default_factory=list)  # (round, kind)
    noise: list[tuple[int, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- helpers


def _ym_key(ym: YM) -> int:
    y, m = ym
    return y * 12 + ((m or 1) - 1)


def _ym_from_key(k: int) -> tuple[int, int]:
    return k // 12, k % 12 + 1


def _ym_add(ym: tuple[int, int], months: int) -> tuple[int, int]:
    return _ym_from_key(_ym_key(ym) + months)


@functools.lru_cache(maxsize=8192)
def _ym_text(ym: YM) -> str:
    y, m = ym
    return f"{MONTHS[m - 1]} {y}" if m else str(y)


def _months_text(months: int) -> str:
    years, rest = divmod(max(1, months), 12)
    parts = []
    if years:
        parts.append(f"{years} yr" + ("s" if years > 1 else ""))
    if rest:
        parts.append(f"{rest} mo" + ("s" if rest > 1 else ""))
    return " ".join(parts)


_DURATIONS = tuple(_months_text(m) for m in range(1200))
_YEARS = tuple(round(m / 12, 1) for m in range(1200))


def _duration(start: YM, end: YM) -> str:
    """LinkedIn's "1 yr 6 mos", counting both end months."""
    return _DURATIONS[max(1, _ym_key(end) - _ym_key(start) + 1)]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@functools.lru_cache(maxsize=4096)
def _alnum(text: str) -> str:
    return "".join(ch for ch in _ascii(text) if ch.isalnum())


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Fast draws: ``Random.choice``/``randint``/``choices`` are several times slower than one
# ``random()`` call, and the 100k-lead benchmark makes millions of draws.
_T = TypeVar("_T")
_CUM_WEIGHTS: dict[tuple[float, ...], tuple[list[float], float]] = {}


def _choice(rng: Random, seq: Sequence[_T]) -> _T:
    return seq[int(rng.random() * len(seq))]


def _randint(rng: Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def _randrange(rng: Random, n: int) -> int:
    return int(rng.random() * n)


def _wchoice(rng: Random, seq: Sequence[_T], weights: Sequence[float]) -> _T:
    key = tuple(weights)
    cached = _CUM_WEIGHTS.get(key)
    if cached is None:
        cum = list(itertools.accumulate(key))
        cached = _CUM_WEIGHTS[key] = (cum, cum[-1])
    cum, total = cached
    return seq[bisect.bisect_right(cum, rng.random() * total, 0, len(cum) - 1)]


def _token(rng: Random, n: int) -> str:
    """``n`` URL-safe base64 characters."""
    return base64.urlsafe_b64encode(rng.randbytes((n * 3 + 3) // 4)).decode()[:n]


def _hex(rng: Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


def _title_display(p: Pos) -> str:
    if p.tnoise == 1:
        return p.title + " "
    if p.tnoise == 2:
        return p.title.replace(" ", "  ", 1) if " " in p.title else " " + p.title
    if p.tnoise == 3:
        head, _, tail = p.title.partition(" ")
        return f"{head} {tail.lower()}" if tail else p.title.upper()
    return p.title


def _headline_display(s: State) -> str:
    if s.hl_noise == 1:
        return s.headline + "  "
    if s.hl_noise == 2:
        return s.headline.replace(" at ", "  at ", 1) if " at " in s.headline else " " + s.headline
    if s.hl_noise == 3:
        return s.headline.lower()
    return s.headline


def _headline_for(p: Pos | None, track: str, rng: Random) -> str:
    if p is None:
        field_word = TRACKS[track].fields[0]
        return _choice(
            rng,
            (
                f"Open to work | {field_word}",
                f"Seeking new opportunities in {field_word.lower()}",
                "Looking for my next opportunity",
            ),
        )
    return f"{p.title} at {p.company.name}"


# ---------------------------------------------------------------------------------------------- build


class _Ctx:
    """Whole-portfolio bookkeeping while people are generated one after another."""

    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)
        self.used_slugs: set[str] = set()
        self.used_emails: set[str] = set()


def _phone(rng: Random, city: City) -> str:
    area_codes = city.area_codes if rng.random() < 0.85 else _choice(rng, CITIES).area_codes
    area = _choice(rng, area_codes)
    while True:
        exchange = _randint(rng, 201, 999)
        if exchange % 100 != 11 and exchange not in (555, 950, 958, 959, 976):
            break
    line = _randint(rng, 0, 9999)
    a, e, ln = str(area), str(exchange), f"{line:04d}"
    fmt = rng.random()
    if fmt < 0.35:
        return f"({a}) {e}-{ln}"
    if fmt < 0.6:
        return f"{a}-{e}-{ln}"
    if fmt < 0.7:
        return f"{a}.{e}.{ln}"
    if fmt < 0.8:
        return f"{a}{e}{ln}"
    if fmt < 0.88:
        return f"+1 {a} {e} {ln}"
    if fmt < 0.94:
        return f"1-{a}-{e}-{ln}"
    if fmt < 0.97:
        return f"+1{a}{e}{ln}"
    return f"({a}){e}-{ln}"


def _email(ctx: _Ctx, first: str, last: str, birth_year: int) -> str:
    rng = ctx.rng
    f, la = _alnum(first), _alnum(last)
    pattern = _randrange(rng, 7)
    local = (
        f"{f}.{la}",
        f"{f}{la}",
        f"{f[0]}{la}",
        f"{f}_{la}",
        f"{f}.{la}{birth_year % 100:02d}",
        f"{f}{la[:1]}{_randint(rng, 1, 999)}",
        f"{la}.{f}",
    )[pattern]
    domain = _wchoice(rng, _EMAIL_DOMAINS, _EMAIL_WEIGHTS)
    email = f"{local}@{domain}"
    while email in ctx.used_emails:
        email = f"{local}{_randint(rng, 2, 9999)}@{domain}"
    ctx.used_emails.add(email)
    return email


def _slug(ctx: _Ctx, first: str, last: str) -> str:
    rng = ctx.rng
    f, la = _alnum(first), _alnum(last)
    r = rng.random()
    if r < 0.35:
        slug = f"{f}-{la}-{_hex(rng, _choice(rng, (6, 8, 9)))}"
    elif r < 0.6:
        slug = f"{f}-{la}"
    elif r < 0.72:
        slug = f"{f}{la}"
    elif r < 0.82:
        slug = f"{f[0]}{la}"
    elif r < 0.92:
        slug = f"{f}-{la}-{_randint(rng, 1, 999)}"
    else:
        slug = f"{f}-{_choice(rng, 'abcdefghjklmnprstw')}-{la}"
    while slug in ctx.used_slugs:
        slug = f"{f}-{la}-{_hex(rng, 8)}"
    ctx.used_slugs.add(slug)
    return slug


def _csv_linkedin_url(rng: Random, slug: str) -> str:
    r = rng.random()
    if r < 0.42:
        return f"https://www.linkedin.com/in/{slug}"
    if r < 0.62:
        return f"https://www.linkedin.com/in/{slug}/"
    if r < 0.76:
        return f"https://linkedin.com/in/{slug}"
    if r < 0.82:
        return f"http://www.linkedin.com/in/{slug}/"
    if r < 0.9:
        parts = slug.split("-")
        cased = "-".join(p.capitalize() if p.isalpha() else p for p in parts)
        return _choice(
            rng,
            (
                f"https://www.linkedin.com/in/{cased}",
                f"https://www.LinkedIn.com/in/{cased}/",
                f"HTTPS://WWW.LINKEDIN.COM/IN/{slug.upper()}",
            ),
        )
    if r < 0.95:
        return f"www.linkedin.com/in/{slug}"
    return (
        f"https://www.linkedin.com/in/{slug}?utm_source=share&utm_campaign=share_via"
        "&utm_content=profile&utm_medium=ios_app"
    )


def _company_for(rng: Random, track: str, exclude: set[str]) -> Company:
    """An employer of the track the person has not worked for (any other one if there is none)."""
    companies = TRACKS[track].companies
    for _ in range(4):
        slug = _choice(rng, companies)
        if slug not in exclude:
            return _C[slug]
    fresh = [c for c in companies if c not in exclude] or [c for c in _C if c not in exclude] or list(_C)
    return _C[_choice(rng, fresh)]


def _business(rng: Random, first: str, last: str, city: City, start_year: int) -> Company:
    name = _choice(rng, _BUSINESS_PATTERNS).format(first=first, last=last, city=city.name)
    if rng.random() < 0.5:
        return _company(name, None, None, "Consumer Services", None, "1", start_year)
    slug = _alnum(name)[:28] + f"-{_randint(rng, 10, 99)}"
    return _company(
        name, slug, str(_randint(rng, 90_000_000, 99_999_999)), "Consumer Services", None, "2-10", start_year
    )


def _cert(rng: Random, track: str, city: City, issued: YM, held: set[str], senior: bool) -> Cert | None:
    pool = _cert_pool(track, city.state_name, senior)
    if held:
        pool = tuple(c for c in pool if c[0] not in held)
    if not pool:
        return None
    title, issuer, issuer_slug = _choice(rng, pool)
    expires = None
    if rng.random() < 0.25 and issued[1] is not None:
        expires = (issued[0] + _choice(rng, (2, 3)), issued[1])
    cred = _token(rng, 10).upper() if rng.random() < 0.4 else None
    return Cert(title, issuer, issuer_slug, issued, expires, cred)


@functools.lru_cache(maxsize=1024)
def _cert_pool(track: str, state_name: str, senior: bool) -> tuple[tuple[str, str, str | None], ...]:
    certs = TRACKS[track].certs + ((_PMP,) if senior else ())
    return tuple((t.format(state=state_name), i.format(state=state_name), slug) for t, i, slug in certs)


def _new_member(ctx: _Ctx, index: int, first: str, last: str, city: City, track: str, born: int) -> Person:
    """A LinkedIn member's identity (names as shown, vanity URL, urn...); no profile states yet."""
    rng = ctx.rng
    display_first = first
    if first in NICKNAMES and rng.random() < 0.25:
        display_first = NICKNAMES[first]
    display_last = ACCENTED.get(last, last) if rng.random() < 0.3 else last
    first_year = datetime(max(2009, born + 17), 1, 1, tzinfo=UTC)
    reg = first_year + timedelta(seconds=_randint(rng, 0, int((_REG_END - first_year).total_seconds())))
    return Person(
        index=index,
        external_id=None,
        first=display_first,
        last=display_last,
        slug=_slug(ctx, display_first if rng.random() < 0.5 else first, last),
        urn="ACoAA" + _token(rng, 34),
        member_id=str(_randint(rng, 10_000_000, 999_999_999)),
        registered_at=_iso(reg),
        city=city,
        track=track,
        email=None,
        list_email=False,
        round2_actor="dev_fusion",
        premium=rng.random() < 0.04,
        verified=rng.random() < 0.3,
        photo_ts=1_650_000_000_000 + _randint(rng, 0, 120_000_000_000),
    )


def _new_person(ctx: _Ctx, index: int, first: str, last: str, city: City, track: str, born: int) -> Person:
    """A member with a first profile state (round 0), built backwards from the current job."""
    person = _new_member(ctx, index, first, last, city, track, born)
    rng = ctx.rng
    t = TRACKS[track]
    ref = _ROUND_MONTH[0]

    # --- career, built backwards from the current job
    positions: list[Pos] = []
    employed = rng.random() < 0.92
    recent = employed and rng.random() < 0.045
    top = len(t.ladder) - 1
    level = min(top, _wchoice(rng, (0, 1, 2, 3), (55, 30, 12, 3)))
    location = city.linkedin_text
    used: set[str] = set()
    if employed:
        if recent:
            start: YM = _ym_add(ref, -_choice(rng, (1, 2)))
        else:
            start = _ym_add(ref, -_randint(rng, 5, 66))
            if start[0] <= 2024 and rng.random() < 0.1:
                start = (start[0], None)
        comp = _company_for(rng, track, used)
        used.add(comp.slug or "")
        title = _choice(rng, t.ladder[level])
        desc = None if rng.random() < 0.6 else f"{t.skills[0]} and {t.skills[1].lower()} for a busy team."
        positions.append(Pos(title, comp, start, None, location, t.etype, desc, track, level))
        next_start = start
        n_prev = _wchoice(rng, (0, 1, 2, 3), (15, 40, 30, 15)) if not recent else _choice(rng, (1, 2))
    else:
        next_start = _ym_add(ref, -_randint(rng, 4, 15))  # the last job ended at least ~3 months ago
        n_prev = _choice(rng, (1, 2, 3))
    for k in range(n_prev):
        if k == 0 and not employed:
            end_key = _ym_key(next_start)  # the job that ended before the first snapshot
        elif k == 0 and recent:
            end_key = _ym_key(next_start) - _choice(rng, (0, 1))  # left it for the new job
        else:
            end_key = _ym_key(next_start) - 1 - _choice(rng, (0, 0, 1, 2, 4))
        end: YM = _ym_from_key(end_key)
        if end[0] < born + 17:
            break
        length = _randint(rng, 5, 34)
        pstart: YM = _ym_from_key(end_key - length)
        ptrack = track if rng.random() < 0.6 else _choice(rng, ("retail", "food", "customer_service", track))
        plevel = max(0, min(level - (1 if rng.random() < 0.5 else 0), len(TRACKS[ptrack].ladder) - 1))
        pcomp = _company_for(rng, ptrack, used)
        used.add(pcomp.slug or "")
        ptitle = _choice(rng, TRACKS[ptrack].ladder[plevel])
        plocation = location if rng.random() < 0.8 else _choice(rng, CITIES).linkedin_text
        if pstart[0] <= 2023 and rng.random() < 0.08:
            pstart, end = (pstart[0], None), (end[0], None)
        etype = TRACKS[ptrack].etype
        positions.append(Pos(ptitle, pcomp, pstart, end, plocation, etype, None, ptrack, plevel))
        next_start = pstart if pstart[1] else (pstart[0], 1)
        if pstart[0] < 2014:
            break

    # --- education
    edus: list[Edu] = []
    schools = city.schools + _ONLINE_SCHOOLS
    if rng.random() < 0.65:
        school, sslug = _choice(rng, schools)
        degree = _wchoice(rng, _DEGREE_NAMES, _DEGREE_WEIGHTS)
        end_year = min(2025, max(2012, born + _randint(rng, 20, 25)))
        span = 4 if degree.startswith("Bachelor") else (1 if degree == "Certificate" else 2)
        edus.append(Edu(school, sslug, degree, _choice(rng, t.fields), end_year - span, (end_year, None)))
    if rng.random() < 0.12:
        school, sslug = _choice(rng, schools)
        degree = _wchoice(rng, _DEGREE_NAMES[:4], _DEGREE_WEIGHTS[:4])
        s_year = _choice(rng, (2023, 2024, 2025))
        expected: YM = (_choice(rng, (2027, 2028)), None)
        edus.append(Edu(school, sslug, degree, _choice(rng, t.fields), s_year, expected))
    edus.sort(key=lambda e: e.start, reverse=True)

    # --- certifications and awards, all older than the first snapshot's 90-day window
    certs: list[Cert] = []
    held: set[str] = set()
    for _ in range(_wchoice(rng, (0, 1, 2), (55, 32, 13))):
        issued = _ym_add(ref, -_randint(rng, 6, 60))
        c = _cert(rng, track, city, issued, held, level >= 2)
        if c:
            certs.append(c)
            held.add(c.title)
    awards: list[Award] = []
    if rng.random() < 0.12:
        if edus and rng.random() < 0.5:
            e = edus[-1]
            awards.append(
                Award(
                    _choice(rng, ("Dean's List", "President's List")),
                    e.school,
                    (min(e.end[0], 2025), _choice(rng, (5, 12))),
                    None,
                    e.school,
                )
            )
        elif positions:
            p = positions[0]
            awards.append(
                Award(
                    _choice(rng, ("Employee of the Month", t.award)),
                    p.company.name,
                    _ym_add(ref, -_randint(rng, 4, 30)),
                    None,
                    p.company.name,
                )
            )

    skills = list(t.skills)
    n_skills = min(len(skills), _randint(rng, 3, 6))
    for i in range(n_skills):  # a partial Fisher-Yates shuffle
        j = i + _randrange(rng, len(skills) - i)
        skills[i], skills[j] = skills[j], skills[i]
    del skills[n_skills:]
    cur = positions[0] if employed else None
    open_to_work = (not employed and rng.random() < 0.6) or (employed and rng.random() < 0.05)
    connections = int(rng.lognormvariate(5.3, 0.8)) + 5
    about = (
        _choice(rng, _ABOUT).format(role=(cur.title if cur else t.ladder[0][0]).lower())
        if rng.random() < 0.55
        else None
    )

    state = State(
        headline=_headline_for(cur, track, rng),
        about=about,
        open_to_work=open_to_work,
        positions=positions,
        certs=certs,
        awards=awards,
        edus=edus,
        skills=skills,
        connections=connections,
        followers=connections + _randint(rng, 0, 60),
        photo=None if rng.random() < 0.12 else _token(rng, 13),
    )
    state.sort_positions()
    person.states.append(state)
    if recent:
        person.changes.append((0, "new_employment"))
    return person


# ---------------------------------------------------------------------------------------------- changes


def _change_month(rng: Random, rnd: int, *, prefer_before: float = 0.5) -> tuple[int, int]:
    month = _ROUND_MONTH[rnd]
    return _ym_add(month, -1) if rng.random() < prefer_before else month


def _settled(p: Pos, rnd: int) -> bool:
    """Long enough in the role for a promotion or a layoff to be plausible."""
    return _ym_key(p.start) <= _ym_key(_ROUND_MONTH[rnd]) - 3


def _applicable(person: Person, s: State, rnd: int, allow_award: bool) -> list[tuple[str, int]]:
    cur = s.current()
    regular = cur is not None and cur.level >= 0 and _settled(cur, rnd)
    kinds: list[tuple[str, int]] = [("new_employment", 24), ("business_launch", 7), ("education", 12)]
    if regular and cur is not None:
        if cur.level + 1 < len(TRACKS[cur.track].ladder):
            kinds.append(("promotion", 14))
        if len(TRACKS[cur.track].ladder[cur.level]) > 1:
            kinds.append(("title_change", 8))
        kinds.append(("job_loss", 13))
    held = {c.title for c in s.certs}
    if any(c[0].format(state=person.city.state_name) not in held for c in TRACKS[person.track].certs):
        kinds.append(("certification", 15))
    if allow_award and (cur is not None or _ongoing(s, rnd)):
        kinds.append(("award", 11))
    return kinds


def _apply_change(person: Person, s: State, kind: str, rnd: int, rng: Random) -> None:
    t = TRACKS[person.track]
    cur = s.current()
    location = person.city.linkedin_text
    if kind == "new_employment":
        start = _change_month(rng, rnd)
        track = cur.track if cur is not None and cur.level >= 0 else person.track
        if rng.random() < 0.15:
            track = person.track
        exclude = {p.company.slug or "" for p in s.positions}
        comp = _company_for(rng, track, exclude)
        base = cur.level if cur is not None and cur.level >= 0 else 0
        level = min(len(TRACKS[track].ladder) - 1, base + (1 if rng.random() < 0.35 else 0))
        if cur is not None and cur.level >= 0:
            _end(s, cur, start if rng.random() < 0.5 else _ym_add(start, -1))
        new = Pos(
            _choice(rng, TRACKS[track].ladder[level]),
            comp,
            start,
            None,
            location,
            TRACKS[track].etype,
            None,
            track,
            level,
        )
        s.positions.append(new)
        s.open_to_work = False
        s.headline = _headline_for(new, track, rng)
    elif kind in ("promotion", "title_change"):
        assert cur is not None
        ladder = TRACKS[cur.track].ladder
        if kind == "promotion":
            level = cur.level + 1
            title = _choice(rng, ladder[level])
            in_place = rng.random() < 0.4
        else:
            level = cur.level
            title = _choice(rng, [x for x in ladder[level] if x != cur.title])
            in_place = rng.random() < 0.7
        if in_place:
            s.positions[s.positions.index(cur)] = cur._replace(title=title, level=level, tnoise=0)
            new = cur._replace(title=title)
        else:
            start = _change_month(rng, rnd)
            _end(s, cur, start)
            new = Pos(title, cur.company, start, None, cur.location, cur.etype, None, cur.track, level)
            s.positions.append(new)
        s.headline = _headline_for(new, cur.track, rng)
    elif kind == "business_launch":
        start = _change_month(rng, rnd)
        comp = _business(rng, person.first, person.last, person.city, start[0])
        if cur is not None and rng.random() < 0.5:
            _end(s, cur, _ym_add(start, -1) if rng.random() < 0.5 else start)
        new = Pos(
            _choice(rng, _FOUNDER_TITLES),
            comp,
            start,
            None,
            location,
            "Self-employed",
            f"Started {comp.name} to serve customers in {person.city.name}.",
            person.track,
            -1,
        )
        s.positions.append(new)
        s.open_to_work = False
        s.headline = _headline_for(new, person.track, rng)
    elif kind == "certification":
        held = {c.title for c in s.certs}
        senior = cur is not None and cur.level >= 2
        c = _cert(rng, person.track, person.city, _change_month(rng, rnd), held, senior)
        assert c is not None
        s.certs.insert(0, c)
    elif kind == "award":
        issued = _change_month(rng, rnd)
        ongoing = _ongoing(s, rnd)
        if cur is not None and (not ongoing or rng.random() < 0.7):
            title = _choice(rng, ("Employee of the Month", t.award, f"{cur.company.name} Star Award"))
            s.awards.insert(
                0,
                Award(
                    title,
                    cur.company.name,
                    issued,
                    "Recognized for outstanding service to customers and teammates.",
                    cur.company.name,
                ),
            )
        else:
            e = ongoing[0]
            s.awards.insert(
                0, Award(_choice(rng, ("Dean's List", "President's List")), e.school, issued, None, e.school)
            )
    elif kind == "education":
        done = _change_month(rng, rnd, prefer_before=0.7)
        ongoing = _ongoing(s, rnd)
        if ongoing:
            e = ongoing[0]
            s.edus[s.edus.index(e)] = e._replace(end=done)
        else:
            school, sslug = _choice(rng, person.city.schools + _ONLINE_SCHOOLS)
            degree = _wchoice(rng, _DEGREE_NAMES, _DEGREE_WEIGHTS)
            span = 4 if degree.startswith("Bachelor") else (1 if degree == "Certificate" else 2)
            s.edus.insert(0, Edu(school, sslug, degree, _choice(rng, t.fields), done[0] - span, done))
    elif kind == "job_loss":
        assert cur is not None
        _end(s, cur, _change_month(rng, rnd, prefer_before=0.8))
        for p in list(s.positions):  # a side business keeps going; regular jobs end together
            if p.end is None and p.level >= 0:
                _end(s, p, _change_month(rng, rnd, prefer_before=1.0))
        if rng.random() < 0.65:
            s.open_to_work = True
        if rng.random() < 0.6 and s.current() is None:
            s.headline = _headline_for(None, person.track, rng)
    s.sort_positions()


def _ongoing(s: State, rnd: int) -> list[Edu]:
    return [e for e in s.edus if _ym_key(e.end) > _ym_key(_ROUND_MONTH[rnd])]


def _end(s: State, p: Pos, end: tuple[int, int]) -> None:
    if _ym_key(end) < _ym_key(p.start):
        end = (p.start[0], p.start[1] or 1)
    s.positions[s.positions.index(p)] = p._replace(end=end)


def _apply_noise(person: Person, s: State, rnd: int, rng: Random) -> None:
    if rng.random() < 0.75:
        s.connections = max(0, s.connections + _randint(rng, -2, 25))
        s.followers = max(0, s.followers + _randint(rng, -3, 30))
    if s.photo is not None and rng.random() < 0.08:
        s.photo = _token(rng, 13)
        person.noise.append((rnd, "photo"))
    if rng.random() < 0.12:
        done = False
        if len(s.skills) > 1:
            rng.shuffle(s.skills)
            done = True
        if len(s.certs) > 1:
            s.certs.reverse()
        past = [i for i, p in enumerate(s.positions) if p.end is not None]
        if len(past) > 1:
            i, j = past[0], past[1]
            s.positions[i], s.positions[j] = s.positions[j], s.positions[i]
            done = True
        if len(s.edus) > 1:
            s.edus.reverse()
            done = True
        if done:
            person.noise.append((rnd, "reorder"))
    if rng.random() < 0.06:
        cur = s.current()
        kind = _choice(rng, ("whitespace", "casing"))
        if cur is not None and rng.random() < 0.6:
            tn = _choice(rng, (1, 2)) if kind == "whitespace" else 3
            s.positions[s.positions.index(cur)] = cur._replace(tnoise=tn)
        else:
            s.hl_noise = _choice(rng, (1, 2)) if kind == "whitespace" else 3
        person.noise.append((rnd, kind))


def _evolve(person: Person, rng: Random, change_rate: float) -> None:
    allow_award = person.round2_actor != "apimaestro"
    plan: dict[int, int] = {}
    if rng.random() < change_rate:
        first_round = _choice(rng, (1, 2))
        plan[first_round] = 1
        if rng.random() < 0.12:
            plan[3 - first_round] = 1
    for rnd in (1, 2):
        s = person.states[-1].clone()
        if rnd in plan:
            kinds = _applicable(person, s, rnd, allow_award)
            names = [k for k, _ in kinds]
            kind = _wchoice(rng, names, [w for _, w in kinds])
            _apply_change(person, s, kind, rnd, rng)
            person.changes.append((rnd, kind))
        _apply_noise(person, s, rnd, rng)
        person.states.append(s)


# -------------------------------------------------------------------------------------------- render


def _photo_url(person: Person, s: State, rnd: int, size: str = _PHOTO_SIZES) -> str | None:
    """A signed media URL: the ``e``/``t`` query changes at every export even when the picture does not."""
    if s.photo is None:
        return None
    expiry = 1_790_000_000 + rnd * 2_600_000 + person.index % 86_400
    return (
        f"https://media.licdn.com/dms/image/v2/D4E03AQ{s.photo}/{size}/{size}/0/{person.photo_ts}"
        f"?e={expiry}&v=beta&t={person.urn[rnd + 5 : rnd + 40]}"
    )


def _request_id(person: Person, rnd: int) -> str:
    return f"{person.urn[5:13].lower()}-{rnd}{person.index:07d}"


def _created_ms(person: Person) -> int:
    return int(datetime.fromisoformat(person.registered_at).timestamp() * 1000)


def _h_date(ym: YM) -> dict[str, Any]:
    y, m = ym
    if m is None:
        return {"year": y, "text": str(y)}
    return {"month": MONTHS[m - 1], "year": y, "text": f"{MONTHS[m - 1]} {y}"}


@functools.lru_cache(maxsize=8192)
def _df_date(ym: YM) -> str:
    y, m = ym
    return f"{y}-{m:02d}" if m else str(y)


def _am_date(ym: YM) -> dict[str, Any]:
    y, m = ym
    return {"year": y, "month": MONTHS[m - 1]} if m else {"year": y}


def _issued_text(c: Cert) -> str:
    text = f"Issued {_ym_text(c.issued)}"
    if c.expires:
        text += f" {DOT} Expires {_ym_text(c.expires)}"
    return text


def _edu_period(e: Edu) -> str:
    return f"{e.start} - {_ym_text(e.end)}"


_LANG_H = {"language": "English", "proficiency": "Native or bilingual proficiency"}
_LANG_DF = {"title": "English", "caption": "Native or bilingual proficiency"}


class _Pool:
    """Where rendered items may share read-only sub-objects (compact mode) and where they may not.

    In compact mode, equal date blocks, skill entries, location blocks and empty lists are one object
    shared by many items: that roughly halves the memory of a 100k-lead portfolio.
    """

    __slots__ = (
        "_a",
        "_am_locations",
        "_empty",
        "_entries",
        "_h",
        "_languages",
        "_locations",
        "_present",
        "items",
        "share",
    )

    def __init__(self, share: bool) -> None:
        self.share = share
        self._h: dict[YM, dict[str, Any]] = {}
        self._a: dict[YM, dict[str, Any]] = {}
        self._entries: dict[tuple[str, ...], tuple[dict[str, str], ...]] = {}
        self._locations: dict[str, dict[str, Any]] = {}
        self._am_locations: dict[str, dict[str, Any]] = {}
        self._languages = {a: [dict(_LANG_DF if a == "dev_fusion" else _LANG_H)] for a in ACTORS}
        self._empty: list[Any] = []
        self._present = {"text": "Present"}
        self.items: dict[tuple[int, int], dict[str, Any]] = {}  # (career index, round) -> rendered item

    def empty(self) -> list[Any]:
        return self._empty if self.share else []

    def present(self) -> dict[str, Any]:
        return self._present if self.share else {"text": "Present"}

    def h_date(self, ym: YM) -> dict[str, Any]:
        if not self.share:
            return _h_date(ym)
        hit = self._h.get(ym)
        if hit is None:
            hit = self._h[ym] = _h_date(ym)
        return hit

    def am_date(self, ym: YM) -> dict[str, Any]:
        if not self.share:
            return _am_date(ym)
        hit = self._a.get(ym)
        if hit is None:
            hit = self._a[ym] = _am_date(ym)
        return hit

    def entries(self, kind: str, values: list[str]) -> list[dict[str, str]]:
        """``[{"name": value}, ...]`` style lists (skills, current companies)."""
        if not self.share:
            return [{kind: v} for v in values]
        key = (kind, *values)
        hit = self._entries.get(key)
        if hit is None:
            hit = self._entries[key] = tuple({kind: v} for v in values)
        return list(hit)

    def languages(self, actor: str) -> list[dict[str, Any]]:
        if self.share:
            return self._languages[actor]
        return [dict(_LANG_DF if actor == "dev_fusion" else _LANG_H)]

    def h_location(self, city: City) -> dict[str, Any]:
        if not self.share:
            return _h_location(city)
        hit = self._locations.get(city.name)
        if hit is None:
            hit = self._locations[city.name] = _h_location(city)
        return hit

    def am_location(self, city: City) -> dict[str, Any]:
        if not self.share:
            return _am_location(city)
        hit = self._am_locations.get(city.name)
        if hit is None:
            hit = self._am_locations[city.name] = _am_location(city)
        return hit


def _h_location(city: City) -> dict[str, Any]:
    return {
        "linkedinText": city.linkedin_text,
        "countryCode": "US",
        "parsed": {
            "text": city.linkedin_text,
            "countryCode": "US",
            "regionCode": city.state,
            "country": "United States",
            "countryFull": "United States of America",
            "state": city.state_name,
            "city": city.name,
        },
    }


def _am_location(city: City) -> dict[str, Any]:
    return {
        "country": "United States",
        "city": city.name,
        "full": city.linkedin_text,
        "country_code": "US",
    }


def _render_harvest(person: Person, s: State, rnd: int, scraped: str, pool: _Pool) -> Item:
    ref = _ROUND_MONTH[rnd]
    current = [p.company.name for p in s.positions if p.end is None]
    url = f"https://www.linkedin.com/in/{person.slug}"
    city = person.city
    experience: list[dict[str, Any]] = []
    h_date, empty, present = pool.h_date, pool.empty, pool.present
    for p in s.positions:
        c = p.company
        end = p.end
        experience.append(
            {
                "position": _title_display(p) if p.tnoise else p.title,
                "location": p.location,
                "employmentType": p.etype,
                "companyName": c.name,
                "companyLinkedinUrl": c.url,
                "companyId": c.cid,
                "companyUniversalName": c.slug,
                "duration": _duration(p.start, end or ref),
                "description": p.description,
                "skills": empty(),
                "startDate": h_date(p.start),
                "endDate": h_date(end) if end else present(),
            }
        )
    education: list[dict[str, Any]] = [
        {
            "schoolName": e.school,
            "schoolLinkedinUrl": f"https://www.linkedin.com/school/{e.school_slug}/",
            "degree": e.degree,
            "fieldOfStudy": e.field_of_study,
            "skills": pool.empty(),
            "startDate": pool.h_date((e.start, None)),
            "endDate": pool.h_date(e.end),
            "period": _edu_period(e),
        }
        for e in s.edus
    ]
    certifications = [
        {
            "title": c.title,
            "issuedAt": _issued_text(c),
            "issuedBy": c.issuer,
            "issuedByLink": f"https://www.linkedin.com/company/{c.issuer_slug}/" if c.issuer_slug else None,
        }
        for c in s.certs
    ]
    awards = [
        {
            "title": a.title,
            "issuedBy": a.issuer,
            "issuedAt": _ym_text(a.issued),
            "description": a.description,
            "associatedWith": a.associated,
            "associatedWithLink": None,
        }
        for a in s.awards
    ]
    return {
        "id": person.urn,
        "publicIdentifier": person.slug,
        "linkedinUrl": url,
        "firstName": person.first,
        "lastName": person.last,
        "headline": _headline_display(s),
        "about": s.about,
        "openToWork": s.open_to_work,
        "hiring": False,
        "photo": _photo_url(person, s, rnd),
        "premium": person.premium,
        "influencer": False,
        "verified": person.verified,
        "location": pool.h_location(city),
        "registeredAt": person.registered_at,
        "topSkills": " \u2022 ".join(s.skills[:3]),
        "connectionsCount": s.connections,
        "followerCount": s.followers,
        "emails": [person.email] if person.list_email and person.email else [],
        "websites": pool.empty(),
        "currentPosition": pool.entries("companyName", current),
        "experience": experience,
        "education": education,
        "certifications": certifications,
        "honorsAndAwards": awards,
        "skills": pool.entries("name", s.skills),
        "languages": pool.languages("harvestapi"),
        "receivedRecommendations": pool.empty(),
        "projects": pool.empty(),
        "volunteering": pool.empty(),
        "query": url,
        "status": 200,
        "entityId": person.urn,
        "requestId": _request_id(person, rnd),
        "scrapedAt": scraped,
    }


def _render_dev_fusion(person: Person, s: State, rnd: int, scraped: str, pool: _Pool) -> Item:
    ref = _ROUND_MONTH[rnd]
    city = person.city
    cur = s.current()
    experiences = []
    for p in s.positions:
        c = p.company
        experiences.append(
            {
                "companyId": c.cid,
                "companyUrn": f"urn:li:fsd_company:{c.cid}" if c.cid else None,
                "companyLink1": c.url,
                "companyName": c.name,
                "companySize": c.size,
                "companyWebsite": c.website,
                "companyIndustry": c.industry,
                "logo": c.logo,
                "title": _title_display(p) if p.tnoise else p.title,
                "jobDescription": p.description,
                "jobStartedOn": _df_date(p.start),
                "jobEndedOn": _df_date(p.end) if p.end else None,
                "jobLocation": p.location,
                "jobStillWorking": p.end is None,
                "jobLocationCountry": "United States",
                "employmentType": p.etype,
            }
        )
    educations = []
    for e in s.edus:
        subtitle = f"{e.degree}, {e.field_of_study}" if e.degree and e.field_of_study else e.degree or ""
        ended: dict[str, int] = {"year": e.end[0]}
        if e.end[1]:
            ended["month"] = e.end[1]
        educations.append(
            {
                "title": e.school,
                "subtitle": subtitle,
                "caption": _edu_period(e),
                "period": {"startedOn": {"year": e.start}, "endedOn": ended},
            }
        )
    certs = [
        {
            "title": c.title,
            "subtitle": c.issuer,
            "caption": _issued_text(c),
            "metadata": f"Credential ID {c.credential_id}" if c.credential_id else None,
        }
        for c in s.certs
    ]
    awards = [
        {
            "title": a.title,
            "subtitle": f"Issued by {a.issuer} {DOT} {_ym_text(a.issued)}",
            "metadata": f"Associated with {a.associated}" if a.associated else None,
            "subComponents": [{"description": [{"type": "textComponent", "text": a.description}]}]
            if a.description
            else [],
        }
        for a in s.awards
    ]
    photo = _photo_url(person, s, rnd, _PHOTO_SMALL)
    return {
        "linkedinUrl": f"https://www.linkedin.com/in/{person.slug}/",
        "linkedinPublicUrl": f"https://linkedin.com/in/{person.slug}",
        "publicIdentifier": person.slug,
        "linkedinId": person.member_id,
        "urn": person.urn,
        "firstName": person.first,
        "lastName": person.last,
        "fullName": f"{person.first} {person.last}",
        "headline": _headline_display(s),
        "about": s.about,
        "connections": s.connections,
        "followers": s.followers,
        "email": person.email if person.list_email else None,
        "mobileNumber": None,
        "jobTitle": _title_display(cur) if cur else None,
        "jobStartedOn": _df_date(cur.start) if cur else None,
        "jobLocation": cur.location if cur else None,
        "jobStillWorking": cur is not None,
        "companyName": cur.company.name if cur else None,
        "companyIndustry": cur.company.industry if cur else None,
        "companyWebsite": cur.company.website if cur else None,
        "companyLinkedin": cur.company.url if cur else None,
        "companySize": cur.company.size if cur else None,
        "companyFoundedIn": cur.company.founded if cur else None,
        "currentJobDuration": _duration(cur.start, ref) if cur else None,
        "currentJobDurationInYrs": _YEARS[_ym_key(ref) - _ym_key(cur.start) + 1] if cur else None,
        "topSkillsByEndorsements": ", ".join(s.skills[:3]) or None,
        "addressCountryOnly": "United States",
        "addressWithCountry": city.linkedin_text,
        "addressWithoutCountry": f"{city.name}, {city.state_name}",
        "profilePic": photo,
        "profilePicHighQuality": _photo_url(person, s, rnd),
        "backgroundPic": None,
        "isPremium": person.premium,
        "isVerified": person.verified,
        "isJobSeeker": s.open_to_work,
        "isCreator": False,
        "isInfluencer": False,
        "openConnection": False,
        "experiences": experiences,
        "educations": educations,
        "licenseAndCertificates": certs,
        "honorsAndAwards": awards,
        "skills": pool.entries("title", s.skills),
        "languages": pool.languages("dev_fusion"),
        "updates": pool.empty(),
        "volunteerAndAwards": pool.empty(),
        "projects": pool.empty(),
        "publications": pool.empty(),
        "courses": pool.empty(),
        "organizations": pool.empty(),
        "recommendations": pool.empty(),
        "scrapedAt": scraped,
    }


def _render_apimaestro(person: Person, s: State, rnd: int, scraped: str, pool: _Pool) -> Item:
    certs = [{"name": c.title, "issuer": c.issuer, "issued_date": _issued_text(c)} for c in s.certs]
    ref = _ROUND_MONTH[rnd]
    city = person.city
    cur = s.current()
    experience = []
    for p in s.positions:
        c = p.company
        entry: dict[str, Any] = {
            "title": _title_display(p),
            "company": c.name,
            "location": p.location,
            "description": p.description,
            "duration": f"{_ym_text(p.start)} - {_ym_text(p.end) if p.end else 'Present'} {DOT} "
            f"{_duration(p.start, p.end or ref)}",
            "start_date": pool.am_date(p.start),
        }
        if p.end:
            entry["end_date"] = pool.am_date(p.end)
        entry.update(
            {
                "is_current": p.end is None,
                "company_linkedin_url": c.url,
                "company_logo_url": c.logo,
                "company_id": c.cid,
                "employment_type": p.etype,
                "location_type": "On-site",
                "skills": pool.empty(),
            }
        )
        experience.append(entry)
    education = [
        {
            "school": e.school,
            "degree": e.degree,
            "degree_name": e.degree,
            "field_of_study": e.field_of_study,
            "duration": _edu_period(e),
            "school_linkedin_url": f"https://www.linkedin.com/school/{e.school_slug}/",
            "start_date": {"year": e.start},
            "end_date": pool.am_date(e.end),
        }
        for e in s.edus
    ]
    return {
        "basic_info": {
            "fullname": f"{person.first} {person.last}",
            "first_name": person.first,
            "last_name": person.last,
            "headline": _headline_display(s),
            "public_identifier": person.slug,
            "profile_url": f"https://www.linkedin.com/in/{person.slug}",
            "profile_picture_url": _photo_url(person, s, rnd),
            "about": s.about,
            "location": pool.am_location(city),
            "current_company": cur.company.name if cur else None,
            "current_company_urn": cur.company.cid if cur else None,
            "current_company_url": cur.company.url if cur else None,
            "follower_count": s.followers,
            "connection_count": s.connections,
            "is_premium": person.premium,
            "is_creator": False,
            "is_influencer": False,
            "open_to_work": s.open_to_work,
            "top_skills": s.skills[:3],
            "creator_hashtags": pool.empty(),
            "email": person.email if person.list_email else None,
            "urn": person.urn,
            "created_timestamp": _created_ms(person),
        },
        "experience": experience,
        "education": education,
        "certifications": certs,
        "languages": pool.languages("apimaestro"),
        "projects": pool.empty(),
        "courses": pool.empty(),
        "scrapedAt": scraped,
    }


_RENDERERS = {
    "harvestapi": _render_harvest,
    "dev_fusion": _render_dev_fusion,
    "apimaestro": _render_apimaestro,
}


# -------------------------------------------------------------------------------------- people & leads


@dataclass(slots=True)
class _Built:
    person: Person | None
    lead: dict[str, str] | None


def _iter_built(n_leads: int, seed: int, compact: bool = False) -> Iterator[_Built]:
    """Leads (with their profile, if any) in CSV order, then the profiles of people who are not leads.

    ``compact``: members share careers drawn from a pool of ``CAREER_POOL`` generated ones (in their city).
    """
    ctx = _Ctx(seed)
    rng = ctx.rng
    n_unlinked = max(1, round(n_leads / 30)) if n_leads else 0
    n_email = max(1, round(n_leads / 60)) if n_leads else 0
    has_url = [rng.random() < 0.85 for _ in range(n_leads)]
    no_url = [i for i in range(n_leads) if not has_url[i]]
    email_linked = set(rng.sample(no_url, min(n_email, len(no_url))))
    names: list[tuple[str, str, City]] = []
    evolve_rng = Random(seed * 7_919 + 1)

    def make_career(c: _Ctx, index: int, first: str, last: str, city: City, birth_year: int) -> Person:
        track = _wchoice(c.rng, _TRACK_NAMES, _TRACK_WEIGHTS)
        person = _new_person(c, index, first, last, city, track, birth_year)
        if not person.states[0].awards and c.rng.random() < 0.09:
            person.round2_actor = "apimaestro"
        _evolve(person, evolve_rng, _CHANGE_RATE)
        return person

    careers: dict[str, list[Person]] = {}
    if compact:
        pool_ctx = _Ctx(seed + 1_000_003)
        for k in range(min(CAREER_POOL, n_leads + n_unlinked)):
            city = _wchoice(pool_ctx.rng, CITIES, _CITY_WEIGHTS)
            first, last = _choice(pool_ctx.rng, FIRST_NAMES), _choice(pool_ctx.rng, LAST_NAMES)
            career = make_career(pool_ctx, -1 - k, first, last, city, _randint(pool_ctx.rng, 1989, 2003))
            careers.setdefault(city.name, []).append(career)

    def make_person(index: int, first: str, last: str, city: City, birth_year: int) -> Person:
        same_city = careers.get(city.name)
        if not same_city:
            return make_career(ctx, index, first, last, city, birth_year)
        career = _choice(rng, same_city)
        person = _new_member(ctx, index, first, last, city, career.track, birth_year)
        person.template = career
        person.round2_actor = career.round2_actor
        person.states = career.states
        person.changes = career.changes
        person.noise = career.noise
        return person

    for i in range(n_leads):
        birth_year = _randint(rng, 1989, 2003)
        if i % 97 == 41:  # a namesake: the same full name as an earlier lead, in another city
            first, last, other_city = names[_randrange(rng, i)]
            city = _choice(rng, [c for c in CITIES if c is not other_city])
        else:
            first, last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
            city = _wchoice(rng, CITIES, _CITY_WEIGHTS)
        names.append((first, last, city))
        external_id = f"BRW-{i + 1:06d}"
        email = _email(ctx, first, last, birth_year)
        person: Person | None = None
        if has_url[i] or i in email_linked:
            person = make_person(i, first, last, city, birth_year)
            person.external_id = external_id
            person.email = email
            person.list_email = i in email_linked or rng.random() < 0.05
        lead = _lead_row(rng, external_id, first, last, email, city, person, has_url[i])
        yield _Built(person, lead)

    for k in range(n_unlinked):
        if k < 2 and names:
            first, last, other_city = names[_randrange(rng, len(names))]
            city = _choice(rng, [c for c in CITIES if c is not other_city])
        else:
            first, last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
            city = _wchoice(rng, CITIES, _CITY_WEIGHTS)
        person = make_person(n_leads + k, first, last, city, _randint(rng, 1985, 2003))
        if rng.random() < 0.3:
            person.email = _email(ctx, first, last, 1990)
            person.list_email = True
        yield _Built(person, None)


def _lead_row(
    rng: Random,
    external_id: str,
    first: str,
    last: str,
    email: str,
    city: City,
    person: Person | None,
    with_url: bool,
) -> dict[str, str]:
    employer = title = ""
    if person is not None:
        s0 = person.states[0]
        cur = s0.current()
        r = rng.random()
        if cur is not None and r < 0.8:
            employer, title = cur.company.name, cur.title
            if rng.random() < 0.1:
                employer = {
                    "Walmart": "Walmart Inc.",
                    "Target": "Target Corporation",
                    "Amazon": "Amazon.com",
                    "Starbucks": "Starbucks Coffee",
                }.get(employer, employer.upper())
        elif cur is None and s0.positions and r < 0.5:
            employer, title = s0.positions[0].company.name, s0.positions[0].title  # stale: the last known job
    elif rng.random() < 0.6:  # no profile to compare with: what the borrower told the lender
        track = TRACKS[_wchoice(rng, _TRACK_NAMES, _TRACK_WEIGHTS)]
        employer, title = _C[_choice(rng, track.companies)].name, track.ladder[0][0]
    zip_code = _choice(rng, city.zips) + f"{_randint(rng, 1, 99):02d}"
    if rng.random() < 0.05:
        zip_code += f"-{_randint(rng, 1, 9999):04d}"
    address = f"{_randint(rng, 100, 9899)} {_choice(rng, _STREETS)}"
    if rng.random() < 0.2:
        address += f" Apt {_randint(rng, 1, 24)}{_choice(rng, 'ABCDEF')}"
    balance = min(90_000.0, max(2_000.0, rng.lognormvariate(math.log(21_000), 0.6)))
    return {
        "external_id": external_id,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": _phone(rng, city),
        "phone_type": _wchoice(rng, ("cell", "home", "work"), (75, 17, 8)),
        "address": address,
        "city": city.name,
        "state": city.state,
        "postal_code": zip_code,
        "country": "US",
        "linkedin_url": _csv_linkedin_url(rng, person.slug) if person is not None and with_url else "",
        "employer": employer,
        "title": title,
        "balance": f"{balance:.2f}",
        "days_delinquent": str(_randint(rng, 90, 720)),
        "assignee": _wchoice(rng, _ASSIGNEES, _ASSIGNEE_WEIGHTS),
    }


def _export_index(person: Person, rnd: int) -> int:
    if rnd < 2:
        return rnd
    return _APIMAESTRO_EXPORT if person.round2_actor == "apimaestro" else _DEVFUSION_EXPORT


def iter_snapshot_items(n: int, seed: int = 7, *, compact: bool | None = None) -> Iterator[SnapshotItem]:
    """Stream every profile item of the portfolio ``generate_portfolio(n, seed, compact=...)`` would build.

    Items come profile by profile (each profile's snapshots in time order), in memory that does not grow
    with ``n`` (beyond the career pool of compact mode). Their content equals the portfolio's, except
    ``scrapedAt``, which here follows the order of the stream.
    """
    counters = [0] * len(EXPORT_PLAN)
    compact = n >= COMPACT_FROM if compact is None else compact
    pool = _Pool(compact)
    for built in _iter_built(n, seed, compact):
        if built.person is None:
            continue
        for export_index, item in _render_person(built.person, counters, pool):
            spec = EXPORT_PLAN[export_index]
            yield SnapshotItem(export_index, spec.actor, spec.observed_at, item)


def _render_person(person: Person, counters: list[int] | None, pool: _Pool) -> Iterator[tuple[int, Item]]:
    """The person's items, one per round; ``scrapedAt`` from ``counters`` (items so far per export), or ""."""
    for rnd, state in enumerate(person.states):
        export_index = _export_index(person, rnd)
        spec = EXPORT_PLAN[export_index]
        scraped = ""
        if counters is not None:
            scraped = _scraped_at(spec, counters[export_index])
            counters[export_index] += 1
        if person.template is None:
            yield export_index, _RENDERERS[spec.actor](person, state, rnd, scraped, pool)
        else:
            yield export_index, _render_clone(person, person.template, rnd, spec.actor, scraped, pool)


def _scraped_at(spec: ExportSpec, position: int) -> str:
    """When the ``position``-th item of an export was scraped: a run scrapes about one profile in 1.7 s."""
    return _iso(spec.observed_at + timedelta(milliseconds=position * 1_730 + 411))


def _render_clone(person: Person, career: Person, rnd: int, actor: str, scraped: str, pool: _Pool) -> Item:
    """The item of a member who shares ``career``: the career's item, with this member's identity.

    Equal to rendering ``person`` directly, only faster: the nested blocks come from the cache.
    """
    key = (career.index, rnd)
    base = pool.items.get(key)
    if base is None:
        base = pool.items[key] = _RENDERERS[actor](career, career.states[rnd], rnd, "", pool)
    item = dict(base)
    s = person.states[rnd]
    email = person.email if person.list_email else None
    if actor == "harvestapi":
        url = f"https://www.linkedin.com/in/{person.slug}"
        item.update(
            id=person.urn,
            publicIdentifier=person.slug,
            linkedinUrl=url,
            firstName=person.first,
            lastName=person.last,
            photo=_photo_url(person, s, rnd),
            premium=person.premium,
            verified=person.verified,
            registeredAt=person.registered_at,
            emails=[email] if email else [],
            query=url,
            entityId=person.urn,
            requestId=_request_id(person, rnd),
            scrapedAt=scraped,
        )
    elif actor == "dev_fusion":
        item.update(
            linkedinUrl=f"https://www.linkedin.com/in/{person.slug}/",
            linkedinPublicUrl=f"https://linkedin.com/in/{person.slug}",
            publicIdentifier=person.slug,
            linkedinId=person.member_id,
            urn=person.urn,
            firstName=person.first,
            lastName=person.last,
            fullName=f"{person.first} {person.last}",
            email=email,
            profilePic=_photo_url(person, s, rnd, _PHOTO_SMALL),
            profilePicHighQuality=_photo_url(person, s, rnd),
            isPremium=person.premium,
            isVerified=person.verified,
            scrapedAt=scraped,
        )
    else:
        info = dict(base["basic_info"])
        info.update(
            fullname=f"{person.first} {person.last}",
            first_name=person.first,
            last_name=person.last,
            public_identifier=person.slug,
            profile_url=f"https://www.linkedin.com/in/{person.slug}",
            profile_picture_url=_photo_url(person, s, rnd),
            is_premium=person.premium,
            email=email,
            urn=person.urn,
            created_timestamp=_created_ms(person),
        )
        item.update(basic_info=info, scrapedAt=scraped)
    return item


def generate_portfolio(n_leads: int, seed: int = 7, *, compact: bool | None = None) -> DemoPortfolio:
    """Build ``n_leads`` leads and the Apify exports over time, with ground truth. Deterministic.

    About 2.7 profile items per lead. ``compact`` (default: on from ``COMPACT_FROM`` leads) is the mode
    for benchmarks: members draw their careers (positions, education, certifications, awards, and the
    changes between exports) from a pool of ``CAREER_POOL`` generated careers in their own city, each
    under their own identity (names, e-mail, vanity URL, urn, photo); and items share equal read-only
    nested objects (experience blocks, dates, skill entries, locations, empty lists), so deep-copy an
    item before editing it in place. ``iter_snapshot_items`` streams the same items.
    """
    # Millions of small containers and no reference cycles: the cyclic GC would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate_portfolio(n_leads, seed, n_leads >= COMPACT_FROM if compact is None else compact)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate_portfolio(n_leads: int, seed: int, compact: bool) -> DemoPortfolio:
    leads: list[dict[str, str]] = []
    buckets: list[list[dict[str, Any]]] = [[] for _ in EXPORT_PLAN]
    expected: list[ExpectedChange] = []
    noise: list[NoiseChange] = []
    lead_profiles: dict[str, str] = {}
    email_linked: list[str] = []
    unlinked: list[str] = []
    full_names: dict[tuple[str, str], list[tuple[str, str]]] = {}
    pool = _Pool(compact)
    for built in _iter_built(n_leads, seed, compact):
        person = built.person
        if built.lead is not None:
            leads.append(built.lead)
            key = (built.lead["first_name"], built.lead["last_name"])
            full_names.setdefault(key, []).append((built.lead["external_id"], built.lead["city"]))
        if person is None:
            continue
        for export_index, item in _render_person(person, None, pool):
            buckets[export_index].append(item)
        for rnd, kind in person.noise:
            noise.append(NoiseChange(person.external_id, person.slug, _export_index(person, rnd), kind))
        if person.external_id is None:
            unlinked.append(person.slug)
            continue
        lead_profiles[person.external_id] = person.slug
        if built.lead is not None and not built.lead["linkedin_url"]:
            email_linked.append(person.external_id)
        for rnd, kind in person.changes:
            expected.append(ExpectedChange(person.external_id, _export_index(person, rnd), kind))

    exports: list[DemoExport] = []
    for export_index, (spec, items) in enumerate(zip(EXPORT_PLAN, buckets, strict=True)):
        Random(seed * 31 + export_index).shuffle(items)  # Apify pushes in completion order
        for k, item in enumerate(items):
            item["scrapedAt"] = _scraped_at(spec, k)
        exports.append(DemoExport(spec.observed_at, spec.actor, items, spec.fmt))
    namesakes = []
    for group in full_names.values():
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                if group[a][1] != group[b][1]:
                    namesakes.append((group[a][0], group[b][0]))
    expected.sort(key=lambda c: (c.export_index, c.external_id))
    return DemoPortfolio(leads, exports, expected, noise, lead_profiles, email_linked, unlinked, namesakes)


# ------------------------------------------------------------------------------------------- writing


def _dump(item: Item) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def write_demo(target_dir: Path, n_leads: int = 300, seed: int = 7) -> list[Path]:
    """Write ``leads.csv`` and one file per export into ``target_dir``; return the paths written."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    portfolio = generate_portfolio(n_leads, seed)
    paths = [target_dir / "leads.csv"]
    with paths[0].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=LEAD_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(portfolio.leads)
    for export in portfolio.exports:
        if not export.items:
            continue
        path = target_dir / export.filename
        with path.open("w", encoding="utf-8") as fh:
            if export.fmt == "jsonl":
                for item in export.items:
                    fh.write(_dump(item))
                    fh.write("\n")
            else:
                fh.write("[\n")
                fh.write(",\n".join(_dump(item) for item in export.items))
                fh.write("\n]\n")
        paths.append(path)
    return paths


def summarize(portfolio: DemoPortfolio) -> dict[str, Any]:
    """Counts for a quick look: leads, items per export, expected changes by kind, noise by kind."""
    changes = portfolio.expected_changes
    return {
        "leads": len(portfolio.leads),
        "leads_with_linkedin_url": sum(1 for lead in portfolio.leads if lead["linkedin_url"]),
        "email_linked": len(portfolio.email_linked),
        "unlinked_profiles": len(portfolio.unlinked),
        "namesake_pairs": len(portfolio.namesakes),
        "exports": [(e.filename, len(e.items)) for e in portfolio.exports],
        "changed_leads": len({c.external_id for c in portfolio.expected_changes if c.export_index > 0}),
        "changes_by_kind": dict(sorted(Counter(c.kind for c in changes).items())),
        "changes_by_export": dict(sorted(Counter(c.export_index for c in changes).items())),
        "noise_by_kind": dict(sorted(Counter(x.kind for x in portfolio.noise).items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m upswing.demo.generate",
        description="Write a deterministic demo portfolio: leads.csv plus Apify LinkedIn profile exports.",
    )
    parser.add_argument("outdir", type=Path, help="folder to write into (created if missing)")
    parser.add_argument("--leads", type=int, default=300, help="number of leads (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    if args.leads < 0:
        parser.error("--leads must be >= 0")
    for path in write_demo(args.outdir, args.leads, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
