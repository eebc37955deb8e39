"""The demo's discovery run: a few Austin companies as a run against the live web would have found them (their
pages' text shipped here, nothing fetched), classified by the real model, waiting for review on the Discovery page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.core.db import utcnow
from upswing.detection.text import analyze_texts
from upswing.discovery.engine import CATEGORY_INTENTS, add_prospect, resolve_area, site_of
from upswing.discovery.models import DiscoveryRun, Prospect, RunStatus

#: (company, its page, the page's main text). Reserved ``.example`` domains: nobody's real site.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("Hill Country Fabrication", "https://hillcountryfab.example/about",
     "Hill Country Fabrication builds steel structures for Central Texas contractors. We are seeking a small "
     "business loan to finance a new CNC plasma table and the working capital for two large orders."),
    ("Barton Creek Coffee Roasters", "https://bartoncreekcoffee.example/news",
     "Barton Creek Coffee Roasters is opening a second roastery and cafe in Round Rock this spring and is hiring "
     "twelve baristas and two roasters."),
    ("Lone Star Dental Partners", "https://lonestardental.example/careers",
     "Lone Star Dental Partners is looking for a consultant to help us restructure our billing operations and "
     "improve collections across our four clinics."),
    ("Pecan Street Printing", "https://pecanstreetprinting.example/",
     "Pecan Street Printing has served Austin since 1987: business cards, banners and signs, printed while you "
     "wait on Pecan Street."),
)
AREA = "Austin, TX"


def load(session: Session, *, actor: str = "demo") -> int:
    """Record the demo run and its prospects (once); returns the prospects created."""
    if session.scalar(select(Prospect.lead_id).limit(1)) is not None:
        return 0
    area = resolve_area(AREA, None)
    now = utcnow()
    run = DiscoveryRun(status=RunStatus.DONE.value, area=area.text, latitude=area.latitude, longitude=area.longitude,
                       radius_km=30.0, category="any", requested_by=actor, budget_used={}, errors=[],
                       criteria={"area": AREA, "radius_km": 30.0, "category": "any", "industry": None,
                                 "company_size": "any", "max_companies": 20, "city": area.city, "state": area.state},
                       created_at=now, started_at=now, finished_at=now)
    session.add(run)
    session.flush()
    analyses = analyze_texts([text for _, _, text in PAGES], kind="company")
    created = 0
    for (name, url, text), analysis in zip(PAGES, analyses, strict=True):
        site = site_of(url)
        assert site is not None
        run.found += 1
        run.fetched += 1
        run.classified += 1
        if analysis.label not in CATEGORY_INTENTS["any"]:
            run.skipped += 1
            continue
        add_prospect(session, run.id, site=site, name=name, url=url, title=name, text=text, analysis=analysis,
                     found_by={"provider": "demo", "query": f"companies in {AREA}", "title": name}, area=area,
                     actor=actor)
        created += 1
    run.created = created
    return created
