"""A small Firecrawl client (v2, or the legacy v1) on the shared HTTP layer (reference §3).

Bearer ``fc-…`` key, JSON bodies, ``{"success": true, ...}`` answers. 429 is backed off by the HTTP layer
(honouring Retry-After, which the SDK itself does not do); a 408 ``SCRAPE_TIMEOUT`` means the job goes on
server-side and the same body is posted again, a few times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from upswing.core.http import ClientError, HttpClient, MalformedResponse
from upswing.source.connector import ConnectorConfig

API = "firecrawl"
_SCRAPE_TIMEOUT_REPOSTS = 3


class FirecrawlSettings(ConnectorConfig):
    api_key: SecretStr = Field(description="Firecrawl API key (fc-…)")
    base_url: str = Field(default="https://api.firecrawl.dev", description="API root; tests point it at the fake")
    api_version: Literal["v2", "v1"] = Field(default="v2", description="v2 (current) or the legacy v1 API")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    snippet: str = ""


@dataclass
class FirecrawlApi:
    http: HttpClient
    api_key: SecretStr
    base_url: str
    version: str = "v2"

    def _post(self, endpoint: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        url = f"{self.base_url}/{self.version}/{endpoint}"
        headers = {"Authorization": f"Bearer {self.api_key.get_secret_value()}"}
        for attempt in range(_SCRAPE_TIMEOUT_REPOSTS + 1):
            try:
                answer = self.http.request("POST", url, json=dict(body), headers=headers, api=API).json()
                break
            except ClientError as exc:
                payload = exc.payload()
                code = payload.get("code") if isinstance(payload, dict) else None
                if exc.status != 408 or code != "SCRAPE_TIMEOUT" or attempt == _SCRAPE_TIMEOUT_REPOSTS:
                    raise
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise MalformedResponse(f"Firecrawl {endpoint}: answer without success=true", url=url)
        return answer

    def search(self, query: str, *, limit: int = 10) -> list[SearchHit]:
        answer = self._post("search", {"query": query, "limit": limit})
        data = answer.get("data")
        results = data.get("web") if isinstance(data, dict) else data  # v2 groups by source; v1 is a list
        if not isinstance(results, list):
            raise MalformedResponse("Firecrawl search: no result list in the answer")
        return [SearchHit(str(r["url"]), text_value(r.get("title")), text_value(r.get("description")))
                for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]

    def map(self, url: str, *, search: str | None = None, limit: int = 100) -> list[tuple[str, str]]:
        """(url, title) of a site's pages; v1 gives bare URLs, v2 objects."""
        body: dict[str, Any] = {"url": url, "limit": limit}
        if search:
            body["search"] = search
        links = self._post("map", body).get("links")
        if not isinstance(links, list):
            raise MalformedResponse("Firecrawl map: no links list in the answer")
        found: list[tuple[str, str]] = []
        for link in links:
            if isinstance(link, str):
                found.append((link, ""))
            elif isinstance(link, dict) and isinstance(link.get("url"), str):
                found.append((link["url"], text_value(link.get("title"))))
        return found

    def scrape(self, url: str, *, formats: list[str], only_main_content: bool = True) -> Mapping[str, Any]:
        data = self._post("scrape", {"url": url, "formats": formats, "onlyMainContent": only_main_content}).get("data")
        if not isinstance(data, dict):
            raise MalformedResponse("Firecrawl scrape: no data object in the answer")
        return data


def text_value(value: Any) -> str:
    """Titles and descriptions may be a string or a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(v for v in value if isinstance(v, str))
    return ""
