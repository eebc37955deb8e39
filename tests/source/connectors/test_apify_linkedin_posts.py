"""apify-linkedin-posts against the fake Apify server: posts become text items linked to their author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from source.connectors.connector_support import TOKEN
from upswing.core.http import Blocked, HttpClient
from upswing.fakes.apify import HARVEST_POSTS, FakeApify
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors.apify_linkedin_posts import ApifyLinkedInPostsConfig, ApifyLinkedInPostsConnector

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def post(author: str, number: int, text: str, *, nested_author: bool = False) -> dict[str, Any]:
    """A harvestapi/linkedin-profile-posts item (shape from the reference, §1a)."""
    posted = START + timedelta(days=number)
    item: dict[str, Any] = {
        "id": f"{author}-{number}", "content": text,
        "linkedinUrl": f"https://www.linkedin.com/posts/{author}_activity-{7000 + number}",
        "authorName": author.title(), "authorType": "profile",
        "postedAt": {"timestamp": int(posted.timestamp() * 1000), "date": posted.isoformat(),
                     "postedAgoShort": "1d", "postedAgoText": "1 day ago"},
        "engagement": {"likes": 3, "comments": 1, "shares": 0, "reactions": [{"type": "LIKE", "count": 3}]},
    }
    if nested_author:
        item["author"] = {"publicIdentifier": author, "name": author.title()}
    else:
        item["authorPublicIdentifier"] = author
    return item


def config(apify: FakeApify, **overrides: Any) -> ApifyLinkedInPostsConfig:
    return ApifyLinkedInPostsConfig.model_validate({"token": TOKEN, "base_url": apify.url, **overrides})


def test_posts_become_text_items_of_their_author(apify: FakeApify, http: HttpClient) -> None:
    apify.add_posts([post("jane-doe", 1, "Thrilled to start a new role at Acme!"),
                     post("jane-doe", 2, "Hiring for our team"),
                     post("bob-roe", 3, "Our office moved", nested_author=True)])
    targets = [Target("lead-jane", "https://www.linkedin.com/in/Jane-Doe/"), Target("lead-bob", "bob-roe")]
    result = ApifyLinkedInPostsConnector(http).fetch(config(apify, max_posts=5), None, FetchRequest(targets))
    assert [item.kind for item in result.items] == [ItemKind.TEXT] * 3
    by_target = {(item.target_key, item.payload["id"]) for item in result.items}
    assert by_target == {("lead-jane", "jane-doe-1"), ("lead-jane", "jane-doe-2"), ("lead-bob", "bob-roe-3")}
    jane = next(item for item in result.items if item.payload["id"] == "jane-doe-2")
    assert jane.subject_url == "https://www.linkedin.com/in/jane-doe"
    assert jane.observed_at == START + timedelta(days=2)
    assert jane.url and jane.url.startswith("https://www.linkedin.com/posts/jane-doe")
    assert result.next_cursor == (START + timedelta(days=3)).isoformat()
    sent = apify.requests_to("run-sync")[0].json()
    assert sent == {"targetUrls": ["https://www.linkedin.com/in/jane-doe", "https://www.linkedin.com/in/bob-roe"],
                    "maxPosts": 5}
    assert apify.requests_to("run-sync")[0].path == "/v2/actors/harvestapi~linkedin-profile-posts/" \
                                                    "run-sync-get-dataset-items"


def test_max_posts_keeps_the_newest(apify: FakeApify, http: HttpClient) -> None:
    apify.add_posts([post("jane-doe", n, f"post {n}") for n in range(1, 6)])
    result = ApifyLinkedInPostsConnector(http).fetch(config(apify, max_posts=2), None,
                                                     FetchRequest([Target("lead", "jane-doe")]))
    assert [item.payload["id"] for item in result.items] == ["jane-doe-5", "jane-doe-4"]


def test_since_cursor_skips_old_posts_and_cursor_never_goes_back(apify: FakeApify, http: HttpClient) -> None:
    apify.add_posts([post("jane-doe", n, f"post {n}") for n in range(1, 4)])
    cursor = (START + timedelta(days=2)).isoformat()
    connector = ApifyLinkedInPostsConnector(http)
    result = connector.fetch(config(apify, since_cursor=True), cursor, FetchRequest([Target("lead", "jane-doe")]))
    assert [item.payload["id"] for item in result.items] == ["jane-doe-3"]
    later = (START + timedelta(days=30)).isoformat()
    again = connector.fetch(config(apify), later, FetchRequest([Target("lead", "jane-doe")]))
    assert len(again.items) == 3 and again.next_cursor == later


def test_posts_without_author_or_content_are_reported(apify: FakeApify, http: HttpClient) -> None:
    broken = post("jane-doe", 1, "x")
    del broken["content"]
    apify.add_posts([broken, post("jane-doe", 2, "fine")])
    result = ApifyLinkedInPostsConnector(http).fetch(config(apify), None, FetchRequest([Target("l", "jane-doe")]))
    assert [item.payload["id"] for item in result.items] == ["jane-doe-2"]
    assert any("no author or content" in error for error in result.errors)


def test_not_rented_blocks(apify: FakeApify, http: HttpClient) -> None:
    apify.set_actor_state(HARVEST_POSTS, "not-rented")
    with pytest.raises(Blocked):
        ApifyLinkedInPostsConnector(http).fetch(config(apify), None, FetchRequest([Target("l", "jane-doe")]))
    assert not ApifyLinkedInPostsConnector(http).check(config(apify)).ok
