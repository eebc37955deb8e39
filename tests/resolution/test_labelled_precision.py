"""Precision of the link thresholds on a labelled set built from the demo generator.

Ground truth: ``DemoPortfolio.lead_profiles`` (lead → its profile), ``unlinked`` (profiles of people who
are not leads; two of them share a lead's full name in another city) and ``namesakes`` (pairs of leads with
the same full name in different cities). Every profile item of every export is resolved *blind*: public id
and e-mail removed from the profile and the LinkedIn id removed from the leads, so only the probabilistic
path decides. Candidates come from the same blocking keys the database query uses (``records.block_keys``
and ``lead_matches_key``), scored with ``compare`` and decided with ``service.choose`` at the default
thresholds.

Run as a script for the figures on larger portfolios:
``python tests/resolution/test_labelled_precision.py [N_LEADS ...]``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from upswing.demo.generate import generate_portfolio
from upswing.lead.importer import normalize_us_state
from upswing.observation.apify import normalize_item
from upswing.resolution.matching import compare
from upswing.resolution.models import MatchMethod, MatchOutcome
from upswing.resolution.records import BlockKey, block_keys, lead_matches_key, lead_record, snapshot_record
from upswing.resolution.service import Candidate, choose
from upswing.settings import Settings


@dataclass
class Figures:
    profiles: int = 0  # profile items resolved
    of_leads: int = 0  # ... that belong to a lead
    linked: int = 0
    linked_right: int = 0
    review: int = 0
    review_has_right: int = 0  # review items whose candidates include the right lead
    unlinked_of_leads: int = 0
    non_lead_linked: int = 0  # a profile of someone who is not a lead, linked: the worst error
    namesake_profile_linked: int = 0  # one of the generator's namesake profiles, linked to anybody
    with_namesake: int = 0  # profiles of a lead that has a namesake lead (same full name, another city)
    with_namesake_linked_right: int = 0
    linked_to_namesake: int = 0  # ... linked to the namesake instead

    @property
    def precision(self) -> float:
        return self.linked_right / self.linked if self.linked else 1.0

    @property
    def recall(self) -> float:
        return self.linked_right / self.of_leads if self.of_leads else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


def _lead_rows(leads: list[dict[str, str]]) -> list[SimpleNamespace]:
    rows = []
    for row in leads:
        rows.append(SimpleNamespace(
            id=row["external_id"], first_name=row["first_name"], middle_name=None, last_name=row["last_name"],
            email=row["email"] or None, phone=row["phone"] or None, city=row["city"] or None,
            state=normalize_us_state(row["state"]) if row["state"] else None, country=row["country"] or None,
            employer=row["employer"] or None, linkedin_public_id=None,  # blind: no LinkedIn id on the lead
        ))
    return rows


def evaluate(n_leads: int, seed: int = 7, *, settings: Settings | None = None) -> Figures:
    settings = settings or Settings()
    portfolio = generate_portfolio(n_leads, seed)
    leads = _lead_rows(portfolio.leads)
    index: dict[tuple[str, str, str], list[SimpleNamespace]] = defaultdict(list)
    for lead in leads:  # what the blocking query's index finds: (column value, state) → leads
        index[("last_name", lead.last_name, lead.state or "")].append(lead)
        index[("first_name", lead.first_name, lead.state or "")].append(lead)
    by_last: dict[str, list[SimpleNamespace]] = defaultdict(list)
    for lead in leads:
        by_last[lead.last_name].append(lead)
    owner = {slug: external_id for external_id, slug in portfolio.lead_profiles.items()}
    namesake_profiles = set(portfolio.unlinked[:2])
    namesake_of: dict[str, set[str]] = defaultdict(set)
    for a, b in portfolio.namesakes:
        namesake_of[a].add(b)
        namesake_of[b].add(a)
    figures = Figures()

    def candidates_for(key: BlockKey) -> list[SimpleNamespace]:
        pool = index.get((key.column, key.value, key.state), []) if key.state else by_last.get(key.value, [])
        return [lead for lead in pool if lead_matches_key(lead, key)]

    for export in portfolio.exports:
        for item in export.items:
            snapshot = normalize_item(item)
            slug = snapshot.public_identifier or ""
            blind = snapshot_record(snapshot)
            blind = replace(blind, emails=(), linkedin_id=None)
            found = {lead.id: lead for key in block_keys(blind) for lead in candidates_for(key)}
            scored = [Candidate(lead.id, compare(blind, lead_record(lead)).score, MatchMethod.PROBABILISTIC)
                      for lead in found.values()]
            decision = choose(scored, link_at=settings.link_threshold, review_at=settings.review_threshold)
            right = owner.get(slug)
            figures.profiles += 1
            figures.of_leads += right is not None
            if right in namesake_of:
                figures.with_namesake += 1
                figures.with_namesake_linked_right += decision.lead_id == right
                figures.linked_to_namesake += decision.lead_id in namesake_of[right]
            if decision.outcome is MatchOutcome.LINKED:
                figures.linked += 1
                figures.linked_right += decision.lead_id == right
                figures.non_lead_linked += right is None
                figures.namesake_profile_linked += slug in namesake_profiles
            elif decision.outcome is MatchOutcome.REVIEW:
                figures.review += 1
                figures.review_has_right += any(c.lead_id == right for c in decision.candidates)
            elif right is not None:
                figures.unlinked_of_leads += 1
    return figures


def test_bundled_demo_links_no_stranger_and_no_namesake() -> None:
    figures = evaluate(300, 7)
    assert figures.non_lead_linked == 0 and figures.namesake_profile_linked == 0
    assert figures.with_namesake > 0 and figures.linked_to_namesake == 0
    assert figures.precision == 1.0
    assert figures.recall >= 0.5  # the rest goes to review or stays unlinked, never to the wrong lead


def test_a_larger_portfolio_keeps_precision() -> None:
    figures = evaluate(2000, 11)
    assert figures.precision >= 0.99, figures.as_dict()
    assert figures.linked_to_namesake == 0
    assert figures.non_lead_linked <= figures.linked * 0.01


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [300, 2000, 10000]
    for n in sizes:
        for seed in (7, 11):
            figures = evaluate(n, seed)
            print(n, seed, figures.as_dict())


if __name__ == "__main__":
    main(sys.argv[1:])
