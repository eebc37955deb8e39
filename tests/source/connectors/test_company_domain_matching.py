"""choose_company_domain: the company's own domain, never a social network, job board or directory."""

from __future__ import annotations

import pytest

from upswing.source.connectors.company_domain.matching import (
    SearchResult,
    choose_company_domain,
    is_not_own_domain,
    name_words,
    registrable_domain,
)

R = SearchResult

CASES: list[tuple[str, str, list[SearchResult], str | None]] = [
    ("own site below LinkedIn and a job board", "Banner Health", [
        R("Banner Health | LinkedIn", "https://www.linkedin.com/company/banner-health"),
        R("Banner Health Jobs, Employment | Indeed.com", "https://www.indeed.com/cmp/Banner-Health"),
        R("Banner Health: Home", "https://www.bannerhealth.com/"),
    ], "bannerhealth.com"),
    ("legal suffix and ampersand", "Keller & Price LLP", [
        R("Keller & Price | Certified Public Accountants", "https://kellerprice.com/about"),
    ], "kellerprice.com"),
    ("initials as the domain", "Chicago Public Schools", [
        R("Chicago Public Schools - Wikipedia", "https://en.wikipedia.org/wiki/Chicago_Public_Schools"),
        R("Chicago Public Schools / Homepage", "https://www.cps.edu/"),
    ], "cps.edu"),
    ("country second-level domain", "Tesco PLC", [
        R("Tesco - Online Groceries", "https://www.tesco.co.uk/groceries"),
    ], "tesco.co.uk"),
    ("careers subdomain is still the own domain", "Robert Half International Inc.", [
        R("Robert Half Careers", "https://careers.roberthalf.com/jobs"),
    ], "roberthalf.com"),
    ("only directories and socials", "FedEx", [
        R("FedEx - Crunchbase Company Profile", "https://www.crunchbase.com/organization/fedex"),
        R("FedEx (@FedEx) / X", "https://x.com/FedEx"),
        R("FedEx | Facebook", "https://www.facebook.com/FedEx"),
        R("FedEx Jobs | Glassdoor", "https://www.glassdoor.com/Jobs/FedEx-Jobs-E12.htm"),
    ], None),
    ("unrelated sites", "Acme Anvil Corporation", [
        R("Best anvils for sale", "https://anvilworld.com/"),
        R("Hammer time blog", "https://hammers.example.org/"),
    ], None),
    ("a name in the title is not enough when the domain is someone else's", "Panera Bread", [
        R("Panera Bread near me - Yelp", "https://www.yelp.com/search?find_desc=Panera+Bread"),
        R("Panera Bread menu prices", "https://www.fastfoodmenuprices.com/panera-bread-prices/"),
        R("Panera Bread", "https://www.panerabread.com/en-us/home.html"),
    ], "panerabread.com"),
    ("hyphenated domain", "Bean There Cafe", [
        R("Bean There Cafe - coffee in Columbus", "https://bean-there-cafe.com/"),
    ], "bean-there-cafe.com"),
    ("the better match wins over the earlier one", "Delta Faucet Company", [
        R("Delta Air Lines", "https://www.delta.com/"),
        R("Delta Faucet | Kitchen and Bathroom Faucets", "https://www.deltafaucet.com/"),
    ], "deltafaucet.com"),
    ("no results", "Anything", [], None),
]


@pytest.mark.parametrize(("case", "company", "results", "expected"), CASES, ids=[c[0] for c in CASES])
def test_choose_company_domain(case: str, company: str, results: list[SearchResult], expected: str | None) -> None:
    choice = choose_company_domain(company, results)
    assert (choice.domain if choice else None) == expected


def test_choice_carries_its_evidence() -> None:
    choice = choose_company_domain("Banner Health", [R("Banner Health: Home", "https://www.bannerhealth.com/",
                                                       "Banner Health is a nonprofit health system")])
    assert choice is not None
    assert choice.url == "https://www.bannerhealth.com/" and choice.title == "Banner Health: Home"
    assert choice.snippet.startswith("Banner Health is") and choice.score >= 75


@pytest.mark.parametrize(("url", "domain"), [
    ("https://www.acme.com/x", "acme.com"),
    ("https://shop.acme.co.uk", "acme.co.uk"),
    ("acme.io", "acme.io"),
    ("https://localhost/x", None),
    ("https://127.0.0.1/", None),
])
def test_registrable_domain(url: str, domain: str | None) -> None:
    assert registrable_domain(url) == domain


def test_subdomains_of_excluded_hosts_are_excluded() -> None:
    assert is_not_own_domain("https://uk.linkedin.com/company/x")
    assert is_not_own_domain("https://acme.myworkdayjobs.com/careers")
    assert not is_not_own_domain("https://notlinkedin.com/")


def test_name_words_drop_legal_forms() -> None:
    assert name_words("The Keller & Price Group, LLC") == ["keller", "and", "price"]
    assert name_words("Société Générale S.A.") == ["societe", "generale"]
    assert name_words("Inc.") == ["inc"]  # nothing but a legal form: keep it rather than nothing
