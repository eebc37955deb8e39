"""Finding connectors by slug: the built-in ones, and any a deployment registers.

The built-ins are listed here rather than registering themselves on import, so that a connector module
depends only on the interface (``source.connector``) and never on the registry that lists it.
"""

from __future__ import annotations

from typing import Any

from upswing.source.connector import Connector
from upswing.source.connectors.apify_linkedin import ApifyLinkedInConnector
from upswing.source.connectors.apify_linkedin_posts import ApifyLinkedInPostsConnector
from upswing.source.connectors.company_domain import CompanyDomainConnector
from upswing.source.connectors.file_replay import FileReplayConnector
from upswing.source.connectors.firecrawl_about import FirecrawlAboutConnector
from upswing.source.connectors.rss import RssConnector
from upswing.source.connectors.web_page import WebPageConnector

BUILTIN: tuple[type[Connector[Any]], ...] = (
    ApifyLinkedInConnector, ApifyLinkedInPostsConnector, CompanyDomainConnector, FileReplayConnector,
    FirecrawlAboutConnector, RssConnector, WebPageConnector,
)

_REGISTRY: dict[str, type[Connector[Any]]] = {}


def register(connector: type[Connector[Any]]) -> type[Connector[Any]]:
    """Make a connector findable by its slug (usable as a class decorator by a deployment's own connectors)."""
    if connector.slug in _REGISTRY and _REGISTRY[connector.slug] is not connector:
        raise ValueError(f"two connectors share the slug {connector.slug!r}")
    _REGISTRY[connector.slug] = connector
    return connector


for _builtin in BUILTIN:
    register(_builtin)


def get_connector(slug: str) -> type[Connector[Any]]:
    try:
        return _REGISTRY[slug]
    except KeyError:
        raise KeyError(f"no connector {slug!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def all_connectors() -> dict[str, type[Connector[Any]]]:
    return dict(sorted(_REGISTRY.items()))
