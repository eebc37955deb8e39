"""``apify-linkedin-posts``: each lead's recent LinkedIn posts through ``harvestapi/linkedin-profile-posts``.

Every post becomes a TEXT item carrying its author's canonical profile URL (``subject_url``) and the lead it
was fetched for (``target_key``), so the text pipeline links it to the right lead. The cursor is the newest
post time seen (ISO 8601). The cursor is shared by all leads of the source while each lead is fetched on its
own schedule, so by default it does not filter: the same post seen again is one observation (content hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from upswing.core.http import Blocked, HttpError
from upswing.core.identifiers import normalize_linkedin_url
from upswing.core.timeparse import parse_timestamp
from upswing.source.connector import (
    Capability,
    Connector,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
)
from upswing.source.connectors._apify import ApifyApi, ApifyConfig, ProfileTarget, profile_targets, run_batches

POSTS_ACTOR = "harvestapi/linkedin-profile-posts"
POSTS_BUDGET = "linkedin-post-profiles"


class ApifyLinkedInPostsConfig(ApifyConfig):
    actor: str = Field(default=POSTS_ACTOR, description="The posts actor")
    max_posts: int = Field(default=10, ge=1, le=1000, description="Newest posts per profile ('maxPosts')")
    daily_profile_budget: int = Field(default=300, ge=0, description="Profiles whose posts are read per day")
    since_cursor: bool = Field(default=False, description="Skip posts not newer than the cursor")


def post_time(post: Mapping[str, Any]) -> datetime | None:
    posted = post.get("postedAt")
    if isinstance(posted, Mapping):
        return parse_timestamp(posted.get("timestamp")) or parse_timestamp(posted.get("date"))
    return parse_timestamp(posted) if isinstance(posted, str | int | float) else None


def post_author(post: Mapping[str, Any]) -> str | None:
    """The author's public id (lower-case), from ``authorPublicIdentifier``, ``author{}`` or a profile URL."""
    raw_author = post.get("author")
    author: Mapping[str, Any] = raw_author if isinstance(raw_author, Mapping) else {}
    for value in (post.get("authorPublicIdentifier"), author.get("publicIdentifier")):
        if isinstance(value, str) and value.strip():
            return value.strip().casefold()
    for value in (post.get("authorProfileUrl"), author.get("linkedinUrl"), post.get("authorUrl")):
        if isinstance(value, str):
            normalized = normalize_linkedin_url(value)
            if normalized:
                return normalized[1]
    return None


class ApifyLinkedInPostsConnector(Connector[ApifyLinkedInPostsConfig]):
    slug: ClassVar[str] = "apify-linkedin-posts"
    title: ClassVar[str] = "LinkedIn posts (Apify)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PULL, Capability.SCRAPE})
    config_model: ClassVar[type[ApifyLinkedInPostsConfig]] = ApifyLinkedInPostsConfig

    def budgets(self, config: ApifyLinkedInPostsConfig) -> dict[str, int]:
        return {POSTS_BUDGET: config.daily_profile_budget}

    def check(self, config: ApifyLinkedInPostsConfig) -> Health:
        api = ApifyApi(self.http, config)
        try:
            api.me()
            api.actor(config.actor)
        except Blocked as exc:
            return Health(False, str(exc), blocked=True)
        except HttpError as exc:
            return Health(False, str(exc))
        return Health(True, f"Apify answers; actor {config.actor} found")

    def fetch(self, config: ApifyLinkedInPostsConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        api = ApifyApi(self.http, config)
        targets, errors = profile_targets(request.targets)
        if request.limit is not None:
            targets = targets[: request.limit]
        batches = run_batches(api, config.actor, targets, batch_size=config.batch_size, budget=POSTS_BUDGET,
                              make_input=lambda batch: self._input(config, batch))
        since = parse_timestamp(cursor) if cursor else None
        newest = since
        items: list[RawItem] = []
        for batch, posts in batches.runs:
            by_public_id = {target.public_id: target for target in batch}
            for number, post in enumerate(posts, start=1):
                if not isinstance(post, dict):
                    errors.append(f"post {number} of an actor run is not a JSON object; skipped")
                    continue
                author = post_author(post)
                posted = post_time(post)
                text = post.get("content")
                if author is None or not isinstance(text, str):
                    errors.append(f"post {number} of an actor run has no author or content; skipped")
                    continue
                if posted is not None and (newest is None or posted > newest):
                    newest = posted
                if config.since_cursor and since is not None and posted is not None and posted <= since:
                    continue
                target = by_public_id.get(author)
                items.append(RawItem(
                    kind=ItemKind.TEXT, payload=post, target_key=target.key if target else None,
                    url=_post_url(post), observed_at=posted,
                    subject_url=f"https://www.linkedin.com/in/{author}"))
        next_cursor = newest.astimezone(UTC).isoformat() if newest is not None else cursor
        return FetchResult(items=items, next_cursor=next_cursor, usage={POSTS_BUDGET: batches.spent},
                           errors=errors, deferred=batches.deferred or (), failure=batches.failure)

    @staticmethod
    def _input(config: ApifyLinkedInPostsConfig, batch: list[ProfileTarget]) -> dict[str, Any]:
        return {"targetUrls": [target.url for target in batch], "maxPosts": config.max_posts}


def _post_url(post: Mapping[str, Any]) -> str | None:
    url = post.get("linkedinUrl")
    if isinstance(url, str) and url:
        return url
    social = post.get("socialContent")
    share = social.get("shareUrl") if isinstance(social, Mapping) else None
    return share if isinstance(share, str) and share else None
