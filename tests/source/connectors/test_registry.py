"""Every built-in connector is registered, declares what it can do, and keeps its secrets as SecretStr."""

from __future__ import annotations

from pydantic import SecretStr

from upswing.source.connector import ConnectorConfig
from upswing.source.registry import all_connectors

SLUGS = {"apify-linkedin", "apify-linkedin-posts", "company-domain", "firecrawl-about", "rss", "web-page",
         "file-replay"}
SECRET_FIELDS = {"token", "api_key", "google_api_key", "firecrawl_api_key"}


def test_all_built_in_connectors_are_registered() -> None:
    connectors = all_connectors()
    assert set(connectors) >= SLUGS
    for slug in SLUGS:
        connector = connectors[slug]
        assert connector.slug == slug and connector.title and connector.capabilities
        assert issubclass(connector.config_model, ConnectorConfig)


def test_secrets_are_secret_strings_and_unknown_fields_are_refused() -> None:
    for slug in SLUGS:
        model = all_connectors()[slug].config_model
        for name, field in model.model_fields.items():
            if name in SECRET_FIELDS:
                assert SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ())), (slug, name)
        assert model.model_config.get("extra") == "forbid"
