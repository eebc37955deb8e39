"""``apify-linkedin``: LinkedIn profiles through an Apify actor (harvestapi, dev_fusion or apimaestro).

Each target is a lead (key) and its LinkedIn profile URL (value). Targets run in batches, one actor run per
batch (apimaestro takes one profile per run), synchronously or started and polled; every item comes back
as a PROFILE item with its raw payload, matched to its lead by public id. The engine passes the payload
through the same per-actor normalizer as the file ingest (``observation/apify.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from upswing.core.http import Blocked, HttpError
from upswing.observation.apify import (
    ActorShape,
    UnknownShapeError,
    detect_shape,
    normalize_item,
    shape_for_actor,
)
from upswing.observation.reader import item_timestamp
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

ACTORS = {
    ActorShape.HARVESTAPI: "harvestapi/linkedin-profile-scraper",
    ActorShape.DEV_FUSION: "dev_fusion/Linkedin-Profile-Scraper",
    ActorShape.APIMAESTRO: "apimaestro/linkedin-profile-detail",
}
PROFILE_BUDGET = "linkedin-profiles"


class ApifyLinkedInConfig(ApifyConfig):
    actor: str = Field(default=ACTORS[ActorShape.HARVESTAPI],
                       description="harvestapi/linkedin-profile-scraper, dev_fusion/Linkedin-Profile-Scraper "
                                   "or apimaestro/linkedin-profile-detail")
    daily_profile_budget: int = Field(default=300, ge=0, description="LinkedIn profile scrapes per day")

    @field_validator("actor")
    @classmethod
    def _known_actor(cls, value: str) -> str:
        if shape_for_actor(value) is None:
            raise ValueError(f"unknown profile actor {value!r}; use one of: {', '.join(ACTORS.values())}")
        return value.strip()

    @property
    def shape(self) -> ActorShape:
        shape = shape_for_actor(self.actor)
        assert shape is not None  # checked by the validator
        return shape


def actor_input(shape: ActorShape, batch: list[ProfileTarget]) -> dict[str, Any]:
    """The input each actor reads (``shared/reference/external-apis.md`` §1a)."""
    if shape is ActorShape.HARVESTAPI:
        return {"queries": [target.url for target in batch]}
    if shape is ActorShape.DEV_FUSION:
        return {"profileUrls": [target.url for target in batch]}
    return {"username": batch[0].public_id}  # apimaestro: one profile per run


class ApifyLinkedInConnector(Connector[ApifyLinkedInConfig]):
    slug: ClassVar[str] = "apify-linkedin"
    title: ClassVar[str] = "LinkedIn profiles (Apify)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SCRAPE})
    config_model: ClassVar[type[ApifyLinkedInConfig]] = ApifyLinkedInConfig

    def budgets(self, config: ApifyLinkedInConfig) -> dict[str, int]:
        return {PROFILE_BUDGET: config.daily_profile_budget}

    def check(self, config: ApifyLinkedInConfig) -> Health:
        api = ApifyApi(self.http, config)
        try:
            user = api.me()
            api.actor(config.actor)
        except Blocked as exc:
            return Health(False, str(exc), blocked=True)
        except HttpError as exc:
            return Health(False, str(exc))
        return Health(True, f"Apify answers as {user.get('username', '?')}; actor {config.actor} found")

    def fetch(self, config: ApifyLinkedInConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        api = ApifyApi(self.http, config)
        targets, errors = profile_targets(request.targets)
        if request.limit is not None:
            targets = targets[: request.limit]
        shape = config.shape
        batch_size = 1 if shape is ActorShape.APIMAESTRO else config.batch_size
        batches = run_batches(api, config.actor, targets, batch_size=batch_size, budget=PROFILE_BUDGET,
                              make_input=lambda batch: actor_input(shape, batch))
        items: list[RawItem] = []
        for batch, raw_items in batches.runs:
            by_public_id = {target.public_id: target for target in batch}
            answered: set[str] = set()
            for number, raw in enumerate(raw_items, start=1):
                item = self._item(raw, shape, by_public_id, batch, number, errors)
                if item is not None:
                    items.append(item)
                    if item.target_key is not None:
                        answered.add(item.target_key)
            errors.extend(f"{target.key}: no profile returned for {target.url}"
                          for target in batch if target.key not in answered)
        return FetchResult(items=items, next_cursor=cursor, usage={PROFILE_BUDGET: batches.spent},
                           errors=errors, deferred=batches.deferred or (), failure=batches.failure)

    @staticmethod
    def _item(raw: Any, shape: ActorShape, by_public_id: dict[str, ProfileTarget], batch: list[ProfileTarget],
              number: int, errors: list[str]) -> RawItem | None:
        if not isinstance(raw, dict):
            errors.append(f"item {number} of an actor run is not a JSON object; skipped")
            return None
        try:
            snapshot = normalize_item(raw, detect_shape(raw))
        except (UnknownShapeError, ValueError) as exc:
            errors.append(f"item {number} of an actor run has an unexpected shape ({exc}); skipped")
            return None
        public_id = (snapshot.public_identifier or "").casefold()
        target = by_public_id.get(public_id)
        if target is None and shape is ActorShape.APIMAESTRO and len(batch) == 1:
            target = batch[0]  # one profile per run: the answer is for it, whatever id it carries
        return RawItem(kind=ItemKind.PROFILE, payload=raw, target_key=target.key if target else None,
                       url=snapshot.linkedin_url or (target.url if target else None),
                       observed_at=item_timestamp(raw), subject_url=snapshot.linkedin_url)
