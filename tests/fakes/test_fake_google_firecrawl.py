"""The Google CSE and Firecrawl fakes answer in the documented shapes (reference §2 and §3)."""

from __future__ import annotations

import httpx

from upswing.fakes.firecrawl import FakeFirecrawl
from upswing.fakes.google import FakeGoogleSearch


def test_google_results_pages_and_zero_results() -> None:
    fake = FakeGoogleSearch(key="k", cx="cx")
    fake.add_results("acme", [{"title": f"Acme {n}", "link": f"https://acme{n}.com/"} for n in range(12)])
    with fake as url, httpx.Client(base_url=url) as client:
        first = client.get("/customsearch/v1", params={"key": "k", "cx": "cx", "q": "acme", "num": 10}).json()
        assert first["kind"] == "customsearch#search" and len(first["items"]) == 10
        assert first["searchInformation"]["totalResults"] == "12"  # a string, as Google sends it
        assert first["items"][0]["displayLink"] == "acme0.com"
        assert first["queries"]["nextPage"][0]["startIndex"] == 11
        second = client.get("/customsearch/v1", params={"key": "k", "cx": "cx", "q": "acme", "start": 11}).json()
        assert len(second["items"]) == 2 and "nextPage" not in second["queries"]
        none = client.get("/customsearch/v1/siterestrict", params={"key": "k", "cx": "cx", "q": "zzz"}).json()
        assert "items" not in none and none["searchInformation"]["totalResults"] == "0"
        too_far = client.get("/customsearch/v1", params={"key": "k", "cx": "cx", "q": "acme", "start": 95})
        assert too_far.status_code == 400 and too_far.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_google_quota_and_closed_errors() -> None:
    for style, status, reason in (("429", 429, "rateLimitExceeded"), ("403", 403, "dailyLimitExceeded")):
        fake = FakeGoogleSearch(key="k", cx="cx", daily_quota=0, quota_style=style)
        with fake as url:
            answer = httpx.get(f"{url}/customsearch/v1", params={"key": "k", "cx": "cx", "q": "x"})
        assert answer.status_code == status and answer.json()["error"]["errors"][0]["reason"] == reason
    with FakeGoogleSearch(key="k", closed=True) as url:
        closed = httpx.get(f"{url}/customsearch/v1", params={"key": "k", "cx": "x", "q": "x"})
    assert closed.status_code == 403 and "does not have the access" in closed.json()["error"]["message"]


def test_firecrawl_v1_and_v2_shapes() -> None:
    fake = FakeFirecrawl(api_key="fc-k")
    fake.add_page("https://acme.com/about", "# About", title="About Acme")
    fake.add_search("acme", [{"url": "https://acme.com", "title": "Acme", "description": "Anvils"}])
    headers = {"Authorization": "Bearer fc-k"}
    with fake as url, httpx.Client(base_url=url, headers=headers) as client:
        v2_map = client.post("/v2/map", json={"url": "https://acme.com"}).json()
        v1_map = client.post("/v1/map", json={"url": "https://www.acme.com"}).json()
        assert v2_map["links"] == [{"url": "https://acme.com/about", "title": "About Acme"}]
        assert v1_map["links"] == ["https://acme.com/about"]
        v2_search = client.post("/v2/search", json={"query": "acme", "origin": "sdk"}).json()
        v1_search = client.post("/v1/search", json={"query": "acme"}).json()
        assert v2_search["data"]["web"][0]["url"] == "https://acme.com" and v1_search["data"][0]["title"] == "Acme"
        scraped = client.post("/v2/scrape", json={"url": "https://acme.com/about",
                                                  "formats": ["markdown", {"type": "json", "schema": {}}]}).json()
        assert scraped["success"] and scraped["data"]["markdown"] == "# About"
        assert scraped["data"]["metadata"]["statusCode"] == 200
        assert scraped["data"]["metadata"]["sourceURL"] == "https://acme.com/about"
        v1_objects = client.post("/v1/scrape", json={"url": "https://acme.com/about", "formats": [{"type": "json"}]})
        assert v1_objects.status_code == 400  # v1 takes string formats only
        missing = client.post("/v2/scrape", json={"url": "https://acme.com/nope"}).json()
        assert missing["success"] and missing["data"]["metadata"]["statusCode"] == 404
        unauthorized = client.post("/v2/scrape", json={"url": "https://acme.com"}, headers={"Authorization": "x"})
        assert unauthorized.status_code == 401 and unauthorized.json() == {
            "success": False, "error": "Unauthorized: Invalid token"}
