"""Helpers for the source tests: profile items with dates relative to today, small in-memory connectors
(registered per test) that let engine tests inject any failure at any batch, and the allow-listing of the
loopback fakes for the outbound guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from upswing.core.http import HttpClient, OutboundPolicy
from upswing.settings import get_settings
from upswing.source.connector import (
    Capability,
    Connector,
    ConnectorConfig,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
)
from upswing.source.service import LINKEDIN_PROFILES

#: The protocol fakes listen on 127.0.0.1, which the outbound guard refuses like any loopback address: a client
#: built by a test allow-lists it (``HttpClient(outbound=LOOPBACK)``) ...
LOOPBACK = OutboundPolicy.create(["127.0.0.1"])


@pytest.fixture
def allow_loopback() -> Iterator[None]:
    """... and code that reads the settings (source configuration, the monitoring engine's clients, tasks) gets
    it allow-listed as a deployment allow-lists an internal host: ``UPSWING_OUTBOUND_ALLOW_HOSTS=127.0.0.1``.
    Registered by the conftest of the tests that use the fakes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UPSWING_OUTBOUND_ALLOW_HOSTS", "127.0.0.1")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def month_text(day: date) -> str:
    return day.strftime("%b %Y")


def harvest_item(public_id: str, jobs: list[tuple[str, str, date, date | None]], *, first: str = "Dana",
                 last: str = "Whitfield") -> dict[str, Any]:
    """A harvestapi profile item; jobs are (title, company, start, end or None for current)."""

    def when(day: date | None) -> dict[str, Any]:
        if day is None:
            return {"text": "Present"}
        return {"month": day.strftime("%b"), "year": day.year, "text": month_text(day)}

    return {
        "id": f"ACoAA{public_id}", "publicIdentifier": public_id,
        "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": first, "lastName": last,
        "headline": "Working hard", "location": {"linkedinText": "Columbus, Ohio, United States"},
        "experience": [{"position": t, "companyName": c, "startDate": when(s), "endDate": when(e)}
                       for t, c, s, e in jobs],
        "certifications": [], "honorsAndAwards": [], "education": [],
    }


def years_ago(years: float) -> date:
    return (datetime.now(UTC) - timedelta(days=int(365 * years))).date()


def old_job_profile(public_id: str, **names: str) -> dict[str, Any]:
    return harvest_item(public_id, [("Barista", "Bean There", years_ago(3), None)], **names)


def new_job_profile(public_id: str, **names: str) -> dict[str, Any]:
    """The same person a little later: the old job ended, a new one started this month."""
    today = datetime.now(UTC).date()
    return harvest_item(public_id, [("Barista", "Bean There", years_ago(3), today),
                                    ("Junior Accountant", "Keller & Price LLP", today, None)], **names)


class MemoryConfig(ConnectorConfig):
    token: SecretStr
    region: str = "us"


@dataclass
class Behaviour:
    """What the in-memory service answers: items by target value, and failures by fetch call number."""

    items: dict[str, list[RawItem]] = field(default_factory=dict)
    failures: dict[int, Exception] = field(default_factory=dict)  # 1-based fetch call → raised
    calls: list[list[str]] = field(default_factory=list)  # target values of each fetch
    health: Health = field(default_factory=lambda: Health(ok=True, detail="fine"))
    budget: str | None = LINKEDIN_PROFILES
    cursor: Callable[[str | None], str | None] = lambda cursor: cursor


class MemoryConnector(Connector[MemoryConfig]):
    """Answers from ``behaviour``; spends one budget unit per target, through the real HTTP layer's budget."""

    slug: ClassVar[str] = "test-memory"
    title: ClassVar[str] = "In-memory test service"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SCRAPE})
    config_model: ClassVar[type[ConnectorConfig]] = MemoryConfig
    behaviour: ClassVar[Behaviour] = Behaviour()

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)

    def check(self, config: MemoryConfig) -> Health:
        failure = self.behaviour.failures.get(0)
        if failure is not None:
            raise failure
        return self.behaviour.health

    def fetch(self, config: MemoryConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        behaviour = self.behaviour
        behaviour.calls.append([t.value for t in request.targets])
        failure = behaviour.failures.get(len(behaviour.calls))
        if failure is not None:
            raise failure
        if behaviour.budget is not None and request.targets:
            self.http.spend(behaviour.budget, len(request.targets))
        items: list[RawItem] = []
        for target in request.targets:
            for item in behaviour.items.get(target.value, []):
                items.append(RawItem(item.kind, item.payload, target_key=target.key, url=item.url))
        if not request.targets:
            items = [item for values in behaviour.items.values() for item in values]
        return FetchResult(items=items, next_cursor=behaviour.cursor(cursor))


def profile(item: dict[str, Any]) -> RawItem:
    return RawItem(ItemKind.PROFILE, item)


def text(payload: dict[str, Any]) -> RawItem:
    return RawItem(ItemKind.TEXT, payload)
