"""Choosing a company's own web domain from search results: a pure function, no I/O.

Search results for a company name are full of its LinkedIn page, job ads, directory listings and news.
Those hosts are never the company's own domain, so they are skipped outright. Each remaining result is
scored on how well its domain label matches the name (``bannerhealth`` ~ "Banner Health", or the initials:
``cps`` ~ "Chicago Public Schools") and how well its title does; the best result over the threshold wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from rapidfuzz import fuzz

# Hosts that are never a company's own site: social networks, job boards, directories, encyclopaedias,
# maps and review sites, search engines. Subdomains are covered too (``uk.linkedin.com``).
NOT_OWN_DOMAINS = frozenset({
    # social networks and publishing platforms
    "linkedin.com", "facebook.com", "fb.com", "twitter.com", "x.com", "instagram.com", "youtube.com",
    "tiktok.com", "pinterest.com", "reddit.com", "medium.com", "threads.net", "snapchat.com", "tumblr.com",
    "quora.com", "substack.com", "github.com", "wordpress.com", "blogspot.com", "wix.com", "linktr.ee",
    # job boards and applicant tracking systems
    "indeed.com", "glassdoor.com", "ziprecruiter.com", "monster.com", "careerbuilder.com", "simplyhired.com",
    "snagajob.com", "dice.com", "lever.co", "greenhouse.io", "myworkdayjobs.com", "workday.com",
    "smartrecruiters.com", "jobvite.com", "icims.com", "bamboohr.com", "wellfound.com", "angel.co",
    "ladders.com", "jooble.org", "talent.com", "salary.com", "payscale.com", "levels.fyi", "comparably.com",
    "kununu.com", "totaljobs.com", "reed.co.uk", "seek.com.au", "stepstone.de", "jobs.com",
    # company directories and data vendors
    "crunchbase.com", "zoominfo.com", "dnb.com", "bloomberg.com", "opencorporates.com", "owler.com",
    "craft.co", "apollo.io", "rocketreach.co", "signalhire.com", "lusha.com", "cbinsights.com",
    "pitchbook.com", "builtin.com", "manta.com", "bizapedia.com", "buzzfile.com", "corporationwiki.com",
    "companieshouse.gov.uk", "find-and-update.company-information.service.gov.uk", "sec.gov",
    "yellowpages.com", "yelp.com", "bbb.org", "trustpilot.com", "g2.com", "capterra.com", "clutch.co",
    "mapquest.com", "foursquare.com", "tripadvisor.com", "chamberofcommerce.com", "hoovers.com",
    # encyclopaedias, search engines, app stores, news aggregators
    "wikipedia.org", "wikidata.org", "wikimedia.org", "google.com", "bing.com", "duckduckgo.com",
    "yahoo.com", "apple.com", "play.google.com", "news.google.com", "forbes.com", "reuters.com",
})

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne", "or"})
_LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation", "co", "company",
    "plc", "gmbh", "ag", "sa", "sas", "srl", "bv", "nv", "pty", "oy", "ab", "as", "kg", "group", "holdings",
    "holding", "the", "international", "intl",
})
_WORD = re.compile(r"[a-z0-9]+")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}")  # "s.a.", "l.l.c." → "sa", "llc"


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str = ""


@dataclass(frozen=True)
class DomainChoice:
    domain: str
    score: float
    url: str
    title: str
    snippet: str
    domain_score: float
    title_score: float


def registrable_domain(url: str) -> str | None:
    """``https://careers.acme.co.uk/x`` → ``acme.co.uk``; None when there is no usable host."""
    host = (urlsplit(url if "://" in url else f"https://{url}").hostname or "").casefold().rstrip(".")
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def is_not_own_domain(url: str) -> bool:
    host = (urlsplit(url if "://" in url else f"https://{url}").hostname or "").casefold()
    return any(host == blocked or host.endswith("." + blocked) for blocked in NOT_OWN_DOMAINS)


def name_words(name: str) -> list[str]:
    """Lower-case ASCII words of a company name, legal suffixes dropped; '&' reads as 'and'."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = _WORD.findall(_DOTTED.sub(lambda m: m.group(0).replace(".", ""), folded).replace("&", " and "))
    kept = [word for word in words if word not in _LEGAL_SUFFIXES]
    return kept or words


def domain_score(words: Sequence[str], domain: str) -> float:
    """0–100: how well the domain's label spells the name (whole, without 'and', or as initials)."""
    label = domain.split(".")[0]
    label_plain = label.replace("-", "")
    compact = "".join(words)
    without_and = "".join(word for word in words if word != "and")
    initials = "".join(word[0] for word in words if word != "and")
    scores = [fuzz.ratio(label_plain, compact), fuzz.ratio(label_plain, without_and)]
    if len(initials) >= 2 and label_plain == initials:
        scores.append(95.0)
    if len(label_plain) >= 4 and words and label_plain.startswith(words[0]) and len(words[0]) >= 4:
        scores.append(80.0)  # "tesco" for "Tesco Stores", "panerabread" for "Panera"
    return float(max(scores))


def title_score(words: Sequence[str], title: str) -> float:
    return float(fuzz.token_set_ratio(" ".join(words), " ".join(name_words(title)))) if title else 0.0


def choose_company_domain(company: str, results: Sequence[SearchResult], *, min_score: float = 75.0,
                          min_domain_score: float = 60.0) -> DomainChoice | None:
    """The company's own domain among ``results`` (in search rank order), or None when none is convincing.

    Never a social network, job board or directory. A result must look like the name in its domain
    (``min_domain_score``) and overall (domain 60 %, title 40 %); on a tie the higher-ranked result wins.
    """
    words = name_words(company)
    if not words:
        return None
    best: DomainChoice | None = None
    for result in results:
        if is_not_own_domain(result.url):
            continue
        domain = registrable_domain(result.url)
        if domain is None:
            continue
        by_domain = domain_score(words, domain)
        if by_domain < min_domain_score:
            continue
        by_title = title_score(words, result.title)
        score = 0.6 * by_domain + 0.4 * by_title
        if score >= min_score and (best is None or score > best.score):  # ties: the higher-ranked result
            best = DomainChoice(domain, round(score, 1), result.url, result.title, result.snippet,
                                round(by_domain, 1), round(by_title, 1))
    return best
