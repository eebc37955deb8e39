"""The one interface every connector implements, and the registry that finds them by slug.

A connector knows how to talk to one external service. It never touches the database: the monitoring
engine (``source/service.py``) loads a Source's config and cursor, calls ``fetch``, stores the items as
observations and saves the next cursor. Retries, rate limits, budgets and robots.txt live in the shared
HTTP client the connector is given (``core/http.py``), so every connector gets them the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from upswing.core.http import HttpClient


class Capability(StrEnum):
    PULL = "pull"  # read what is new since a cursor (feeds, posts)
    SEARCH = "search"  # answer a query (company domain discovery)
    SCRAPE = "scrape"  # fetch given pages or profiles
    WEBHOOK = "webhook"  # the service pushes to us


class ItemKind(StrEnum):
    PROFILE = "profile"  # a person's profile (goes through the profile normalizer)
    TEXT = "text"  # a post, news item, press release or page text (goes to text detection)
    COMPANY_DOMAIN = "company_domain"  # a company's own web domain
    COMPANY_ABOUT = "company_about"  # a company's About page as cleaned markdown


class ConnectorConfig(BaseModel):
    """Base of every connector's settings; secrets are ``SecretStr`` and are stored encrypted."""

    model_config = ConfigDict(extra="forbid")


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


@dataclass(frozen=True)
class Target:
    """One thing to fetch for: ``key`` says whom it is for (a lead id), ``value`` what to fetch."""

    key: str
    value: str  # a profile URL, a company name, a domain, a feed or page URL
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchRequest:
    targets: Sequence[Target] = ()
    limit: int | None = None


@dataclass(frozen=True)
class RawItem:
    kind: ItemKind
    payload: dict[str, Any]  # what the service sent (kept as the observation's raw payload)
    target_key: str | None = None  # the Target.key this item answers, when the request had targets
    url: str | None = None  # where the item lives (a profile, a post, a page)
    observed_at: datetime | None = None  # when the item says it was published or fetched; None: now
    subject_url: str | None = None  # canonical LinkedIn URL of the person it is by/about (e.g. a post's author)


@dataclass(frozen=True)
class FetchResult:
    """What one ``fetch`` brought back.

    A connector raises an ``upswing.core.http.HttpError`` when it got nothing. When it got part of the work
    done before an error, it returns what it has with ``failure`` set (record it as the last error; its
    ``blocks_source`` says blocked or degraded) and lists the targets it did not do in ``deferred``, so the
    engine schedules them again: nothing fetched is thrown away and nothing is silently skipped.
    """

    items: list[RawItem]
    next_cursor: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)  # budget units spent, e.g. {"linkedin-profiles": 12}
    errors: Sequence[str] = ()  # per-target problems that did not stop the run (e.g. robots.txt disallowed)
    deferred: Sequence[str] = ()  # Target.keys not done this time (budget spent, run stopped early)
    failure: Exception | None = None  # the error that stopped the run early, when ``items`` are partial


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str
    blocked: bool = False  # the service refuses us (no credit, not rented, forbidden): stop until fixed


class Connector(ABC, Generic[ConfigT]):
    slug: ClassVar[str]
    title: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    config_model: ClassVar[type[ConnectorConfig]]

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def budgets(self, config: ConfigT) -> Mapping[str, int]:
        """Daily budgets this connector spends from, name → default daily limit (e.g. 300 profile scrapes).

        The engine registers them in its budget store; the HTTP client refuses work once one is spent."""
        return {}

    @abstractmethod
    def check(self, config: ConfigT) -> Health:
        """A cheap call that shows whether the service answers and accepts our credentials."""

    @abstractmethod
    def fetch(self, config: ConfigT, cursor: str | None, request: FetchRequest) -> FetchResult:
        """Raw items and the next cursor; raises ``upswing.core.http`` errors for the engine to record."""
