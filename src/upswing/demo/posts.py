"""The demo's recent LinkedIn posts, dated relative to the moment the demo is loaded.

Why they exist: a signal's score decays with the age of its event (``upswing.signal.scoring``, half-life 30
days), and the bundled profile exports are a fixed history (September to November 2026) whose events
LinkedIn dates to the month. Loaded weeks later, none of those signals is urgent any more, and no shift of
month-granular dates could keep one urgent on every day of a month. Posts carry their day: these are
published in the hours and days before the load, each says "today", so the events they announce (new jobs,
a promotion, a certification, a business) are a few days old at most and the demo opens with a handful of
``urgent`` signals (and some ``high`` ones) whatever the day it is loaded.

The authors are demo leads with a tracked LinkedIn profile, high balances and long delinquency, and no
planted profile change (``tests/demo`` checks this against the generator's ground truth), so each post
makes a signal of its own, linked to its lead through the author's LinkedIn public id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from upswing.observation.text import TextItem


class DemoPost(NamedTuple):
    author_public_id: str
    author_name: str
    hours_before_load: int
    text: str


DEMO_POSTS: tuple[DemoPost, ...] = (
    DemoPost("hannah-patel-62a6d989", "Hannah Patel", 5,
             "I'm happy to share that I'm starting a new position as Data Analyst at HubSpot today! "
             "Grateful to everyone who helped me get here."),
    DemoPost("chioma-goldberg-698", "Chioma Goldberg", 9,
             "Happy to share that I started a new job today as a Personal Banker at JPMorgan Chase!"),
    DemoPost("andrewdubois", "Andrew Dubois", 20,
             "I'm excited to share that I have joined University Health as a Patient Care Technician, "
             "starting today!"),
    DemoPost("inguyen", "Isaiah Nguyen", 26,
             "Some personal news: I've been promoted to Assistant Principal at KIPP Public Schools, effective "
             "today. Proud of our scholars and our team."),
    DemoPost("mohammed-hill-280876", "Mohammed Hill", 31,
             "Excited to announce that I have accepted an offer to join Greystar as a Leasing Consultant. "
             "I start today!"),
    DemoPost("shanice-le-662591a3", "Shanice Le", 40,
             "Happy to share that I've earned my Certified Pharmacy Technician (CPhT) certification from PTCB!"),
    DemoPost("jessica-diallo-37dfc5", "Jessica Diallo", 52,
             "I'm happy to share that I'm starting a new position as Customer Success Specialist at Zendesk "
             "today!"),
    DemoPost("camila-robinson", "Camila Robinson", 60,
             "Excited to share that today I launched my own business, Robinson Home Cleaning, here in Seattle!"),
)


def dated_posts(loaded_at: datetime) -> list[TextItem]:
    """The demo posts as text items, each published ``hours_before_load`` before ``loaded_at``."""
    items = []
    for number, post in enumerate(DEMO_POSTS, start=1):
        published = (loaded_at - timedelta(hours=post.hours_before_load)).replace(microsecond=0)
        url = f"https://www.linkedin.com/posts/{post.author_public_id}_demo-activity-{7_300_000_000 + number}"
        raw: dict[str, Any] = {"text": post.text, "url": url, "published_at": published.isoformat(),
                               "author_public_id": post.author_public_id, "author_name": post.author_name}
        items.append(TextItem(text=post.text, raw=raw, url=url, published_at=published,
                              author_public_id=post.author_public_id, author_name=post.author_name))
    return items
